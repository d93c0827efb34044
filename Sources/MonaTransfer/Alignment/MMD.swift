import Foundation
import MonaTensor

/// Squared maximum mean discrepancy between the rows of `x` [N, D] and `y` [M, D] with a sum of Gaussian
/// kernels, k(u, v) = Σₛ exp(−‖u − v‖² / (s · h)) — a cheaper, label-blind alternative to OTDD.
///
/// `h` is the mean squared distance between distinct points of the pooled sample (held constant, so the
/// bandwidth does not chase the features during training) unless `bandwidth` is given, and `s` runs over
/// `bandwidthMultipliers` (default 1/4 … 4, a ×2 ladder: ORCA's `MMD_loss` uses 5 kernels ×2 apart around the
/// same mean). The result is the biased (V-statistic) estimate mean K_xx + mean K_yy − 2 mean K_xy: never
/// negative, 0 for identical sets. It is MMD², not its square root (whose gradient is infinite at 0).
/// Differentiable (twice) w.r.t. both sets.
public func maximumMeanDiscrepancy(_ x: Tensor, _ y: Tensor, bandwidth: Float? = nil,
                                   bandwidthMultipliers: [Float] = [0.25, 0.5, 1, 2, 4]) -> Tensor {
    precondition(x.rank == 2 && y.rank == 2 && x.shape[1] == y.shape[1] && x.shape[0] > 0 && y.shape[0] > 0,
                 "maximumMeanDiscrepancy: expected non-empty [N, D] and [M, D], got \(x.shape) and \(y.shape)")
    precondition(!bandwidthMultipliers.isEmpty && bandwidthMultipliers.allSatisfy { $0 > 0 },
                 "maximumMeanDiscrepancy: bandwidth multipliers must be positive, got \(bandwidthMultipliers)")
    let n = x.shape[0], m = y.shape[0], total = n + m
    let z = Tensor.concat([x, y], axis: 0)                                                  // [N+M, D]
    let d = pairwiseSquaredDistances(z, z)                                                 // [N+M, N+M]
    var h = bandwidth ?? withoutGradients {
        total > 1 ? d.sum().item / Float(total * (total - 1)) : 1
    }
    if !(h > 0) && !h.isNaN { h = 1 }   // all points equal: any bandwidth gives MMD = 0
    var k = (d * (-1 / (bandwidthMultipliers[0] * h))).exp()
    for s in bandwidthMultipliers.dropFirst() { k = k + (d * (-1 / (s * h))).exp() }
    let kxx = k.slice([0..<n, 0..<n]).mean()
    let kyy = k.slice([n..<total, n..<total]).mean()
    let kxy = k.slice([0..<n, n..<total]).mean()
    return kxx + kyy - kxy * 2
}
