import Foundation
import MonaTensor

/// An ONNX `TensorProto.DataType` code. Unknown codes are kept (and rejected only when converted).
public struct ONNXDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let undefined = ONNXDataType(rawValue: 0)
    public static let float = ONNXDataType(rawValue: 1)
    public static let uint8 = ONNXDataType(rawValue: 2)
    public static let int8 = ONNXDataType(rawValue: 3)
    public static let uint16 = ONNXDataType(rawValue: 4)
    public static let int16 = ONNXDataType(rawValue: 5)
    public static let int32 = ONNXDataType(rawValue: 6)
    public static let int64 = ONNXDataType(rawValue: 7)
    public static let string = ONNXDataType(rawValue: 8)
    public static let bool = ONNXDataType(rawValue: 9)
    public static let float16 = ONNXDataType(rawValue: 10)
    public static let double = ONNXDataType(rawValue: 11)
    public static let uint32 = ONNXDataType(rawValue: 12)
    public static let uint64 = ONNXDataType(rawValue: 13)
    public static let bfloat16 = ONNXDataType(rawValue: 16)

    private static let names: [Int32: String] = [
        0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
        8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
        15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
        20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
    ]
    public var description: String { Self.names[rawValue] ?? "data type \(rawValue)" }

    /// Bytes per element in `raw_data`, for the types we can convert.
    var rawElementSize: Int? {
        switch self {
        case .float, .int32, .uint32: 4
        case .double, .int64, .uint64: 8
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        default: nil
        }
    }

    /// Integer types: a float constant cast to one of them would be truncated, so folding must know.
    var isInteger: Bool {
        switch self {
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .bool: true
        default: false
        }
    }
}

/// One tensor stored in an ONNX file (an initializer or a `Constant` node's value): its name, element type,
/// shape and where its values are. Values are converted to a Float32 `Tensor` on request with `tensor()`.
public struct ONNXTensorInfo: Sendable {
    public let name: String
    public let dataType: ONNXDataType
    public let shape: [Int]
    /// The file the tensor came from (for error messages).
    public let file: String

    enum Payload: Sendable {
        case none
        /// `raw_data`: a slice of the file's bytes (shares the file's storage, no copy).
        case raw(Data)
        case floats([Float])
        case doubles([Double])
        /// `int32_data` (also used for int8/uint8/int16/uint16/bool/float16/bfloat16) or `int64_data` / `uint64_data`.
        case integers([UInt64])
        /// `data_location = EXTERNAL`: values live in another file; `location` is its `external_data` entry.
        case external(location: String)
        case unsupported(String)
    }
    let payload: Payload

    /// Number of elements the shape describes (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether the values are stored in another file (unsupported: `tensor()` throws).
    public var isExternal: Bool { if case .external = payload { true } else { false } }

    /// The values as a Float32 tensor of `shape`. Integer, half, bfloat16 and double values are converted.
    /// Throws for external data, unsupported types (string, complex, 4/8-bit floats) and inconsistent sizes.
    public func tensor() throws -> Tensor {
        let n = elementCount
        func fail(_ message: String) -> FormatError {
            FormatError(file: file, "tensor '\(name)' (\(dataType), shape \(shape)): \(message)")
        }
        switch payload {
        case .external(let location):
            throw fail("its data is stored outside the model file (\(location)); external data is not supported, "
                       + "re-export the model with all tensors inside it")
        case .unsupported(let why):
            throw fail(why)
        case .none:
            guard n == 0 else { throw fail("holds no values but its shape needs \(n)") }
            return Tensor.zeros(shape)
        case .raw(let data):
            guard let size = dataType.rawElementSize else { throw fail("cannot convert this data type to Float32") }
            guard data.count == n * size else {
                throw fail("raw_data has \(data.count) bytes, expected \(n) × \(size) = \(n * size)")
            }
            return data.withUnsafeBytes { raw in
                Tensor.build(shape) { out in ONNXTensorInfo.convertRaw(raw, type: dataType, count: n, into: out) }
            }
        case .floats(let values):
            guard dataType == .float || dataType == .undefined else { throw fail("float_data given for this type") }
            guard values.count == n else { throw fail("float_data has \(values.count) values, expected \(n)") }
            return Tensor(values, shape: shape)
        case .doubles(let values):
            guard dataType == .double else { throw fail("double_data given for this type") }
            guard values.count == n else { throw fail("double_data has \(values.count) values, expected \(n)") }
            return Tensor(values.map { Float($0) }, shape: shape)
        case .integers(let values):
            guard values.count == n else { throw fail("typed data has \(values.count) values, expected \(n)") }
            let type = dataType
            guard type.rawElementSize != nil, type != .float, type != .double else {
                throw fail("integer data given for this type")
            }
            return Tensor.build(shape) { out in
                for i in 0..<n { out[i] = ONNXTensorInfo.convertInteger(values[i], type: type) }
            }
        }
    }

