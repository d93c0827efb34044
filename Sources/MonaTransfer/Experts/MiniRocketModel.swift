import MonaData
import MonaTensor

/// MiniRocket features, scaled to unit variance on the training split, into `RidgeClassifierCV` (classes) or
/// `RidgeCV` (regression targets) with α ∈ logspace(−3, 3, 10) chosen by leave-one-out on the training split
/// — the classifier aeon's `MiniRocketClassifier` builds. Multivariate series (e.g. log-mel bands of audio)
/// use MiniRocket's multivariate variant.
public struct MiniRocketModel: ExpertModel {
    public let transform: MiniRocket
    /// Per-feature divisors (the training split's standard deviation; 1 for constant features).
    public let scale: [Float]
    public let classifier: RidgeClassifierCV?
    public let regressor: RidgeCV?
    /// Regression targets' trailing shape ([] for [N] targets, [D] for [N, D]).
    let targetShape: [Int]

    public var selected: [(String, Double)] {
        [("alpha", classifier?.ridge.alpha ?? regressor?.alpha ?? .nan), ("features", Double(transform.featureCount))]
    }

    public var parameterCount: Int {
        let ridge = classifier?.ridge ?? regressor
        return transform.featureCount + (ridge.map { $0.coefficients.count + $0.intercepts.count } ?? 0)
    }

    public var summary: String {
        let alpha = classifier?.ridge.alpha ?? regressor?.alpha ?? .nan
        return "MiniRocket (\(transform.featureCount) features, \(transform.dilations.count) dilations"
            + (transform.channels > 1 ? ", \(transform.channels) channels" : "") + ") + "
            + (classifier != nil ? "RidgeClassifierCV" : "RidgeCV") + ", α = \(alpha) by leave-one-out"
    }

    public static func fit(train: LabeledDataset, validation: LabeledDataset, task: TaskSpec, seed: UInt64,
                           features: Int = 10_000) throws -> MiniRocketModel {
        guard case .series(let x) = train.inputs else {
            throw TransferError.badTask("minirocket: task '\(task.name)' has \(task.input.rawValue) inputs; MiniRocket needs series")
        }
        let transform = try MiniRocket(fitting: x, features: features, seed: seed)
        var f = try transform.transform(x).scalars
        let n = train.count, d = transform.featureCount
        let scale = unitVarianceScale(f, rows: n, cols: d)
        apply(scale, to: &f, cols: d)
        switch train.targets {
        case .classes(let y, let names):
            let clf = try RidgeClassifierCV(features: f, labels: y, classCount: names.count)
            return MiniRocketModel(transform: transform, scale: scale, classifier: clf, regressor: nil, targetShape: [])
        case .regression(let y):
            let reg = try RidgeCV(features: f, samples: n, targets: y.scalars.map(Double.init))
            return MiniRocketModel(transform: transform, scale: scale, classifier: nil, regressor: reg,
                                   targetShape: Array(y.shape.dropFirst()))
        default:
            throw TransferError.badTask("minirocket: task '\(task.name)' needs class labels or regression targets")
        }
    }

    public func predict(_ data: LabeledDataset) throws -> Tensor {
        guard case .series(let x) = data.inputs else {
            throw TransferError.badTask("minirocket: expected series inputs for \(data.name)")
        }
        var f = try transform.transform(x).scalars
        let n = data.count
        MiniRocketModel.apply(scale, to: &f, cols: transform.featureCount)
        if let classifier { return classifier.decision(features: f, samples: n) }
        guard let regressor else { preconditionFailure("MiniRocketModel: neither classifier nor regressor") }
        let values = regressor.predict(features: f, samples: n).map(Float.init)
        return Tensor(values, shape: [n, regressor.targetCount])
    }

    /// scikit-learn's `StandardScaler(with_mean: false)` divisors: the population standard deviation of each
    /// column, 1 where it is 0.
    static func unitVarianceScale(_ f: [Float], rows n: Int, cols d: Int) -> [Float] {
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(f[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(max(n, 1)) }
        for i in 0..<n { for j in 0..<d { let e = Double(f[i * d + j]) - mean[j]; sq[j] += e * e } }
        return sq.map { s in
            let sd = (s / Double(max(n, 1))).squareRoot()
            return sd > 0 ? Float(sd) : 1
        }
    }

    static func apply(_ scale: [Float], to f: inout [Float], cols d: Int) {
        guard d > 0 else { return }
        for i in 0..<(f.count / d) { for j in 0..<d { f[i * d + j] /= scale[j] } }
    }
}
