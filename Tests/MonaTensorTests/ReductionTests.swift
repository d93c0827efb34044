import Foundation
import Testing
@testable import MonaTensor

/// Naive reduction of `x` over `axes` (normalised) with `keepingDims`, folding each group in Double.
private func naiveReduce(_ x: Tensor, axes: [Int], keepingDims: Bool, _ f: ([Double]) -> Double) -> Tensor {
    let ax = Set(axes.map { $0 < 0 ? $0 + x.rank : $0 })
    let kept = x.shape.enumerated().map { ax.contains($0.offset) ? 1 : $0.element }
    var groups = [[Double]](repeating: [], count: kept.reduce(1, *))
    for i in 0..<x.count {
        var idx = NaiveIndex.unravel(i, x.shape)
        for a in ax { idx[a] = 0 }
        groups[NaiveIndex.ravel(idx, kept)].append(Double(x.data[i]))
    }
    let out = keepingDims ? kept : x.shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
    return Tensor(groups.map { Float(f($0)) }, shape: out)
}

private func naiveMax(_ v: [Double]) -> Double {
    v.contains(where: \.isNaN) ? .nan : v.max() ?? -.infinity
}
private func naiveMin(_ v: [Double]) -> Double {
    v.contains(where: \.isNaN) ? .nan : v.min() ?? .infinity
}
private func naiveLSE(_ v: [Double]) -> Double {
    let m = v.max() ?? -.infinity
    if !m.isFinite { return log(v.map { exp($0) }.reduce(0, +)) }
    return m + log(v.map { exp($0 - m) }.reduce(0, +))
}
private func naiveVariance(_ v: [Double], ddof: Int) -> Double {
    let mean = v.reduce(0, +) / Double(v.count)
    return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - ddof)
}

/// Same values, NaNs in the same places.
private func sameValues(_ a: Tensor, _ b: Tensor, relative tol: Float = 0) -> Bool {
    guard a.shape == b.shape else { return false }
    for i in 0..<a.count {
        let x = a.data[i], y = b.data[i]
        if x.isNaN || y.isNaN { if x.isNaN != y.isNaN { return false }; continue }
        if x == y { continue }
        if abs(x - y) > tol * Swift.max(1, abs(y)) { return false }
    }
    return true
}

@Suite struct ReductionTests {
    static let shapes: [[Int]] = [[3, 5, 7], [2, 9, 17], [3, 5, 70], [2, 37], [4, 1, 3, 1],
                                  [300, 130], [3, 70, 200]]   // the last two are large enough to run in parallel
    static let axisSets: [[Int]] = [[0], [1], [-1], [0, 2], [0, 1], [1, 2], [0, 1, 2], [2, 0], []]

    /// All valid (shape, axes) pairs, both keepingDims.
    static var cases: [([Int], [Int], Bool)] {
        var out: [([Int], [Int], Bool)] = []
        for s in shapes { for a in axisSets where a.allSatisfy({ $0 < s.count && $0 >= -s.count }) {
            out.append((s, a, false)); out.append((s, a, true))
        } }
        return out
    }

