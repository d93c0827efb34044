import Foundation
import MonaTensor

// The optimal-transport dataset distance (Alvarez-Melis & Fusi, NeurIPS 2020) as ORCA uses it (otdd's
// `DatasetDistance(inner_ot_method='exact', debiased_loss=True, p=2, entreg=0.1)`): datasets are sets of
// (feature, label) pairs, and the ground cost between two samples is
//
//   d((x, y), (x', y'))² = λ_x ‖x − x'‖² + λ_y W₂²(α_y, α_y'),
//
// where α_y is the distribution of the features of class y in its dataset and W₂² a class-to-class distance.
// The dataset distance is the debiased entropic OT between the two uniform empirical measures under this cost.

/// How the class-to-class distance W₂²(α_y, α_y') is computed.
public enum LabelDistanceMethod: String, Sendable, Codable {
    /// Entropic OT between the two classes' feature clouds (squared Euclidean cost, debiased unless
    /// `OTDDOptions.innerDebiased` is false) — otdd's `'exact'` inner method, ORCA's choice. One Sinkhorn
    /// problem per class pair.
    case sinkhorn
    /// Gaussian approximation with diagonal covariances: ‖μ − μ'‖² + ‖σ − σ'‖², the exact W₂² (Bures) between
    /// axis-aligned Gaussians. Closed form; full covariances would need D×D matrix square roots.
    case diagonalGaussian
    /// ‖μ − μ'‖² only (class means).
    case means
}

/// Settings of OTDD.
public struct OTDDOptions: Sendable, Equatable, Codable {
    /// The dataset-level OT problem (ε = 0.1 as in ORCA / otdd's `entreg`).
    public var sinkhorn = SinkhornOptions()
    /// The class-to-class OT problems of `LabelDistanceMethod.sinkhorn`.
    public var innerSinkhorn = SinkhornOptions()
    public var labelDistance: LabelDistanceMethod = .sinkhorn
    /// λ_x, weight of the feature distance.
    public var featureWeight: Float = 1
    /// λ_y, weight of the label distance (0 makes OTDD a plain, label-blind Sinkhorn divergence).
    public var labelWeight: Float = 1
    /// Debiased outer loss: OT(s, t) − ½OT(s, s) − ½OT(t, t).
    public var debiased = true
    /// Debiased class-to-class Sinkhorn distances (otdd's `inner_ot_debiased`).
    public var innerDebiased = true

    public init() {}
}

/// OTDD between a source and a target dataset, and what it was made of.
public struct OTDDResult: Sendable {
    /// The distance (0-D); differentiable w.r.t. the target features.
    public var distance: Tensor
    /// OT_ε(source, target) under the label-augmented cost.
    public var cross: Float
    /// OT_ε(source, source) and OT_ε(target, target) (the debiasing terms; 0 when not debiased).
    public var sourceSelf: Float
    public var targetSelf: Float
    /// Class-to-class distances W₂² [Cs + Ct, Cs + Ct]: source classes first, then target classes (detached).
    public var labelDistances: Tensor
    /// Whether every Sinkhorn problem met its tolerance.
    public var converged: Bool
}

/// The source side of OTDD, prepared once: during ORCA's embedder training the source features are fixed, so
/// their class statistics, source–source class distances and OT(source, source) are computed here only once.
public struct OTDDSource: Sendable {
    /// Source features [N, D] (detached) and their labels as dense class indices.
    public let features: Tensor
    public let labels: [Int]
    public let classCount: Int
    public let options: OTDDOptions
    /// W₂² between source classes [Cs, Cs].
    public let labelDistances: Tensor
    /// OT_ε(source, source) under the label-augmented cost (0 when not debiased).
    public let selfCost: Float
    let summaries: [ClassSummary]
    let selfConverged: Bool

    /// `features` [N, D] with one label per row (any integers; they are mapped to 0..<Cs in sorted order).
    public init(features: Tensor, labels: [Int], options: OTDDOptions = OTDDOptions()) {
        precondition(features.rank == 2 && features.shape[0] == labels.count && labels.count > 0,
                     "OTDDSource: expected features [N, D] with N = \(labels.count) > 0 labels, got \(features.shape)")
        let x = features.detached()
        let (y, classes) = compactLabels(labels)
        self.features = x
        self.labels = y
        self.classCount = classes
        self.options = options
        let summaries = withoutGradients { classSummaries(x, y, classes, options) }
        self.summaries = summaries
        var converged = true
        let w = withoutGradients {
            labelDistanceMatrix(summaries, summaries, symmetric: true, options, converged: &converged)
        }
        labelDistances = w
        if options.debiased {
            let cost = withoutGradients { labelAugmentedCost(x, x, y, y, w, options) }
            let r = withoutGradients { sinkhorn(cost: cost, options: options.sinkhorn) }
            selfCost = r.value.item
            converged = converged && r.converged
        } else {
            selfCost = 0
        }
        selfConverged = converged
    }