    /// Converts a stored integer field element (`int32_data`, `int64_data`, `uint64_data`) of `type`.
    static func convertInteger(_ v: UInt64, type: ONNXDataType) -> Float {
        switch type {
        case .int64: Float(Int64(bitPattern: v))
        case .uint64: Float(v)
        // int32_data holds sign-extended int32 varints: truncate to the element's own width.
        case .int32: Float(Int32(truncatingIfNeeded: v))
        case .uint32: Float(UInt32(truncatingIfNeeded: v))
        case .int16: Float(Int16(truncatingIfNeeded: v))
        case .uint16: Float(UInt16(truncatingIfNeeded: v))
        case .int8: Float(Int8(truncatingIfNeeded: v))
        case .uint8, .bool: Float(UInt8(truncatingIfNeeded: v))
        case .float16: halfToFloat(UInt16(truncatingIfNeeded: v))
        case .bfloat16: Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: v)) << 16)
        default: .nan
        }
    }

    /// Converts little-endian `raw_data` of `count` elements.
    static func convertRaw(_ raw: UnsafeRawBufferPointer, type: ONNXDataType, count n: Int,
                           into out: UnsafeMutablePointer<Float>) {
        func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch type {
        case .float: for i in 0..<n { out[i] = Float(bitPattern: load(i, UInt32.self)) }
        case .double: for i in 0..<n { out[i] = Float(Double(bitPattern: load(i, UInt64.self))) }
        case .float16: for i in 0..<n { out[i] = halfToFloat(load(i, UInt16.self)) }
        case .bfloat16: for i in 0..<n { out[i] = Float(bitPattern: UInt32(load(i, UInt16.self)) << 16) }
        case .int64: for i in 0..<n { out[i] = Float(load(i, Int64.self)) }
        case .uint64: for i in 0..<n { out[i] = Float(load(i, UInt64.self)) }
        case .int32: for i in 0..<n { out[i] = Float(load(i, Int32.self)) }
        case .uint32: for i in 0..<n { out[i] = Float(load(i, UInt32.self)) }
        case .int16: for i in 0..<n { out[i] = Float(load(i, Int16.self)) }
        case .uint16: for i in 0..<n { out[i] = Float(load(i, UInt16.self)) }
        case .int8: for i in 0..<n { out[i] = Float(load(i, Int8.self)) }
        case .uint8, .bool: for i in 0..<n { out[i] = Float(load(i, UInt8.self)) }
        default: for i in 0..<n { out[i] = .nan }
        }
    }

    /// IEEE 754 binary16 → binary32 (exact; subnormals, infinities and NaN included). Written out by hand
    /// because `Float16` is unavailable on some platforms Swift supports.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            // Subnormal (or zero): value = mantissa × 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}

extension ONNXTensorInfo {
    /// Parses a `TensorProto` message.
    static func parse(_ reader: inout ProtobufReader, source: Data) throws -> ONNXTensorInfo {
        var dims: [UInt64] = []
        var dataType: Int64 = 0
        var name = ""
        var raw: Range<Int>?
        var floats: [Float] = []
        var doubles: [Double] = []
        var integers: [UInt64] = []
        var hasSegment = false
        var hasStrings = false
        var external = false
        var location = ""
        while let field = try reader.nextField() {
            switch field.number {
            case 1: try reader.readRepeatedVarints(field, into: &dims, "TensorProto.dims")
            case 2: dataType = try reader.readInt64(field, "TensorProto.data_type")
            case 3: hasSegment = true; try reader.skip(field)
            case 4: try reader.readRepeatedFloats(field, into: &floats, "TensorProto.float_data")
            case 5, 7, 11: try reader.readRepeatedVarints(field, into: &integers, "TensorProto integer data")
            case 6: hasStrings = true; try reader.skip(field)
            case 8: name = try reader.readString(field, "TensorProto.name")
            case 9:
                try reader.expect(field, .lengthDelimited, "TensorProto.raw_data")
                raw = try reader.readLengthDelimited()
            case 10: try reader.readRepeatedDoubles(field, into: &doubles, "TensorProto.double_data")
            case 13:
                // external_data: StringStringEntryProto {key = 1, value = 2}; keep "location" for the message.
                var entry = try reader.readMessage(field, "TensorProto.external_data")
                var key = "", value = ""
                while let f = try entry.nextField() {
                    switch f.number {
                    case 1: key = try entry.readString(f, "external_data.key")
                    case 2: value = try entry.readString(f, "external_data.value")
                    default: try entry.skip(f)
                    }
                }
                if key == "location" { location = value }
            case 14: external = try reader.readInt64(field, "TensorProto.data_location") == 1
            default: try reader.skip(field)
            }
        }
        let file = reader.file
        let label = name.isEmpty ? "<unnamed>" : name
        var shape: [Int] = []
        var count = 1
        for d in dims {
            let v = Int64(bitPattern: d)
            guard v >= 0 else { throw FormatError(file: file, "tensor '\(label)': negative dimension \(v) in dims") }
            guard let dim = Int(exactly: v) else {
                throw FormatError(file: file, "tensor '\(label)': dimension \(v) too large")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= 1 << 48 else {
                let all = dims.map { Int64(bitPattern: $0) }
                throw FormatError(file: file, "tensor '\(label)': shape \(all) has too many elements")
            }
            count = product
            shape.append(dim)
        }
        let type = ONNXDataType(rawValue: Int32(truncatingIfNeeded: dataType))
        let payload: Payload
        if external {
            payload = .external(location: location.isEmpty ? "no location given" : "location '\(location)'")
        } else if hasSegment {
            payload = .unsupported("segmented tensors are not supported")
        } else if hasStrings || type == .string {
            payload = .unsupported("string tensors cannot be converted to Float32")
        } else if let r = raw {
            payload = .raw(source[source.startIndex + r.lowerBound ..< source.startIndex + r.upperBound])
        } else if !floats.isEmpty {
            payload = .floats(floats)
        } else if !doubles.isEmpty {
            payload = .doubles(doubles)
        } else if !integers.isEmpty {
            payload = .integers(integers)
        } else {
            payload = .none
        }
        return ONNXTensorInfo(name: name, dataType: type, shape: shape, file: file, payload: payload)
    }
}
