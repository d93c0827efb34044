import MonaTensor

/// Seeded train/validation splits.
public enum Split {
    /// Splits `0..<labels.count` into training and validation indices, class by class.
    ///
    /// Within each class (shuffled with a generator derived from `seed`) round(validationFraction · n_c) samples go
    /// to validation, but at least one when validationFraction > 0 and the class has ≥ 2 samples, and never all of
    /// them (a class of one sample stays in training). The same seed and labels always give the same split; both
    /// index lists are sorted ascending.
    public static func stratified(labels: [Int], validationFraction: Double,
                                  seed: UInt64) throws -> (train: [Int], validation: [Int]) {
        try checkFraction(validationFraction)
        var byClass: [Int: [Int]] = [:]
        for (i, c) in labels.enumerated() { byClass[c, default: []].append(i) }
        var train: [Int] = [], validation: [Int] = []
        for c in byClass.keys.sorted() {
            let members = byClass[c]!
            var g = SeededGenerator(seed: seed).forked(UInt64(bitPattern: Int64(c)))
            let order = Tensor.randomPermutation(members.count, generator: &g).map { members[$0] }
            var k = Int((validationFraction * Double(members.count)).rounded())
            if validationFraction > 0 && members.count >= 2 { k = max(k, 1) }
            k = min(k, members.count - 1)
            validation += order.prefix(k)
            train += order.dropFirst(k)
        }
        return (train.sorted(), validation.sorted())
    }

    /// A seeded random split of `count` samples (for regression or unlabelled data): round(fraction · count)
    /// samples go to validation (at least one when fraction > 0 and count ≥ 2, never all).
    public static func random(count: Int, validationFraction: Double,
                              seed: UInt64) throws -> (train: [Int], validation: [Int]) {
        try checkFraction(validationFraction)
        var g = SeededGenerator(seed: seed)
        let order = Tensor.randomPermutation(count, generator: &g)
        var k = Int((validationFraction * Double(count)).rounded())
        if validationFraction > 0 && count >= 2 { k = max(k, 1) }
        k = max(0, min(k, count - 1))
        return (Array(order.dropFirst(k)).sorted(), Array(order.prefix(k)).sorted())
    }

    private static func checkFraction(_ f: Double) throws {
        guard f >= 0 && f < 1 else {
            throw DataError(file: "validationFraction", "must be in [0, 1), got \(f)")
        }
    }
}

/// Training, validation and test sets. Validation is carved from the training data; the test set is kept apart
/// and never used to fit anything.
public struct DataSplits: Sendable {
    public var train: LabeledDataset
    public var validation: LabeledDataset
    public var test: LabeledDataset

    public init(train: LabeledDataset, validation: LabeledDataset, test: LabeledDataset) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Carves a validation set out of `training` (stratified by class for classification targets, random
    /// otherwise; see `Split`) and keeps `test` as it is. Class names of the test set are aligned with the
    /// training set's (a test class unknown to training is an error).
    public static func make(training: LabeledDataset, test: LabeledDataset, validationFraction: Double,
                            seed: UInt64) throws -> DataSplits {
        let parts: (train: [Int], validation: [Int])
        var alignedTest = test
        if let labels = training.labels, let names = training.classNames {
            parts = try Split.stratified(labels: labels, validationFraction: validationFraction, seed: seed)
            alignedTest = try test.remappingClasses(to: names)
        } else {
            parts = try Split.random(count: training.count, validationFraction: validationFraction, seed: seed)
        }
        var train = training.subset(parts.train)
        var validation = training.subset(parts.validation)
        train.name = training.name + "/train"
        validation.name = training.name + "/validation"
        return DataSplits(train: train, validation: validation, test: alignedTest)
    }

    /// Fits a per-channel z-score normaliser on the training split only and applies it to all three splits.
    /// Token inputs are returned unchanged (with a nil normaliser).
    public func normalized() throws -> (splits: DataSplits, normalizer: ChannelNormalizer?) {
        guard let x = train.inputTensor else { return (self, nil) }
        let norm = ChannelNormalizer(fitting: x)
        return (DataSplits(train: try norm.apply(to: train), validation: try norm.apply(to: validation),
                           test: try norm.apply(to: test)), norm)
    }
}
