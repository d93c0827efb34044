/// A raw DEFLATE decoder (RFC 1951) for untrusted input: every read is bounds-checked and every malformed
/// stream (bad block type, over-subscribed or incomplete Huffman code, distance beyond the window, truncated
/// data, output over the caller's limit) throws an error instead of trapping.
///
/// Written here rather than taken from zlib so that the gzip reader has no system-library dependency and its
/// failure modes are ours to state. Decoding uses a 10-bit first-level table with a canonical bit-by-bit fallback
/// for longer codes.
enum Inflate {
    struct Failure: Error {
        let message: String
        let offset: Int
    }

    /// Inflates the raw deflate stream that starts at `start` in `input`, appending to `output`. Back-references
    /// may reach only bytes written since `windowStart` (the start of the current gzip member). Returns the offset
    /// of the first byte after the stream.
    static func inflate(_ input: UnsafeBufferPointer<UInt8>, from start: Int, into output: ByteSink,
                        windowStart: Int, limit: Int) throws -> Int {
        var r = BitReader(input, position: start)
        var final = false
        while !final {
            final = try r.bits(1) == 1
            switch try r.bits(2) {
            case 0:
                try copyStored(&r, input, into: output, limit: limit)
            case 1:
                try decodeBlock(&r, lit: fixedTables.lit, dist: fixedTables.dist, into: output,
                                windowStart: windowStart, limit: limit)
            case 2:
                let (lit, dist) = try readDynamicTables(&r)
                try decodeBlock(&r, lit: lit, dist: dist, into: output, windowStart: windowStart, limit: limit)
            default:
                throw Failure(message: "invalid deflate block type 3", offset: r.byteOffset)
            }
        }
        return r.byteOffset
    }

