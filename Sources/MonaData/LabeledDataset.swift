import MonaTensor

/// A named set of N samples with their inputs and targets — what every loader in this module returns.
///
/// Inputs are one of three layouts: `series` [N, C, L] (C channels of length L), `fields` [N, C, H, W] (images or
/// 2-D fields), or `tokens` (one integer id sequence per sample, lengths may differ). Targets are class labels
/// (with their names), multi-label 0/1 rows, scalar or vector regression values, or dense fields.
public struct LabeledDataset: Sendable {
    /// The samples' inputs.
    public enum Inputs: Sendable {
        /// [N, C, L] Float series.
        case series(Tensor)
        /// [N, C, H, W] Float images or fields.
        case fields(Tensor)
        /// Token-id sequences, one per sample.
        case tokens([[Int]])
    }

    /// The samples' targets.
    public enum Targets: Sendable {
        /// Class index per sample, in `0..<names.count`; `names[k]` is class k's name as found in the file.
        case classes([Int], names: [String])
        /// [N, K] rows of 0/1: which of K labels apply to each sample.
        case multiLabel(Tensor)
        /// [N] or [N, D] real values.
        case regression(Tensor)
        /// [N, …] dense targets, e.g. a PDE solution field per sample.
        case fields(Tensor)
        /// No targets (unlabelled data).
        case none
    }

    public var name: String
    public private(set) var inputs: Inputs
    public private(set) var targets: Targets

    /// Checks that inputs and targets agree on N, that tensors have the rank their case promises, and that class
    /// indices are in range; throws a `DataError` naming the dataset otherwise.
    public init(name: String, inputs: Inputs, targets: Targets) throws {
        let n: Int
        switch inputs {
        case .series(let x):
            guard x.rank == 3 else { throw DataError(file: name, "series inputs must be [N, C, L], got \(x.shape)") }
            n = x.shape[0]
        case .fields(let x):
            guard x.rank == 4 else { throw DataError(file: name, "field inputs must be [N, C, H, W], got \(x.shape)") }
            n = x.shape[0]
        case .tokens(let t):
            n = t.count
        }
        switch targets {
        case .classes(let labels, let names):
            guard labels.count == n else {
                throw DataError(file: name, "\(labels.count) class labels for \(n) samples")
            }
            if let bad = labels.first(where: { $0 < 0 || $0 >= names.count }) {
                throw DataError(file: name, "class index \(bad) outside 0..<\(names.count)")
            }
        case .multiLabel(let y):
            guard y.rank == 2, y.shape[0] == n else {
                throw DataError(file: name, "multi-label targets must be [\(n), K], got \(y.shape)")
            }
        case .regression(let y):
            guard (y.rank == 1 || y.rank == 2), y.shape[0] == n else {
                throw DataError(file: name, "regression targets must be [\(n)] or [\(n), D], got \(y.shape)")
            }
        case .fields(let y):
            guard y.rank >= 1, y.shape[0] == n else {
                throw DataError(file: name, "field targets must be [\(n), …], got \(y.shape)")
            }
        case .none:
            break
        }
        self.name = name
        self.inputs = inputs
        self.targets = targets
    }

    /// Number of samples.
    public var count: Int {
        switch inputs {
        case .series(let x), .fields(let x): return x.shape[0]
        case .tokens(let t): return t.count
        }
    }

    /// The input tensor for `series` or `fields` inputs (nil for tokens).
    public var inputTensor: Tensor? {
        switch inputs {
        case .series(let x), .fields(let x): return x
        case .tokens: return nil
        }
    }

    /// Class indices, for classification targets.
    public var labels: [Int]? {
        if case .classes(let y, _) = targets { return y }
        return nil
    }

    /// Class names, for classification targets.
    public var classNames: [String]? {
        if case .classes(_, let names) = targets { return names }
        return nil
    }

    /// Samples per class (index k counts class k), for classification targets.
    public var classCounts: [Int]? {
        guard case .classes(let y, let names) = targets else { return nil }
        var counts = [Int](repeating: 0, count: names.count)
        for c in y { counts[c] += 1 }
        return counts
    }

    /// The samples at `indices` (in that order; repeats allowed), as a new dataset with the same name.
    public func subset(_ indices: [Int]) -> LabeledDataset {
        let n = count
        for i in indices { precondition(i >= 0 && i < n, "subset: index \(i) out of range for \(n) samples") }
        var out = self
        switch inputs {
        case .series(let x): out.inputs = .series(gatherRows(x, indices))
        case .fields(let x): out.inputs = .fields(gatherRows(x, indices))
        case .tokens(let t): out.inputs = .tokens(indices.map { t[$0] })
        }
        switch targets {
        case .classes(let y, let names): out.targets = .classes(indices.map { y[$0] }, names: names)
        case .multiLabel(let y): out.targets = .multiLabel(gatherRows(y, indices))
        case .regression(let y): out.targets = .regression(gatherRows(y, indices))
        case .fields(let y): out.targets = .fields(gatherRows(y, indices))
        case .none: break
        }
        return out
    }

    /// The same samples with their inputs replaced (same N required); used by normalisation and feature maps.
    public func replacingInputs(_ newInputs: Inputs) throws -> LabeledDataset {
        try LabeledDataset(name: name, inputs: newInputs, targets: targets)
    }

    /// Re-expresses class labels in terms of `names` (e.g. the training set's classes, so that train and test
    /// agree on what index k means). Throws if a class of this dataset is missing from `names`.
    public func remappingClasses(to names: [String]) throws -> LabeledDataset {
        guard case .classes(let y, let own) = targets else {
            throw DataError(file: name, "remappingClasses: dataset has no class labels")
        }
        if own == names { return self }
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        var map = [Int](repeating: -1, count: own.count)
        for (k, s) in own.enumerated() {
            guard let j = index[s] else {
                throw DataError(file: name, "class \(quoted(s)) is not among the classes \(names)")
            }
            map[k] = j
        }
        return try LabeledDataset(name: name, inputs: inputs, targets: .classes(y.map { map[$0] }, names: names))
    }

    /// Drops the samples of classes with fewer than `minimumCount` samples and renumbers the remaining classes
    /// (keeping their relative order). Useful for taxonomic labels with many singleton classes.
    public func droppingRareClasses(minimumCount: Int) throws -> LabeledDataset {
        guard case .classes(let y, let names) = targets, let counts = classCounts else {
            throw DataError(file: name, "droppingRareClasses: dataset has no class labels")
        }
        let kept = (0..<names.count).filter { counts[$0] >= minimumCount }
        var newIndex = [Int](repeating: -1, count: names.count)
        for (j, k) in kept.enumerated() { newIndex[k] = j }
        let rows = (0..<y.count).filter { newIndex[y[$0]] >= 0 }
        let sub = subset(rows)
        return try LabeledDataset(name: name, inputs: sub.inputs,
                                  targets: .classes(rows.map { newIndex[y[$0]] }, names: kept.map { names[$0] }))
    }
}

/// Rows `indices` along axis 0 of `x`, as a new contiguous tensor.
func gatherRows(_ x: Tensor, _ indices: [Int]) -> Tensor {
    let row = x.rank == 0 ? 1 : x.shape.dropFirst().reduce(1, *)
    var shape = x.shape
    shape[0] = indices.count
    return x.withUnsafeBufferPointer { src in
        Tensor.build(shape) { dst in
            for (r, i) in indices.enumerated() where row > 0 {
                (dst + r * row).update(from: src.baseAddress! + i * row, count: row)
            }
        }
    }
}
