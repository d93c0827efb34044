/// A raw DEFLATE (RFC 1951) decoder for zip members, bounded on both sides: it reads only the member's
/// compressed bytes and writes exactly the declared number of output bytes, so a hostile stream ends in an
/// error instead of a hang or unbounded memory. Canonical-Huffman decoding follows the classic `puff` scheme.
enum Inflate {
    struct Failure: Error { let message: String }

    /// Decompresses `input` into exactly `expectedCount` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, expectedCount: Int) throws(Failure) -> [UInt8] {
        var state = State(input: input, capacity: expectedCount)
        try state.run()
        guard state.out.count == expectedCount else {
            throw Failure(message: "stream ended after \(state.out.count) of \(expectedCount) bytes")
        }
        return state.out
    }

    private static let maxBits = 15
    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                            67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                             5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385,
                                              513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
                                               10, 11, 11, 12, 12, 13, 13]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Code-length counts and symbols sorted by code, as canonical Huffman decoding needs.
    private struct Huffman {
        var count = [Int](repeating: 0, count: Inflate.maxBits + 1)
        var symbol: [Int]

        init(lengths: ArraySlice<Int>) throws(Failure) {
            symbol = [Int](repeating: 0, count: lengths.count)
            for l in lengths { count[l] += 1 }
            var left = 1
            for len in 1...Inflate.maxBits {
                left = 2 * left - count[len]
                if left < 0 { throw Failure(message: "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: Inflate.maxBits + 1)
            for len in 1..<Inflate.maxBits { offsets[len + 1] = offsets[len] + count[len] }
            for (s, l) in lengths.enumerated() where l != 0 {
                symbol[offsets[l]] = s
                offsets[l] += 1
            }
        }
    }

    private struct State {
        let input: UnsafeRawBufferPointer
        var position = 0
        var bitBuffer: UInt64 = 0
        var bitCount = 0
        /// Output so far; grows as data is produced, so a false declared size costs no memory.
        var out: [UInt8] = []
        let capacity: Int

        init(input: UnsafeRawBufferPointer, capacity: Int) {
            self.input = input
            self.capacity = capacity
            out.reserveCapacity(min(capacity, 4 * input.count + 65_536))
        }

        mutating func bits(_ n: Int) throws(Failure) -> Int {
            while bitCount < n {
                guard position < input.count else { throw Failure(message: "compressed data ends mid-stream") }
                bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
                position += 1
                bitCount += 8
            }
            let v = Int(bitBuffer & ((1 << UInt64(n)) - 1))
            bitBuffer >>= UInt64(n)
            bitCount -= n
            return v
        }

        mutating func emit(_ byte: UInt8) throws(Failure) {
            guard out.count < capacity else { throw Failure(message: "inflates past the declared size") }
            out.append(byte)
        }

        mutating func run() throws(Failure) {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Inflate.fixedLengths, Inflate.fixedDistances)
                case 2:
                    let (lengths, distances) = try dynamicTables()
                    try codes(lengths, distances)
                default: throw Failure(message: "invalid block type 3")
                }
            }
        }

        mutating func stored() throws(Failure) {
            bitBuffer = 0
            bitCount = 0   // stored blocks start on a byte boundary
            guard position + 4 <= input.count else { throw Failure(message: "truncated stored block header") }
            let len = Int(input[position]) | Int(input[position + 1]) << 8
            let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
            position += 4
            guard len == (~nlen & 0xFFFF) else { throw Failure(message: "stored block length check failed") }
            guard position + len <= input.count else { throw Failure(message: "stored block runs past the compressed data") }
            guard out.count + len <= capacity else { throw Failure(message: "inflates past the declared size") }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[position..<position + len]))
            position += len
        }

        mutating func decode(_ h: Huffman) throws(Failure) -> Int {
            var code = 0, first = 0, index = 0
            for len in 1...Inflate.maxBits {
                code |= try bits(1)
                let count = h.count[len]
                if code - count < first { return h.symbol[index + (code - first)] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(message: "invalid Huffman code")
        }

        mutating func codes(_ lengths: Huffman, _ distances: Huffman) throws(Failure) {
            while true {
                let symbol = try decode(lengths)
                if symbol < 256 { try emit(UInt8(symbol)); continue }
                if symbol == 256 { return }
                let s = symbol - 257
                guard s < 29 else { throw Failure(message: "invalid length symbol \(symbol)") }
                let length = Inflate.lengthBase[s] + (try bits(Inflate.lengthExtra[s]))
                let d = try decode(distances)
                guard d < 30 else { throw Failure(message: "invalid distance symbol \(d)") }
                let distance = Inflate.distanceBase[d] + (try bits(Inflate.distanceExtra[d]))
                guard distance <= out.count else { throw Failure(message: "distance \(distance) reaches before the start") }
                guard out.count + length <= capacity else { throw Failure(message: "inflates past the declared size") }
                for _ in 0..<length {   // byte by byte: source and destination may overlap
                    out.append(out[out.count - distance])
                }
            }
        }

        mutating func dynamicTables() throws(Failure) -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
            guard nlen <= 286, ndist <= 30 else { throw Failure(message: "too many length or distance codes") }
            var lengths = [Int](repeating: 0, count: 320)
            for k in 0..<ncode { lengths[Inflate.codeLengthOrder[k]] = try bits(3) }
            let lencode = try Huffman(lengths: lengths[0..<19])
            var index = 0
            while index < nlen + ndist {
                let symbol = try decode(lencode)
                if symbol < 16 { lengths[index] = symbol; index += 1; continue }
                var value = 0, repeatCount: Int
                switch symbol {
                case 16:
                    guard index > 0 else { throw Failure(message: "repeat with no previous length") }
                    value = lengths[index - 1]
                    repeatCount = 3 + (try bits(2))
                case 17: repeatCount = 3 + (try bits(3))
                default: repeatCount = 11 + (try bits(7))
                }
                guard index + repeatCount <= nlen + ndist else { throw Failure(message: "too many code lengths") }
                for _ in 0..<repeatCount { lengths[index] = value; index += 1 }
            }
            guard lengths[256] != 0 else { throw Failure(message: "no end-of-block code") }
            return (try Huffman(lengths: lengths[0..<nlen]), try Huffman(lengths: lengths[nlen..<(nlen + ndist)]))
        }
    }

    private static let fixedLengths: Huffman = {
        var l = [Int](repeating: 8, count: 288)
        for s in 144..<256 { l[s] = 9 }
        for s in 256..<280 { l[s] = 7 }
        return try! Huffman(lengths: l[...])
    }()
    private static let fixedDistances: Huffman = try! Huffman(lengths: [Int](repeating: 5, count: 30)[...])
}

/// CRC-32 (IEEE, as zip uses), slicing-by-8 for speed on large stored members.
enum ZipCRC {
    /// Eight 256-entry tables, flattened: table k at `k * 256`.
    private static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return t
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ crc
                let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return ~crc
    }
}
