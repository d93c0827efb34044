import Foundation
import MonaJSON
import MonaTensor

/// The safetensors format: `u64` little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, then the
/// tensor bytes (little-endian, C order) with offsets relative to the end of the header.
///
/// Reading validates the file as the reference implementation does (header inside the file, well-formed JSON,
/// offsets in range, byte sizes matching shapes, ranges neither overlapping nor leaving gaps) and converts every
/// supported dtype to Float32. Writing stores Float32 tensors with sorted names and a space-padded header.
public enum SafeTensors {
    /// Largest accepted header (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    struct Entry {
        var name: String
        var dtype: ScalarType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    struct Header {
        var entries: [Entry]          // in header order
        var metadata: [String: String]
        var dataStart: Int            // byte offset of the data buffer in the file
    }

    // MARK: Reading

    /// Every tensor of the file, converted to Float32.
    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        try decode(FileIO.mappedContents(of: url), file: url.path)
    }

    /// The listing (names in header order, dtypes, shapes, metadata), validated but not converted.
    public static func inspect(contentsOf url: URL) throws -> TensorArchive {
        try inspect(FileIO.mappedContents(of: url), file: url.path)
    }

    /// Decodes safetensors bytes held in memory; `file` names them in errors.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> [String: Tensor] {
        let header = try parseHeader(data, file: file)
        var out: [String: Tensor] = [:]
        out.reserveCapacity(header.entries.count)
        data.withUnsafeBytes { raw in
            for e in header.entries {
                out[e.name] = e.dtype.tensor(from: raw.baseAddress! + header.dataStart + e.begin, shape: e.shape)
            }
        }
        return out
    }

    /// The listing of safetensors bytes held in memory.
    public static func inspect(_ data: Data, file: String = "<memory>") throws -> TensorArchive {
        let header = try parseHeader(data, file: file)
        return TensorArchive(file: file, format: .safetensors,
                             tensors: header.entries.map { TensorInfo(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape) },
                             metadata: header.metadata)
    }

    static func parseHeader(_ data: Data, file: String) throws -> Header {
        guard data.count >= 8 else {
            throw FormatError(file: file, "file is \(data.count) bytes, too short for the 8-byte safetensors header length")
        }
        let declared = data.littleEndianInteger(at: 0, as: UInt64.self)
        guard declared <= UInt64(maxHeaderBytes) else {
            throw FormatError(file: file, "header length \(declared) exceeds the \(maxHeaderBytes)-byte limit (not a safetensors file?)")
        }
        let headerLength = Int(declared)
        guard 8 + headerLength <= data.count else {
            throw FormatError(file: file, "header length \(headerLength) is larger than the file (\(data.count) bytes): truncated or not safetensors")
        }
        let headerBytes = data.withUnsafeBytes { Array($0[8..<8 + headerLength]) }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw FormatError(file: file, "header does not start with '{'")
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(headerBytes)
        } catch {
            if let key = error.duplicateKey { throw FormatError(file: file, "header names '\(key)' twice") }
            throw FormatError(file: file, error)
        }
        guard case .object(let members) = root else { throw FormatError(file: file, "header is not a JSON object") }
        let dataStart = 8 + headerLength
        let dataSize = data.count - dataStart

        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try decodeField([String: String].self, value, file: file) { path, found in
                    guard path.count == 1 else { return "__metadata__ must be an object of strings, got \(found.kindName)" }
                    return "__metadata__ entry '\(path[0].stringValue)' must be a string, got \(found.kindName)"
                }
                continue
            }
            entries.append(try entry(name, value, dataSize: dataSize, file: file))
        }

        // Ranges must tile the data buffer exactly: sorted by offset, each starts where the previous ended.
        var position = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if e.begin < position {
                throw FormatError(file: file, "tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] overlap another tensor's bytes (which end at \(position))")
            }
            if e.begin > position {
                throw FormatError(file: file, "tensor '\(e.name)': data_offsets start at \(e.begin) but the previous tensor ends at \(position) (gap in the data buffer)")
            }
            position = e.end
        }
        guard position == dataSize else {
            throw FormatError(file: file, "tensors cover \(position) bytes of the \(dataSize)-byte data buffer (trailing bytes)")
        }
        return Header(entries: entries, metadata: metadata, dataStart: dataStart)
    }

    /// A tensor's header entry as stored; `entry` checks what the types cannot.
    struct StoredEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Double]
        enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
    }

    /// Decodes a header value through `JSONValueDecoder`. A value of the wrong kind or a missing member throws
    /// a `FormatError` naming `file`, `prefix` and `message` of the coding path below `value` and the value found
    /// there (`value` itself for a missing member).
    static func decodeField<T: Decodable>(_ type: T.Type, _ value: JSONValue, file: String, prefix: String = "",
                                          message: @escaping @Sendable ([CodingKey], JSONValue) -> String) throws -> T {
        let rules = JSONValueDecoder.Rules(mode: .file) { path, _, found in
            FormatError(file: file, prefix + message(path, found ?? value))
        }
        return try JSONValueDecoder(value, rules: rules).decode(type)
    }

    private static func entry(_ name: String, _ value: JSONValue, dataSize: Int, file: String) throws -> Entry {
        func fail(_ m: String) -> FormatError { FormatError(file: file, "tensor '\(name)': \(m)") }
        guard case .object = value else { throw fail("header entry must be an object, got \(value.kindName)") }
        let stored = try decodeField(StoredEntry.self, value, file: file, prefix: "tensor '\(name)': ") { path, _ in
            switch path.first?.stringValue {
            case "dtype": return "missing or non-string \"dtype\""
            case "shape":
                guard case .array(let dims)? = value["shape"] else { return "missing or non-array \"shape\"" }
                return "shape \(JSONValue.array(dims).compactJSON) must hold non-negative integers"
            default: return "\"data_offsets\" must be an array of two integers"
            }
        }
        guard let dtype = ScalarType(rawValue: stored.dtype) else {
            throw fail("unsupported dtype '\(stored.dtype)' (supported: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let shape = stored.shape
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("shape \(JSONValue.array(shape.map { .number(Double($0)) }).compactJSON) must hold non-negative integers")
        }
        // Whole numbers of any size: one beyond 2⁵³ cannot be exact, but it is past the end of any real file.
        guard stored.dataOffsets.count == 2, let first = stored.dataOffsets.first, let last = stored.dataOffsets.last,
              first.rounded() == first, last.rounded() == last else {
            throw fail("\"data_offsets\" must be an array of two integers")
        }
        let shown = "[\(JSONValue.formatNumber(first)), \(JSONValue.formatNumber(last))]"
        guard first >= 0, first <= last else { throw fail("data_offsets \(shown) must satisfy 0 ≤ begin ≤ end") }
        guard last <= Double(dataSize) else {
            throw fail("data_offsets \(shown) run past the end of the \(dataSize)-byte data buffer")
        }
        let begin = Int(first), end = Int(last)   // exact: both lie within the data buffer
        let count = try checkedElementCount(shape, file: file, tensor: name)
        let bytes = try checkedByteCount(count, dtype.byteSize, file: file, tensor: name)
        guard end - begin == bytes else {
            throw fail("data_offsets [\(begin), \(end)] span \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(bytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    // MARK: Writing

    /// Writes Float32 tensors (names sorted, data packed in that order) atomically: a temporary file in the same
    /// directory is renamed over `url` once complete.
    public static func save(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let (header, order) = try encodeHeader(tensors, metadata: metadata, file: url.path)
        try FileIO.writeAtomically(to: url) { write in
            try header.withUnsafeBytes { try write($0) }
            for name in order {
                try writeLittleEndianFloats(tensors[name]!, write)
            }
        }
    }

    /// The bytes `save` would write.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        let (header, order) = try encodeHeader(tensors, metadata: metadata, file: "<memory>")
        var out = header
        for name in order {
            try writeLittleEndianFloats(tensors[name]!) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Length prefix + JSON header padded with spaces to a multiple of 8 bytes (as the reference writer does, so
    /// the data buffer starts 8-byte aligned).
    private static func encodeHeader(_ tensors: [String: Tensor], metadata: [String: String],
                                     file: String) throws -> (Data, [String]) {
        let order = tensors.keys.sorted()
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.keys.sorted().map { ($0, .string(metadata[$0]!)) })))
        }
        var offset = 0
        for name in order {
            guard name != "__metadata__" else { throw FormatError(file: file, "a tensor cannot be named '__metadata__'") }
            let t = tensors[name]!
            let bytes = t.count * 4
            members.append((name, .object([
                ("dtype", .string("F32")),
                ("shape", .array(t.shape.map { JSONValue($0) })),
                ("data_offsets", .array([JSONValue(offset), JSONValue(offset + bytes)])),
            ])))
            offset += bytes
        }
        var json = Array(JSONValue.object(members).compactJSON.utf8)
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return (out, order)
    }
}

/// Streams a tensor's elements as little-endian Float32 in bounded chunks.
func writeLittleEndianFloats(_ t: Tensor, _ write: (UnsafeRawBufferPointer) throws -> Void) throws {
    try t.withUnsafeBufferPointer { buffer in
        if Int(1).littleEndian == 1 {
            try write(UnsafeRawBufferPointer(buffer))
        } else {
            var chunk = [UInt32](repeating: 0, count: 4096)
            var i = 0
            while i < buffer.count {
                let n = min(chunk.count, buffer.count - i)
                for j in 0..<n { chunk[j] = buffer[i + j].bitPattern.littleEndian }
                try chunk.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<4 * n])) }
                i += n
            }
        }
    }
}
