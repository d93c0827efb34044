import Foundation
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// All permutations of 0..<n (Heap's algorithm).
func permutations(_ n: Int) -> [[Int]] {
    var out: [[Int]] = []
    var a = Array(0..<n)
    func generate(_ k: Int) {
        if k == 1 { out.append(a); return }
        for i in 0..<k {
            generate(k - 1)
            a.swapAt(k % 2 == 0 ? i : 0, k - 1)
        }
    }
    generate(n)
    return out
}

/// Exact OT between two uniform measures of n points: by Birkhoff's theorem an optimal plan is a permutation.
func bruteForceOT(_ c: Tensor) -> Float {
    let n = c.shape[0]
    var best = Double.infinity
    for p in permutations(n) {
        best = min(best, (0..<n).reduce(0.0) { $0 + Double(c[$1, p[$1]]) } / Double(n))
    }
    return Float(best)
}

/// Three well-separated Gaussian blobs in 2-D, `perClass` points each, labels 0, 1, 2.
func blobs(perClass: Int, seed: UInt64, spread: Float = 0.3, offset: (Float, Float) = (0, 0)) -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: seed)
    let centres: [(Float, Float)] = [(0, 0), (4, 0), (0, 4)]
    var values: [Float] = [], labels: [Int] = []
    for (c, centre) in centres.enumerated() {
        for _ in 0..<perClass {
            values += [centre.0 + offset.0 + spread * Float(g.nextNormal()), centre.1 + offset.1 + spread * Float(g.nextNormal())]
            labels.append(c)
        }
    }
    return (Tensor(values, shape: [labels.count, 2]), labels)
}

@Suite struct AlignmentTransportTests {
    @Test(arguments: [3, 6])
    func sinkhornConvergesToExactOT(n: Int) {
        for seed: UInt64 in 1...4 {
            let c = rand([n, n], seed: seed, low: 0, high: 1)
            let exact = bruteForceOT(c)
            // A near-tie between two assignments converges slowly at small ε; 1e-3 marginal error is plenty here.
            let r = sinkhorn(cost: c, options: SinkhornOptions(epsilon: 1e-3, maxIterations: 5000, tolerance: 1e-3))
            #expect(r.converged, "seed \(seed): marginal error \(r.marginalError) after \(r.iterations)")
            #expect(abs(r.transportCost - exact) < 2e-3, "seed \(seed): ⟨P,C⟩ \(r.transportCost) vs exact \(exact)")
            // OT_ε ≤ OT + ε·log n (the entropy term is at most ε·KL(P‖a⊗b) ≤ ε log n).
            #expect(r.value.item <= exact + 1e-3 * Float(log(Double(n))) + 1e-4 && r.value.item >= exact - 2e-3)
        }
    }

    @Test func logDomainIsStableForTinyEpsilon() {
        // Costs up to 10 with ε = 1e-3: exp(−C/ε) = e^−10000 underflows to 0 in any linear-domain Sinkhorn.
        // (Float32 potentials resolve ε down to about 1e-5 × the cost range; below that the iteration stalls,
        // which the returned marginal error then shows.)
        let c = rand([5, 5], seed: 9, low: 0, high: 10)
        let r = sinkhorn(cost: c, options: SinkhornOptions(epsilon: 1e-3, maxIterations: 5000, tolerance: 1e-3))
        #expect(r.value.item.isFinite && r.plan.scalars.allSatisfy { $0.isFinite })
        #expect(r.converged, "marginal error \(r.marginalError)")
        #expect(abs(r.transportCost - bruteForceOT(c)) < 1e-2)
        // At ε = 1e-6 × range the result is still finite, and not claimed to be converged unless it is.
        let tiny = sinkhorn(cost: c * 10, options: SinkhornOptions(epsilon: 1e-4, maxIterations: 2000, tolerance: 1e-4))
        #expect(tiny.value.item.isFinite)
        #expect(tiny.converged == (tiny.marginalError < 2e-4))
    }

    @Test func planHasTheRequestedMarginals() {
        let c = rand([4, 3], seed: 2, low: 0, high: 2)
        let a = Tensor([0.1, 0.2, 0.3, 0.4]), b = Tensor([0.5, 0.25, 0.25])
        let r = sinkhorn(cost: c, sourceWeights: a, targetWeights: b, options: SinkhornOptions(epsilon: 0.05, tolerance: 1e-5))
        #expect(r.converged)
        #expect(maxAbsDiff(r.plan.sum(alongAxis: 1), a) < 1e-5)
        #expect(maxAbsDiff(r.plan.sum(alongAxis: 0), b) < 1e-5)
        // No annealing reaches the same solution.
        var plain = SinkhornOptions(epsilon: 0.05, tolerance: 1e-5)
        plain.epsilonScaling = 1
        let r2 = sinkhorn(cost: c, sourceWeights: a, targetWeights: b, options: plain)
        #expect(abs(r2.value.item - r.value.item) < 1e-5)
    }

    @Test func nanCostPropagates() {
        var c = rand([3, 3], seed: 3, low: 0, high: 1)
        c.withUnsafeMutableBufferPointer { $0[4] = .nan }
        let r = sinkhorn(cost: c, options: SinkhornOptions(maxIterations: 50))
        #expect(r.value.item.isNaN && !r.converged)
    }

