import Foundation
import MonaTensor

/// Decoded audio: samples in [-1, 1] per channel.
public struct AudioClip: Sendable {
    public let sampleRate: Int
    /// [C, T]: one row per channel.
    public let samples: Tensor

    public var channelCount: Int { samples.shape[0] }
    public var frameCount: Int { samples.shape[1] }

    /// The channels averaged into one: [T].
    public var mono: Tensor {
        samples.mean(alongAxes: [0], keepingDims: false)
    }
}

/// Reader for RIFF/WAVE files: PCM 8/16/24/32-bit integers or 32-bit IEEE float (format 1, 3, or
/// WAVE_FORMAT_EXTENSIBLE with one of those sub-formats), any channel count and sample rate.
///
/// Chunks are walked with bounds checks: a chunk that declares more bytes than the file holds is an error, as are
/// a missing `fmt ` or `data` chunk, a `data` chunk before `fmt `, and a `data` size that is not a whole number of
/// frames. Unknown chunks (LIST, fact, …) are skipped. Integers are scaled by 1/2^(bits−1) (8-bit is unsigned,
/// offset 128).
public enum WAVFile {
    public static func read(_ url: URL) throws -> AudioClip {
        try read(bytes: readBytes(url), file: url.path)
    }

    public static func read(bytes b: [UInt8], file: String) throws -> AudioClip {
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func le32(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
        func tag(_ i: Int) -> String { String(decoding: b[i..<(i + 4)].map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self) }
        guard b.count >= 12 else { throw DataError(file: file, "too short for a RIFF/WAVE header (\(b.count) bytes)") }
        guard tag(0) == "RIFF", tag(8) == "WAVE" else {
            throw DataError(file: file, "not a WAVE file (expected 'RIFF'…'WAVE', found '\(tag(0))'…'\(tag(8))')")
        }
        let riffEnd = 8 + le32(4)
        guard riffEnd <= b.count else {
            throw DataError(file: file, "RIFF header declares \(riffEnd) bytes, file has \(b.count) (truncated)")
        }
        var format: (code: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)?
        var pos = 12
        while pos + 8 <= riffEnd {
            let id = tag(pos)
            let size = le32(pos + 4)
            let body = pos + 8
            guard size <= riffEnd - body else {
                throw DataError(file: file, "chunk '\(id)' at byte \(pos) declares \(size) bytes, only \(riffEnd - body) remain (truncated)")
            }
            if id == "fmt " {
                guard size >= 16 else { throw DataError(file: file, "'fmt ' chunk is \(size) bytes, need at least 16") }
                var code = le16(body)
                let channels = le16(body + 2), rate = le32(body + 4), align = le16(body + 12), bits = le16(body + 14)
                if code == 0xFFFE {
                    guard size >= 40 else { throw DataError(file: file, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is \(size) bytes, need 40") }
                    code = le16(body + 24)
                }
                guard code == 1 || code == 3 else {
                    throw DataError(file: file, "unsupported WAVE format code \(code) (only PCM = 1 and IEEE float = 3)")
                }
                guard channels >= 1, rate >= 1 else {
                    throw DataError(file: file, "invalid format: \(channels) channels at \(rate) Hz")
                }
                let supported = code == 1 ? [8, 16, 24, 32].contains(bits) : bits == 32
                guard supported else {
                    throw DataError(file: file, "unsupported sample size: \(bits) bits for format \(code)")
                }
                guard align == channels * bits / 8 else {
                    throw DataError(file: file, "block align \(align) does not match \(channels) channels × \(bits) bits")
                }
                format = (code, channels, rate, align, bits)
            } else if id == "data" {
                guard let f = format else { throw DataError(file: file, "'data' chunk comes before the 'fmt ' chunk") }
                guard size % f.blockAlign == 0 else {
                    throw DataError(file: file, "'data' chunk of \(size) bytes is not a whole number of \(f.blockAlign)-byte frames")
                }
                let frames = size / f.blockAlign
                let width = f.bits / 8
                let samples = b.withUnsafeBufferPointer { buf in
                    Tensor.build([f.channels, frames]) { out in
                        let p = buf.baseAddress! + body
                        for t in 0..<frames {
                            for c in 0..<f.channels {
                                let q = p + t * f.blockAlign + c * width
                                out[c * frames + t] = decodeSample(q, bits: f.bits, float: f.code == 3)
                            }
                        }
                    }
                }
                return AudioClip(sampleRate: f.rate, samples: samples)
            }
            pos = body + size + (size & 1)  // chunks are padded to an even size
        }
        throw DataError(file: file, format == nil ? "no 'fmt ' chunk" : "no 'data' chunk")
    }

    @inline(__always) private static func decodeSample(_ q: UnsafePointer<UInt8>, bits: Int, float: Bool) -> Float {
        switch bits {
        case 8: return (Float(q[0]) - 128) / 128
        case 16: return Float(Int16(bitPattern: UInt16(q[0]) | UInt16(q[1]) << 8)) / 32768
        case 24:
            let v = Int32(bitPattern: UInt32(q[0]) << 8 | UInt32(q[1]) << 16 | UInt32(q[2]) << 24) >> 8
            return Float(v) / 8_388_608
        default:
            let u = UInt32(q[0]) | UInt32(q[1]) << 8 | UInt32(q[2]) << 16 | UInt32(q[3]) << 24
            return float ? Float(bitPattern: u) : Float(Double(Int32(bitPattern: u)) / 2_147_483_648)
        }
    }

    /// Writes 16-bit PCM (values clipped to [-1, 1]); `samples` is [C, T]. For tests and examples.
    public static func pcm16Bytes(samples: Tensor, sampleRate: Int) -> [UInt8] {
        precondition(samples.rank == 2, "WAVFile.pcm16Bytes: samples must be [C, T], got \(samples.shape)")
        let c = samples.shape[0], t = samples.shape[1]
        var out: [UInt8] = []
        func put32(_ v: Int) { for k in 0..<4 { out.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        func put16(_ v: Int) { for k in 0..<2 { out.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        let dataSize = c * t * 2
        out += Array("RIFF".utf8); put32(36 + dataSize); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); put32(16); put16(1); put16(c); put32(sampleRate); put32(sampleRate * c * 2)
        put16(c * 2); put16(16)
        out += Array("data".utf8); put32(dataSize)
        let s = samples.scalars
        for i in 0..<t {
            for ch in 0..<c {
                let v = max(-1, min(1, s[ch * t + i]))
                put16(Int(Int16((v * 32767).rounded())))
            }
        }
        return out
    }
}
