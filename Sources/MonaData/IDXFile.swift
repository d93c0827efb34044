import Foundation
import MonaTensor

/// Reader for the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed, detected by its magic).
///
/// Layout: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), the number
/// of dimensions, then each dimension as a big-endian UInt32, then the values, big-endian, row-major. The file
/// must hold exactly the declared number of values (a truncated or over-long file is an error).
public enum IDXFile {
    /// The contents of an IDX file: its shape, element type and values converted to Float.
    public struct Contents: Sendable {
        public let shape: [Int]
        /// The element type byte from the header.
        public let typeCode: UInt8
        /// The values, converted to Float, with `shape`.
        public let values: Tensor
    }

    /// Reads an IDX file; `maximumSize` bounds the element count and the decompressed size in bytes.
    public static func read(_ url: URL, maximumSize: Int = 1 << 32) throws -> Contents {
        try read(bytes: readBytes(url), file: url.path, maximumSize: maximumSize)
    }

    public static func read(bytes raw: [UInt8], file: String, maximumSize: Int = 1 << 32) throws -> Contents {
        let bytes = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, file: file, maximumSize: maximumSize) : raw
        guard bytes.count >= 4 else { throw DataError(file: file, "too short for an IDX header (\(bytes.count) bytes)") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(file: file, "not an IDX file (first two bytes must be zero)")
        }
        let type = bytes[2]
        let width: Int
        switch type {
        case 0x08, 0x09: width = 1
        case 0x0B: width = 2
        case 0x0C, 0x0D: width = 4
        case 0x0E: width = 8
        default: throw DataError(file: file, String(format: "unknown IDX element type 0x%02x", type))
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw DataError(file: file, "IDX file declares 0 dimensions") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError(file: file, "IDX header is truncated: \(rank) dimensions need \(headerSize) bytes, file has \(bytes.count)")
        }
        var shape: [Int] = []
        var total = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let n = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(n)
            let (t, overflow) = total.multipliedReportingOverflow(by: n)
            guard !overflow, t <= maximumSize else {
                throw DataError(file: file, "IDX shape \(shape) is implausibly large")
            }
            total = t
        }
        let expected = headerSize + total * width
        guard bytes.count == expected else {
            throw DataError(file: file, bytes.count < expected
                            ? "IDX data is truncated: shape \(shape) needs \(expected) bytes, file has \(bytes.count)"
                            : "IDX file has \(bytes.count - expected) unexpected trailing bytes after shape \(shape)")
        }
        let values = bytes.withUnsafeBufferPointer { b in
            Tensor.build(shape) { out in
                let p = b.baseAddress! + headerSize
                if type == 0x08 {  // the common case (images, labels): a tight loop
                    for i in 0..<total { out[i] = Float(p[i]) }
                    return
                }
                for i in 0..<total {
                    let q = p + i * width
                    switch type {
                    case 0x08: out[i] = Float(q[0])
                    case 0x09: out[i] = Float(Int8(bitPattern: q[0]))
                    case 0x0B: out[i] = Float(Int16(bitPattern: UInt16(q[0]) << 8 | UInt16(q[1])))
                    case 0x0C: out[i] = Float(Int32(bitPattern: bigEndian32(q)))
                    case 0x0D: out[i] = Float(bitPattern: bigEndian32(q))
                    default:
                        var v: UInt64 = 0
                        for k in 0..<8 { v = v << 8 | UInt64(q[k]) }
                        out[i] = Float(Double(bitPattern: v))
                    }
                }
            }
        }
        return Contents(shape: shape, typeCode: type, values: values)
    }

    @inline(__always) private static func bigEndian32(_ q: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(q[0]) << 24 | UInt32(q[1]) << 16 | UInt32(q[2]) << 8 | UInt32(q[3])
    }

    /// Class names of Fashion-MNIST, in label order.
    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                                "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// An image-classification dataset from an images file [N, H, W] (or [N, C, H, W]) and a labels file [N]:
    /// inputs become `fields` [N, C, H, W] multiplied by `scale` (default 1/255, mapping bytes to [0, 1]).
    /// Labels must be integers in `0..<classNames.count`; `classNames` defaults to "0"…"max label".
    public static func imageClassification(images: URL, labels: URL, classNames: [String]? = nil,
                                           scale: Float = 1 / 255, name: String? = nil) throws -> LabeledDataset {
        let x = try read(images)
        let y = try read(labels)
        guard x.shape.count == 3 || x.shape.count == 4 else {
            throw DataError(file: images.path, "images must be [N, H, W] or [N, C, H, W], got \(x.shape)")
        }
        guard y.shape.count == 1 else { throw DataError(file: labels.path, "labels must be [N], got \(y.shape)") }
        guard y.shape[0] == x.shape[0] else {
            throw DataError(file: labels.path, "\(y.shape[0]) labels for \(x.shape[0]) images in \(images.lastPathComponent)")
        }
        let raw = y.values.scalars
        var ints: [Int] = []
        ints.reserveCapacity(raw.count)
        for (i, v) in raw.enumerated() {
            guard v >= 0, v == v.rounded(), v < 1e6 else {
                throw DataError(file: labels.path, "label \(v) of sample \(i) is not a non-negative integer")
            }
            ints.append(Int(v))
        }
        let names = classNames ?? (0...(ints.max() ?? 0)).map { String($0) }
        if let i = ints.firstIndex(where: { $0 >= names.count }) {
            throw DataError(file: labels.path, "label \(ints[i]) of sample \(i) is outside the \(names.count) classes")
        }
        let shape = x.shape.count == 3 ? [x.shape[0], 1, x.shape[1], x.shape[2]] : x.shape
        let scaled = x.values.reshaped(to: shape) * scale
        return try LabeledDataset(name: name ?? images.deletingPathExtension().lastPathComponent,
                                  inputs: .fields(scaled), targets: .classes(ints, names: names))
    }
}
