import MonaTensor

/// Per-channel z-score normalisation for [N, C, …] inputs: x' = (x − mean_c) / std_c, with mean and (population)
/// standard deviation of channel c taken over all samples and positions of the data it was fitted on. Fit it on
/// the training split only, then apply it to every split.
///
/// A channel whose standard deviation is below 1e-8 (constant) is only centred (std taken as 1). NaN in the
/// fitting data makes that channel's statistics NaN, which then propagates — it is never silently dropped.
public struct ChannelNormalizer: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "ChannelNormalizer: \(mean.count) means for \(std.count) stds")
        self.mean = mean
        self.std = std
    }

    /// Fits the statistics of `x` [N, C, …] (rank ≥ 2).
    public init(fitting x: Tensor) {
        precondition(x.rank >= 2, "ChannelNormalizer: need [N, C, …], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        x.withUnsafeBufferPointer { p in
            for i in 0..<n {
                for ch in 0..<c {
                    let base = (i * c + ch) * inner
                    var s = 0.0
                    for j in 0..<inner { s += Double(p[base + j]) }
                    sum[ch] += s
                }
            }
            let count = Double(max(n * inner, 1))
            for ch in 0..<c { sum[ch] /= count }
            for i in 0..<n {
                for ch in 0..<c {
                    let base = (i * c + ch) * inner
                    var s = 0.0
                    for j in 0..<inner { let d = Double(p[base + j]) - sum[ch]; s += d * d }
                    sq[ch] += s
                }
            }
            for ch in 0..<c { sq[ch] = (sq[ch] / count).squareRoot() }
        }
        mean = sum.map { Float($0) }
        std = sq.map { $0.isNaN ? .nan : ($0 < 1e-8 ? 1 : Float($0)) }
    }

    /// Normalises `x` [N, C, …] with C = the fitted channel count.
    public func apply(to x: Tensor) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == mean.count,
                     "ChannelNormalizer: fitted on \(mean.count) channels, got input of shape \(x.shape)")
        var statShape = [Int](repeating: 1, count: x.rank)
        statShape[1] = mean.count
        return (x - Tensor(mean, shape: statShape)) / Tensor(std, shape: statShape)
    }

    /// The dataset with its series or field inputs normalised (token inputs are returned unchanged).
    public func apply(to dataset: LabeledDataset) throws -> LabeledDataset {
        switch dataset.inputs {
        case .series(let x):
            guard x.shape[1] == mean.count else {
                throw DataError(file: dataset.name, "normaliser fitted on \(mean.count) channels, dataset has \(x.shape[1])")
            }
            return try dataset.replacingInputs(.series(apply(to: x)))
        case .fields(let x):
            guard x.shape[1] == mean.count else {
                throw DataError(file: dataset.name, "normaliser fitted on \(mean.count) channels, dataset has \(x.shape[1])")
            }
            return try dataset.replacingInputs(.fields(apply(to: x)))
        case .tokens:
            return dataset
        }
    }
}
