import Foundation
import MonaTensor

/// The MiniRocket transform (Dempster, Schmidt & Webb, KDD 2021): 84 fixed kernels of length 9 (weights −1 at six
/// positions and 2 at three), a set of dilations fitted to the series length, biases drawn from quantiles of
/// the convolution output on random training examples, and one PPV feature (proportion of positive values of
/// the output minus a bias) per kernel, dilation and bias — 9 996 features by default.
///
/// Multivariate series use the authors' multivariate variant: each (dilation, kernel) pair sums its convolution
/// over a random subset of 1…min(C, 9) channels. A univariate series is the special case C = 1.
///
/// Every deterministic step (dilations, features per dilation, quantiles, bias interpolation, the zero-padded
/// convolution and which outputs count for PPV) is computed exactly as the authors' code does, in the same
/// floating-point precision, so that with the same random choices the features agree with aeon's to the last
/// bit (see the tests). The random choices come from `SeededGenerator`.
public struct MiniRocket: Sendable, Equatable {
    /// Kernel length and the number of kernels (all 3-subsets of the 9 positions).
    public static let kernelLength = 9
    public static let kernelCount = 84

    /// The positions holding weight 2 in kernel k, in lexicographic order of 3-subsets of 0…8.
    public static let kernelIndices: [(Int, Int, Int)] = {
        var out: [(Int, Int, Int)] = []
        for a in 0..<9 { for b in (a + 1)..<9 { for c in (b + 1)..<9 { out.append((a, b, c)) } } }
        return out
    }()

    public static func == (lhs: MiniRocket, rhs: MiniRocket) -> Bool {
        lhs.channels == rhs.channels && lhs.length == rhs.length && lhs.dilations == rhs.dilations
            && lhs.featuresPerDilation == rhs.featuresPerDilation && lhs.channelCounts == rhs.channelCounts
            && lhs.channelIndices == rhs.channelIndices && lhs.biases == rhs.biases
    }

    /// Channels and length of the series it was fitted on.
    public let channels: Int
    public let length: Int
    public let dilations: [Int]
    /// Features per kernel at each dilation (same order as `dilations`).
    public let featuresPerDilation: [Int]
    /// Channels summed by each (dilation, kernel) combination, dilation-major, and their indices, concatenated.
    public let channelCounts: [Int]
    public let channelIndices: [Int]
    /// One bias per feature.
    public let biases: [Float]

    /// Number of output features: 84 · Σ featuresPerDilation.
    public var featureCount: Int { biases.count }

    /// Fits dilations, channel combinations and biases to training series `x` [N, C, L].
    ///
    /// - Parameters:
    ///   - features: requested number of features (rounded down to a multiple of 84; at least 84).
    ///   - maxDilationsPerKernel: 32 in the paper.
    /// Series shorter than 9 points are zero-padded to 9 (here and in `transform`), as the authors advise.
    public init(fitting x: Tensor, features: Int = 10_000, maxDilationsPerKernel: Int = 32, seed: UInt64) throws {
        guard x.rank == 3, x.shape[0] > 0, x.shape[1] > 0, x.shape[2] > 0 else {
            throw TransferError.badTask("MiniRocket: expected training series [N, C, L] with N, C, L ≥ 1, got \(x.shape)")
        }
        guard maxDilationsPerKernel >= 1 else {
            throw TransferError.badConfig("MiniRocket: maxDilationsPerKernel must be ≥ 1, got \(maxDilationsPerKernel)")
        }
        let series = MiniRocket.padded(x)
        let (n, c, l) = (series.shape[0], series.shape[1], series.shape[2])
        channels = c
        length = l
        let fitted = MiniRocket.fitDilations(length: l, features: max(features, MiniRocket.kernelCount),
                                            maxDilationsPerKernel: maxDilationsPerKernel)
        dilations = fitted.dilations
        featuresPerDilation = fitted.featuresPerDilation
        let combinations = MiniRocket.kernelCount * dilations.count

        // Channel combinations: 2^U(0, log2(min(C, 9) + 1)) channels (truncated), drawn without replacement.
        var g = SeededGenerator(seed: seed)
        var counts: [Int] = [], indices: [Int] = []
        let maxExponent = log2(Double(min(c, 9) + 1))
        for _ in 0..<combinations {
            if c == 1 {
                counts.append(1)
                indices.append(0)
                continue
            }
            let u = Double(g.next() >> 11) * 0x1p-53 * maxExponent
            let k = min(max(Int(pow(2, u)), 1), min(c, 9))
            counts.append(k)
            indices += Tensor.randomPermutation(c, generator: &g).prefix(k)
        }
        channelCounts = counts
        channelIndices = indices

        var bg = SeededGenerator(seed: seed).forked(0x6269_6173)
        biases = MiniRocket.fitBiases(series, dilations: dilations, featuresPerDilation: featuresPerDilation,
                                      channelCounts: counts, channelIndices: indices, generator: &bg)
    }

