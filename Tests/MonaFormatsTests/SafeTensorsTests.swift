import Foundation
import Testing
import MonaTensor
@testable import MonaFormats

@Suite struct SafeTensorsTests {
    static func sample() -> [String: Tensor] {
        var g = SeededGenerator(seed: 7)
        return [
            "encoder.layer.0.weight": Tensor.randomNormal([3, 4], generator: &g),
            "bias": Tensor([1, -2, .infinity, -.infinity]),
            "scalar": Tensor(3.5),
            "empty": Tensor.zeros([0, 5]),
            "nan": Tensor([.nan]),
        ]
    }

    @Test func roundTripInMemory() throws {
        let tensors = Self.sample()
        let bytes = try SafeTensors.encode(tensors, metadata: ["format": "pt", "note": "a \"quoted\"\nline"])
        let back = try SafeTensors.decode(bytes)
        #expect(Set(back.keys) == Set(tensors.keys))
        for (name, t) in tensors { #expect(sameTensor(back[name], t), "\(name)") }
        let listing = try SafeTensors.inspect(bytes)
        #expect(listing.names == tensors.keys.sorted())
        #expect(listing.metadata == ["format": "pt", "note": "a \"quoted\"\nline"])
        #expect(listing.tensors.allSatisfy { $0.dtype == "F32" })
        #expect(listing.tensors.first { $0.name == "empty" }?.shape == [0, 5])
        // Deterministic bytes: same input, same file.
        #expect(try SafeTensors.encode(tensors, metadata: ["format": "pt", "note": "a \"quoted\"\nline"]) == bytes)
    }

    @Test func headerIsPaddedWithSpacesToEightBytes() throws {
        let bytes = try SafeTensors.encode(["a": Tensor([1, 2, 3])])
        let n = Int(bytes.littleEndianInteger(at: 0, as: UInt64.self))
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        #expect(header.hasPrefix(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#))
        #expect(header.drop(while: { $0 != " " }).allSatisfy { $0 == " " })
        #expect(bytes.count == 8 + n + 12)
    }

    @Test func saveIsAtomicAndReplacesTheFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensors.save(["x": Tensor([1, 2])], to: url)
        try SafeTensors.save(Self.sample(), metadata: ["epoch": "3"], to: url)
        let back = try SafeTensors.load(contentsOf: url)
        for (name, t) in Self.sample() { #expect(sameTensor(back[name], t), "\(name)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
        #expect(try SafeTensors.inspect(contentsOf: url).metadata == ["epoch": "3"])
        #expect(try TensorFile.format(of: url) == .safetensors)
        #expect(try TensorFile.load(contentsOf: url).count == 5)
    }

    @Test func saveIntoMissingDirectoryThrows() {
        let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/m.safetensors")
        expectFormatError("temporary file") { try SafeTensors.save(["x": Tensor([1])], to: url) }
    }

    @Test func readsFilesWrittenByPythonSafetensors() throws {
        let bytes = PythonFixtures.mixedSafetensors
        let t = try SafeTensors.decode(bytes, file: "mixed.safetensors")
        #expect(sameTensor(t["f16"], Tensor([1, -0.5, 65504, 0x1p-24], shape: [2, 2])))
        #expect(sameTensor(t["bf16"], Tensor([1, -3, 0.15625])))
        #expect(sameTensor(t["i64"], Tensor([-5, 6])))
        #expect(sameTensor(t["u8"], Tensor([0, 255])))
        #expect(sameTensor(t["f64"], Tensor([Float(0.1)])))
        let listing = try SafeTensors.inspect(bytes)
        #expect(listing.metadata == ["format": "pt"])
        #expect(Dictionary(uniqueKeysWithValues: listing.tensors.map { ($0.name, $0.dtype) })
                == ["f16": "F16", "bf16": "BF16", "i64": "I64", "u8": "U8", "f64": "F64"])
    }

