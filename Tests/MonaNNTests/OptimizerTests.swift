import Testing
import MonaTensor
@testable import MonaNN

/// One step of each optimizer against updates computed by hand (PyTorch's formulas).
@Suite struct OptimizerTests {
    final class One: Module {
        @Parameter var w: Tensor
        init(_ v: [Float]) { _w = Parameter(wrappedValue: Tensor(v)); super.init() }
    }

    func step(_ make: ([ParameterGroup]) throws -> Optimizer, grads: [[Float]], start: [Float] = [1, -2]) throws
        -> [Float] {
        let m = One(start)
        let opt = try make([ParameterGroup(m.namedParameters(), weightDecay: 0.1)])
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

    @Test func sgdPlainAndMomentum() throws {
        // p − lr (g + wd p)
        let plain = try step({ try SGD(groups: $0, learningRate: 0.5) }, grads: [[0.2, 0.4]])
        #expect(close(plain, [1 - 0.5 * 0.3, -2 - 0.5 * 0.2]))
        // two steps with momentum 0.9: v1 = d1, v2 = 0.9 v1 + d2
        let r = try step({ try SGD(groups: $0, learningRate: 0.1, momentum: 0.9) }, grads: [[1, 1], [1, 1]])
        let p1 = [1 - 0.1 * 1.1, -2 - 0.1 * 0.8]
        let v1 = [1.1, 0.8]
        let d2 = [1 + 0.1 * p1[0], 1 + 0.1 * p1[1]]
        #expect(close(r, [p1[0] - 0.1 * (0.9 * v1[0] + d2[0]), p1[1] - 0.1 * (0.9 * v1[1] + d2[1])]))
        // Nesterov: p − lr (d + μ v)
        let n = try step({ try SGD(groups: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }, grads: [[1, 1]])
        #expect(close(n, [1 - 0.1 * (1.1 + 0.9 * 1.1), -2 - 0.1 * (0.8 + 0.9 * 0.8)]))
    }

    @Test func adamAndAdamW() throws {
        // First Adam step (ε negligible) moves each weight by lr·sign(g') (bias-corrected m/√v = g'/|g'|), g' = g + wd·p.
        let a = try step({ try Adam(groups: $0, learningRate: 0.01, epsilon: 1e-30) }, grads: [[0.3, -0.7]])
        #expect(close(a, [1 - 0.01, -2 + 0.01]))
        // AdamW: p·(1 − lr·wd) − lr·sign(g)
        let w = try step({ try AdamW(groups: $0, learningRate: 0.01, epsilon: 1e-30) }, grads: [[0.3, -0.7]])
        #expect(close(w, [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01]))
        // Second AdamW step by hand.
        let w2 = try step({ try AdamW(groups: $0, learningRate: 0.01, epsilon: 1e-8) }, grads: [[0.3, -0.7], [0.1, 0.2]])
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

    @Test func frozenParametersDoNotMove() throws {
        let m = One([1, 2])
        m.freeze()
        let opt = try SGD(groups: [ParameterGroup(m.namedParameters())], learningRate: 1)
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

    @Test func clippingLeavesSmallAndNonFiniteNormsAlone() {
        let m = One([0, 0])
        var store = Gradients()
        store[m.w] = Tensor([0.3, 0.4])
        #expect(clipGradients(&store, parameters: [m.namedParameters()[0].parameter], maxNorm: 1) == 0.5)
        #expect(store[m.w]!.scalars == [0.3, 0.4])
        store[m.w] = Tensor([.nan, 1])
        #expect(clipGradients(&store, parameters: [m.namedParameters()[0].parameter], maxNorm: 1).isNaN)
        #expect(store[m.w]!.scalars[1] == 1)
        // Blocked Float lanes agree with a Double loop.
        let long = (0..<5000).map { Float($0 % 17) * 0.01 - 0.07 }
        let exact = long.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(Double(globalNorm([Tensor(long)])) - exact) <= 1e-6 * exact)
    }

    /// Hyperparameters out of range throw an error naming them, as PyTorch's optimizers raise `ValueError`.
    @Test func hyperparametersAreValidated() throws {
        let groups = [ParameterGroup(One([1, 2]).namedParameters())]
        func rejected(_ parameter: String, _ make: () throws -> Optimizer) -> Bool {
            do { _ = try make(); return false } catch let e as OptimizerError {
                return e.parameter == parameter && e.description.hasPrefix("\(parameter) must be")
            } catch { return false }
        }
        #expect(rejected("learningRate") { try Adam(groups: groups, learningRate: -1e-3) })
        #expect(rejected("learningRate") { try SGD(groups: groups, learningRate: .nan) })
        #expect(rejected("learningRate") { try AdamW(groups: groups, learningRate: .infinity) })
        #expect(rejected("beta1") { try Adam(groups: groups, learningRate: 1, beta1: 1) })
        #expect(rejected("beta1") { try Adam(groups: groups, learningRate: 1, beta1: -0.1) })
        #expect(rejected("beta2") { try AdamW(groups: groups, learningRate: 1, beta2: 1.5) })
        #expect(rejected("beta2") { try AdamW(groups: groups, learningRate: 1, beta2: .nan) })
        #expect(rejected("epsilon") { try Adam(groups: groups, learningRate: 1, epsilon: 0) })
        #expect(rejected("epsilon") { try Adam(groups: groups, learningRate: 1, epsilon: .infinity) })
        #expect(rejected("momentum") { try SGD(groups: groups, learningRate: 1, momentum: -0.5) })
        #expect(rejected("momentum") { try SGD(groups: groups, learningRate: 1, nesterov: true) })
        let decayed = [ParameterGroup(One([1]).namedParameters(), weightDecay: -0.01)]
        #expect(rejected("weightDecay") { try SGD(groups: decayed, learningRate: 1) })
        let scaled = [ParameterGroup(One([1]).namedParameters(), learningRateScale: .nan)]
        #expect(rejected("learningRateScale") { try Adam(groups: scaled, learningRate: 1) })
        // Boundaries that are accepted.
        _ = try Adam(groups: groups, learningRate: 0, beta1: 0, beta2: 0, epsilon: 1e-12)
        _ = try SGD(groups: groups, learningRate: 0, momentum: 0)
    }

    /// State buffers carry PyTorch's names; checkpoints written with index keys (`w/0`, `w/1`) still load.
    @Test func namedStateAndLegacyKeys() throws {
        let m = One([1, -2])
        let adam = try Adam(groups: [ParameterGroup(m.namedParameters())], learningRate: 0.1)
        var store = Gradients()
        store[m.w] = Tensor([0.5, 0.25])
        adam.step(store)
        let saved = adam.stateTensors()
        #expect(Set(saved.keys) == ["w/exp_avg", "w/exp_avg_sq"])
        #expect(close(saved["w/exp_avg"]!.scalars, [0.05, 0.025]))   // (1 − β₁)·g
        let sgd = try SGD(groups: [ParameterGroup(m.namedParameters())], learningRate: 0.1, momentum: 0.9)
        sgd.step(store)
        #expect(Set(sgd.stateTensors().keys) == ["w/momentum_buffer"])

        let restored = try Adam(groups: [ParameterGroup(m.namedParameters())], learningRate: 0.1)
        try restored.loadState(["w/0": saved["w/exp_avg"]!, "w/1": saved["w/exp_avg_sq"]!], stepCount: 1)
        #expect(restored.stateTensors()["w/exp_avg"]!.scalars == saved["w/exp_avg"]!.scalars)
        #expect(restored.stateTensors()["w/exp_avg_sq"]!.scalars == saved["w/exp_avg_sq"]!.scalars)
        #expect(throws: LoadError.self) { try restored.loadState(["w/2": Tensor([0, 0])], stepCount: 1) }
        #expect(throws: LoadError.self) { try restored.loadState(["w/exp_avg_sqr": Tensor([0, 0])], stepCount: 1) }
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
