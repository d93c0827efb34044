import Foundation
import MonaNN
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

// MARK: Shared helpers of the Alignment*Tests files

/// Hessian-vector product of a scalar function by double backward, checked against central differences of its
/// gradient along `v`. Returns the largest absolute difference.
func alignmentHVPError(_ x: Tensor, _ v: Tensor, step h: Float = 1e-2, _ f: (Tensor) -> Tensor) -> Float {
    func grad(_ x: Tensor, createGraph: Bool) -> Tensor {
        let xv = x.requiresGrad ? x : x.requiringGradient()
        return gradients(of: f(xv), wrt: [xv], createGraph: createGraph)[0]
    }
    let xv = x.requiringGradient()
    let hv = gradients(of: (grad(xv, createGraph: true) * v).sum(), wrt: [xv])[0]
    let fd = (grad(x + v * h, createGraph: false) - grad(x - v * h, createGraph: false)) / (2 * h)
    return maxAbsDiff(hv, fd)
}

/// ‖a − b‖ / ‖b‖ over lists of tensors.
func relativeError(_ a: [Tensor], _ b: [Tensor]) -> Float {
    let diff = zip(a, b).map { $0 - $1 }
    return globalNorm(diff) / globalNorm(b)
}

/// Rows of a Double matrix from a [N, D] tensor.
func rows(_ t: Tensor) -> [[Double]] {
    (0..<t.shape[0]).map { i in (0..<t.shape[1]).map { Double(t.data[i * t.shape[1] + $0]) } }
}

func squaredDistance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }

// MARK: -

/// Wang & Isola's alignment and uniformity losses.
@Suite struct AlignmentLossTests {
    let labels = [5, 2, 5, 5, 2, 9]                 // class 9 has a single member: it has no pair

    @Test func alignMatchesPairLoop() {
        let z = rand([6, 3], seed: 1).l2NormalizedRows()
        let r = rows(z)
        var sum = 0.0, pairs = 0
        for i in 0..<6 { for j in 0..<6 where i != j && labels[i] == labels[j] { sum += squaredDistance(r[i], r[j]); pairs += 1 } }
        #expect(pairs == 8)
        #expect(abs(Double(alignLoss(z, labels: labels).item) - sum / Double(pairs)) < 1e-5)
        // No same-class pair: nothing to align.
        #expect(alignLoss(z, labels: [0, 1, 2, 3, 4, 5]).item == 0)
        // Perfectly aligned classes.
        let same = Tensor([1, 0, 1, 0, 0, 1], shape: [3, 2])
        #expect(alignLoss(same, labels: [0, 0, 1]).item == 0)
    }

    @Test func normalizedRowsHaveUnitNorm() {
        let z = rand([4, 5], seed: 2, low: -3, high: 3).l2NormalizedRows()
        for row in rows(z) { #expect(abs(row.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5) }
        #expect(Tensor.zeros([1, 3]).l2NormalizedRows().scalars == [0, 0, 0])   // a zero row stays finite
        #expect(Tensor([Float.nan, 1], shape: [1, 2]).l2NormalizedRows().scalars.allSatisfy { $0.isNaN })
    }

    @Test func uniformMatchesPairLoop() {
        for t: Float in [2, 0.5] {
            let z = rand([6, 3], seed: 3).l2NormalizedRows()
            let r = rows(z)
            var sum = 0.0
            for i in 0..<6 { for j in 0..<6 where i != j { sum += exp(-Double(t) * squaredDistance(r[i], r[j])) } }
            #expect(abs(Double(uniformLoss(z, t: t).item) - log(sum / 30)) < 1e-5)
        }
        // Two antipodal points: both pairs at distance² 4 → log exp(−8) = −8, the minimum −4t for unit vectors.
        #expect(abs(uniformLoss(Tensor([1, 0, -1, 0], shape: [2, 2]), t: 2).item + 8) < 1e-5)
    }

    @Test func uniformIsStableForLargeT() {
        // exp(−t d²) underflows Float for t = 500 even at d² = 0.2; the log-sum-exp keeps the value finite.
        let z = rand([5, 3], seed: 4).l2NormalizedRows()
        let r = rows(z)
        var terms: [Double] = []
        for i in 0..<5 { for j in 0..<5 where i != j { terms.append(-500 * squaredDistance(r[i], r[j])) } }
        let m = terms.max()!
        let expected = m + log(terms.reduce(0) { $0 + exp($1 - m) } / 20)
        let got = uniformLoss(z, t: 500).item
        #expect(got.isFinite && abs(Double(got) - expected) / abs(expected) < 1e-4, "\(got) vs \(expected)")
    }

    @Test func gradientsOfBothLosses() {
        let z = rand([6, 3], seed: 5)
        let r = gradientCheck([z]) { xs in
            let n = xs[0].l2NormalizedRows()
            return alignLoss(n, labels: labels) + uniformLoss(n, t: 2)
        }
        #expect(r.passed, "\(r.detail)")
        let u = gradientCheck([z]) { xs in uniformLoss(xs[0].l2NormalizedRows(), t: 2).mul2() }
        #expect(u.passed, "\(u.detail)")
        let a = gradientCheck([z]) { xs in alignLoss(xs[0], labels: labels).mul2() }
        #expect(a.passed, "\(a.detail)")
    }

    @Test func secondOrder() {
        let z = rand([6, 3], seed: 6), v = rand([6, 3], seed: 7)
        let e1 = alignmentHVPError(z, v) { alignLoss($0.l2NormalizedRows(), labels: labels) }
        let e2 = alignmentHVPError(z, v) { uniformLoss($0.l2NormalizedRows(), t: 2) }
        #expect(e1 < 2e-3 && e2 < 2e-3, "HVP errors \(e1), \(e2)")
    }

    @Test func pairwiseDistancesMatchLoop() {
        let x = rand([4, 3], seed: 8, low: 5, high: 7), y = rand([2, 3], seed: 9, low: 5, high: 7)
        let d = pairwiseSquaredDistances(x, y)
        let rx = rows(x), ry = rows(y)
        for i in 0..<4 { for j in 0..<2 { #expect(abs(Double(d[i, j]) - squaredDistance(rx[i], ry[j])) < 1e-4) } }
        #expect(pairwiseSquaredDistances(Tensor.zeros([0, 3]), y).shape == [0, 2])
        let g = gradientCheck([x, y]) { xs in pairwiseSquaredDistances(xs[0], xs[1]).mul2().sum() }
        #expect(g.passed, "\(g.detail)")
    }
}
