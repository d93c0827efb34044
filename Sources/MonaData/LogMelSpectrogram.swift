import Foundation
import MonaTensor

/// Mel frequency scales.
public enum MelScale: String, Sendable {
    /// Slaney's Auditory Toolbox scale (librosa's default): linear below 1 kHz (200/3 Hz per mel), logarithmic
    /// above (27 mel per factor 6.4 in frequency), so mel(1000 Hz) = 15.
    case slaney
    /// HTK: mel = 2595 · log10(1 + f / 700).
    case htk

    public func mel(fromHertz f: Double) -> Double {
        switch self {
        case .htk: return 2595 * log10(1 + f / 700)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
        }
    }

    public func hertz(fromMel m: Double) -> Double {
        switch self {
        case .htk: return 700 * (pow(10, m / 2595) - 1)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
            return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
        }
    }
}

/// Log-mel spectrogram features, computed as librosa does with `center=True, pad_mode="constant"` (its default
/// since 0.10):
///
/// 1. the signal is zero-padded by fftSize/2 on both sides, cut into frames of `fftSize` every `hopLength`
///    samples, each multiplied by a periodic Hann window of `windowLength` samples centred in the frame;
/// 2. power spectrum |FFT|² of each frame (bins 0…fftSize/2);
/// 3. triangular mel filterbank with `melBands` filters between `minFrequency` and `maxFrequency` on `scale`,
///    area-normalised (`slaneyNormalization`: each filter scaled by 2 / bandwidth in Hz, librosa `norm="slaney"`);
/// 4. log(1e-6 + ·) (natural log).
///
/// The result is [melBands, frames] with frames = 1 + signalLength / hopLength (integer division).
/// `fftSize` must be a power of two (radix-2 FFT).
public struct LogMelSpectrogram: Sendable {
    public let sampleRate: Int
    public let fftSize: Int
    public let windowLength: Int
    public let hopLength: Int
    public let melBands: Int
    public let minFrequency: Double
    public let maxFrequency: Double
    public let scale: MelScale
    public let slaneyNormalization: Bool
    /// Added before the logarithm so that silence gives log(1e-6) instead of −∞.
    public static let floor: Float = 1e-6

    /// [melBands, fftSize/2 + 1] filter weights.
    public let filterbank: Tensor
    private let window: [Double]

