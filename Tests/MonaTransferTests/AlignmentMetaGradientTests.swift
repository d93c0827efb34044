import Foundation
import MonaNN
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// A tiny MoNA setup: linear embedder φ = (E [3, 4], e [4]) maps target inputs into the body's input space, a
/// 2-layer tanh MLP body θ = (W1, b1, W2, b2), a fixed linear head; source rows already live in the body's input
/// space (the frozen source embedder is the identity).
struct TinyMoNA {
    let xt = rand([6, 3], seed: 11, low: -2, high: 2)
    let yt = [0, 1, 1, 0, 1, 0]
    let xs = rand([8, 4], seed: 12, low: -1.5, high: 1.5)
    let ys = [0, 1, 2, 0, 1, 2, 0, 1]
    let head = rand([4, 2], seed: 13)
    let phi = [rand([3, 4], seed: 14), rand([4], seed: 15, low: -0.2, high: 0.2)]
    let theta = [rand([4, 5], seed: 16), rand([5], seed: 17, low: -0.3, high: 0.3),
                 rand([5, 4], seed: 18), rand([4], seed: 19, low: -0.3, high: 0.3)]

    func body(_ x: Tensor, _ t: [Tensor]) -> Tensor {
        Tensor.matmul((Tensor.matmul(x, t[0]) + t[1]).tanh(), t[2]) + t[3]
    }

    func task(_ p: [Tensor], _ t: [Tensor]) -> Tensor {
        let h = body(Tensor.matmul(xt, p[0]) + p[1], t)                                  // [6, 4]
        return Tensor.crossEntropy(logits: Tensor.matmul(h, head), labels: yt)
    }

    func outer(_ t: [Tensor]) -> Tensor {
        let z = body(xs, t).l2NormalizedRows()
        return alignLoss(z, labels: ys) + uniformLoss(z, t: 2)
    }

    /// θ' after K plain gradient steps (values; used for finite differences of the meta-objective).
    func updated(_ p: [Tensor], alpha: Float, steps: Int) -> [Tensor] {
        var t = theta
        for _ in 0..<steps {
            let tv = t.map { $0.requiringGradient() }
            let g = gradients(of: task(p, tv), wrt: tv)
            t = zip(t, g).map { $0 - alpha * $1 }
        }
        return t
    }

    func meta(_ alpha: Float, lambda: Float = 1, steps: Int = 1, mode: MetaGradientMode = .exact,
              normalization: OuterGradientNormalization = .none) -> MetaGradientResult {
        monaMetaGradient(phi: phi, theta: theta,
                         options: MetaGradientOptions(alpha: alpha, lambda: lambda, innerSteps: steps, mode: mode,
                                                      outerGradientNormalization: normalization),
                         innerLoss: task, outerLoss: outer)
    }
}

/// Central differences of a scalar function of a list of tensors (Double quotients of Float evaluations).
func centralDifferences(_ xs: [Tensor], step: Float = 1e-2, _ f: ([Tensor]) -> Float) -> [Tensor] {
    xs.enumerated().map { k, x in
        Tensor.build(x.shape) { out in
            for i in 0..<x.count {
                var plus = xs, minus = xs
                var p = x, m = x
                p.withUnsafeMutableBufferPointer { $0[i] += step }
                m.withUnsafeMutableBufferPointer { $0[i] -= step }
                plus[k] = p
                minus[k] = m
                out[i] = Float((Double(f(plus)) - Double(f(minus))) / (2 * Double(step)))
            }
        }
    }
}

@Suite struct AlignmentMetaGradientTests {
    let s = TinyMoNA()

    @Test(arguments: [1, 2])
    func exactEqualsFiniteDifferencesOfTheMetaObjective(steps: Int) {
        let alpha: Float = 0.5, lambda: Float = 1.5
        let r = s.meta(alpha, lambda: lambda, steps: steps)
        let outerFD = centralDifferences(s.phi) { p in s.outer(s.updated(p, alpha: alpha, steps: steps)).item }
        let taskFD = centralDifferences(s.phi) { p in s.task(p, s.theta).item }
        let totalFD = zip(outerFD, taskFD).map { lambda * $0 + $1 }
        let eo = relativeError(r.outerGradients, outerFD), et = relativeError(r.taskGradients, taskFD)
        let e = relativeError(r.phiGradients, totalFD)
        print("MEASURED: tiny MLP K=\(steps) α=\(alpha): ‖∇φL_outer‖ \(r.outerGradientNorm), rel. error vs FD: outer \(eo), task \(et), total \(e)")
        #expect(r.outerGradientNorm > 1e-2)             // the source term really reaches φ here
        #expect(eo < 1e-2 && et < 1e-2 && e < 1e-2)
        #expect(abs(r.outerLoss - s.outer(s.updated(s.phi, alpha: alpha, steps: steps)).item) < 1e-5)
        #expect(abs(r.outerLossBeforeStep - s.outer(s.theta).item) < 1e-6)
        #expect(abs(r.taskLoss - s.task(s.phi, s.theta).item) < 1e-6)
        #expect(r.innerLosses.count == steps && r.innerLosses[0] == r.taskLoss)
        #expect(abs(r.gradientRatio - lambda * r.outerGradientNorm / r.taskGradientNorm) < 1e-6)
    }

