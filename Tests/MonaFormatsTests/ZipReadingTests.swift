import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

@Suite struct ZipReadingTests {
    /// A one-member zip written by hand so tests can set every field, including hostile ones.
    static func zip(name: String, payload: [UInt8], method: UInt16, crc: UInt32, uncompressedSize: UInt32) -> Data {
        let n = Array(name.utf8)
        let local = le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(method) + le(UInt16(0)) + le(UInt16(0x21))
            + le(crc) + le(UInt32(payload.count)) + le(uncompressedSize) + le(UInt16(n.count)) + le(UInt16(0)) + n
        let central = le(UInt32(0x0201_4B50)) + le(UInt16(20)) + le(UInt16(20)) + le(UInt16(0)) + le(method)
            + le(UInt16(0)) + le(UInt16(0x21)) + le(crc) + le(UInt32(payload.count)) + le(uncompressedSize)
            + le(UInt16(n.count)) + [UInt8](repeating: 0, count: 12) + le(UInt32(0)) + n
        let end = le(UInt32(0x0605_4B50)) + [0, 0, 0, 0] + le(UInt16(1)) + le(UInt16(1)) + le(UInt32(central.count))
            + le(UInt32(local.count + payload.count)) + le(UInt16(0))
        return Data(local + payload + central + end)
    }

    @Test func deflateStreamRunningPastItsMemberIsRejectedNotHung() {
        // A non-final stored block claiming 65 535 bytes: the decoder must stop at the member's end. (ZIPFoundation
        // 0.9.20 reads on into the directory and then spins forever at end of file.)
        let stream: [UInt8] = [0x00, 0xFF, 0xFF, 0x00, 0x00] + Array("xxxxxxxxxx".utf8)
        let bytes = Self.zip(name: "a.npy", payload: stream, method: 8, crc: 0, uncompressedSize: 1000)
        expectFormatError("'a.npy'", "corrupted") { _ = try NumPyArchive.decode(bytes) }
    }

    @Test func rejectsHostileSizesAndMethods() {
        let npy = Array(NumPyArray.encode(Tensor([1, 2])))
        let crc = npy.withUnsafeBytes { ZipCRC.checksum($0) }
        let good = Self.zip(name: "a.npy", payload: npy, method: 0, crc: crc, uncompressedSize: UInt32(npy.count))
        #expect((try? NumPyArchive.decode(good))?["a"]?.scalars == [1, 2])
        expectFormatError("CRC-32") {
            _ = try NumPyArchive.decode(Self.zip(name: "a.npy", payload: npy, method: 0, crc: crc ^ 1, uncompressedSize: UInt32(npy.count)))
        }
        expectFormatError("sizes differ") {
            _ = try NumPyArchive.decode(Self.zip(name: "a.npy", payload: npy, method: 0, crc: crc, uncompressedSize: 5))
        }
        expectFormatError("compression method 12") {
            _ = try NumPyArchive.decode(Self.zip(name: "a.npy", payload: npy, method: 12, crc: crc, uncompressedSize: UInt32(npy.count)))
        }
        expectFormatError("more than deflate can produce") {
            _ = try NumPyArchive.decode(Self.zip(name: "a.npy", payload: npy, method: 8, crc: crc, uncompressedSize: .max))
        }
        expectFormatError("end-of-central-directory") { _ = try NumPyArchive.decode(Data(npy)) }
    }

    @Test func inflatesFixedAndDynamicHuffmanBlocks() throws {
        // Deflated by ZIPFoundation (zlib): a repetitive payload gives dynamic blocks with back-references.
        let payload = NumPyArray.encode(Tensor((0..<4000).map { Float($0 % 17) }))
        let bytes = try ZipMembers.archiveData([(path: "r.npy", data: payload)], deflated: true, file: "<test>")
        #expect(bytes.count < payload.count / 2)
        #expect(try NumPyArchive.decode(bytes)["r"]?.scalars == (0..<4000).map { Float($0 % 17) })
        // Fixed-Huffman block for "abcabcabc" (zlib level 9 output, raw deflate).
        let fixed: [UInt8] = [0x4B, 0x4C, 0x4A, 0x4E, 0x04, 0x23, 0x00]
        let out = try fixed.withUnsafeBytes { raw throws(Inflate.Failure) in try Inflate.decompress(raw, expectedCount: 9) }
        #expect(String(decoding: out, as: UTF8.self) == "abcabcabc")
    }

    @Test func crcMatchesKnownValue() {
        #expect(Array("123456789".utf8).withUnsafeBytes { ZipCRC.checksum($0) } == 0xCBF4_3926)
    }
}
