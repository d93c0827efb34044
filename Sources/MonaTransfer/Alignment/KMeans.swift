import Foundation
import MonaTensor

/// A k-means clustering.
public struct KMeansResult: Sendable {
    /// Cluster centres [k, D].
    public var centroids: Tensor
    /// Cluster index of every row, in `0..<k`.
    public var assignments: [Int]
    /// Σ squared distance of each row to its centre.
    public var inertia: Double
    /// Lloyd iterations of the best restart.
    public var iterations: Int
    /// Whether the best restart stopped because no assignment changed.
    public var converged: Bool
}

/// Seeded k-means (k-means++ initialisation, then Lloyd iterations) of the rows of `x` [N, D].
///
/// k-means++: the first centre is a uniformly drawn row, each next one a row drawn with probability ∝ its squared
/// distance to the nearest chosen centre (uniformly among unchosen rows when all distances are 0). Lloyd: assign
/// every row to its nearest centre (ties to the lower index), move each centre to its members' mean; a cluster
/// that empties takes the row farthest from its centre. Stops when no assignment changes or after
/// `maxIterations`. With `restarts` > 1 the lowest-inertia run wins. The same seed always gives the same result.
/// `k` is capped at N.
public func kMeans(_ x: Tensor, k: Int, seed: UInt64, maxIterations: Int = 300, restarts: Int = 1) -> KMeansResult {
    precondition(x.rank == 2 && x.shape[0] > 0, "kMeans: expected non-empty [N, D], got \(x.shape)")
    precondition(k >= 1 && maxIterations >= 1 && restarts >= 1,
                 "kMeans: need k ≥ 1, maxIterations ≥ 1, restarts ≥ 1 (got \(k), \(maxIterations), \(restarts))")
    return withoutGradients {
        let data = x.detached()
        var best: KMeansResult?
        for r in 0..<restarts {
            var g = SeededGenerator(seed: seed).forked(UInt64(r))
            let run = lloyd(data, k: min(k, data.shape[0]), generator: &g, maxIterations: maxIterations)
            if best == nil || run.inertia < best!.inertia { best = run }
        }
        return best!
    }
}

/// Pseudo-labels for regression or dense targets, as ORCA does for OTDD: k-means (default k = 10) on the target
/// values flattened per sample ([N, …] → [N, D]).
public func kMeansPseudoLabels(targets: Tensor, k: Int = 10, seed: UInt64, restarts: Int = 1) -> [Int] {
    precondition(targets.rank >= 1 && targets.shape[0] > 0, "kMeansPseudoLabels: expected [N, …] targets, got \(targets.shape)")
    let n = targets.shape[0]
    return kMeans(targets.detached().reshaped(to: [n, targets.count / n]), k: k, seed: seed, restarts: restarts).assignments
}

private func lloyd(_ x: Tensor, k: Int, generator g: inout SeededGenerator, maxIterations: Int) -> KMeansResult {
    let n = x.shape[0], dim = x.shape[1]
    var centres = plusPlusInit(x, k: k, generator: &g)                                     // [k, D]
    var assign = [Int](repeating: -1, count: n)
    var nearest = [Float](repeating: 0, count: n)
    var iterations = 0, converged = false
    while iterations < maxIterations {
        iterations += 1
        let d = pairwiseSquaredDistances(x, centres)                                       // [N, k]
        var changed = false
        for i in 0..<n {
            var bestJ = 0, bestD = d.data[i * k]
            for j in 1..<max(k, 1) where d.data[i * k + j] < bestD { bestD = d.data[i * k + j]; bestJ = j }
            nearest[i] = bestD
            if assign[i] != bestJ { assign[i] = bestJ; changed = true }
        }
        if !changed { converged = true; break }
        // New centres (Double sums), refilling empty clusters with the worst-served rows.
        var sums = [Double](repeating: 0, count: k * dim)
        var counts = [Int](repeating: 0, count: k)
        for i in 0..<n {
            counts[assign[i]] += 1
            let row = x.data + i * dim, c = assign[i] * dim
            for t in 0..<dim { sums[c + t] += Double(row[t]) }
        }
        var taken = Set<Int>()
        for j in 0..<k where counts[j] == 0 {
            var far = -1
            for i in 0..<n where !taken.contains(i) && counts[assign[i]] > 1 && (far < 0 || nearest[i] > nearest[far]) {
                far = i
            }
            guard far >= 0 else { continue }
            taken.insert(far)
            let old = assign[far], row = x.data + far * dim
            for t in 0..<dim {
                sums[old * dim + t] -= Double(row[t])
                sums[j * dim + t] = Double(row[t])
            }
            counts[old] -= 1
            counts[j] = 1
            assign[far] = j
        }
        let old = centres
        centres = Tensor.build([k, dim]) { p in
            for j in 0..<k {
                for t in 0..<dim {
                    p[j * dim + t] = counts[j] > 0 ? Float(sums[j * dim + t] / Double(counts[j])) : old.data[j * dim + t]
                }
            }
        }
    }
    var inertia = 0.0
    let d = pairwiseSquaredDistances(x, centres)
    for i in 0..<n { inertia += Double(d.data[i * k + assign[i]]) }
    return KMeansResult(centroids: centres, assignments: assign, inertia: inertia, iterations: iterations,
                        converged: converged)
}

private func plusPlusInit(_ x: Tensor, k: Int, generator g: inout SeededGenerator) -> Tensor {
    let n = x.shape[0]
    var chosen = [Int(g.nextUnitDouble() * Double(n)) % n]
    var best = [Double](repeating: .infinity, count: n)
    while chosen.count < k {
        let last = x.slice(axis: 0, start: chosen.last!, end: chosen.last! + 1)
        let d = pairwiseSquaredDistances(x, last)                                          // [N, 1]
        for i in 0..<n { best[i] = min(best[i], Double(d.data[i])) }
        for i in chosen { best[i] = 0 }
        let total = best.reduce(0, +)
        var pick = -1
        if total > 0 && total.isFinite {
            var r = g.nextUnitDouble() * total
            for i in 0..<n where best[i] > 0 {
                pick = i
                r -= best[i]
                if r < 0 { break }
            }
        } else {
            let free = (0..<n).filter { !chosen.contains($0) }
            pick = free[Int(g.nextUnitDouble() * Double(free.count)) % free.count]
        }
        chosen.append(pick)
    }
    return x.indexSelect(axis: 0, indices: chosen)
}