    @Test(arguments: [(Float(0.5), 1), (Float(1e-2), 1), (Float(1e-3), 1), (Float(0.5), 2), (Float(0.2), 3)])
    func finiteDifferenceModeMatchesExact(alpha: Float, steps: Int) {
        let exact = s.meta(alpha, steps: steps)
        let fd = s.meta(alpha, steps: steps, mode: .finiteDifference())
        let e = relativeError(fd.outerGradients, exact.outerGradients)
        print("MEASURED: tiny MLP finite-difference vs exact, α=\(alpha) K=\(steps): relative error \(e), ε = \(fd.finiteDifferenceSteps)")
        #expect(e < 5e-3)
        #expect(fd.finiteDifferenceSteps.count == steps)
        #expect(abs(fd.outerLoss - exact.outerLoss) < 1e-5 && fd.taskLoss == exact.taskLoss)
        #expect(relativeError(fd.taskGradients, exact.taskGradients) < 1e-6)
        #expect(abs(fd.outerThetaGradientNorm - exact.outerThetaGradientNorm) < 1e-4 * exact.outerThetaGradientNorm)
    }

    /// The first-order shortcut (θ' computed from a gradient without a graph, as FOMAML does) gives φ *no* signal
    /// from L_outer: θ' is then a constant as far as φ is concerned. Its total gradient is exactly the task
    /// gradient, so "MoNA" would silently become a longer warm-up. This test keeps anyone from reintroducing it.
    @Test func firstOrderShortcutGivesZeroOuterGradient() {
        let alpha: Float = 0.5
        let phi = s.phi.map { $0.requiringGradient() }, theta = s.theta.map { $0.requiringGradient() }
        let g = gradients(of: s.task(phi, theta), wrt: theta)                   // createGraph: false
        let thetaPrime = zip(theta, g).map { $0 - alpha * $1 }
        let firstOrder = gradients(of: s.outer(thetaPrime), wrt: phi)
        #expect(globalNorm(firstOrder) == 0)
        let exact = s.meta(alpha)
        #expect(exact.outerGradientNorm > 1e-2)
        print("MEASURED: tiny MLP α=0.5: first-order ‖∇φL_outer‖ = \(globalNorm(firstOrder)), exact = \(exact.outerGradientNorm)")
    }

    @Test func ratioScalesWithAlphaAndNormalizationFixesIt() {
        let small = s.meta(1e-3), large = s.meta(1e-1)
        // At small α the source term is O(α) relative to the task term.
        #expect(small.gradientRatio < large.gradientRatio)
        #expect(abs(small.gradientRatio / large.gradientRatio - 1e-2) < 5e-3)
        // fixedRatio: the outer term's norm is exactly ratio × task norm.
        let fixed = s.meta(1e-3, normalization: .fixedRatio(0.5))
        let outerPart = zip(fixed.phiGradients, fixed.taskGradients).map { $0 - $1 }
        #expect(abs(globalNorm(outerPart) / fixed.taskGradientNorm - 0.5) < 1e-3)
        #expect(fixed.gradientRatio == small.gradientRatio)          // the reported ratio is the raw one
        // minimumRatio boosts a weak term, leaves a strong one.
        let boosted = s.meta(1e-3, normalization: .minimumRatio(0.5))
        #expect(abs(boosted.outerScale - fixed.outerScale) < 1e-6 * fixed.outerScale)
        let strong = s.meta(0.5, lambda: 10, normalization: .minimumRatio(1e-3))
        #expect(strong.outerScale == 10)
        // λ = 0 switches the source term off in every mode (the λ = 0 ablation).
        let off = s.meta(0.5, lambda: 0, normalization: .fixedRatio(1))
        #expect(off.outerScale == 0 && relativeError(off.phiGradients, off.taskGradients) == 0)
    }

    @Test func separateTaskLossMatchesShared() {
        let shared = s.meta(0.3)
        let separate = monaMetaGradient(phi: s.phi, theta: s.theta,
                                        options: MetaGradientOptions(alpha: 0.3, lambda: 1,
                                                                     outerGradientNormalization: .none),
                                        innerLoss: s.task, outerLoss: s.outer, taskLoss: s.task)
        #expect(relativeError(separate.phiGradients, shared.phiGradients) < 1e-6)
        #expect(separate.taskLoss == shared.taskLoss)
    }