    @Test func debiasedDivergenceProperties() {
        let x = rand([8, 2], seed: 4), options = SinkhornOptions(epsilon: 0.1, tolerance: 1e-4)
        #expect(abs(sinkhornDivergence(x, x, options: options).value.item) < 1e-6)
        let permuted = x.indexSelect(axis: 0, indices: [3, 1, 7, 0, 5, 2, 6, 4])
        #expect(abs(sinkhornDivergence(x, permuted, options: options).value.item) < 1e-4)
        var last: Float = 0
        for shift: Float in [0.25, 0.5, 1, 2] {
            let y = x + Tensor([shift, 0])
            let s = sinkhornDivergence(x, y, options: options).value.item
            #expect(s > last)
            last = s
            // A translation's W₂² is ‖shift‖²; the debiased entropic divergence approaches it.
            if shift >= 1 { #expect(abs(s - shift * shift) < 0.05 * shift * shift, "shift \(shift): \(s)") }
        }
        let y = rand([5, 2], seed: 5, low: 0, high: 2)
        let xy = sinkhornDivergence(x, y, options: options).value.item
        let yx = sinkhornDivergence(y, x, options: options).value.item
        #expect(abs(xy - yx) < 1e-4 && xy > 0)
    }

    @Test func divergenceGradientMatchesFiniteDifferences() {
        let x = rand([5, 2], seed: 6), y = rand([4, 2], seed: 7, low: 0, high: 1.5)
        let options = SinkhornOptions(epsilon: 0.2, maxIterations: 5000, tolerance: 1e-5)
        let r = gradientCheck([y]) { ys in sinkhornDivergence(x, ys[0], options: options).value.mul2() }
        #expect(r.passed, "\(r.detail)")
        // The unrolled gradient (autograd through the iterations) agrees with the envelope gradient.
        var unrolled = options
        unrolled.gradient = .unrolled
        let yv = y.requiringGradient()
        let ge = gradients(of: sinkhornDivergence(x, yv, options: options).value, wrt: [yv])[0]
        let gu = gradients(of: sinkhornDivergence(x, yv, options: unrolled).value, wrt: [yv])[0]
        #expect(maxAbsDiff(ge, gu) < 1e-3, "envelope \(ge.scalars) vs unrolled \(gu.scalars)")
    }

    @Test func mmdProperties() {
        let x = rand([6, 3], seed: 8)
        #expect(abs(maximumMeanDiscrepancy(x, x).item) < 1e-6)
        var last: Float = 0
        for shift: Float in [0.2, 0.5, 1] {
            let m = maximumMeanDiscrepancy(x, x + shift, bandwidth: 1).item
            #expect(m > last)
            last = m
        }
        let y = rand([4, 3], seed: 9, low: 0, high: 2)
        #expect(abs(maximumMeanDiscrepancy(x, y).item - maximumMeanDiscrepancy(y, x).item) < 1e-5)
        // Hand check: one point each, distance² 1, bandwidth 1, single kernel: 1 + 1 − 2e^{−1}.
        let one = maximumMeanDiscrepancy(Tensor([0, 0], shape: [1, 2]), Tensor([1, 0], shape: [1, 2]),
                                         bandwidth: 1, bandwidthMultipliers: [1]).item
        #expect(abs(one - (2 - 2 * Float(exp(-1.0)))) < 1e-6)
        let g = gradientCheck([y]) { ys in maximumMeanDiscrepancy(x, ys[0], bandwidth: 2).mul2() }
        #expect(g.passed, "\(g.detail)")
        #expect(alignmentHVPError(y, rand([4, 3], seed: 10)) { maximumMeanDiscrepancy(x, $0, bandwidth: 2) } < 2e-3)
    }

    @Test func kMeansRecoversBlobsSeeded() {
        let (x, labels) = blobs(perClass: 20, seed: 3)
        let r = kMeans(x, k: 3, seed: 42)
        #expect(r.converged)
        // The same partition up to renaming: every true class maps to exactly one cluster.
        var mapping: [Int: Int] = [:]
        for (c, a) in zip(labels, r.assignments) {
            if let m = mapping[c] { #expect(m == a) } else { mapping[c] = a }
        }
        #expect(Set(mapping.values).count == 3)
        let again = kMeans(x, k: 3, seed: 42)
        #expect(again.assignments == r.assignments && maxAbsDiff(again.centroids, r.centroids) == 0)
        for seed: UInt64 in 1...5 { #expect(abs(kMeans(x, k: 3, seed: seed).inertia - r.inertia) < 1e-3) }
        // More clusters than distinct points: k is capped, duplicates are handled.
        let dup = Tensor([0, 0, 0, 0, 1, 1], shape: [3, 2])
        let d = kMeans(dup, k: 10, seed: 1)
        #expect(d.centroids.shape == [3, 2] && d.inertia == 0)
    }

    @Test func pseudoLabelsForRegressionTargets() {
        // Scalar targets from three well-separated ranges, shuffled.
        var g = SeededGenerator(seed: 5)
        let values = (0..<30).map { i in Float(i % 3) * 10 + Float(g.nextUnitFloat()) }
        let labels = kMeansPseudoLabels(targets: Tensor(values), k: 3, seed: 1)
        for i in 0..<30 { for j in 0..<30 { #expect((labels[i] == labels[j]) == (i % 3 == j % 3)) } }
        // Dense targets [N, 2, 2] are flattened per sample.
        let fields = Tensor(values.flatMap { [$0, $0, $0, $0] }, shape: [30, 2, 2])
        #expect(kMeansPseudoLabels(targets: fields, k: 3, seed: 1).count == 30)
    }
}
