import Testing
import MonaTensor
@testable import MonaNN

/// One step of each optimizer against updates computed by hand (PyTorch's formulas).
@Suite struct OptimizerTests {
    final class One: Module {
        @Parameter var w: Tensor
        init(_ v: [Float]) { _w = Parameter(wrappedValue: Tensor(v)); super.init() }
    }

    func step(_ make: ([ParameterGroup]) -> Optimizer, grads: [[Float]], start: [Float] = [1, -2]) -> [Float] {
        let m = One(start)
        let opt = make([ParameterGroup(m.namedParameters(), weightDecay: 0.1)])
        for g in grads {
            var store = Gradients()
            store[m.w] = Tensor(g)
            opt.step(store)
        }
        return m.w.scalars
    }

    func close(_ a: [Float], _ b: [Double], _ tol: Double = 1e-6) -> Bool {
        zip(a, b).allSatisfy { abs(Double($0) - $1) <= tol * max(1, abs($1)) }
    }

    @Test func sgdPlainAndMomentum() {
        // p − lr (g + wd p)
        #expect(close(step({ SGD(groups: $0, learningRate: 0.5) }, grads: [[0.2, 0.4]]), [1 - 0.5 * 0.3, -2 - 0.5 * 0.2]))
        // two steps with momentum 0.9: v1 = d1, v2 = 0.9 v1 + d2
        let r = step({ SGD(groups: $0, learningRate: 0.1, momentum: 0.9) }, grads: [[1, 1], [1, 1]])
        let p1 = [1 - 0.1 * 1.1, -2 - 0.1 * 0.8]
        let v1 = [1.1, 0.8]
        let d2 = [1 + 0.1 * p1[0], 1 + 0.1 * p1[1]]
        #expect(close(r, [p1[0] - 0.1 * (0.9 * v1[0] + d2[0]), p1[1] - 0.1 * (0.9 * v1[1] + d2[1])]))
        // Nesterov: p − lr (d + μ v)
        let n = step({ SGD(groups: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }, grads: [[1, 1]])
        #expect(close(n, [1 - 0.1 * (1.1 + 0.9 * 1.1), -2 - 0.1 * (0.8 + 0.9 * 0.8)]))
    }

    @Test func adamAndAdamW() {
        // First Adam step moves each weight by lr·sign(g') (bias-corrected m/√v = g'/|g'|), g' = g + wd·p.
        let a = step({ Adam(groups: $0, learningRate: 0.01, epsilon: 0) }, grads: [[0.3, -0.7]])
        #expect(close(a, [1 - 0.01, -2 + 0.01]))
        // AdamW: p·(1 − lr·wd) − lr·sign(g)
        let w = step({ AdamW(groups: $0, learningRate: 0.01, epsilon: 0) }, grads: [[0.3, -0.7]])
        #expect(close(w, [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01]))
        // Second AdamW step by hand.
        let w2 = step({ AdamW(groups: $0, learningRate: 0.01, epsilon: 1e-8) }, grads: [[0.3, -0.7], [0.1, 0.2]])
        var p = [1.0, -2.0]
        var m = [0.0, 0.0], v = [0.0, 0.0]
        for (t, g) in [[0.3, -0.7], [0.1, 0.2]].enumerated() {
            for i in 0..<2 {
                p[i] *= 1 - 0.01 * 0.1
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mh = m[i] / (1 - pow(0.9, Double(t + 1))), vh = v[i] / (1 - pow(0.999, Double(t + 1)))
                p[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        #expect(close(w2, p, 1e-5))
    }

    @Test func frozenParametersDoNotMove() {
        let m = One([1, 2])
        m.freeze()
        let opt = SGD(groups: [ParameterGroup(m.namedParameters())], learningRate: 1)
        var store = Gradients()
        store[m.w] = Tensor([1, 1])
        opt.step(store)
        #expect(m.w.scalars == [1, 2])
    }

    @Test func clippingByGlobalNorm() {
        let m = One([0, 0])
        var store = Gradients()
        store[m.w] = Tensor([3, 4])
        let norm = clipGradients(&store, parameters: [m.namedParameters()[0].parameter], maxNorm: 1)
        #expect(norm == 5)
        #expect(close(store[m.w]!.scalars, [0.6, 0.8], 1e-5))
    }

    @Test func schedules() {
        let lin = LinearWarmupDecay(warmupSteps: 4, totalSteps: 12)
        #expect(lin.factor(at: 0) == 0.25 && lin.factor(at: 3) == 1 && lin.factor(at: 8) == 0.5 && lin.factor(at: 12) == 0)
        let cos = CosineSchedule(totalSteps: 10)
        #expect(cos.factor(at: 0) == 1 && abs(cos.factor(at: 5) - 0.5) < 1e-6 && abs(cos.factor(at: 10)) < 1e-6)
        #expect(StepSchedule(stepSize: 3, gamma: 0.5).factor(at: 7) == 0.25)
    }
}

#if canImport(Glibc)
import Glibc
#endif