    @Test(arguments: cases)
    func valuesMatchNaive(_ c: ([Int], [Int], Bool)) {
        let (shape, axes, keep) = c
        let x = rand(shape, seed: 31, low: -3, high: 3)
        #expect(sameValues(x.maximum(alongAxes: axes, keepingDims: keep), naiveReduce(x, axes: axes, keepingDims: keep, naiveMax)))
        #expect(sameValues(x.minimum(alongAxes: axes, keepingDims: keep), naiveReduce(x, axes: axes, keepingDims: keep, naiveMin)))
        #expect(sameValues(x.logSumExp(alongAxes: axes, keepingDims: keep),
                           naiveReduce(x, axes: axes, keepingDims: keep, naiveLSE), relative: 2e-6))
        for ddof in [0, 1] {
            let v = x.variance(alongAxes: axes, keepingDims: keep, unbiased: ddof == 1)
            #expect(sameValues(v, naiveReduce(x, axes: axes, keepingDims: keep) { naiveVariance($0, ddof: ddof) },
                               relative: 2e-5))
            let s = x.standardDeviation(alongAxes: axes, keepingDims: keep, unbiased: ddof == 1)
            #expect(sameValues(s, naiveReduce(x, axes: axes, keepingDims: keep) { naiveVariance($0, ddof: ddof).squareRoot() },
                               relative: 2e-5))
        }
    }

    @Test func fullReductionsAndArgs() {
        let x = Tensor([3, -1, 7, 7, 0, -1], shape: [2, 3])
        #expect(x.maximum().item == 7 && x.maximum().shape == [])
        #expect(x.minimum().item == -1)
        #expect(x.argmax() == 2 && x.argmin() == 1)
        #expect(x.argmax(alongAxis: 1).scalars == [2, 0])
        #expect(x.argmin(alongAxis: 1).scalars == [1, 2])
        #expect(x.argmax(alongAxis: 0).scalars == [1, 1, 0])
        #expect(x.argmax(alongAxis: -1, keepingDims: true).shape == [2, 1])
        #expect(abs(x.logSumExp().item - Float(naiveLSE([3, -1, 7, 7, 0, -1]))) < 1e-5)
        #expect(abs(Tensor([1, 2, 3, 4]).variance().item - 1.25) < 1e-6)
        #expect(abs(Tensor([1, 2, 3, 4]).variance(unbiased: true).item - 5.0 / 3) < 1e-6)
        #expect(abs(Tensor([1, 2, 3, 4]).standardDeviation().item - Float(1.25).squareRoot()) < 1e-6)
        #expect(Tensor(4).maximum().item == 4)
    }

    @Test func argExtremaMatchNaive() {
        for shape in [[3, 5, 7], [2, 37], [4, 70, 3]] {
            // Few distinct values so that ties are common: the first occurrence must win.
            let x = NaiveIndex.tensor(shape) { i in Float((i.reduce(0, +) * 7 + i[0]) % 5) }
            for axis in 0..<shape.count {
                let am = x.argmax(alongAxis: axis), an = x.argmin(alongAxis: axis)
                var outShape = shape
                outShape.remove(at: axis)
                #expect(am.shape == outShape)
                for f in 0..<am.count {
                    var idx = NaiveIndex.unravel(f, outShape)
                    idx.insert(0, at: axis)
                    var best = 0, worst = 0
                    for k in 0..<shape[axis] {
                        idx[axis] = k
                        let v = x.data[NaiveIndex.ravel(idx, shape)]
                        idx[axis] = best
                        if v > x.data[NaiveIndex.ravel(idx, shape)] { best = k }
                        idx[axis] = worst
                        if v < x.data[NaiveIndex.ravel(idx, shape)] { worst = k }
                    }
                    #expect(am.data[f] == Float(best) && an.data[f] == Float(worst))
                }
            }
        }
    }

    @Test func nanPropagates() {
        // NaN at the start, in the SIMD body, and in the scalar tail of a row; and in a strided reduction.
        for pos in [0, 5, 9, 18] {
            var row = (0..<19).map { Float($0) - 4 }
            row[pos] = .nan
            let x = Tensor(row, shape: [1, 19])
            #expect(x.maximum(alongAxis: 1).item.isNaN)
            #expect(x.minimum(alongAxis: 1).item.isNaN)
            #expect(x.logSumExp(alongAxis: 1).item.isNaN)
            #expect(x.variance(alongAxis: 1).item.isNaN)
            #expect(x.argmax(alongAxis: 1).item == Float(pos))
            #expect(x.argmin(alongAxis: 1).item == Float(pos))
            let col = x.reshaped(to: [19, 1]).expanded(to: [19, 10])
            #expect(col.maximum(alongAxis: 0).scalars.allSatisfy { $0.isNaN })
            #expect(col.minimum(alongAxis: 0).scalars.allSatisfy { $0.isNaN })
            #expect(col.logSumExp(alongAxis: 0).scalars.allSatisfy { $0.isNaN })
            #expect(col.argmax(alongAxis: 0).scalars.allSatisfy { $0 == Float(pos) })
            // The gradient of a NaN max goes to the NaN position.
            let xv = x.requiringGradient()
            let g = gradients(of: xv.maximum(alongAxis: 1).sum(), wrt: [xv])[0]
            #expect(g[0, pos] == 1 && g.sum().item == 1)
        }
        let other = Tensor([1, .nan, 3, 4], shape: [2, 2])
        #expect(other.maximum(alongAxis: 1).scalars[0].isNaN && other.maximum(alongAxis: 1).scalars[1] == 4)
    }

    @Test func logSumExpIsStable() {
        let x = Tensor([1000, 1000, -1000, 999, 88, 89, -.infinity, -.infinity, .infinity, 1, -.infinity, 3],
                       shape: [4, 3])
        let y = x.logSumExp(alongAxis: 1)
        #expect(abs(y[0] - (1000 + Float(log(2.0)))) < 1e-3)
        #expect(abs(y[1] - Float(naiveLSE([999, 88, 89]))) < 1e-3)
        #expect(y[2] == .infinity)
        #expect(abs(y[3] - Float(naiveLSE([1, -.infinity, 3]))) < 1e-5)
        #expect(Tensor([-.infinity, -.infinity]).logSumExp().item == -.infinity)
        #expect(x.reshaped(to: [3, 4]).logSumExp(alongAxis: 0).shape == [4])
        let wide = Tensor.stack([Tensor([1000, 1000, 999]), Tensor([-1, -1, -1])], axis: 1)   // strided path
        #expect(abs(wide.logSumExp(alongAxis: 0)[0] - Float(naiveLSE([1000, 1000, 999]))) < 1e-3)
    }

    @Test func firstOrderGradients() {
        let x = rand([3, 4, 5], seed: 41)
        // Values at least 0.1 apart, so that a finite-difference step never changes which element is the max.
        var gen = SeededGenerator(seed: 42)
        let spaced = Tensor(Tensor.randomPermutation(60, generator: &gen).map { Float($0) * 0.1 - 3 }, shape: [3, 4, 5])
        for (axes, keep) in [([1], false), ([-1], true), ([0, 2], false), ([0, 1, 2], true), ([2, 1], false)] {
            checkGradients([spaced]) { weightedSquareLoss($0[0].maximum(alongAxes: axes, keepingDims: keep)) }
            checkGradients([spaced]) { weightedSquareLoss($0[0].minimum(alongAxes: axes, keepingDims: keep)) }
            checkGradients([x]) { weightedSquareLoss($0[0].logSumExp(alongAxes: axes, keepingDims: keep)) }
            checkGradients([x]) { weightedSquareLoss($0[0].variance(alongAxes: axes, keepingDims: keep)) }
            checkGradients([x]) {
                weightedSquareLoss($0[0].variance(alongAxes: axes, keepingDims: keep, unbiased: true))
            }
            checkGradients([x]) { weightedSquareLoss($0[0].standardDeviation(alongAxes: axes, keepingDims: keep)) }
        }
        checkGradients([spaced]) { $0[0].maximum().mul2() }
        checkGradients([x]) { $0[0].logSumExp().mul2() }
        checkGradients([x]) { $0[0].standardDeviation(unbiased: true).mul2() }
    }

    @Test func tiedMaximumSplitsGradient() {
        let x = Tensor([1, 3, 3, 2, 2, 2], shape: [2, 3]).requiringGradient()
        let g = gradients(of: (x.maximum(alongAxis: 1) * Tensor([1, 6])).sum(), wrt: [x])[0]
        #expect(maxAbsDiff(g, Tensor([0, 0.5, 0.5, 2, 2, 2], shape: [2, 3])) < 1e-6)
        let gm = gradients(of: x.minimum().sum(), wrt: [x])[0]
        #expect(gm.scalars == [1, 0, 0, 0, 0, 0])
    }

    @Test func secondOrder() {
        let x = rand([3, 4], seed: 51), v = rand([3, 4], seed: 52)
        hessianVectorCheck(x, v) { weightedSquareLoss($0.logSumExp(alongAxis: 1)) }
        hessianVectorCheck(x, v) { weightedSquareLoss($0.logSumExp(alongAxes: [0, 1], keepingDims: true)) }
        hessianVectorCheck(x, v) { weightedSquareLoss($0.variance(alongAxis: 0)) }
        hessianVectorCheck(x, v) { weightedSquareLoss($0.variance(alongAxis: -1, keepingDims: true, unbiased: true)) }
        hessianVectorCheck(x, v) { ($0.variance() * $0.variance()).sum() }
        hessianVectorCheck(x, v) { weightedSquareLoss($0.standardDeviation(alongAxis: 1)) }
        // max is piecewise linear: its Hessian is that of the loss composed with a fixed selection.
        let spaced = Tensor([0.3, -1.2, 0.9, 0.1, -0.5, 1.4, 0.7, -0.2, 1.1, -0.9, 0.0, 0.5], shape: [3, 4])
        hessianVectorCheck(spaced, v) { weightedSquareLoss($0.maximum(alongAxis: 1) * $0.minimum(alongAxis: 1)) }
    }

    @Test func emptyTensors() {
        let e = rand([0, 4])
        #expect(e.maximum(alongAxis: 1).shape == [0])
        #expect(e.minimum(alongAxis: 1, keepingDims: true).shape == [0, 1])
        #expect(e.argmax(alongAxis: 1).shape == [0])
        #expect(e.variance(alongAxis: 1).shape == [0])
        let negInf = [Float](repeating: -.infinity, count: 4)
        #expect(e.logSumExp(alongAxis: 0).scalars == negInf)
        #expect(rand([3, 0]).logSumExp(alongAxis: 1, keepingDims: true).shape == [3, 1])
        let z = rand([0, 3]).requiringGradient()
        for y in [z.maximum(alongAxis: 1), z.variance(alongAxis: 1), z.logSumExp(alongAxis: 0),
                  z.standardDeviation(alongAxis: 1)] {
            #expect(gradients(of: y.sum(), wrt: [z])[0].shape == [0, 3])
        }
    }
}
