import Foundation
import MonaTensor

/// NumPy `.npy` arrays: `\x93NUMPY`, version, header length (u16 for 1.0, u32 for 2.0/3.0), a Python dict
/// literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the raw elements.
///
/// The header is parsed as a literal (never evaluated). Supported element types: `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4
/// u8 b1` in either byte order; Fortran-ordered arrays are transposed into row-major order on load.
public enum NumPyArray {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
    /// Largest accepted header (NumPy itself refuses more than 10 000 bytes by default).
    static let maxHeaderBytes = 1 << 20

    struct Header {
        var dtype: ScalarType
        var bigEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]
        var dataStart: Int
    }

    /// The array as a Float32 tensor in row-major order.
    public static func load(contentsOf url: URL) throws -> Tensor {
        try decode(FileIO.mappedContents(of: url), file: url.path)
    }

    /// The one-entry listing of a `.npy` file (named by the file's base name).
    public static func inspect(contentsOf url: URL) throws -> TensorArchive {
        let data = try FileIO.mappedContents(of: url)
        let h = try parseHeader(data, file: url.path, name: "array")
        let name = url.deletingPathExtension().lastPathComponent
        return TensorArchive(file: url.path, format: .npy,
                             tensors: [TensorInfo(name: name, dtype: h.dtype.rawValue, shape: h.shape)])
    }

    /// Decodes `.npy` bytes held in memory. `name` labels the array in errors (e.g. the `.npz` member).
    public static func decode(_ data: Data, file: String = "<memory>", name: String = "array") throws -> Tensor {
        let h = try parseHeader(data, file: file, name: name)
        return data.withUnsafeBytes { raw in
            let source = raw.baseAddress! + h.dataStart
            guard h.fortranOrder, h.shape.count > 1 else {
                return h.dtype.tensor(from: source, shape: h.shape, bigEndian: h.bigEndian)
            }
            // Column-major: element (i0, …, iₙ₋₁) sits at i0 + d0·(i1 + d1·(…)). Convert, then gather row-major.
            let flat = h.dtype.tensor(from: source, shape: [h.shape.reduce(1, *)], bigEndian: h.bigEndian)
            var strides = [Int](repeating: 1, count: h.shape.count)
            for k in 1..<h.shape.count { strides[k] = strides[k - 1] * h.shape[k - 1] }
            return gatherStrided(flat.data, offset: 0, shape: h.shape, strides: strides)
        }
    }

    static func parseHeader(_ data: Data, file: String, name: String) throws -> Header {
        func fail(_ m: String) -> FormatError { FormatError(file: file, "array '\(name)': \(m)") }
        guard data.count >= 10 else { throw fail("file is \(data.count) bytes, too short for a .npy header") }
        let head = data.withUnsafeBytes { Array($0[0..<10]) }
        guard Array(head[0..<6]) == magic else { throw fail("missing the \\x93NUMPY magic (not a .npy file)") }
        let major = head[6], minor = head[7]
        let headerLength: Int
        let lengthSize: Int
        switch major {
        case 1:
            lengthSize = 2
            headerLength = Int(data.littleEndianInteger(at: 8, as: UInt16.self))
        case 2, 3:
            lengthSize = 4
            guard data.count >= 12 else { throw fail("truncated version \(major).\(minor) header") }
            headerLength = Int(data.littleEndianInteger(at: 8, as: UInt32.self))
        default:
            throw fail("unsupported .npy format version \(major).\(minor) (expected 1.0, 2.0 or 3.0)")
        }
        guard headerLength <= maxHeaderBytes else { throw fail("header length \(headerLength) exceeds \(maxHeaderBytes) bytes") }
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= data.count else {
            throw fail("truncated: header declares \(headerLength) bytes but the file has \(data.count - 8 - lengthSize) after the length field")
        }
        let text = data.withUnsafeBytes { Array($0[(8 + lengthSize)..<dataStart]) }
        // Versions 1 and 2 are latin-1, version 3 UTF-8; only ASCII matters for the keys we accept.
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text, utf8: major == 3)
        } catch {
            throw fail("malformed header dict: \(error.message)")
        }
        guard case .dict(let pairs) = literal else { throw fail("header is not a dict") }
        var descr: PythonLiteral?, fortran: PythonLiteral?, shapeValue: PythonLiteral?
        for (key, value) in pairs {
            guard case .string(let k) = key else { throw fail("header key \(key) is not a string") }
            switch k {
            case "descr": descr = value
            case "fortran_order": fortran = value
            case "shape": shapeValue = value
            default: throw fail("unexpected header key '\(k)' (expected descr, fortran_order, shape)")
            }
        }
        guard case .string(let descrText)? = descr else {
            throw fail("header 'descr' must be a dtype string such as '<f4' (structured dtypes are not supported)")
        }
        let (dtype, bigEndian) = try parseDescr(descrText, fail: fail)
        guard case .bool(let fortranOrder)? = fortran else { throw fail("header 'fortran_order' must be True or False") }
        guard let shapeValue, let items = shapeValue.sequence else { throw fail("header 'shape' must be a tuple of integers") }
        var shape: [Int] = []
        for item in items {
            guard case .int(let d) = item, d >= 0 else { throw fail("shape \(shapeValue) must hold non-negative integers") }
            shape.append(d)
        }
        let count = try checkedElementCount(shape, file: file, tensor: name)
        let bytes = try checkedByteCount(count, dtype.byteSize, file: file, tensor: name)
        let available = data.count - dataStart
        guard available >= bytes else {
            throw fail("truncated: shape \(shape) of \(descrText) needs \(bytes) data bytes, the file has \(available)")
        }
        guard available == bytes else {
            throw fail("\(available - bytes) unexpected bytes after the \(bytes) data bytes of shape \(shape)")
        }
        return Header(dtype: dtype, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: shape, dataStart: dataStart)
    }

    /// `<f4`, `>i8`, `|u1`, `|b1`, … → element type and byte order.
    static func parseDescr(_ descr: String, fail: (String) -> FormatError) throws -> (ScalarType, Bool) {
        let chars = Array(descr)
        guard chars.count >= 3, let size = Int(String(chars[2...])) else {
            throw fail("unsupported dtype '\(descr)' (expected e.g. '<f4', '<f8', '<i8', '|u1', '|b1')")
        }
        let kinds: [String: ScalarType] = [
            "f2": .float16, "f4": .float32, "f8": .float64,
            "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
            "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let type = kinds["\(chars[1])\(size)"] else {
            throw fail("unsupported dtype '\(descr)' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, either byte order)")
        }
        switch chars[0] {
        case "<", "=": return (type, false)
        case ">": return (type, true)
        case "|":
            guard type.byteSize == 1 else { throw fail("dtype '\(descr)': byte order '|' is only valid for 1-byte types") }
            return (type, false)
        default: throw fail("dtype '\(descr)': unknown byte order '\(chars[0])'")
        }
    }

    // MARK: Writing

    /// `.npy` (version 1.0, or 2.0 for very long headers) bytes of a Float32 tensor, little-endian, C order.
    public static func encode(_ tensor: Tensor) -> Data {
        var out = header(for: tensor.shape)
        try? writeLittleEndianFloats(tensor) { out.append(contentsOf: $0) }
        return out
    }

    /// Writes a `.npy` file atomically (temporary file in the same directory, then rename).
    public static func save(_ tensor: Tensor, to url: URL) throws {
        let h = header(for: tensor.shape)
        try FileIO.writeAtomically(to: url) { write in
            try h.withUnsafeBytes { try write($0) }
            try writeLittleEndianFloats(tensor, write)
        }
    }

    /// Magic, version, length and the dict literal padded with spaces and a newline so the data starts at a
    /// multiple of 64 bytes, as NumPy writes it.
    static func header(for shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        var version: UInt8 = 1
        var prefix = 10
        if (dict.count + 1 + prefix + 63) / 64 * 64 - prefix > Int(UInt16.max) { version = 2; prefix = 12 }
        let total = (prefix + dict.count + 1 + 63) / 64 * 64
        dict.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: total - prefix - dict.count - 1))
        dict.append(UInt8(ascii: "\n"))
        var out = Data(magic + [version, 0])
        if version == 1 {
            withUnsafeBytes(of: UInt16(dict.count).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(dict.count).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: dict)
        return out
    }
}

