/// The four protobuf wire types still in use (groups, types 3 and 4, are rejected).
enum ProtobufWireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// A field key: the field number and how its value is encoded.
struct ProtobufField: Sendable, Equatable {
    let number: Int
    let wireType: ProtobufWireType
}

/// A minimal reader of the protobuf wire format over an untrusted byte buffer.
///
/// Every length and varint is bounds-checked against the bytes that remain, so garbage input gives a
/// `FormatError` naming the file and the byte offset, never a crash. Nested messages are read through
/// `nested(_:)`, which enforces a depth limit (hostile files could otherwise nest deeply enough to exhaust the
/// stack). The buffer must outlive the reader: it is used only inside a `withUnsafeBytes` scope.
struct ProtobufReader {
    /// Deeper nesting is refused. ONNX needs about 6 levels for what we read (model → graph → node →
    /// attribute → tensor); subgraphs are skipped, not parsed.
    static let maxDepth = 32

    let bytes: UnsafeRawBufferPointer
    /// Current absolute offset into `bytes`.
    private(set) var offset: Int
    /// End (exclusive) of the message being read.
    let end: Int
    let depth: Int
    /// File name for error messages.
    let file: String

    init(bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil, depth: Int = 0, file: String) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        precondition(r.lowerBound >= 0 && r.upperBound <= bytes.count, "ProtobufReader: range \(r) outside buffer")
        self.offset = r.lowerBound
        self.end = r.upperBound
        self.depth = depth
        self.file = file
    }

    var isAtEnd: Bool { offset >= end }

    func error(_ message: String, at position: Int? = nil) -> FormatError {
        FormatError(file: file, "\(message) (at byte \(position ?? offset))")
    }

    // MARK: Scalars

    /// A base-128 varint of at most 10 bytes.
    mutating func readVarint() throws -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw error("truncated varint", at: start) }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw error("varint longer than 64 bits", at: start) }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes", at: start) }
        }
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - offset >= 4 else { throw error("truncated 32-bit value") }
        let v = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
        return v
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - offset >= 8 else { throw error("truncated 64-bit value") }
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return v
    }

    /// The byte range of a length-delimited value (string, bytes, nested message or packed array).
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = offset
        let length = try readVarint()
        guard length <= UInt64(end - offset) else {
            throw error("length \(length) exceeds the \(end - offset) bytes left in the message", at: start)
        }
        let r = offset..<(offset + Int(length))
        offset = r.upperBound
        return r
    }

    // MARK: Fields

    /// The next field key, or nil at the end of the message.
    mutating func nextField() throws -> ProtobufField? {
        guard !isAtEnd else { return nil }
        let start = offset
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1 && number <= 0x1fff_ffff else { throw error("invalid field number \(number)", at: start) }
        guard let wire = ProtobufWireType(rawValue: UInt8(key & 7)) else {
            throw error("unsupported wire type \(key & 7) for field \(number)", at: start)
        }
        return ProtobufField(number: Int(number), wireType: wire)
    }

    /// Skips the value of a field whose number we do not read.
    mutating func skip(_ field: ProtobufField) throws {
        switch field.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        }
    }

    /// A reader over a nested message in `range` (from `readLengthDelimited`), one level deeper.
    func nested(_ range: Range<Int>) throws -> ProtobufReader {
        guard depth + 1 <= Self.maxDepth else {
            throw error("messages nested deeper than \(Self.maxDepth) levels", at: range.lowerBound)
        }
        return ProtobufReader(bytes: bytes, range: range, depth: depth + 1, file: file)
    }

    /// Reads a length-delimited value as a nested message.
    mutating func readMessage(_ field: ProtobufField, _ what: String) throws -> ProtobufReader {
        try expect(field, .lengthDelimited, what)
        return try nested(try readLengthDelimited())
    }

    // MARK: Typed values

    func expect(_ field: ProtobufField, _ wire: ProtobufWireType, _ what: String) throws {
        guard field.wireType == wire else {
            throw error("\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), "
                        + "expected \(wire.rawValue)")
        }
    }

    /// A UTF-8 string; invalid sequences become U+FFFD rather than failing.
    mutating func readString(_ field: ProtobufField, _ what: String) throws -> String {
        try expect(field, .lengthDelimited, what)
        let r = try readLengthDelimited()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    }

    /// An int64/int32/enum field (two's complement varint).
    mutating func readInt64(_ field: ProtobufField, _ what: String) throws -> Int64 {
        try expect(field, .varint, what)
        return Int64(bitPattern: try readVarint())
    }

    mutating func readFloat(_ field: ProtobufField, _ what: String) throws -> Float {
        try expect(field, .fixed32, what)
        return Float(bitPattern: try readFixed32())
    }

    /// Appends a `repeated int64/int32/uint64` field, packed or not.
    mutating func readRepeatedVarints(_ field: ProtobufField, into out: inout [UInt64], _ what: String) throws {
        switch field.wireType {
        case .varint:
            out.append(try readVarint())
        case .lengthDelimited:
            var sub = try nested(try readLengthDelimited())
            while !sub.isAtEnd { out.append(try sub.readVarint()) }
        default:
            throw error("\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), expected a varint")
        }
    }

    /// Appends a `repeated float` field, packed or not.
    mutating func readRepeatedFloats(_ field: ProtobufField, into out: inout [Float], _ what: String) throws {
        switch field.wireType {
        case .fixed32:
            out.append(Float(bitPattern: try readFixed32()))
        case .lengthDelimited:
            let r = try readLengthDelimited()
            guard r.count % 4 == 0 else { throw error("packed \(what) holds \(r.count) bytes, not a multiple of 4") }
            out.reserveCapacity(out.count + r.count / 4)
            for i in stride(from: r.lowerBound, to: r.upperBound, by: 4) {
                let bits = bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                out.append(Float(bitPattern: UInt32(littleEndian: bits)))
            }
        default:
            throw error("\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), expected 32-bit")
        }
    }

    /// Appends a `repeated double` field, packed or not.
    mutating func readRepeatedDoubles(_ field: ProtobufField, into out: inout [Double], _ what: String) throws {
        switch field.wireType {
        case .fixed64:
            out.append(Double(bitPattern: try readFixed64()))
        case .lengthDelimited:
            let r = try readLengthDelimited()
            guard r.count % 8 == 0 else { throw error("packed \(what) holds \(r.count) bytes, not a multiple of 8") }
            out.reserveCapacity(out.count + r.count / 8)
            for i in stride(from: r.lowerBound, to: r.upperBound, by: 8) {
                let bits = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                out.append(Double(bitPattern: UInt64(littleEndian: bits)))
            }
        default:
            throw error("\(what) (field \(field.number)) has wire type \(field.wireType.rawValue), expected 64-bit")
        }
    }
}
