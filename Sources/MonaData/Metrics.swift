import MonaTensor

/// The evaluation metrics, and whether a larger value is better (for model selection and early stopping).
public enum MetricKind: String, Sendable, CaseIterable, Codable {
    case accuracy, errorRate, macroF1, auroc, meanAveragePrecision, mse, rmse, nrmse, relativeL2

    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .macroF1, .auroc, .meanAveragePrecision: return true
        case .errorRate, .mse, .rmse, .nrmse, .relativeL2: return false
        }
    }
}

/// Evaluation metrics as pure functions. Computation is in Double. A metric that is undefined for its input
/// (no samples; AUROC of a single class; AP of a label with no positives) returns nil rather than a made-up
/// number; NaN in scores or predictions gives NaN.
public enum Metrics {
    /// Fraction of `predictions` equal to `labels`; nil for no samples.
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double? {
        precondition(predictions.count == labels.count,
                     "accuracy: \(predictions.count) predictions for \(labels.count) labels")
        guard !labels.isEmpty else { return nil }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// 1 − accuracy; nil for no samples.
    public static func errorRate(predictions: [Int], labels: [Int]) -> Double? {
        accuracy(predictions: predictions, labels: labels).map { 1 - $0 }
    }

    /// Unweighted mean over classes of F1 = 2·TP / (2·TP + FP + FN).
    ///
    /// The classes averaged over are those that occur in `labels` or in `predictions`: a class absent from both
    /// is ignored (it has no defined F1), a class present in the truth but never predicted — or predicted but
    /// never true — scores 0. nil for no samples.
    public static func macroF1(predictions: [Int], labels: [Int]) -> Double? {
        precondition(predictions.count == labels.count,
                     "macroF1: \(predictions.count) predictions for \(labels.count) labels")
        guard !labels.isEmpty else { return nil }
        var tp: [Int: Int] = [:], fp: [Int: Int] = [:], fn: [Int: Int] = [:]
        for (p, y) in zip(predictions, labels) {
            if p == y {
                tp[y, default: 0] += 1
            } else {
                fp[p, default: 0] += 1
                fn[y, default: 0] += 1
            }
        }
        let classes = Set(predictions).union(labels)
        var total = 0.0
        for c in classes {
            let t = Double(tp[c] ?? 0), f = Double((fp[c] ?? 0) + (fn[c] ?? 0))
            total += 2 * t / (2 * t + f)
        }
        return total / Double(classes.count)
    }

    /// Area under the ROC curve of binary `scores` (higher = more positive), via the Mann–Whitney statistic with
    /// average ranks for tied scores (so a tie between a positive and a negative counts one half).
    /// nil when all samples are positive or all negative (the ROC curve is undefined); NaN if a score is NaN.
    public static func auroc(scores: [Float], positives: [Bool]) -> Double? {
        precondition(scores.count == positives.count, "auroc: \(scores.count) scores for \(positives.count) labels")
        let p = positives.filter { $0 }.count, n = positives.count - p
        guard p > 0 && n > 0 else { return nil }
        if scores.contains(where: { $0.isNaN }) { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1          // 1-based ranks i+1 … j+1
            for k in i...j where positives[order[k]] { rankSumPositive += averageRank }
            i = j + 1
        }
        return (rankSumPositive - Double(p) * Double(p + 1) / 2) / (Double(p) * Double(n))
    }

    /// One-vs-rest macro AUROC of class scores [N, K] (logits or probabilities) against labels: the mean of the
    /// binary AUROC of each class k against all others, over the classes for which it is defined (k occurs in
    /// `labels` and is not the only class present). nil when no class qualifies (e.g. a single-class batch).
    public static func macroAUROC(scores: Tensor, labels: [Int]) -> Double? {
        precondition(scores.rank == 2 && scores.shape[0] == labels.count,
                     "macroAUROC: scores \(scores.shape) do not match \(labels.count) labels")
        let k = scores.shape[1], s = scores.scalars
        var values: [Double] = []
        for c in 0..<k {
            let column = (0..<labels.count).map { s[$0 * k + c] }
            if let a = auroc(scores: column, positives: labels.map { $0 == c }) { values.append(a) }
        }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Average precision (scikit-learn's definition): Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the distinct score thresholds in
    /// decreasing order, where tied scores enter together. nil when there is no positive; NaN if a score is NaN.
    public static func averagePrecision(scores: [Float], positives: [Bool]) -> Double? {
        precondition(scores.count == positives.count,
                     "averagePrecision: \(scores.count) scores for \(positives.count) labels")
        let total = positives.filter { $0 }.count
        guard total > 0 else { return nil }
        if scores.contains(where: { $0.isNaN }) { return .nan }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0, ap = 0.0, lastRecall = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { if positives[order[k]] { tp += 1 } else { fp += 1 } }
            let recall = Double(tp) / Double(total), precision = Double(tp) / Double(tp + fp)
            ap += (recall - lastRecall) * precision
            lastRecall = recall
            i = j + 1
        }
        return ap
    }

    /// Mean average precision for multi-label scores [N, K] against 0/1 targets [N, K] (a target > 0.5 is
    /// positive): the mean of `averagePrecision` over the labels that have at least one positive — labels with
    /// no positive sample are skipped, as their AP is undefined. nil when no label has a positive.
    public static func meanAveragePrecision(scores: Tensor, targets: Tensor) -> Double? {
        precondition(scores.rank == 2 && scores.shape == targets.shape,
                     "meanAveragePrecision: scores \(scores.shape) and targets \(targets.shape) must be the same [N, K]")
        let n = scores.shape[0], k = scores.shape[1], s = scores.scalars, t = targets.scalars
        var values: [Double] = []
        for c in 0..<k {
            let column = (0..<n).map { s[$0 * k + c] }
            if let ap = averagePrecision(scores: column, positives: (0..<n).map { t[$0 * k + c] > 0.5 }) {
                values.append(ap)
            }
        }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Mean squared error over all elements; nil for empty tensors.
    public static func mse(predictions: Tensor, targets: Tensor) -> Double? {
        checkSameShape(predictions, targets, "mse")
        guard targets.count > 0 else { return nil }
        let p = predictions.scalars, t = targets.scalars
        var s = 0.0
        for i in 0..<p.count { let d = Double(p[i]) - Double(t[i]); s += d * d }
        return s / Double(p.count)
    }

    /// √MSE; nil for empty tensors.
    public static func rmse(predictions: Tensor, targets: Tensor) -> Double? {
        mse(predictions: predictions, targets: targets).map { $0.squareRoot() }
    }

    /// Normalised RMSE as in PDEBench: for each sample i (axis 0), ‖predᵢ − trueᵢ‖₂ / ‖trueᵢ‖₂ over all of that
    /// sample's elements, then the mean over samples. (PDEBench computes the ratio per channel before averaging;
    /// for single-channel fields the two agree.) A sample whose target is all zero gives +∞ (or NaN if its
    /// prediction is also zero). nil for no samples.
    public static func nRMSE(predictions: Tensor, targets: Tensor) -> Double? {
        checkSameShape(predictions, targets, "nRMSE")
        guard targets.rank >= 1, targets.shape[0] > 0 else { return nil }
        let errors = relativeL2PerSample(predictions: predictions, targets: targets)
        return errors.reduce(0, +) / Double(errors.count)
    }

    /// ‖predᵢ − trueᵢ‖₂ / ‖trueᵢ‖₂ for each sample i (axis 0) over all of its elements, in Double.
    public static func relativeL2PerSample(predictions: Tensor, targets: Tensor) -> [Double] {
        checkSameShape(predictions, targets, "relativeL2PerSample")
        guard targets.rank >= 1, targets.shape[0] > 0 else { return [] }
        let n = targets.shape[0], m = targets.count / n
        let p = predictions.scalars, t = targets.scalars
        return (0..<n).map { i in
            var num = 0.0, den = 0.0
            for j in (i * m)..<((i + 1) * m) {
                let d = Double(p[j]) - Double(t[j])
                num += d * d
                den += Double(t[j]) * Double(t[j])
            }
            return num.squareRoot() / den.squareRoot()
        }
    }

    /// Relative L2 error of the whole batch: ‖pred − true‖₂ / ‖true‖₂ over all elements at once (one ratio, not
    /// a mean of per-sample ratios — see `nRMSE` for that). nil for empty tensors.
    public static func relativeL2(predictions: Tensor, targets: Tensor) -> Double? {
        checkSameShape(predictions, targets, "relativeL2")
        guard targets.count > 0 else { return nil }
        let p = predictions.scalars, t = targets.scalars
        var num = 0.0, den = 0.0
        for i in 0..<p.count {
            let d = Double(p[i]) - Double(t[i])
            num += d * d
            den += Double(t[i]) * Double(t[i])
        }
        return num.squareRoot() / den.squareRoot()
    }

    /// Index of the largest score in each row of [N, K] (first one on ties; a NaN counts as the largest, as in
    /// PyTorch, so a NaN row is visibly wrong rather than silently class 0).
    public static func argmax(_ scores: Tensor) -> [Int] {
        precondition(scores.rank == 2 && scores.shape[1] > 0, "argmax: need [N, K] with K ≥ 1, got \(scores.shape)")
        let k = scores.shape[1], s = scores.scalars
        return (0..<scores.shape[0]).map { i in
            var best = 0
            for c in 0..<k {
                let v = s[i * k + c]
                if v.isNaN { return c }
                if v > s[i * k + best] { best = c }
            }
            return best
        }
    }

    private static func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
        precondition(a.shape == b.shape, "\(op): predictions \(a.shape) and targets \(b.shape) differ in shape")
    }
}
