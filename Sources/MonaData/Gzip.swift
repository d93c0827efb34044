import Foundation
import MonaFormats

/// gzip (RFC 1952) decompression: the member header (with the optional extra field, name, comment and header CRC)
/// and the CRC-32 and length trailer are read and verified here, the raw deflate body by zlib (MonaFormats'
/// bounded `Inflate`). Concatenated members are decoded one after another, as `gunzip` does.
public enum Gzip {
    /// True when `bytes` start with the gzip magic number 1f 8b.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses a whole gzip file. `file` names it in errors; decompressed output beyond `maximumSize` bytes
    /// is an error (default 4 GiB).
    public static func decompress(_ bytes: [UInt8], file: String, maximumSize: Int = 1 << 32) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { input in
            var out: [UInt8] = []
            out.reserveCapacity(min(max(bytes.count * 4, 1024), maximumSize))
            var pos = 0
            repeat {
                let memberStart = out.count
                pos = try readHeader(input, at: pos, file: file)
                do {
                    pos += try Inflate.inflate(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[pos...]),
                                               appendingTo: &out, limit: maximumSize,
                                               overLimit: "decompressed data exceeds the limit of \(maximumSize) bytes")
                } catch let f as Inflate.Failure {
                    let at = f.offset.map { " (near byte \(pos + $0))" } ?? ""
                    throw DataError(file: file, "corrupt gzip data: \(f.message)\(at)")
                }
                guard pos + 8 <= input.count else {
                    throw DataError(file: file, "gzip trailer is truncated (file ends at byte \(input.count))")
                }
                let crc = readLE32(input, pos)
                let size = readLE32(input, pos + 4)
                let produced = out.count - memberStart
                let actual = out.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[memberStart...])) }
                guard crc == actual else {
                    throw DataError(file: file, String(format: "gzip CRC-32 mismatch: trailer says %08x, data gives %08x", crc, actual))
                }
                guard size == UInt32(truncatingIfNeeded: produced) else {
                    throw DataError(file: file, "gzip length mismatch: trailer says \(size) bytes, decompressed \(produced)")
                }
                pos += 8
            } while pos < input.count
            return out
        }
    }

    private static func readLE32(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24
    }

    /// Validates one member header starting at `start`; returns the offset of its deflate data.
    private static func readHeader(_ p: UnsafeBufferPointer<UInt8>, at start: Int, file: String) throws -> Int {
        guard start + 10 <= p.count else {
            throw DataError(file: file, start == 0 ? "too short for a gzip header (\(p.count) bytes)"
                            : "trailing \(p.count - start) byte(s) after the gzip data")
        }
        guard p[start] == 0x1F, p[start + 1] == 0x8B else {
            throw DataError(file: file, start == 0 ? "not a gzip file (magic bytes are not 1f 8b)"
                            : "trailing data after the gzip data at byte \(start)")
        }
        guard p[start + 2] == 8 else { throw DataError(file: file, "unsupported gzip compression method \(p[start + 2])") }
        let flags = p[start + 3]
        guard flags & 0xE0 == 0 else { throw DataError(file: file, "gzip header sets reserved flag bits (\(flags))") }
        var pos = start + 10
        if flags & 0x04 != 0 {  // FEXTRA
            guard pos + 2 <= p.count else { throw DataError(file: file, "gzip extra field is truncated") }
            let xlen = Int(p[pos]) | Int(p[pos + 1]) << 8
            pos += 2 + xlen
            guard pos <= p.count else { throw DataError(file: file, "gzip extra field is truncated") }
        }
        for (bit, what) in [(UInt8(0x08), "file name"), (UInt8(0x10), "comment")] where flags & bit != 0 {
            while pos < p.count && p[pos] != 0 { pos += 1 }
            guard pos < p.count else { throw DataError(file: file, "gzip \(what) is not terminated") }
            pos += 1
        }
        if flags & 0x02 != 0 {  // FHCRC: low 16 bits of the CRC-32 of the header
            guard pos + 2 <= p.count else { throw DataError(file: file, "gzip header CRC is truncated") }
            let stored = UInt32(p[pos]) | UInt32(p[pos + 1]) << 8
            let actual = CRC32.checksum(UnsafeBufferPointer(rebasing: p[start..<pos])) & 0xFFFF
            guard stored == actual else { throw DataError(file: file, "gzip header CRC mismatch") }
            pos += 2
        }
        return pos
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as used by gzip and zip; computed by zlib.
public enum CRC32 {
    public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        ZipCRC.checksum(UnsafeRawBufferPointer(bytes))
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }
}