    @Test func worksInsideWithoutGradients() {
        let r = withoutGradients { s.meta(0.5) }
        #expect(r.outerGradientNorm > 1e-2)
    }

    /// Following the meta-gradient of L_outer alone lowers L_outer(θ'(φ)): it is a descent direction, i.e. the
    /// embedder can make the simulated target step hurt the source representation less.
    @Test func outerGradientDescentLowersOuterLoss() {
        var phi = s.phi
        var first: Float = 0, last: Float = 0
        for step in 0..<15 {
            let r = monaMetaGradient(phi: phi, theta: s.theta, options: MetaGradientOptions(alpha: 0.5, lambda: 1),
                                     innerLoss: s.task, outerLoss: s.outer)
            if step == 0 { first = r.outerLoss }
            last = r.outerLoss
            phi = zip(phi, r.outerGradients).map { $0 - 0.3 * $1 }
        }
        print("MEASURED: tiny MLP, 15 steps on ∇φL_outer: L_outer(θ') \(first) → \(last) (L_outer(θ) = \(s.outer(s.theta).item))")
        #expect(last < first - 1e-2)
    }

    /// The same pattern through a real transformer block (attention, LayerNorm, GELU) of MonaNN, with θ' applied
    /// by a functional call of the encoder.
    @Test func throughABertLayer() {
        var config = TransformerConfig(hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16)
        config.vocabularySize = 20
        config.maxPositions = 16
        let model = BertModel(config: config, pooler: false, seed: 3)
        model.eval()
        let encoder = model.encoder
        let names = encoder.namedParameters().map(\.name)
        let theta = encoder.namedParameters().map { $0.parameter.value.detached() }
        // Source: 4 token sequences through the frozen source embedder, 2 classes.
        let source = withoutGradients {
            model.embeddings(ids: [1, 5, 7, 2, 1, 6, 7, 2, 1, 9, 3, 2, 1, 9, 4, 2], batch: 4, tokens: 4).detached()
        }
        let ys = [0, 0, 1, 1]
        // Target: 3 series of 4 steps × 3 channels, embedded linearly into width 8.
        let xt = rand([3, 4, 3], seed: 21), yt = [0, 1, 0]
        let head = rand([8, 2], seed: 22)
        let phi = [rand([3, 8], seed: 23, low: -0.5, high: 0.5), rand([8], seed: 24, low: -0.1, high: 0.1)]
        func run(_ t: [Tensor], _ x: Tensor) -> Tensor {
            encoder.withParameters(Dictionary(uniqueKeysWithValues: zip(names, t))) { encoder(x) }
        }
        func task(_ p: [Tensor], _ t: [Tensor]) -> Tensor {
            let h = run(t, Tensor.matmul(xt, p[0]) + p[1])                                // [3, 4, 8]
            return Tensor.crossEntropy(logits: Tensor.matmul(h.mean(alongAxis: 1), head), labels: yt)
        }
        func outer(_ t: [Tensor]) -> Tensor {
            let z = run(t, source).mean(alongAxis: 1).l2NormalizedRows()
            return alignLoss(z, labels: ys) + uniformLoss(z, t: 2)
        }
        let alpha: Float = 0.5
        let r = monaMetaGradient(phi: phi, theta: theta, options: MetaGradientOptions(alpha: alpha, lambda: 1),
                                 innerLoss: task, outerLoss: outer)
        let outerFD = centralDifferences(phi) { p in
            let tv = theta.map { $0.requiringGradient() }
            let g = gradients(of: task(p, tv), wrt: tv)
            return outer(zip(theta, g).map { $0 - alpha * $1 }).item
        }
        let e = relativeError(r.outerGradients, outerFD)
        let fd = monaMetaGradient(phi: phi, theta: theta,
                                  options: MetaGradientOptions(alpha: alpha, lambda: 1, mode: .finiteDifference()),
                                  innerLoss: task, outerLoss: outer)
        let eFD = relativeError(fd.outerGradients, r.outerGradients)
        print("MEASURED: BertLayer width 8, α=\(alpha): ‖∇φL_outer‖ \(r.outerGradientNorm), ratio \(r.gradientRatio), exact vs central differences \(e), finite-difference mode vs exact \(eFD)")
        #expect(r.outerGradientNorm > 1e-3)
        #expect(e < 2e-2)
        #expect(eFD < 1e-2)
        // The module is untouched by the functional calls.
        #expect(zip(encoder.namedParameters().map { $0.parameter.value }, theta).allSatisfy { maxAbsDiff($0, $1) == 0 })
    }
}
