import Foundation

/// Reading zip members (for `.npz` and torch checkpoints) from a memory-mapped file; writing is in ZipWriter.swift.
///
/// The parser is bounded: every offset and size from the central directory is checked against the file, a
/// deflated member is decoded (by zlib) only from its own compressed bytes into exactly its declared size, and
/// the CRC-32 must match. Stored members (all of a torch checkpoint's) are returned without copying.
struct ZipMembers {
    struct Entry {
        var path: String
        var method: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    let data: Data
    let file: String
    /// File members (directories left out), in central-directory order.
    let entries: [Entry]

    static func open(_ url: URL) throws -> ZipMembers {
        try open(data: FileIO.mappedContents(of: url), file: url.path)
    }

    /// A zip held in memory; `file` names it in errors.
    static func open(data: Data, file: String) throws -> ZipMembers {
        let data = data.startIndex == 0 ? data : Data(data)   // offsets below are from 0
        let entries = try data.withUnsafeBytes { try readDirectory(ByteReader($0), file: file) }
        return ZipMembers(data: data, file: file, entries: entries)
    }

    /// Whether this zip is a `torch.save` checkpoint (it holds `<prefix>/data.pkl`).
    var hasTorchPickle: Bool { torchPrefix != nil }

    /// The top-level folder of `<prefix>/data.pkl` (torch names it after the saved file's stem).
    var torchPrefix: String? {
        for e in entries {
            let parts = e.path.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, parts[1] == "data.pkl", !parts[0].isEmpty { return String(parts[0]) }
        }
        return nil
    }

    func entry(_ path: String) -> Entry? { entries.first { $0.path == path } }

