import Foundation
import Testing
@testable import MonaFormats

/// Runs `body` on a reader over `bytes`.
private func read<R>(_ bytes: [UInt8], _ body: (inout ProtobufReader) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { buffer in
        var reader = ProtobufReader(bytes: buffer, file: "test.pb")
        return try body(&reader)
    }
}

/// The message of the error `body` throws (fails the test if it does not throw a FormatError).
private func errorMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch let e as FormatError { return e.description } catch { return "unexpected \(error)" }
    return "no error"
}

@Suite("ONNX protobuf reader")
struct ONNXProtobufTests {
    @Test func varintsDecode() throws {
        #expect(try read([0x00]) { try $0.readVarint() } == 0)
        #expect(try read([0x01]) { try $0.readVarint() } == 1)
        #expect(try read([0xAC, 0x02]) { try $0.readVarint() } == 300)
        // -1 as int64: ten bytes, the last one 0x01.
        let minusOne: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        #expect(try read(minusOne) { try $0.readVarint() } == UInt64.max)
        var w = ProtobufWriter()
        w.varint(1 << 40 + 12345)
        #expect(try read(w.bytes) { try $0.readVarint() } == 1 << 40 + 12345)
    }

    @Test func badVarintsAreErrors() {
        // 11 bytes.
        let long = [UInt8](repeating: 0xff, count: 10) + [0x01]
        #expect(errorMessage { _ = try read(long) { try $0.readVarint() } }.contains("varint longer than"))
        // Tenth byte carries more than the 64th bit.
        let wide: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]
        #expect(errorMessage { _ = try read(wide) { try $0.readVarint() } }.contains("longer than 64 bits"))
        // Continuation bit set on the last byte.
        #expect(errorMessage { _ = try read([0x80, 0x80]) { try $0.readVarint() } }
                == "test.pb: truncated varint (at byte 0)")
        #expect(errorMessage { _ = try read([]) { try $0.readVarint() } }.contains("truncated varint"))
    }

    @Test func lengthsAreBoundsChecked() {
        // Field 1, length-delimited, length 5 but only 2 bytes follow.
        let short: [UInt8] = [0x0a, 0x05, 0x41, 0x42]
        let message = errorMessage {
            _ = try read(short) { r in
                let f = try r.nextField()!
                return try r.readString(f, "name")
            }
        }
        #expect(message.contains("length 5 exceeds the 2 bytes left"), "\(message)")
        // A length that does not fit any buffer.
        var huge = ProtobufWriter()
        huge.key(1, 2)
        huge.varint(UInt64.max >> 1)
        #expect(errorMessage {
            _ = try read(huge.bytes) { r in _ = try r.nextField(); return try r.readLengthDelimited() }
        }.contains("exceeds"))
        // A nested reader cannot read past its own end even though the buffer continues.
        let nested: [UInt8] = [0x0a, 0x01, 0x08, 0x05]   // field 1 = message of 1 byte: a key without its value
        #expect(errorMessage {
            _ = try read(nested) { r in
                let f = try r.nextField()!
                var sub = try r.readMessage(f, "sub")
                let g = try sub.nextField()!
                return try sub.readInt64(g, "value")
            }
        }.contains("truncated varint"))
    }

    @Test func truncatedFixedWidthValuesAreErrors() {
        #expect(errorMessage { _ = try read([0x01, 0x02, 0x03]) { try $0.readFixed32() } }.contains("truncated 32-bit"))
        #expect(errorMessage { _ = try read([0x01, 0x02, 0x03, 4, 5, 6, 7]) { try $0.readFixed64() } }
            .contains("truncated 64-bit"))
    }

    @Test func unknownFieldsAreSkipped() throws {
        var w = ProtobufWriter()
        w.int(1, 7)
        w.fixed64(2, 99)
        w.fixed32(3, 5)
        w.string(4, "skip me")
        w.int(9, 42)
        let value = try read(w.bytes) { r -> Int64 in
            var found: Int64 = 0
            while let f = try r.nextField() {
                if f.number == 9 { found = try r.readInt64(f, "wanted") } else { try r.skip(f) }
            }
            return found
        }
        #expect(value == 42)
    }

    @Test func invalidKeysAreErrors() {
        // Wire type 3 (start group).
        #expect(errorMessage { _ = try read([0x0b]) { try $0.nextField() } }.contains("unsupported wire type 3"))
        // Field number 0.
        #expect(errorMessage { _ = try read([0x00, 0x00]) { try $0.nextField() } }.contains("invalid field number 0"))
        // Wrong wire type for a typed read.
        #expect(errorMessage { _ = try read([0x08, 0x01]) { r in try r.readString(try r.nextField()!, "name") } }
            .contains("wire type 0, expected 2"))
    }

    @Test func nestingDepthIsLimited() {
        var inner = ProtobufWriter()
        inner.int(1, 1)
        for _ in 0..<40 {
            var outer = ProtobufWriter()
            outer.message(1, inner)
            inner = outer
        }
        func descend(_ r: inout ProtobufReader) throws {
            while let f = try r.nextField() {
                if f.wireType == .lengthDelimited {
                    var sub = try r.readMessage(f, "nested")
                    try descend(&sub)
                } else { try r.skip(f) }
            }
        }
        #expect(errorMessage { try read(inner.bytes) { try descend(&$0) } }.contains("nested deeper than 32"))
    }

    @Test func packedAndUnpackedRepeatedFields() throws {
        var w = ProtobufWriter()
        w.packedVarints(1, [3, -2, 300])
        w.int(1, 4)
        w.packedFloats(2, [1.5, -2])
        w.fixed32(2, Float(0.25).bitPattern)
        let (ints, floats) = try read(w.bytes) { r -> ([UInt64], [Float]) in
            var ints: [UInt64] = [], floats: [Float] = []
            while let f = try r.nextField() {
                if f.number == 1 { try r.readRepeatedVarints(f, into: &ints, "ints") }
                else { try r.readRepeatedFloats(f, into: &floats, "floats") }
            }
            return (ints, floats)
        }
        #expect(ints.map { Int64(bitPattern: $0) } == [3, -2, 300, 4])
        #expect(floats == [1.5, -2, 0.25])
        // A packed float array whose byte count is not a multiple of 4.
        var bad = ProtobufWriter()
        bad.data(2, [1, 2, 3])
        #expect(errorMessage {
            _ = try read(bad.bytes) { r in
                var f: [Float] = []
                try r.readRepeatedFloats(try r.nextField()!, into: &f, "floats")
            }
        }.contains("not a multiple of 4"))
    }
}
