import Foundation
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

@Suite struct AlignmentOTDDTests {
    static func options(_ method: LabelDistanceMethod = .sinkhorn) -> OTDDOptions {
        var o = OTDDOptions()
        o.labelDistance = method
        o.sinkhorn.tolerance = 3e-4
        o.sinkhorn.maxIterations = 5000
        o.innerSinkhorn.tolerance = 3e-4
        o.innerSinkhorn.maxIterations = 5000
        return o
    }

    @Test(arguments: [LabelDistanceMethod.sinkhorn, .diagonalGaussian, .means])
    func distanceToItselfIsZeroAndShiftsCost(method: LabelDistanceMethod) {
        let (x, y) = blobs(perClass: 6, seed: 1)
        let source = OTDDSource(features: x, labels: y, options: Self.options(method))
        let zero = source.distance(to: x, labels: y)
        #expect(zero.converged)
        #expect(abs(zero.distance.item) < 1e-3, "\(method): \(zero.distance.item)")
        // Label names do not matter, only the grouping.
        let renamed = source.distance(to: x, labels: y.map { 7 - $0 })
        #expect(abs(renamed.distance.item - zero.distance.item) < 1e-3)
        var last = zero.distance.item
        for shift: Float in [0.5, 1, 2] {
            let d = source.distance(to: x + Tensor([shift, 0]), labels: y).distance.item
            #expect(d > last + 1e-2, "\(method) shift \(shift): \(d)")
            last = d
        }
        // Shuffled labels on the same features: the classes no longer match, the distance grows.
        let shuffled = [2, 0, 1, 1, 2, 0, 0, 1, 2, 2, 1, 0, 1, 0, 2, 0, 1, 2]
        #expect(source.distance(to: x, labels: shuffled).distance.item > 0.1)
    }

    @Test func symmetric() {
        let (x, y) = blobs(perClass: 5, seed: 2)
        let (x2, y2) = blobs(perClass: 4, seed: 3, offset: (0.5, -0.5))
        let o = Self.options()
        let ab = otdd(source: x, sourceLabels: y, target: x2, targetLabels: y2, options: o)
        let ba = otdd(source: x2, sourceLabels: y2, target: x, targetLabels: y, options: o)
        #expect(abs(ab.distance.item - ba.distance.item) < 1e-3 * max(1, ab.distance.item), "\(ab.distance.item) vs \(ba.distance.item)")
        #expect(ab.distance.item > 0)
        // Label distances: source classes first, then target classes; symmetric with a zero diagonal.
        let w = ab.labelDistances
        #expect(w.shape == [6, 6])
        for i in 0..<6 { #expect(abs(w[i, i]) < 1e-4); for j in 0..<6 { #expect(abs(w[i, j] - w[j, i]) < 1e-3) } }
        // Matching classes are close (≈ the offset²), different classes far (≈ 16).
        #expect(w[0, 3] < 1 && w[0, 4] > 10)
    }

    @Test(arguments: [LabelDistanceMethod.sinkhorn, .diagonalGaussian])
    func gradientWithRespectToTargetFeatures(method: LabelDistanceMethod) {
        let (x, y) = blobs(perClass: 2, seed: 4, spread: 0.5)
        let target = rand([4, 2], seed: 5, low: 0, high: 3)
        let yt = [0, 1, 0, 1]
        var o = Self.options(method)
        o.sinkhorn.epsilon = 0.5
        o.innerSinkhorn.epsilon = 0.5
        let source = OTDDSource(features: x, labels: y, options: o)
        let r = gradientCheck([target]) { t in source.distance(to: t[0], labels: yt).distance.mul2() }
        #expect(r.passed, "\(method): \(r.detail)")
    }

    /// ORCA's alignment stage in miniature: train a linear embedder by gradient descent on OTDD to fixed source
    /// features; the distance falls.
    @Test func trainingAnEmbedderLowersOTDD() {
        let (xs, ys) = blobs(perClass: 8, seed: 6)
        let source = OTDDSource(features: xs, labels: ys, options: Self.options(.sinkhorn))
        // Target inputs in 3-D whose classes are separated along other directions.
        var g = SeededGenerator(seed: 7)
        var raw: [Float] = [], yt: [Int] = []
        for c in 0..<3 {
            for _ in 0..<6 {
                raw += (0..<3).map { d in (d == c ? 2 : 0) + 0.2 * Float(g.nextNormal()) }
                yt.append(c)
            }
        }
        let xt = Tensor(raw, shape: [18, 3])
        var w = rand([3, 2], seed: 8, low: -0.3, high: 0.3)
        var first: Float = 0, last: Float = 0
        for step in 0..<40 {
            let wv = w.requiringGradient()
            let d = source.distance(to: Tensor.matmul(xt, wv), labels: yt).distance
            if step == 0 { first = d.item }
            last = d.item
            let grad = gradients(of: d, wrt: [wv])[0]
            w = w - 0.02 * grad
        }
        print("MEASURED: OTDD while training a linear embedder: \(first) → \(last)")
        #expect(last < 0.3 * first)
    }
}