    @Test func convertsHalfAndBFloat16BitPatterns() throws {
        // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, +inf, NaN
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x7E00]
        // BF16: 1, -1.5, 1e38-ish, +inf, NaN
        let bf: [UInt16] = [0x3F80, 0xBFC0, 0x7EF0, 0x7F80, 0x7FC0]
        let header = #"{"h":{"dtype":"F16","shape":[7],"data_offsets":[0,14]},"b":{"dtype":"BF16","shape":[5],"data_offsets":[14,24]}}"#
        let t = try SafeTensors.decode(safetensorsBytes(header, half.flatMap(le) + bf.flatMap(le)))
        let h = t["h"]!.scalars
        #expect(Array(h[0..<4]) == [1, -2, 65504, 0x1p-24])
        #expect(h[4] == 0 && h[4].sign == .minus)
        #expect(h[5] == .infinity && h[6].isNaN)
        let b = t["b"]!.scalars
        #expect(Array(b[0..<3]) == [1, -1.5, Float(bitPattern: 0x7EF0_0000)])
        #expect(b[3] == .infinity && b[4].isNaN)
    }

    @Test func readsIntegerAndBoolDtypes() throws {
        let header = #"{"i8":{"dtype":"I8","shape":[2],"data_offsets":[0,2]},"bo":{"dtype":"BOOL","shape":[2],"data_offsets":[2,4]},"# +
            #""i32":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"f64":{"dtype":"F64","shape":[],"data_offsets":[8,16]}}"#
        let data: [UInt8] = [0xFF, 0x05, 0x01, 0x00] + le(Int32(-70000)) + le((-2.5).bitPattern)
        let t = try SafeTensors.decode(safetensorsBytes(header, data))
        #expect(t["i8"]!.scalars == [-1, 5])
        #expect(t["bo"]!.scalars == [1, 0])
        #expect(t["i32"]!.scalars == [-70000])
        #expect(t["f64"]!.shape == [] && t["f64"]!.item == -2.5)
    }

    // MARK: Hostile and broken files

    @Test func rejectsOverlappingRanges() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectFormatError("'b'", "overlap") { _ = try SafeTensors.decode(safetensorsBytes(header, [UInt8](repeating: 0, count: 12))) }
    }

    @Test func rejectsOffsetsPastTheData() {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        expectFormatError("'a'", "past the end") { _ = try SafeTensors.decode(safetensorsBytes(header, [UInt8](repeating: 0, count: 8))) }
        let huge = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775000,9223372036854775008]}}"#
        expectFormatError("'a'", "past the end") { _ = try SafeTensors.decode(safetensorsBytes(huge, [UInt8](repeating: 0, count: 8))) }
    }

    @Test func rejectsGapsAndTrailingBytes() {
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectFormatError("'a'", "gap") { _ = try SafeTensors.decode(safetensorsBytes(gap, [UInt8](repeating: 0, count: 8))) }
        let short = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        expectFormatError("trailing") { _ = try SafeTensors.decode(safetensorsBytes(short, [UInt8](repeating: 0, count: 8))) }
    }

    @Test func rejectsSizeMismatchAndBadOffsets() {
        let mismatch = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        expectFormatError("'a'", "needs 12") { _ = try SafeTensors.decode(safetensorsBytes(mismatch, [UInt8](repeating: 0, count: 8))) }
        let reversed = #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#
        expectFormatError("'a'", "begin ≤ end") { _ = try SafeTensors.decode(safetensorsBytes(reversed, [UInt8](repeating: 0, count: 8))) }
        let overflow = #"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        expectFormatError("'a'", "elements") { _ = try SafeTensors.decode(safetensorsBytes(overflow, [UInt8](repeating: 0, count: 8))) }
        let negative = #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#
        expectFormatError("'a'", "non-negative") { _ = try SafeTensors.decode(safetensorsBytes(negative, [])) }
    }

    @Test func rejectsHeaderLongerThanTheFile() {
        var bytes = Data(le(UInt64(1000)))
        bytes.append(contentsOf: Array(#"{"a":1}"#.utf8))
        expectFormatError("header length 1000", "larger than the file") { _ = try SafeTensors.decode(bytes) }
        expectFormatError("exceeds") { _ = try SafeTensors.decode(Data(le(UInt64.max) + [0x7B])) }
        expectFormatError("too short") { _ = try SafeTensors.decode(Data([1, 2, 3])) }
    }

    @Test func rejectsMalformedJSON() {
        expectFormatError("malformed JSON") {
            _ = try SafeTensors.decode(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, [0, 0, 0, 0]))
        }
        expectFormatError("malformed JSON") { _ = try SafeTensors.decode(safetensorsBytes(#"{"a":tru}"#, [])) }
        expectFormatError("start with '{'") { _ = try SafeTensors.decode(safetensorsBytes("[1, 2]  ", [])) }
    }

    @Test func rejectsBadEntries() {
        expectFormatError("'a'", "unsupported dtype 'F8_E4M3'") {
            _ = try SafeTensors.decode(safetensorsBytes(#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, [0]))
        }
        expectFormatError("'a'", "dtype") { _ = try SafeTensors.decode(safetensorsBytes(#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, [0])) }
        expectFormatError("'a'", "data_offsets") {
            _ = try SafeTensors.decode(safetensorsBytes(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, [0]))
        }
        expectFormatError("names 'a' twice") {
            let h = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
            _ = try SafeTensors.decode(safetensorsBytes(h, [0, 0]))
        }
        expectFormatError("__metadata__", "string") {
            _ = try SafeTensors.decode(safetensorsBytes(#"{"__metadata__":{"k":1}}"#, []))
        }
        expectFormatError("__metadata__") { _ = try SafeTensors.encode(["__metadata__": Tensor([1])]) }
    }

    @Test func missingFileThrows() {
        expectFormatError("cannot read") { _ = try SafeTensors.load(contentsOf: URL(fileURLWithPath: "/no/such/file.safetensors")) }
    }
}
