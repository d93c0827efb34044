import MonaTensor

/// Which samples go into which mini-batch, epoch by epoch.
///
/// With `shuffle`, epoch e visits the samples in a permutation drawn from a generator derived from (`seed`, e):
/// the same seed and epoch always give the same batches, and different epochs give different orders, however
/// many epochs were drawn before. Without `shuffle` the order is 0..<count. The last, smaller batch is kept unless
/// `dropLast` is set — use that only for training; `evaluation(count:batchSize:)` never shuffles or drops.
public struct BatchSampler: Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) {
        precondition(count >= 0, "BatchSampler: negative sample count \(count)")
        precondition(batchSize >= 1, "BatchSampler: batch size must be ≥ 1, got \(batchSize)")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// In-order batches that cover every sample exactly once.
    public static func evaluation(count: Int, batchSize: Int) -> BatchSampler {
        BatchSampler(count: count, batchSize: batchSize, shuffle: false, dropLast: false)
    }

    /// Number of batches per epoch.
    public var batchCount: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The sample order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var g = SeededGenerator(seed: seed).forked(UInt64(bitPattern: Int64(epoch)))
        return Tensor.randomPermutation(count, generator: &g)
    }

    /// The index lists of `epoch`'s batches.
    public func batches(epoch: Int) -> [[Int]] {
        let o = order(epoch: epoch)
        return (0..<batchCount).map { b in Array(o[(b * batchSize)..<min((b + 1) * batchSize, count)]) }
    }
}

extension LabeledDataset {
    /// `epoch`'s mini-batches as datasets (each a `subset` of this one), built lazily one at a time.
    public func batches(_ sampler: BatchSampler, epoch: Int) -> LazyMapSequence<[[Int]], LabeledDataset> {
        precondition(sampler.count == count, "batches: sampler is for \(sampler.count) samples, dataset has \(count)")
        return sampler.batches(epoch: epoch).lazy.map { subset($0) }
    }
}