/// NumPy `.npz` archives: a zip of `name.npy` members (stored or deflated), read as `name → tensor` in
/// archive order.
public enum NumPyArchive {
    /// Largest member accepted (a tensor at the element limit in float64, plus header).
    static let maxMemberBytes = FormatLimits.maxElements * 8 + (1 << 20)

    public static func load(contentsOf url: URL) throws -> [String: Tensor] {
        try load(ZipMembers.open(url))
    }

    /// Decodes `.npz` bytes held in memory; `file` names them in errors.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> [String: Tensor] {
        try load(ZipMembers.open(data: data, file: file))
    }

    private static func load(_ zip: ZipMembers) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, entry) in try members(zip) {
            let data = try zip.contents(of: entry, limit: maxMemberBytes, what: "array '\(name)'")
            out[name] = try NumPyArray.decode(data, file: zip.file, name: name)
        }
        return out
    }

    /// The listing in archive order. Each member's bytes are read to parse its header.
    public static func inspect(contentsOf url: URL) throws -> TensorArchive {
        let zip = try ZipMembers.open(url)
        var infos: [TensorInfo] = []
        for (name, entry) in try members(zip) {
            let data = try zip.contents(of: entry, limit: maxMemberBytes, what: "array '\(name)'")
            let h = try NumPyArray.parseHeader(data, file: url.path, name: name)
            infos.append(TensorInfo(name: name, dtype: h.dtype.rawValue, shape: h.shape))
        }
        return TensorArchive(file: url.path, format: .npz, tensors: infos)
    }

    /// `(name, entry)` for every `name.npy` member; other members are an error (`np.savez` writes only arrays).
    private static func members(_ zip: ZipMembers) throws -> [(String, ZipMembers.Entry)] {
        var out: [(String, ZipMembers.Entry)] = []
        var seen = Set<String>()
        for e in zip.entries {
            guard e.path.hasSuffix(".npy") else {
                throw FormatError(file: zip.file, "member '\(e.path)' is not a .npy array")
            }
            let name = String(e.path.dropLast(4))
            guard seen.insert(name).inserted else { throw FormatError(file: zip.file, "array '\(name)' appears twice") }
            out.append((name, e))
        }
        return out
    }

    /// Writes tensors as an uncompressed `.npz` (members in sorted name order) atomically.
    public static func save(_ tensors: [String: Tensor], to url: URL) throws {
        let members = tensors.keys.sorted().map { (path: $0 + ".npy", data: NumPyArray.encode(tensors[$0]!)) }
        try FileIO.writeAtomically(ZipMembers.archiveData(members, file: url.path), to: url)
    }
}