    private static func copyStored(_ r: inout BitReader, _ input: UnsafeBufferPointer<UInt8>, into output: ByteSink,
                                   limit: Int) throws {
        r.alignToByte()
        var pos = r.byteOffset
        guard pos + 4 <= input.count else { throw Failure(message: "truncated stored-block header", offset: pos) }
        let len = Int(input[pos]) | Int(input[pos + 1]) << 8
        let nlen = Int(input[pos + 2]) | Int(input[pos + 3]) << 8
        guard len == (~nlen & 0xFFFF) else {
            throw Failure(message: "stored block length \(len) does not match its complement", offset: pos)
        }
        pos += 4
        guard pos + len <= input.count else {
            throw Failure(message: "stored block of \(len) bytes is truncated", offset: pos)
        }
        try output.append(UnsafeBufferPointer(rebasing: input[pos..<(pos + len)]), limit: limit)
        r.reset(position: pos + len)
    }

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                            67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                             5, 5, 5, 5, 0]
    private static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513,
                                          769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                           11, 11, 12, 12, 13, 13]

    private static func decodeBlock(_ r: inout BitReader, lit: Huffman, dist: Huffman, into out: ByteSink,
                                    windowStart: Int, limit: Int) throws {
        while true {
            let sym = try lit.decode(&r)
            if sym < 256 {
                try out.append(UInt8(sym), limit: limit)
            } else if sym == 256 {
                return
            } else {
                let li = sym - 257
                guard li < 29 else { throw Failure(message: "invalid length symbol \(sym)", offset: r.byteOffset) }
                let length = lengthBase[li] + (try r.bits(lengthExtra[li]))
                let ds = try dist.decode(&r)
                guard ds < 30 else { throw Failure(message: "invalid distance symbol \(ds)", offset: r.byteOffset) }
                let distance = distBase[ds] + (try r.bits(distExtra[ds]))
                guard distance <= out.count - windowStart else {
                    throw Failure(message: "back-reference distance \(distance) reaches before the start of the data",
                                  offset: r.byteOffset)
                }
                try out.copyBack(distance: distance, length: length, limit: limit)
            }
        }
    }

    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static func readDynamicTables(_ r: inout BitReader) throws -> (Huffman, Huffman) {
        let hlit = try r.bits(5) + 257
        let hdist = try r.bits(5) + 1
        let hclen = try r.bits(4) + 4
        guard hlit <= 286, hdist <= 30 else {
            throw Failure(message: "dynamic block declares \(hlit) literal and \(hdist) distance codes (max 286/30)",
                          offset: r.byteOffset)
        }
        var clLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<hclen { clLengths[codeLengthOrder[i]] = UInt8(try r.bits(3)) }
        let cl = try Huffman(lengths: clLengths, offset: r.byteOffset)
        var lengths = [UInt8](repeating: 0, count: hlit + hdist)
        var i = 0
        while i < lengths.count {
            let sym = try cl.decode(&r)
            var value: UInt8 = 0
            var repeatCount = 1
            switch sym {
            case 0..<16: value = UInt8(sym)
            case 16:
                guard i > 0 else { throw Failure(message: "length repeat with no previous length", offset: r.byteOffset) }
                value = lengths[i - 1]
                repeatCount = 3 + (try r.bits(2))
            case 17: repeatCount = 3 + (try r.bits(3))
            default: repeatCount = 11 + (try r.bits(7))
            }
            guard i + repeatCount <= lengths.count else {
                throw Failure(message: "code lengths overrun the declared \(lengths.count) codes", offset: r.byteOffset)
            }
            for _ in 0..<repeatCount { lengths[i] = value; i += 1 }
        }
        guard lengths[256] != 0 else {
            throw Failure(message: "dynamic block has no end-of-block code", offset: r.byteOffset)
        }
        let lit = try Huffman(lengths: Array(lengths[0..<hlit]), offset: r.byteOffset)
        let dist = try Huffman(lengths: Array(lengths[hlit...]), offset: r.byteOffset)
        return (lit, dist)
    }

    private static let fixedTables: (lit: Huffman, dist: Huffman) = {
        var l = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        // The fixed codes are complete and valid, so building them cannot fail.
        let lit = try! Huffman(lengths: l, offset: 0)
        let dist = try! Huffman(lengths: [UInt8](repeating: 5, count: 30), offset: 0, allowIncomplete: true)
        return (lit, dist)
    }()
}

/// LSB-first bit reader over a byte buffer (deflate packs bits starting at the least significant one).
struct BitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    private var pos: Int
    private(set) var buffer: UInt64 = 0
    private(set) var available: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int) {
        self.bytes = bytes
        self.pos = position
    }

    /// Offset of the first byte not yet (fully) consumed.
    var byteOffset: Int { pos - available / 8 }

    @inline(__always) mutating func refill() {
        while available <= 56 && pos < bytes.count {
            buffer |= UInt64(bytes[pos]) << UInt64(available)
            pos += 1
            available += 8
        }
    }

    @inline(__always) mutating func bits(_ n: Int) throws -> Int {
        if n == 0 { return 0 }
        if available < n {
            refill()
            guard available >= n else { throw Inflate.Failure(message: "deflate stream is truncated", offset: pos) }
        }
        let v = Int(buffer & ((1 << UInt64(n)) - 1))
        consume(n)
        return v
    }

    @inline(__always) mutating func consume(_ n: Int) {
        buffer >>= UInt64(n)
        available -= n
    }

    mutating func alignToByte() { consume(available % 8) }

    mutating func reset(position: Int) {
        pos = position
        buffer = 0
        available = 0
    }
}

/// A canonical Huffman decoding table.
struct Huffman {
    static let fastBits = 10
    /// Indexed by the next `fastBits` input bits: `symbol << 4 | length`, or 0 when the code is longer.
    private var fast: [UInt16]
    private var counts: [Int]
    private var symbols: [Int]

