import CZlib

/// Raw DEFLATE (RFC 1951) decoding through zlib, bounded on both sides: zlib is given only the caller's bytes
/// (a zip member's compressed data, a gzip member's body) and an output window that never reaches past the
/// caller's limit, so a hostile stream ends in an error instead of a hang, an over-read or unbounded memory.
package enum Inflate {
    package struct Failure: Error {
        package let message: String
        /// The input offset zlib had reached (nil when the output limit, not the data, is the problem).
        package let offset: Int?
    }

    /// Decompresses `input` into exactly `expectedCount` bytes.
    package static func decompress(_ input: UnsafeRawBufferPointer, expectedCount: Int) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        // A declared size is only a claim: reserve what the input could plausibly give, grow on demand.
        out.reserveCapacity(min(expectedCount, 4 * input.count + 65_536))
        _ = try inflate(input, appendingTo: &out, limit: expectedCount, overLimit: "inflates past the declared size")
        guard out.count == expectedCount else {
            throw Failure(message: "stream ended after \(out.count) of \(expectedCount) bytes", offset: nil)
        }
        return out
    }

    /// Inflates the raw deflate stream at the start of `input`, appending to `output` while `output` holds at most
    /// `limit` bytes; more output fails with `overLimit`. Returns how many input bytes the stream took (the
    /// bytes after it, such as a gzip trailer, are the caller's).
    package static func inflate(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8], limit: Int,
                                overLimit: String) throws(Failure) -> Int {
        let z = ZStream(input, end: { inflateEnd($0) })
        guard CZlib_inflateInitRaw(z.stream) == Z_OK else { throw Failure(message: "zlib could not start (out of memory)", offset: nil) }
        let stream = z.stream
        func consumed() -> Int { z.fed - Int(stream.pointee.avail_in) }
        while true {
            z.feed()
            let room = limit - output.count
            let code: Int32
            if room > 0 {
                code = z.produce(into: &output, room: min(room, max(output.count, 65_536), chunk)) { CZlib.inflate($0, Z_NO_FLUSH) }
            } else {
                // At the limit, one scratch byte tells a stream that has ended from one with more to give.
                var scratch: UInt8 = 0
                code = withUnsafeMutablePointer(to: &scratch) { p in
                    stream.pointee.next_out = p
                    stream.pointee.avail_out = 1
                    return CZlib.inflate(stream, Z_NO_FLUSH)
                }
                if stream.pointee.avail_out == 0 { throw Failure(message: overLimit, offset: nil) }
            }
            switch code {
            case Z_STREAM_END:
                return consumed()
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress although output room was given: the input is used up before the final block.
                guard z.fed < input.count else { throw Failure(message: "deflate stream is truncated", offset: consumed()) }
            case Z_DATA_ERROR:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                throw Failure(message: describe(reason), offset: consumed())
            case Z_MEM_ERROR:
                throw Failure(message: "zlib ran out of memory", offset: nil)
            default:
                throw Failure(message: "zlib failed with code \(code)", offset: consumed())
            }
        }
    }

    /// zlib's reason in the words our errors used before zlib (scripts and tests match on them).
    private static func describe(_ zlibMessage: String) -> String {
        zlibMessage == "invalid block type" ? "invalid deflate block type 3" : "invalid deflate data (\(zlibMessage))"
    }

    /// zlib counts in 32-bit lengths; larger buffers go through in pieces of this size.
    fileprivate static let chunk = 1 << 30
}

/// Raw DEFLATE encoding through zlib, for archives we write ourselves.
package enum Deflate {
    package struct Failure: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    package static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = Z_DEFAULT_COMPRESSION) throws(Failure) -> [UInt8] {
        let z = ZStream(input, end: { deflateEnd($0) })
        guard CZlib_deflateInitRaw(z.stream, level) == Z_OK else { throw Failure(message: "zlib could not start a deflate stream") }
        var out: [UInt8] = []
        while true {
            z.feed()
            let flush = z.fed == input.count ? Z_FINISH : Z_NO_FLUSH
            let room = max(Int(deflateBound(z.stream, UInt(z.stream.pointee.avail_in))), 65_536)
            let code = z.produce(into: &out, room: room) { deflate($0, flush) }
            if code == Z_STREAM_END { return out }
            guard code == Z_OK || code == Z_BUF_ERROR else { throw Failure(message: "zlib deflate failed with code \(code)") }
        }
    }
}

/// A z_stream kept at one address (zlib checks that it does not move between calls), fed from one buffer in
/// pieces that fit zlib's 32-bit counts.
private final class ZStream {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    let input: UnsafeRawBufferPointer
    private let end: (UnsafeMutablePointer<z_stream>) -> Int32
    /// Input bytes handed to zlib so far.
    private(set) var fed = 0

    init(_ input: UnsafeRawBufferPointer, end: @escaping (UnsafeMutablePointer<z_stream>) -> Int32) {
        self.input = input
        self.end = end
        stream.initialize(to: z_stream())
    }

    deinit {
        _ = end(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Hands zlib the next piece of input once it has used up the last one.
    func feed() {
        guard stream.pointee.avail_in == 0, fed < input.count, let base = input.baseAddress else { return }
        let n = min(Inflate.chunk, input.count - fed)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self) + fed)
        stream.pointee.avail_in = UInt32(n)
        fed += n
    }

    /// Calls zlib with `room` bytes of space at the end of `output` and keeps what it wrote.
    func produce(into output: inout [UInt8], room: Int, _ call: (UnsafeMutablePointer<z_stream>) -> Int32) -> Int32 {
        let before = output.count
        output.append(contentsOf: repeatElement(0, count: room))
        let code = output.withUnsafeMutableBufferPointer { p in
            stream.pointee.next_out = p.baseAddress! + before
            stream.pointee.avail_out = UInt32(room)
            return call(stream)
        }
        output.removeLast(Int(stream.pointee.avail_out))
        return code
    }
}

/// CRC-32 (IEEE, as zip and gzip use), computed by zlib.
package enum ZipCRC {
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt = 0
        var i = 0
        while i < bytes.count, let base = bytes.baseAddress {
            let n = min(Inflate.chunk, bytes.count - i)
            crc = crc32(crc, base.assumingMemoryBound(to: UInt8.self) + i, UInt32(n))
            i += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}