    /// Biases: for each (dilation, kernel) pair, in order, the output of its channel combination on one random
    /// training example of `series` [N, C, L], and its quantiles at the low-discrepancy sequence's points.
    static func fitBiases(_ series: Tensor, dilations: [Int], featuresPerDilation: [Int], channelCounts: [Int],
                          channelIndices: [Int], generator bg: inout SeededGenerator) -> [Float] {
        let (n, c, l) = (series.shape[0], series.shape[1], series.shape[2])
        let quantiles = MiniRocket.quantiles(MiniRocket.kernelCount * featuresPerDilation.reduce(0, +))
        var biases = [Float](repeating: 0, count: quantiles.count)
        series.withUnsafeBufferPointer { src in
            var scratch = Scratch(channels: c, length: l)
            var output = [Float](repeating: 0, count: l)
            var feature = 0, combination = 0, channelStart = 0
            for (j, d) in dilations.enumerated() {
                for k in 0..<MiniRocket.kernelCount {
                    let example = Int(bg.next() % UInt64(n))
                    let chans = Array(channelIndices[channelStart..<(channelStart + channelCounts[combination])])
                    scratch.prepare(src.baseAddress! + example * c * l, channels: chans, dilation: d)
                    scratch.combine(kernel: k, channels: chans.indices, into: &output)
                    let sorted = output.sorted()
                    for f in 0..<featuresPerDilation[j] {
                        biases[feature + f] = MiniRocket.quantile(sorted: sorted, quantiles[feature + f])
                    }
                    feature += featuresPerDilation[j]
                    channelStart += channelCounts[combination]
                    combination += 1
                }
            }
        }
        return biases
    }

    /// A transform with given parameters (e.g. another implementation's fitted ones, for comparisons).
    public init(channels: Int, length: Int, dilations: [Int], featuresPerDilation: [Int], channelCounts: [Int],
                channelIndices: [Int], biases: [Float]) throws {
        let combos = MiniRocket.kernelCount * dilations.count
        guard channels >= 1, dilations.count == featuresPerDilation.count, dilations.allSatisfy({ $0 >= 1 }),
              featuresPerDilation.allSatisfy({ $0 >= 0 }), channelCounts.count == combos,
              channelCounts.allSatisfy({ $0 >= 1 && $0 <= channels }), channelIndices.count == channelCounts.reduce(0, +),
              channelIndices.allSatisfy({ $0 >= 0 && $0 < channels }),
              biases.count == MiniRocket.kernelCount * featuresPerDilation.reduce(0, +) else {
            throw TransferError.badConfig("MiniRocket: inconsistent parameters")
        }
        self.channels = channels
        self.length = length
        self.dilations = dilations
        self.featuresPerDilation = featuresPerDilation
        self.channelCounts = channelCounts
        self.channelIndices = channelIndices
        self.biases = biases
    }