    /// The uncompressed bytes of `entry`, refusing members larger than `limit` bytes.
    func contents(of entry: Entry, limit: Int, what: String) throws -> Data {
        func fail(_ m: String) -> FormatError { FormatError(file: file, "\(what): member '\(entry.path)' \(m)") }
        guard entry.uncompressedSize <= limit else {
            throw fail("is \(entry.uncompressedSize) bytes, above the \(limit)-byte limit")
        }
        let start: Int = try data.withUnsafeBytes { raw in
            let r = ByteReader(raw)
            let h = entry.localHeaderOffset
            guard h <= raw.count - 30, r.u32(h) == 0x0403_4B50 else { throw fail("has no local header at offset \(h)") }
            let start = h + 30 + Int(r.u16(h + 26)) + Int(r.u16(h + 28))
            guard start <= raw.count, entry.compressedSize <= raw.count - start else {
                throw fail("claims \(entry.compressedSize) compressed bytes past the end of the file")
            }
            return start
        }
        let out: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail("is stored but its sizes differ (\(entry.compressedSize) vs \(entry.uncompressedSize))")
            }
            out = data[start..<start + entry.compressedSize]
        case 8:
            // Deflate expands at most 1032:1, so a larger declared size is a lie.
            guard entry.uncompressedSize / 1032 <= entry.compressedSize else {
                throw fail("claims \(entry.uncompressedSize) bytes, more than deflate can produce from \(entry.compressedSize)")
            }
            do {
                out = Data(try data.withUnsafeBytes { raw in
                    try Inflate.decompress(UnsafeRawBufferPointer(rebasing: raw[start..<start + entry.compressedSize]),
                                           expectedCount: entry.uncompressedSize)
                })
            } catch let error as Inflate.Failure {
                throw fail("is corrupted: \(error.message)")
            }
        default:
            throw fail("uses compression method \(entry.method); only stored (0) and deflated (8) are supported")
        }
        guard out.withUnsafeBytes({ ZipCRC.checksum($0) }) == entry.crc else { throw fail("fails its CRC-32 check (corrupted)") }
        return out
    }

    // MARK: Central directory

    /// Little-endian reads from a buffer whose bounds the caller has checked.
    struct ByteReader {
        let raw: UnsafeRawBufferPointer
        init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }
        var count: Int { raw.count }
        func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt16.self)) }
        func u32(_ i: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)) }
        func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
    }

    private static func readDirectory(_ r: ByteReader, file: String) throws -> [Entry] {
        func fail(_ m: String) -> FormatError { FormatError(file: file, "not a readable zip archive: \(m)") }
        // End-of-central-directory record: 22 bytes plus a comment of up to 65 535 bytes, at the very end.
        guard r.count >= 22 else { throw fail("too short (\(r.count) bytes)") }
        var eocd = -1
        var i = r.count - 22
        while i >= max(0, r.count - 22 - 65_535) {
            if r.u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record") }
        var count = Int(r.u16(eocd + 10))
        var size = Int(r.u32(eocd + 12))
        var offset = Int(r.u32(eocd + 16))
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            // ZIP64: a locator right before the record points at the 64-bit directory record.
            let locator = eocd - 20
            guard locator >= 0, r.u32(locator) == 0x0706_4B50 else { throw fail("missing ZIP64 locator") }
            let z = r.u64(locator + 8)
            guard r.count >= 56, z <= UInt64(r.count - 56), r.u32(Int(z)) == 0x0606_4B50 else { throw fail("bad ZIP64 directory record") }
            let zc = r.u64(Int(z) + 32), zs = r.u64(Int(z) + 40), zo = r.u64(Int(z) + 48)
            guard zc <= UInt64(r.count), zs <= UInt64(r.count), zo <= UInt64(r.count) else {
                throw fail("ZIP64 directory sizes exceed the file")
            }
            (count, size, offset) = (Int(zc), Int(zs), Int(zo))
        }
        guard offset <= r.count, size <= r.count - offset else { throw fail("central directory lies outside the file") }
        var entries: [Entry] = []
        var p = offset
        let end = offset + size
        for k in 0..<count {
            guard p <= end - 46, r.u32(p) == 0x0201_4B50 else { throw fail("central directory entry \(k) is malformed") }
            let flags = r.u16(p + 8)
            let method = r.u16(p + 10)
            let crc = r.u32(p + 16)
            var compressed = UInt64(r.u32(p + 20))
            var uncompressed = UInt64(r.u32(p + 24))
            let nameLength = Int(r.u16(p + 28)), extraLength = Int(r.u16(p + 30)), commentLength = Int(r.u16(p + 32))
            var local = UInt64(r.u32(p + 42))
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw fail("central directory entry \(k) runs past the directory") }
            let path = String(decoding: UnsafeRawBufferPointer(rebasing: r.raw[(p + 46)..<(p + 46 + nameLength)]), as: UTF8.self)
            // ZIP64 extended information (id 1) holds the 64-bit values whose 32-bit fields are all ones.
            var x = p + 46 + nameLength
            let extraEnd = x + extraLength
            while x + 4 <= extraEnd {
                let id = r.u16(x), length = Int(r.u16(x + 2))
                guard x + 4 + length <= extraEnd else { break }
                if id == 1 {
                    var f = x + 4
                    for field in 0..<3 {
                        let isSet = field == 0 ? uncompressed == 0xFFFF_FFFF : field == 1 ? compressed == 0xFFFF_FFFF : local == 0xFFFF_FFFF
                        guard isSet, f + 8 <= x + 4 + length else { continue }
                        let v = r.u64(f)
                        switch field {
                        case 0: uncompressed = v
                        case 1: compressed = v
                        default: local = v
                        }
                        f += 8
                    }
                }
                x += 4 + length
            }
            if flags & 1 != 0 { throw FormatError(file: file, "member '\(path)' is encrypted") }
            guard compressed <= UInt64(r.count), local <= UInt64(r.count), uncompressed <= UInt64(Int.max / 2) else {
                throw FormatError(file: file, "member '\(path)' has sizes or offsets beyond the file")
            }
            if !path.hasSuffix("/") {
                entries.append(Entry(path: path, method: method, crc: crc, compressedSize: Int(compressed),
                                     uncompressedSize: Int(uncompressed), localHeaderOffset: Int(local)))
            }
            p = next
        }
        return entries
    }
}
