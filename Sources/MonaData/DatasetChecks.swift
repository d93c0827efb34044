import MonaTensor

/// Checks a dataset must pass before a model sees it. Loaders accept what the file format allows (e.g. NaN, or a
/// series of length 0); whether that is usable is decided once, where a task's data enters the pipeline.
extension LabeledDataset {
    /// Throws a `DataError` naming `file` when a sample dimension is 0 (a zero-length series, a field of width 0,
    /// zero regression columns) — a patch embedder needs at least one value per channel.
    public func checkSampleShape(file: String) throws {
        switch inputs {
        case .series(let x):
            guard x.shape[1] >= 1, x.shape[2] >= 1 else {
                throw DataError(file: file, "series inputs have shape \(x.shape) ([samples, channels, length]); "
                                + "every series needs at least one channel and one value")
            }
        case .fields(let x):
            guard x.shape.dropFirst().allSatisfy({ $0 >= 1 }) else {
                throw DataError(file: file, "field inputs have shape \(x.shape) ([samples, channels, height, width]); "
                                + "every dimension must be at least 1")
            }
        case .tokens(let t):
            if count > 0, t.allSatisfy(\.isEmpty) {
                throw DataError(file: file, "every token sequence is empty")
            }
        }
        switch targets {
        case .regression(let y) where y.rank == 2 && y.shape[1] == 0:
            throw DataError(file: file, "regression targets have shape \(y.shape): zero target columns")
        case .multiLabel(let y) where y.shape[1] == 0:
            throw DataError(file: file, "multi-label targets have shape \(y.shape): zero labels")
        case .fields(let y) where y.shape.dropFirst().contains(0):
            throw DataError(file: file, "dense targets have shape \(y.shape): every dimension must be at least 1")
        default:
            break
        }
    }

    /// Throws a `DataError` naming `file`, the sample, the channel and the position of the first NaN or infinite
    /// value in the inputs or targets: such a value would silently turn every metric into NaN or a constant.
    public func checkFinite(file: String) throws {
        if let x = inputTensor, let at = firstNonFinite(x) {
            throw DataError(file: file, "input \(describe(at, shape: x.shape, axis: "channel")) is \(at.value); "
                            + "NaN and infinite values are not accepted (remove or impute them)")
        }
        let y: Tensor, axis: String
        switch targets {
        case .regression(let t): y = t; axis = "target column"
        case .multiLabel(let t): y = t; axis = "label"
        case .fields(let t): y = t; axis = "channel"
        case .classes, .none: return
        }
        if let at = firstNonFinite(y) {
            throw DataError(file: file, "target \(describe(at, shape: y.shape, axis: axis)) is \(at.value); "
                            + "NaN and infinite values are not accepted")
        }
    }

    /// "sample i, channel c, position p" (0-based) for a flat index into a tensor of `shape`.
    private func describe(_ at: (index: Int, value: Float), shape: [Int], axis: String) -> String {
        guard shape.count >= 2 else { return "of sample \(at.index)" }
        let inner = shape.dropFirst(2).reduce(1, *)
        let row = shape[1] * inner
        let sample = at.index / row, column = (at.index % row) / inner, rest = at.index % inner
        var text = "of sample \(sample), \(axis) \(column)"
        switch shape.count {
        case 3: text += ", position \(rest)"
        case 4: text += ", row \(rest / shape[3]), column \(rest % shape[3])"
        default: if shape.count > 4 { text += ", element \(rest)" }
        }
        return text
    }
}

/// The flat index and value of the first NaN or ±infinity in `x`.
func firstNonFinite(_ x: Tensor) -> (index: Int, value: Float)? {
    x.withUnsafeBufferPointer { p -> (index: Int, value: Float)? in
        for i in 0..<p.count where !p[i].isFinite { return (i, p[i]) }
        return nil
    }
}
