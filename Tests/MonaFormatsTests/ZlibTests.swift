import Foundation
import Testing
@testable import MonaFormats

/// The bounded zlib wrapper: exact sizes, limits, truncation and corruption all end in `Inflate.Failure`.
@Suite struct ZlibTests {
    private func deflated(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { raw throws(Deflate.Failure) in try Deflate.compress(raw) }
    }

    private func inflate(_ stream: [UInt8], expected: Int) -> Result<[UInt8], Inflate.Failure> {
        stream.withUnsafeBytes { raw in Result { () throws(Inflate.Failure) in try Inflate.decompress(raw, expectedCount: expected) } }
    }

    private func sample(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        // Half repetitive (back-references), half random (literals).
        return (0..<n).map { i in i % 2 == 0 ? UInt8(i / 7 % 251) : UInt8.random(in: 0...255, using: &g) }
    }

    @Test func roundTripsAtManySizes() throws {
        for n in [0, 1, 2, 1000, 65_536, 65_537, 300_000] {
            let data = sample(n)
            let stream = try deflated(data)
            #expect(try inflate(stream, expected: n).get() == data, "size \(n)")
        }
    }

    @Test func declaredSizeIsExact() throws {
        let data = sample(5000)
        let stream = try deflated(data)
        let short = inflate(stream, expected: 4999)
        #expect(throws: Inflate.Failure.self) { try short.get() }
        if case .failure(let f) = short { #expect(f.message == "inflates past the declared size") }
        if case .failure(let f) = inflate(stream, expected: 5001) { #expect(f.message == "stream ended after 5000 of 5001 bytes") }
        else { Issue.record("a larger declared size was accepted") }
        if case .failure(let f) = inflate(stream, expected: 0) { #expect(f.message == "inflates past the declared size") }
        else { Issue.record("a zero declared size was accepted") }
    }

    @Test func reportsWhereTheStreamEnds() throws {
        let data = Array("hello hello hello".utf8)
        let stream = try deflated(data)
        var out: [UInt8] = []
        let used = try (stream + [1, 2, 3, 4]).withUnsafeBytes { raw throws(Inflate.Failure) in
            try Inflate.inflate(raw, appendingTo: &out, limit: 100, overLimit: "too much")
        }
        #expect(used == stream.count)
        #expect(out == data)
    }

    @Test func truncationAndCorruptionAreFailuresNotTraps() throws {
        let data = sample(20_000)
        let stream = try deflated(data)
        for n in stride(from: 0, to: stream.count, by: max(1, stream.count / 200)) {
            #expect(throws: Inflate.Failure.self) { try inflate(Array(stream.prefix(n)), expected: data.count).get() }
        }
        if case .failure(let f) = inflate(Array(stream.prefix(stream.count / 2)), expected: data.count) {
            #expect(f.message == "deflate stream is truncated")
        }
        // Block type 3 does not exist.
        if case .failure(let f) = inflate([0x07], expected: 10) { #expect(f.message == "invalid deflate block type 3") }
        else { Issue.record("block type 3 was accepted") }
        var g = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var b = stream
            b[Int.random(in: 0..<b.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g)
            _ = inflate(b, expected: data.count)   // an error or (rarely) other bytes; never a trap or a hang
        }
    }

    @Test func zipWriterRoundTripsAndIsReproducible() throws {
        let members: [(path: String, data: Data)] = [("a.npy", Data(sample(3000))), ("dir/é.bin", Data()), ("z", Data([7]))]
        for deflate in [false, true] {
            let bytes = try ZipMembers.archiveData(members, deflated: deflate, file: "<test>")
            #expect(try ZipMembers.archiveData(members, deflated: deflate, file: "<test>") == bytes)
            let archive = try ZipMembers.open(data: bytes, file: "<test>")
            #expect(archive.entries.map(\.path) == members.map(\.path))
            #expect(archive.entries.map(\.method) == Array(repeating: deflate ? 8 : 0, count: 3))
            for (entry, member) in zip(archive.entries, members) {
                #expect(try archive.contents(of: entry, limit: 1 << 20, what: "test") == member.data)
            }
        }
        #expect(throws: FormatError.self) {
            _ = try ZipMembers.archiveData(Array(repeating: (path: "x", data: Data()), count: 70_000), file: "<test>")
        }
    }
}