    init(lengths: [UInt8], offset: Int, allowIncomplete: Bool = false) throws {
        counts = [Int](repeating: 0, count: 16)
        for l in lengths { counts[Int(l)] += 1 }
        counts[0] = 0
        var left = 1
        for len in 1...15 {
            left = (left << 1) - counts[len]
            guard left >= 0 else { throw Inflate.Failure(message: "over-subscribed Huffman code", offset: offset) }
        }
        let used = counts.reduce(0, +)
        // Only a single one-bit code may leave the code incomplete (zlib's rule, e.g. one distance code).
        if left > 0 && !(allowIncomplete || (used == 1 && counts[1] == 1) || used == 0) {
            throw Inflate.Failure(message: "incomplete Huffman code", offset: offset)
        }
        var offs = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offs[len + 1] = offs[len] + counts[len] }
        symbols = [Int](repeating: 0, count: used)
        for (sym, l) in lengths.enumerated() where l != 0 {
            symbols[offs[Int(l)]] = sym
            offs[Int(l)] += 1
        }
        fast = [UInt16](repeating: 0, count: 1 << Huffman.fastBits)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for len in 1...15 {
            code = (code + counts[len - 1]) << 1
            nextCode[len] = code
        }
        for (sym, l8) in lengths.enumerated() where l8 != 0 && Int(l8) <= Huffman.fastBits {
            let l = Int(l8)
            let c = nextCode[l]
            nextCode[l] += 1
            var rev = 0
            for b in 0..<l where c & (1 << b) != 0 { rev |= 1 << (l - 1 - b) }
            let entry = UInt16(sym << 4 | l)
            var j = rev
            while j < fast.count {
                fast[j] = entry
                j += 1 << l
            }
        }
    }

    @inline(__always) func decode(_ r: inout BitReader) throws -> Int {
        if r.available < 15 { r.refill() }
        let e = fast[Int(r.buffer & UInt64((1 << Huffman.fastBits) - 1))]
        if e != 0 {
            let len = Int(e & 15)
            guard len <= r.available else { throw Inflate.Failure(message: "deflate stream is truncated", offset: r.byteOffset) }
            r.consume(len)
            return Int(e >> 4)
        }
        // Canonical decode, one bit at a time (codes longer than fastBits, or bits not in an incomplete code).
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= Int((r.buffer >> UInt64(len - 1)) & 1)
            let count = counts[len]
            if code - first < count {
                guard len <= r.available else {
                    throw Inflate.Failure(message: "deflate stream is truncated", offset: r.byteOffset)
                }
                r.consume(len)
                return symbols[index + code - first]
            }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw Inflate.Failure(message: r.available < 15 ? "deflate stream is truncated" : "invalid Huffman code",
                              offset: r.byteOffset)
    }
}

/// A growable byte buffer with an output-size limit (guards against decompression bombs).
final class ByteSink {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    private func reserve(_ extra: Int, limit: Int) throws {
        let needed = count + extra
        guard needed <= limit else {
            throw Inflate.Failure(message: "decompressed data exceeds the limit of \(limit) bytes", offset: -1)
        }
        if needed <= capacity { return }
        var c = capacity
        while c < needed { c = c > Int.max / 2 ? needed : c * 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always) func append(_ byte: UInt8, limit: Int) throws {
        if count == capacity || count >= limit { try reserve(1, limit: limit) }
        base[count] = byte
        count += 1
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) throws {
        try reserve(bytes.count, limit: limit)
        if let src = bytes.baseAddress { (base + count).update(from: src, count: bytes.count) }
        count += bytes.count
    }

    /// Appends `length` bytes copied from `distance` bytes back (overlapping copies repeat the pattern).
    @inline(__always) func copyBack(distance: Int, length: Int, limit: Int) throws {
        try reserve(length, limit: limit)
        var src = base + (count - distance)
        var dst = base + count
        for _ in 0..<length {
            dst.pointee = src.pointee
            dst += 1
            src += 1
        }
        count += length
    }

    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