    /// PPV features [N, featureCount] of series `x` [N, C, L'] (C as fitted; any length, shorter than 9 is
    /// zero-padded). Examples are spread over the engine's threads.
    public func transform(_ x: Tensor) throws -> Tensor {
        guard x.rank == 3, x.shape[1] == channels else {
            throw TransferError.badTask("MiniRocket: expected series [N, \(channels), L], got \(x.shape)")
        }
        let series = MiniRocket.padded(x)
        let (n, c, l) = (series.shape[0], series.shape[1], series.shape[2])
        let total = featureCount
        // Combination offsets into channelIndices, computed once.
        var starts = [Int](repeating: 0, count: channelCounts.count)
        for i in 1..<max(channelCounts.count, 1) { starts[i] = starts[i - 1] + channelCounts[i - 1] }
        let cost = MiniRocket.kernelCount * (dilations.count * 4 + total / MiniRocket.kernelCount) * l
        return series.withUnsafeBufferPointer { src in
            Tensor.build([n, total]) { dst in
                Parallel.forEachChunk(n, costPerItem: cost) { range in
                    var scratch = Scratch(channels: c, length: l)
                    var output = [Float](repeating: 0, count: l)
                    let all = Array(0..<c)
                    for i in range {
                        let row = dst + i * total
                        var feature = 0, combination = 0
                        for (j, d) in dilations.enumerated() {
                            scratch.prepare(src.baseAddress! + i * c * l, channels: all, dilation: d)
                            let padding = (MiniRocket.kernelLength - 1) * d / 2
                            let m = featuresPerDilation[j]
                            for k in 0..<MiniRocket.kernelCount {
                                let start = starts[combination]
                                let chans = channelIndices[start..<(start + channelCounts[combination])]
                                scratch.combine(kernel: k, channels: chans, into: &output)
                                // Alternate kernels count the whole output or only its unpadded middle.
                                let trimmed = (j + k) % 2 == 1
                                let lo = trimmed ? padding : 0, hi = trimmed ? l - padding : l
                                for f in 0..<m {
                                    row[feature + f] = MiniRocket.ppv(output, lo, hi, biases[feature + f])
                                }
                                feature += m
                                combination += 1
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Fitting details (as the authors' code computes them)

    /// Dilations 2^linspace(0, log2((L − 1) / 8), D) truncated to integers and made unique, with
    /// ⌊features / 84⌋ features per kernel spread over them in proportion to their multiplicity (remainder
    /// added round-robin from the smallest dilation).
    static func fitDilations(length: Int, features: Int, maxDilationsPerKernel: Int)
        -> (dilations: [Int], featuresPerDilation: [Int]) {
        let perKernel = features / kernelCount
        let count = min(perKernel, maxDilationsPerKernel)
        let multiplier = Double(perKernel) / Double(count)
        let maxExponent = log2(Double(length - 1) / Double(kernelLength - 1))
        // numpy's linspace: i · (stop / (count − 1)), the last point exactly `stop`.
        let step = count > 1 ? maxExponent / Double(count - 1) : 0
        var values: [Int] = []
        for i in 0..<count {
            let e = i == count - 1 && count > 1 ? maxExponent : Double(i) * step
            let v = pow(2.0, e)
            values.append(v >= 1 ? Int(v) : 0)
        }
        var dilations: [Int] = [], multiplicity: [Int] = []
        for v in values.sorted() {
            if dilations.last == v { multiplicity[multiplicity.count - 1] += 1 } else { dilations.append(v); multiplicity.append(1) }
        }
        var perDilation = multiplicity.map { Int(Double($0) * multiplier) }
        var remainder = perKernel - perDilation.reduce(0, +)
        var i = 0
        while remainder > 0 {
            perDilation[i] += 1
            remainder -= 1
            i = (i + 1) % perDilation.count
        }
        return (dilations.map { max($0, 1) }, perDilation)
    }

    /// The low-discrepancy quantile sequence (i · φ) mod 1, i = 1…n, as Float.
    static func quantiles(_ n: Int) -> [Float] {
        let phi = (5.0.squareRoot() + 1) / 2
        return (1...max(n, 1)).prefix(n).map { Float((Double($0) * phi).truncatingRemainder(dividingBy: 1)) }
    }

    /// The q-quantile of ascending `sorted` by linear interpolation between closest ranks, in Double as numba's
    /// `np.quantile` computes it (q as a percentage and back), rounded to Float.
    static func quantile(sorted: [Float], _ q: Float) -> Float {
        let n = sorted.count
        if n == 1 { return sorted[0] }
        let percentile = Double(q) * 100
        if percentile >= 100 { return sorted[n - 1] }
        if percentile <= 0 { return sorted[0] }
        let rank = 1 + Double(n - 1) * (percentile / 100)
        let f = rank.rounded(.down)
        let m = rank - f
        let k = min(max(Int(f) - 1, 0), n - 2)
        return Float(Double(sorted[k]) * (1 - m) + Double(sorted[k + 1]) * m)
    }

    /// Proportion of out[lo..<hi] above `bias`.
    @inline(__always)
    static func ppv(_ out: [Float], _ lo: Int, _ hi: Int, _ bias: Float) -> Float {
        guard hi > lo else { return 0 }
        return out.withUnsafeBufferPointer { p in
            var count = 0
            for t in lo..<hi where p[t] > bias { count += 1 }
            return Float(Double(count) / Double(hi - lo))
        }
    }

    /// `x` zero-padded at the end to at least 9 points.
    static func padded(_ x: Tensor) -> Tensor {
        let l = x.shape[2]
        guard l < kernelLength else { return x }
        let (n, c) = (x.shape[0], x.shape[1])
        let s = x.scalars
        return Tensor.build([n, c, kernelLength]) { dst in
            dst.update(repeating: 0, count: n * c * kernelLength)
            for r in 0..<(n * c) { for t in 0..<l { dst[r * kernelLength + t] = s[r * l + t] } }
        }
    }

    /// Per-channel partial convolutions of one example at one dilation: α-part (−x summed over the 9 taps)
    /// and the 9 γ-parts (3x shifted to each tap), zero-padded to "same" length. Any kernel's output is
    /// α + γ_a + γ_b + γ_c, summed over its channels — the authors' decomposition, additions in their order.
    struct Scratch {
        let length: Int
        var alpha: [Float]
        var gamma: [Float]            // [9, C, L]
        let channels: Int

        init(channels: Int, length: Int) {
            self.channels = channels
            self.length = length
            alpha = [Float](repeating: 0, count: channels * length)
            gamma = [Float](repeating: 0, count: 9 * channels * length)
        }

        /// Fills slots 0..<chans.count from `example`'s channels `chans` ([C, L] row-major at `example`).
        mutating func prepare(_ example: UnsafePointer<Float>, channels chans: [Int], dilation d: Int) {
            let l = length, cs = channels
            alpha.withUnsafeMutableBufferPointer { a in
                gamma.withUnsafeMutableBufferPointer { g in
                    for (slot, ch) in chans.enumerated() {
                        let x = example + ch * l
                        let ar = a.baseAddress! + slot * l
                        for t in 0..<l { ar[t] = -x[t] }
                        for tap in 0..<9 {
                            let gr = g.baseAddress! + (tap * cs + slot) * l
                            gr.update(repeating: 0, count: l)
                        }
                        let center = g.baseAddress! + (4 * cs + slot) * l
                        for t in 0..<l { center[t] = 3 * x[t] }
                        // Taps 0…3 look back (4 − tap)·d points, taps 5…8 ahead (tap − 4)·d points.
                        for tap in [0, 1, 2, 3, 5, 6, 7, 8] {
                            let shift = (tap - 4) * d
                            let gr = g.baseAddress! + (tap * cs + slot) * l
                            let lo = max(0, -shift), hi = min(l, l - shift)
                            guard hi > lo else { continue }
                            for t in lo..<hi {
                                ar[t] += -x[t + shift]
                                gr[t] = 3 * x[t + shift]
                            }
                        }
                    }
                }
            }
        }

        /// out[t] = Σ over `slots` of (α + γ_a + γ_b + γ_c)[slot, t] for kernel k.
        func combine<S: Collection>(kernel k: Int, channels slots: S, into out: inout [Float]) where S.Element == Int {
            let (a, b, c) = MiniRocket.kernelIndices[k]
            let l = length, cs = channels
            alpha.withUnsafeBufferPointer { al in
                gamma.withUnsafeBufferPointer { g in
                    out.withUnsafeMutableBufferPointer { o in
                        var first = true
                        for slot in slots {
                            let ar = al.baseAddress! + slot * l
                            let ga = g.baseAddress! + (a * cs + slot) * l
                            let gb = g.baseAddress! + (b * cs + slot) * l
                            let gc = g.baseAddress! + (c * cs + slot) * l
                            if first {
                                for t in 0..<l { o[t] = ((ar[t] + ga[t]) + gb[t]) + gc[t] }
                                first = false
                            } else {
                                for t in 0..<l { o[t] += ((ar[t] + ga[t]) + gb[t]) + gc[t] }
                            }
                        }
                    }
                }
            }
        }
    }
}