    /// OTDD from this source to `target` [M, D] with `targetLabels` (true classes, or k-means pseudo-labels for
    /// regression and dense targets). Differentiable w.r.t. `target`.
    public func distance(to target: Tensor, labels targetLabels: [Int]) -> OTDDResult {
        precondition(target.rank == 2 && target.shape[0] == targetLabels.count && !targetLabels.isEmpty
                     && target.shape[1] == features.shape[1],
                     "OTDD: target features must be [M, \(features.shape[1])] with M = \(targetLabels.count) > 0 labels, got \(target.shape)")
        let (yt, ct) = compactLabels(targetLabels)
        let targetSummaries = classSummaries(target, yt, ct, options)
        var converged = selfConverged
        let wst = labelDistanceMatrix(summaries, targetSummaries, symmetric: false, options, converged: &converged)
        let wtt = labelDistanceMatrix(targetSummaries, targetSummaries, symmetric: true, options, converged: &converged)
        let crossCost = labelAugmentedCost(features, target, labels, yt, wst, options)
        let cross = sinkhorn(cost: crossCost, options: options.sinkhorn)
        converged = converged && cross.converged
        var distance = cross.value
        var targetSelf: Float = 0
        if options.debiased {
            let tt = sinkhorn(cost: labelAugmentedCost(target, target, yt, yt, wtt, options), options: options.sinkhorn)
            converged = converged && tt.converged
            targetSelf = tt.value.item
            distance = cross.value - tt.value * 0.5 - selfCost * 0.5
        }
        let full = withoutGradients {
            Tensor.concat([Tensor.concat([labelDistances, wst.detached()], axis: 1),
                           Tensor.concat([wst.detached().transposed(), wtt.detached()], axis: 1)], axis: 0)
        }
        return OTDDResult(distance: distance, cross: cross.value.item, sourceSelf: selfCost, targetSelf: targetSelf,
                          labelDistances: full, converged: converged)
    }
}

/// OTDD between (source features, labels) and (target features, labels), features [N, D] / [M, D] (e.g.
/// mean-pooled embeddings). Differentiable w.r.t. the target features; the source side is treated as fixed data
/// (use `OTDDSource` to prepare it once and reuse it across calls).
public func otdd(source: Tensor, sourceLabels: [Int], target: Tensor, targetLabels: [Int],
                 options: OTDDOptions = OTDDOptions()) -> OTDDResult {
    OTDDSource(features: source, labels: sourceLabels, options: options).distance(to: target, labels: targetLabels)
}

// MARK: - Internals

/// What the label distance needs from one class: its cloud and moments, and its OT self-term.
struct ClassSummary: Sendable {
    let cloud: Tensor            // [n_c, D]
    let mean: Tensor             // [D]
    let standardDeviation: Tensor // [D]
    let selfOT: Tensor?          // OT_ε(cloud, cloud), for the debiased Sinkhorn label distance
    let converged: Bool
}

func classSummaries(_ x: Tensor, _ y: [Int], _ classes: Int, _ o: OTDDOptions) -> [ClassSummary] {
    var members = [[Int]](repeating: [], count: classes)
    for (i, c) in y.enumerated() { members[c].append(i) }
    return members.map { idx in
        let cloud = x.indexSelect(axis: 0, indices: idx)                                  // [n_c, D]
        let mean = cloud.mean(alongAxis: 0)
        let sd = (cloud.variance(alongAxis: 0) + 1e-12).sqrt()
        var selfOT: Tensor?
        var converged = true
        if o.labelDistance == .sinkhorn && o.innerDebiased && o.labelWeight != 0 {
            let r = sinkhorn(cost: pairwiseSquaredDistances(cloud, cloud), options: o.innerSinkhorn)
            selfOT = r.value
            converged = r.converged
        }
        return ClassSummary(cloud: cloud, mean: mean, standardDeviation: sd, selfOT: selfOT, converged: converged)
    }
}

/// W₂² between every class of `a` and every class of `b` ([A, B]); with `symmetric` (a == b) only the upper
/// triangle is solved and the diagonal is 0.
func labelDistanceMatrix(_ a: [ClassSummary], _ b: [ClassSummary], symmetric: Bool, _ o: OTDDOptions,
                         converged: inout Bool) -> Tensor {
    if o.labelWeight == 0 { return Tensor.zeros([a.count, b.count]) }
    for s in a + b where !s.converged { converged = false }
    var entries = [[Tensor]](repeating: [Tensor](repeating: Tensor(0), count: b.count), count: a.count)
    for i in 0..<a.count {
        for j in 0..<b.count {
            if symmetric && j <= i {
                if j < i { entries[i][j] = entries[j][i] }
                continue
            }
            entries[i][j] = labelDistance(a[i], b[j], o, converged: &converged)
        }
    }
    return Tensor.stack(entries.map { Tensor.stack($0) })                                // [A, B]
}

func labelDistance(_ p: ClassSummary, _ q: ClassSummary, _ o: OTDDOptions, converged: inout Bool) -> Tensor {
    switch o.labelDistance {
    case .means:
        let d = p.mean - q.mean
        return (d * d).sum()
    case .diagonalGaussian:
        let d = p.mean - q.mean, s = p.standardDeviation - q.standardDeviation
        return (d * d).sum() + (s * s).sum()
    case .sinkhorn:
        let r = sinkhorn(cost: pairwiseSquaredDistances(p.cloud, q.cloud), options: o.innerSinkhorn)
        converged = converged && r.converged
        guard o.innerDebiased, let ps = p.selfOT, let qs = q.selfOT else { return r.value }
        return r.value - (ps + qs) * 0.5
    }
}

/// λ_x ‖xᵢ − x'ⱼ‖² + λ_y W[yᵢ, y'ⱼ]: [N, M].
func labelAugmentedCost(_ x: Tensor, _ x2: Tensor, _ y: [Int], _ y2: [Int], _ w: Tensor, _ o: OTDDOptions) -> Tensor {
    let features = pairwiseSquaredDistances(x, x2) * o.featureWeight                     // [N, M]
    if o.labelWeight == 0 { return features }
    let labels = w.indexSelect(axis: 0, indices: y).indexSelect(axis: 1, indices: y2)    // [N, M]
    return features + labels * o.labelWeight
}