    /// Defaults: 25 ms Hann window (400 samples at 16 kHz) in a 512-point FFT, 10 ms hop, 64 Slaney mel bands
    /// from 0 Hz to the Nyquist frequency. Throws a `DataError` naming the bad option.
    public init(sampleRate: Int, fftSize: Int = 512, windowLength: Int? = nil, hopLength: Int? = nil,
                melBands: Int = 64, minFrequency: Double = 0, maxFrequency: Double? = nil,
                scale: MelScale = .slaney, slaneyNormalization: Bool = true) throws {
        let option = "log-mel options"
        guard sampleRate > 0 else { throw DataError(file: option, "sampleRate must be positive, got \(sampleRate)") }
        guard fftSize >= 2, fftSize & (fftSize - 1) == 0 else {
            throw DataError(file: option, "fftSize must be a power of two ≥ 2, got \(fftSize)")
        }
        let win = windowLength ?? min(fftSize, max(2, sampleRate / 40))
        guard win >= 2, win <= fftSize else {
            throw DataError(file: option, "windowLength must be in 2...fftSize (\(fftSize)), got \(win)")
        }
        let hop = hopLength ?? max(1, sampleRate / 100)
        guard hop >= 1 else { throw DataError(file: option, "hopLength must be ≥ 1, got \(hop)") }
        guard melBands >= 1 else { throw DataError(file: option, "melBands must be ≥ 1, got \(melBands)") }
        let fMax = maxFrequency ?? Double(sampleRate) / 2
        guard minFrequency >= 0, minFrequency < fMax, fMax <= Double(sampleRate) / 2 else {
            throw DataError(file: option, "need 0 ≤ minFrequency < maxFrequency ≤ sampleRate/2, got \(minFrequency), \(fMax)")
        }
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.windowLength = win
        self.hopLength = hop
        self.melBands = melBands
        self.minFrequency = minFrequency
        self.maxFrequency = fMax
        self.scale = scale
        self.slaneyNormalization = slaneyNormalization
        // Periodic Hann (scipy `hann(win, sym=False)`), zero-padded to fftSize with the window centred.
        var w = [Double](repeating: 0, count: fftSize)
        let left = (fftSize - win) / 2
        for i in 0..<win { w[left + i] = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(win)) }
        window = w
        filterbank = LogMelSpectrogram.makeFilterbank(sampleRate: sampleRate, fftSize: fftSize, bands: melBands,
                                                      fMin: minFrequency, fMax: fMax, scale: scale,
                                                      normalize: slaneyNormalization)
    }

    static func makeFilterbank(sampleRate: Int, fftSize: Int, bands: Int, fMin: Double, fMax: Double,
                               scale: MelScale, normalize: Bool) -> Tensor {
        let bins = fftSize / 2 + 1
        let lo = scale.mel(fromHertz: fMin), hi = scale.mel(fromHertz: fMax)
        let edges = (0..<(bands + 2)).map { scale.hertz(fromMel: lo + (hi - lo) * Double($0) / Double(bands + 1)) }
        var w = [Float](repeating: 0, count: bands * bins)
        for m in 0..<bands {
            let (a, c, d) = (edges[m], edges[m + 1], edges[m + 2])
            let norm = normalize ? 2 / (d - a) : 1
            for k in 0..<bins {
                let f = Double(k) * Double(sampleRate) / Double(fftSize)
                let v = max(0, min((f - a) / (c - a), (d - f) / (d - c)))
                w[m * bins + k] = Float(v * norm)
            }
        }
        return Tensor(w, shape: [bands, bins])
    }

    /// Number of frames for a signal of `length` samples.
    public func frameCount(forLength length: Int) -> Int { 1 + length / hopLength }

    /// Power spectrogram [fftSize/2 + 1, frames] of a 1-D signal [T].
    public func powerSpectrogram(_ signal: Tensor) -> Tensor {
        precondition(signal.rank == 1, "LogMelSpectrogram: signal must be 1-D [T], got \(signal.shape)")
        let x = signal.scalars
        let n = fftSize, bins = n / 2 + 1, frames = frameCount(forLength: x.count), pad = n / 2
        var out = [Float](repeating: 0, count: bins * frames)
        let fft = FFT(size: n)
        var re = [Double](repeating: 0, count: n), im = [Double](repeating: 0, count: n)
        for f in 0..<frames {
            let start = f * hopLength - pad
            for i in 0..<n {
                let j = start + i
                re[i] = j >= 0 && j < x.count ? Double(x[j]) * window[i] : 0
                im[i] = 0
            }
            fft.transform(&re, &im)
            for k in 0..<bins { out[k * frames + f] = Float(re[k] * re[k] + im[k] * im[k]) }
        }
        return Tensor(out, shape: [bins, frames])
    }

    /// Log-mel features [melBands, frames] of a 1-D signal [T].
    public func callAsFunction(_ signal: Tensor) -> Tensor {
        let power = powerSpectrogram(signal)                    // [bins, frames]
        let mel = Tensor.matmul(filterbank, power)              // [bands, frames]
        let logged = mel.scalars.map { Foundation.log(LogMelSpectrogram.floor + $0) }
        return Tensor(logged, shape: mel.shape)
    }
}

/// In-place iterative radix-2 complex FFT (Double precision), size a power of two.
struct FFT {
    let size: Int
    private let cosTable: [Double]
    private let sinTable: [Double]

    init(size: Int) {
        precondition(size >= 1 && size & (size - 1) == 0, "FFT: size \(size) is not a power of two")
        self.size = size
        cosTable = (0..<max(size / 2, 1)).map { cos(-2 * Double.pi * Double($0) / Double(size)) }
        sinTable = (0..<max(size / 2, 1)).map { sin(-2 * Double.pi * Double($0) / Double(size)) }
    }

    /// X[k] = Σ x[n] e^{−2πi kn/N}.
    func transform(_ re: inout [Double], _ im: inout [Double]) {
        let n = size
        if n <= 1 { return }
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var len = 2
        while len <= n {
            let half = len / 2, step = n / len
            var start = 0
            while start < n {
                for k in 0..<half {
                    let wr = cosTable[k * step], wi = sinTable[k * step]
                    let a = start + k, b = a + half
                    let tr = re[b] * wr - im[b] * wi
                    let ti = re[b] * wi + im[b] * wr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
                start += len
            }
            len <<= 1
        }
    }
}
