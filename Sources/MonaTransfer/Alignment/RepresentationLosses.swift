import Foundation
import MonaTensor

// Alignment and uniformity of L2-normalised features (Wang & Isola, ICML 2020), used by MoNA's outer objective
// and by the source-knowledge analysis. Everything here is composed of differentiable ops, so the losses can be
// differentiated twice (they sit at the end of MoNA's meta-objective).

extension Tensor {
    /// Each row (the last axis) scaled to unit L2 norm: x · (Σx² + ε)^(−1/2). The small ε keeps a zero row
    /// finite (it stays zero) and changes nothing measurable for ordinary rows.
    public func l2NormalizedRows(epsilon: Float = 1e-12) -> Tensor {
        precondition(rank >= 1, "l2NormalizedRows: needs at least one axis, got shape \(shape)")
        return self * ((self * self).sum(alongAxis: -1, keepingDims: true) + epsilon).rsqrt()
    }
}

/// Squared Euclidean distances between the rows of `x` [N, D] and of `y` [M, D]: [N, M].
///
/// Computed as ‖x‖² + ‖y‖² − 2x·y after subtracting a common (constant) centre, which keeps the cancellation
/// small when the points sit far from the origin; tiny negative round-off is clamped to 0. Differentiable (twice)
/// in both arguments.
public func pairwiseSquaredDistances(_ x: Tensor, _ y: Tensor) -> Tensor {
    precondition(x.rank == 2 && y.rank == 2 && x.shape[1] == y.shape[1],
                 "pairwiseSquaredDistances: expected [N, D] and [M, D], got \(x.shape) and \(y.shape)")
    // Distances are translation invariant, so a detached centre changes values only through round-off.
    let centre = x.shape[0] > 0 ? x.detached().mean(alongAxis: 0, keepingDims: true) : Tensor.zeros([1, x.shape[1]])
    let xc = x - centre, yc = y - centre                                                // [N, D], [M, D]
    let xx = (xc * xc).sum(alongAxis: 1, keepingDims: true)                            // [N, 1]
    let yy = (yc * yc).sum(alongAxis: 1).reshaped(to: [1, y.shape[0]])                 // [1, M]
    let xy = Tensor.matmul(xc, yc, transposeB: true)                                   // [N, M]
    return (xx + yy - 2 * xy).clamped(min: 0)
}

/// Dense class indices `0..<C` for arbitrary integer labels (in order of first appearance of the sorted values).
func compactLabels(_ labels: [Int]) -> (indices: [Int], classes: Int) {
    let values = Array(Set(labels)).sorted()
    let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
    return (labels.map { index[$0]! }, values.count)
}

/// Alignment loss: the mean squared distance ‖zᵢ − zⱼ‖² over all same-class pairs i ≠ j.
///
/// `z` [N, D] are (normally L2-normalised) features, `labels` one integer class per row. Computed exactly and
/// stably through class centroids, Σ_{i≠j, same class} ‖zᵢ − zⱼ‖² = Σ_c 2·n_c·Σ_{i∈c} ‖zᵢ − μ_c‖², in O(N·D).
/// With no same-class pair (every class seen once) there is nothing to align and the loss is 0.
public func alignLoss(_ z: Tensor, labels: [Int]) -> Tensor {
    precondition(z.rank == 2 && z.shape[0] == labels.count,
                 "alignLoss: expected features [N, D] with N = \(labels.count) labels, got \(z.shape)")
    let (y, classes) = compactLabels(labels)
    var counts = [Int](repeating: 0, count: classes)
    for c in y { counts[c] += 1 }
    let pairs = counts.reduce(0) { $0 + $1 * ($1 - 1) }
    guard pairs > 0 else { return Tensor(0) }
    let onehot = Tensor.oneHot(y, classes: classes)                                   // [N, C]
    let invCounts = Tensor(counts.map { 1 / Float($0) }, shape: [classes, 1])          // [C, 1]
    let means = Tensor.matmul(onehot, z, transposeA: true) * invCounts                 // [C, D]
    let centred = z - Tensor.matmul(onehot, means)                                     // [N, D]
    let weight = Tensor(y.map { 2 * Float(counts[$0]) }, shape: [labels.count])        // [N]
    return ((centred * centred).sum(alongAxis: 1) * weight).sum() / Float(pairs)
}

/// Uniformity loss: log mean_{i≠j} exp(−t‖zᵢ − zⱼ‖²), computed with a log-sum-exp (no underflow for large t
/// or far-apart points). Lower is more uniform; for unit vectors it lies in [−4t, 0]. Needs N ≥ 2.
public func uniformLoss(_ z: Tensor, t: Float = 2) -> Tensor {
    precondition(z.rank == 2, "uniformLoss: expected features [N, D], got \(z.shape)")
    let n = z.shape[0]
    precondition(n >= 2, "uniformLoss: needs at least 2 rows, got \(z.shape)")
    let d = pairwiseSquaredDistances(z, z)                                              // [N, N]
    let diagonal = Tensor.build([n, n]) { p in
        for i in 0..<(n * n) { p[i] = 0 }
        for i in 0..<n { p[i * n + i] = 1 }
    }
    let logits = Tensor.where(diagonal, Tensor(-Float.infinity), d * (-t))            // i = j excluded
    return logits.logSumExp() - Float(Foundation.log(Double(n) * Double(n - 1)))
}
