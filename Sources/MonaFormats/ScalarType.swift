import MonaTensor

/// An element type found in a checkpoint or array file. Every reader converts to Float32 on load.
///
/// The raw values are the safetensors spellings; `TensorInfo.dtype` uses them for every format so that
/// `mona inspect` lists all files alike.
public enum ScalarType: String, Sendable, CaseIterable {
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float64 = "F64"
    case int64 = "I64"
    case int32 = "I32"
    case int16 = "I16"
    case int8 = "I8"
    case uint64 = "U64"
    case uint32 = "U32"
    case uint16 = "U16"
    case uint8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64: 8
        case .float32, .int32, .uint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        }
    }
}

/// Limits that keep a hostile file from making the reader allocate absurd amounts of memory.
public enum FormatLimits {
    /// Largest element count of one tensor (2³¹ Float32 values = 8 GiB).
    public static let maxElements = 1 << 31
    /// Largest rank accepted for a tensor.
    public static let maxRank = 64
}

/// Element count of an untrusted shape: non-negative dimensions, no overflow, at most `FormatLimits.maxElements`.
func checkedElementCount(_ shape: [Int], file: String, tensor: String) throws -> Int {
    guard shape.count <= FormatLimits.maxRank else {
        throw FormatError(file: file, "tensor '\(tensor)': rank \(shape.count) exceeds the limit of \(FormatLimits.maxRank)")
    }
    var n = 1
    for d in shape {
        guard d >= 0 else { throw FormatError(file: file, "tensor '\(tensor)': negative dimension in shape \(shape)") }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, p <= FormatLimits.maxElements else {
            throw FormatError(file: file, "tensor '\(tensor)': shape \(shape) has more than \(FormatLimits.maxElements) elements")
        }
        n = p
    }
    return n
}

/// `count × size` for byte lengths, throwing instead of overflowing.
func checkedByteCount(_ count: Int, _ size: Int, file: String, tensor: String) throws -> Int {
    let (p, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow else { throw FormatError(file: file, "tensor '\(tensor)': byte size overflows") }
    return p
}

// MARK: - Conversion to Float32

/// IEEE binary16 bits → Float (exact; subnormals, infinities and NaN payloads kept).
@inline(__always) func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    if exponent == 0 {
        // ±0 or subnormal: value = mantissa × 2⁻²⁴, exact in Float.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// bfloat16 bits → Float (exact: bfloat16 is the upper half of a Float).
@inline(__always) func floatFromBFloat16Bits(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

extension ScalarType {
    /// Converts `count` packed elements at `source` into Float32. `bigEndian` says how multi-byte values are
    /// stored. `source` may be unaligned (memory-mapped files, zip members).
    func convert(_ source: UnsafeRawPointer, count: Int, bigEndian: Bool, into out: UnsafeMutablePointer<Float>) {
        @inline(__always) func u16(_ i: Int) -> UInt16 {
            let v = source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            return bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
        }
        @inline(__always) func u32(_ i: Int) -> UInt32 {
            let v = source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
            return bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
        }
        @inline(__always) func u64(_ i: Int) -> UInt64 {
            let v = source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
            return bigEndian ? UInt64(bigEndian: v) : UInt64(littleEndian: v)
        }
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        switch self {
        case .float32:
            if !bigEndian && Int(1).littleEndian == 1 {
                UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: 4 * count)
            } else {
                for i in 0..<count { out[i] = Float(bitPattern: u32(i)) }
            }
        case .float16: for i in 0..<count { out[i] = floatFromHalfBits(u16(i)) }
        case .bfloat16: for i in 0..<count { out[i] = floatFromBFloat16Bits(u16(i)) }
        case .float64: for i in 0..<count { out[i] = Float(Double(bitPattern: u64(i))) }
        case .int64: for i in 0..<count { out[i] = Float(Int64(bitPattern: u64(i))) }
        case .int32: for i in 0..<count { out[i] = Float(Int32(bitPattern: u32(i))) }
        case .int16: for i in 0..<count { out[i] = Float(Int16(bitPattern: u16(i))) }
        case .int8: for i in 0..<count { out[i] = Float(Int8(bitPattern: bytes[i])) }
        case .uint64: for i in 0..<count { out[i] = Float(u64(i)) }
        case .uint32: for i in 0..<count { out[i] = Float(u32(i)) }
        case .uint16: for i in 0..<count { out[i] = Float(u16(i)) }
        case .uint8: for i in 0..<count { out[i] = Float(bytes[i]) }
        case .bool: for i in 0..<count { out[i] = bytes[i] != 0 ? 1 : 0 }
        }
    }

    /// A contiguous Float32 tensor of `shape` from packed elements (the caller has checked the byte length).
    func tensor(from source: UnsafeRawPointer, shape: [Int], bigEndian: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor.build(shape) { out in
            if n > 0 { convert(source, count: n, bigEndian: bigEndian, into: out) }
        }
    }
}

// MARK: - Strided views

/// Materialises a strided view of `source` (elements, not bytes) as a contiguous row-major tensor.
/// The caller has checked that every index `offset + Σ iₖ·strideₖ` lies inside `source`.
func gatherStrided(_ source: UnsafePointer<Float>, offset: Int, shape: [Int], strides: [Int]) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor.build(shape) { out in
        guard n > 0 else { return }
        let rank = shape.count
        if rank == 0 { out[0] = source[offset]; return }
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)   // multi-index of the current row (last axis is 0)
        var base = offset
        var o = 0
        while o < n {
            if innerStride == 1 {
                out.advanced(by: o).update(from: source.advanced(by: base), count: inner)
            } else {
                var s = base
                for j in 0..<inner { out[o + j] = source[s]; s += innerStride }
            }
            o += inner
            // Odometer step over the outer axes.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Checks that a strided view stays inside `storageCount` elements; returns its element count.
func checkStridedView(offset: Int, shape: [Int], strides: [Int], storageCount: Int,
                      file: String, tensor: String) throws -> Int {
    let n = try checkedElementCount(shape, file: file, tensor: tensor)
    guard strides.count == shape.count else {
        throw FormatError(file: file, "tensor '\(tensor)': stride \(strides) does not match shape \(shape)")
    }
    guard offset >= 0 else { throw FormatError(file: file, "tensor '\(tensor)': negative storage offset \(offset)") }
    guard strides.allSatisfy({ $0 >= 0 }) else {
        throw FormatError(file: file, "tensor '\(tensor)': negative stride in \(strides)")
    }
    if n == 0 { return 0 }
    var last = offset
    for (d, s) in zip(shape, strides) {
        let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
        let (sum, o2) = last.addingReportingOverflow(step)
        guard !o1, !o2 else { throw FormatError(file: file, "tensor '\(tensor)': stride \(strides) overflows") }
        last = sum
    }
    guard last < storageCount else {
        throw FormatError(file: file, "tensor '\(tensor)': view (offset \(offset), shape \(shape), stride \(strides)) "
                          + "reaches element \(last) but the storage holds \(storageCount) elements")
    }
    return n
}
