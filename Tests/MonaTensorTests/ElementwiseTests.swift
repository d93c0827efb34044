import Foundation
import Testing
@testable import MonaTensor

/// Values in ±[0.1, 1.1]: keeps finite differences off the kink at 0.
private func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    let u = rand(shape, seed: seed)
    return Tensor(u.scalars.map { $0 < 0 ? $0 - 0.1 : $0 + 0.1 }, shape: shape)
}

/// Hessian-vector product by double backward (composed backward rules) against central differences of
/// first-order gradients (computed without a graph, i.e. through the fused backward kernels).
private func checkSecondOrder(_ x: Tensor, seed: UInt64 = 77, tol: Float = 2e-3,
                              sourceLocation: SourceLocation = #_sourceLocation, _ f: (Tensor) -> Tensor) {
    let v = rand(x.shape, seed: seed)
    func grad(_ x: Tensor) -> Tensor {
        let xv = x.requiringGradient()
        return gradients(of: f(xv), wrt: [xv])[0]
    }
    let xv = x.requiringGradient()
    let g = gradients(of: f(xv), wrt: [xv], createGraph: true)[0]
    #expect(g.requiresGrad, "gradient has no graph", sourceLocation: sourceLocation)
    // The composed first-order gradient must equal the fused one.
    #expect(maxAbsDiff(g.detached(), grad(x)) < 1e-5 * max(1, g.scalars.map(Swift.abs).max() ?? 0),
            "composed vs fused gradient", sourceLocation: sourceLocation)
    let hv = gradients(of: (g * v).sum(), wrt: [xv])[0]
    let h: Float = 1e-2
    let fd = (grad(x + v * h) - grad(x - v * h)) / (2 * h)
    let scale = max(1, fd.scalars.map(Swift.abs).max() ?? 0)
    #expect(maxAbsDiff(hv, fd) < tol * scale, "HVP \(hv.scalars.prefix(4)) vs FD \(fd.scalars.prefix(4))",
            sourceLocation: sourceLocation)
}

/// Compares an op elementwise with a Double reference: |y − ref| ≤ atol + rtol·|ref|, NaN matching NaN.
private func checkValues(_ x: Tensor, atol: Double = 1e-7, rtol: Double = 4e-7,
                         sourceLocation: SourceLocation = #_sourceLocation,
                         _ op: (Tensor) -> Tensor, _ ref: (Double) -> Double) {
    let y = op(x)
    #expect(y.shape == x.shape, sourceLocation: sourceLocation)
    for i in 0..<x.count {
        let r = Double(Float(ref(Double(x.data[i])))), v = Double(y.data[i])   // reference rounded to Float
        if r.isNaN { #expect(v.isNaN, "x = \(x.data[i])", sourceLocation: sourceLocation); continue }
        if r.isInfinite { #expect(v == r, "x = \(x.data[i])", sourceLocation: sourceLocation); continue }
        if !(Swift.abs(v - r) <= atol + rtol * Swift.abs(r)) {
            Issue.record("x = \(x.data[i]): \(v) vs \(r)", sourceLocation: sourceLocation)
            return
        }
    }
}

private func refGELU(_ x: Double) -> Double { 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) }
private func refGELUTanh(_ x: Double) -> Double {
    x / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
}

@Suite struct ElementwiseTests {
    // An odd length exercises the SIMD tail; values cover the useful range.
    let wide = Tensor((0..<1003).map { Float($0) / 1002 * 20 - 10 })
    let positive = Tensor((0..<1003).map { Foundation.pow(10, Float($0) / 1002 * 8 - 4) })

    // MARK: Values

    @Test func unaryValuesMatchDouble() {
        checkValues(wide, { $0.abs() }, { Swift.abs($0) })
        checkValues(wide, { $0.sign() }, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
        checkValues(wide, { $0.squared() }, { $0 * $0 })
        checkValues(wide, { $0.exp() }, { Foundation.exp($0) })
        checkValues(positive, { $0.log() }, { Foundation.log($0) })
        checkValues(positive, { $0.sqrt() }, { $0.squareRoot() })
        checkValues(positive, { $0.rsqrt() }, { 1 / $0.squareRoot() })
        checkValues(wide, { $0.tanh() }, { Foundation.tanh($0) })
        checkValues(wide, { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) })
        checkValues(wide, { $0.relu() }, { Swift.max($0, 0) })
        checkValues(wide, { $0.softplus() }, { Foundation.log1p(Foundation.exp($0)) })
        checkValues(wide, { $0.erf() }, { Foundation.erf($0) })
        checkValues(wide, atol: 1e-12, rtol: 2e-5, { $0.gelu() }, refGELU)
        checkValues(wide, atol: 1e-12, rtol: 2e-5, { $0.gelu(approximate: .tanh) }, refGELUTanh)
        checkValues(wide, { $0.clamped(min: -2, max: 3) }, { Swift.min(Swift.max($0, -2), 3) })
        checkValues(wide, { $0.clamped(min: 1) }, { Swift.max($0, 1) })
        checkValues(wide, { $0.clamped(max: 1) }, { Swift.min($0, 1) })
    }

    @Test func powerValuesMatchDouble() {
        for p: Float in [0, 1, 2, 3, -1, -2, 7, 0.5, -0.5] {
            checkValues(wide, rtol: 1e-6, { $0.pow(p) }, { Foundation.pow($0, Double(p)) })
        }
        for p: Float in [1.7, -0.3, 2.5] {
            checkValues(positive, rtol: 5e-6, { $0.pow(p) }, { Foundation.pow($0, Double(p)) })
            checkValues(Tensor([-2, -0.5, 0, -0.0]), { $0.pow(p) }, { Foundation.pow($0, Double(p)) })
        }
        checkValues(wide, rtol: 2e-5, { $0.pow(101) }, { Foundation.pow($0, 101) })   // large odd integer
        // Tensor exponent: integer/non-integer exponents, negative bases, zero.
        let a = Tensor([2, -2, -2, 0, 0, 1, 4, -1.5, 3, 0.5], shape: [10])
        let b = Tensor([3, 3, 0.5, 2, -1, 1e30, -0.5, 2, 0, -2], shape: [10])
        let r = Tensor.pow(a, b).scalars
        for i in 0..<10 {
            let ref = Float(Foundation.pow(Double(a.data[i]), Double(b.data[i])))
            if ref.isNaN { #expect(r[i].isNaN, "\(i)"); continue }
            #expect(r[i] == ref || Swift.abs(r[i] - ref) <= 1e-6 * Swift.abs(ref), "\(i): \(r[i]) vs \(ref)")
        }
    }

    @Test func binaryValuesAndBroadcasting() {
        let a = Tensor([1, 5, 3, -2, 0, 7], shape: [2, 3]), b = Tensor([2, 5, -1], shape: [3])
        #expect(Tensor.minimum(a, b).scalars == [1, 5, -1, -2, 0, -1])
        #expect(Tensor.maximum(a, b).scalars == [2, 5, 3, 2, 5, 7])
        #expect(Tensor.maximum(b, a).shape == [2, 3])
        #expect(a.greater(b).scalars == [0, 0, 1, 0, 0, 1])
        #expect(a.less(b).scalars == [1, 0, 0, 1, 1, 0])
        #expect(a.equal(b).scalars == [0, 1, 0, 0, 0, 0])
        #expect(a.greaterEqual(b).scalars == [0, 1, 1, 0, 0, 1])
        #expect(a.lessEqual(b).scalars == [1, 1, 0, 1, 1, 0])
        #expect(a.greater(2).scalars == [0, 1, 1, 0, 0, 1])
        #expect(a.lessEqual(3).scalars == [1, 0, 1, 1, 1, 0])
        #expect(a.equal(Tensor([1, 0], shape: [2, 1])).scalars == [1, 0, 0, 0, 1, 0])
        let m = Tensor([1, 0], shape: [2, 1])
        #expect(Tensor.where(m, a, b).scalars == [1, 5, 3, 2, 5, -1])
        #expect(Tensor.where(m, Tensor(9), b).scalars == [9, 9, 9, 2, 5, -1])
        #expect(Tensor.where(Tensor([1, 0, 1]), Tensor(1), Tensor([[4], [5]].flatMap { $0 }, shape: [2, 1])).shape == [2, 3])
        #expect(maxAbsDiff(Tensor.pow(Tensor([2, 3], shape: [2, 1]), Tensor([0, 1, 2])), Tensor([1, 2, 4, 1, 3, 9], shape: [2, 3])) < 1e-5)
        // Infinities are selected correctly (no 0·inf).
        let inf = Tensor([.infinity, -.infinity, 1])
        #expect(Tensor.maximum(inf, Tensor(0)).scalars == [.infinity, 0, 1])
        #expect(Tensor.minimum(inf, Tensor(0)).scalars == [0, -.infinity, 0])
        #expect(Tensor.where(Tensor([0, 1, 0]), inf, Tensor(2)).scalars == [2, -.infinity, 2])
    }

    @Test func nanPropagatesThroughEveryOp() {
        let x = Tensor([1, .nan, -1, 2, 0.5, 3, -2, 4, .nan])   // NaN in the SIMD body and in the tail
        let unary: [(String, (Tensor) -> Tensor)] = [
            ("abs", { $0.abs() }), ("sign", { $0.sign() }), ("squared", { $0.squared() }), ("exp", { $0.exp() }),
            ("log", { $0.log() }), ("sqrt", { $0.sqrt() }), ("rsqrt", { $0.rsqrt() }), ("tanh", { $0.tanh() }),
            ("sigmoid", { $0.sigmoid() }), ("relu", { $0.relu() }), ("softplus", { $0.softplus() }),
            ("erf", { $0.erf() }), ("gelu", { $0.gelu() }), ("geluTanh", { $0.gelu(approximate: .tanh) }),
            ("pow0", { $0.pow(0) }), ("pow2", { $0.pow(2) }), ("pow1.7", { $0.pow(1.7) }),
            ("pow-3", { $0.pow(-3) }), ("clamped", { $0.clamped(min: 0, max: 1) }),
            ("greater", { $0.greater(0) }), ("equal", { $0.equal(1) }), ("lessEqual", { $0.lessEqual(0) }),
            ("max", { Tensor.maximum($0, Tensor(0)) }), ("min", { Tensor.minimum(Tensor(0), $0) }),
            ("powBase", { Tensor.pow($0, Tensor(2)) }), ("powExp", { Tensor.pow(Tensor(2), $0) }),
            ("where", { Tensor.where($0, Tensor(1), Tensor(2)) }),
        ]
        for (name, f) in unary {
            let y = f(x)
            #expect(y.data[1].isNaN && y.data[8].isNaN, "\(name): \(y.scalars)")
        }
        // Gradients carry NaN too where the input is NaN.
        let xv = x.requiringGradient()
        for (name, f) in unary.prefix(14) where name != "sign" {
            let g = gradients(of: f(xv).sum(), wrt: [xv])[0]
            #expect(g.data[1].isNaN, "\(name) gradient: \(g.scalars)")
        }
        let gr = gradients(of: Tensor.maximum(xv, Tensor(0)).sum(), wrt: [xv])[0]
        #expect(gr.data[1].isNaN)
    }

    @Test func emptyTensorsWork() {
        let e = Tensor.zeros([0, 3])
        let ops: [(Tensor) -> Tensor] = [
            { $0.abs() }, { $0.exp() }, { $0.log() }, { $0.sqrt() }, { $0.rsqrt() }, { $0.tanh() }, { $0.sigmoid() },
            { $0.relu() }, { $0.softplus() }, { $0.erf() }, { $0.gelu() }, { $0.gelu(approximate: .tanh) },
            { $0.squared() }, { $0.pow(2) }, { $0.pow(1.5) }, { $0.clamped(min: 0, max: 1) }, { $0.greater(0) },
            { Tensor.maximum($0, Tensor([1, 2, 3])) }, { Tensor.pow($0, Tensor([1, 2, 3])) },
            { Tensor.where($0, Tensor([1, 2, 3]), Tensor(0)) },
        ]
        let ev = e.requiringGradient()
        for f in ops {
            #expect(f(e).shape == [0, 3])
            #expect(gradients(of: f(ev).sum(), wrt: [ev])[0].shape == [0, 3])
        }
    }

    // MARK: First-order gradients (finite differences)

    @Test func unaryGradients() {
        let x = rand([3, 5], seed: 11, low: -2, high: 2)
        let pos = rand([3, 5], seed: 12, low: 0.3, high: 3)
        let kinked = awayFromZero([3, 5], seed: 13)
        checkGradients([kinked]) { $0[0].abs().mul2().sum() }
        checkGradients([kinked]) { $0[0].relu().mul2().sum() }
        checkGradients([x]) { $0[0].squared().mul2().sum() }
        checkGradients([x]) { $0[0].exp().mul2().sum() }
        checkGradients([pos]) { $0[0].log().mul2().sum() }
        checkGradients([pos]) { $0[0].sqrt().mul2().sum() }
        checkGradients([pos]) { $0[0].rsqrt().mul2().sum() }
        checkGradients([x]) { $0[0].tanh().mul2().sum() }
        checkGradients([x]) { $0[0].sigmoid().mul2().sum() }
        checkGradients([x * 5]) { $0[0].softplus().mul2().sum() }
        checkGradients([x]) { $0[0].erf().mul2().sum() }
        checkGradients([x * 2]) { $0[0].gelu().mul2().sum() }
        checkGradients([x * 2]) { $0[0].gelu(approximate: .tanh).mul2().sum() }
        // Clamp bounds at ±0.5 are away from the inputs used here (|x ∓ 0.5| ≥ 0.05).
        let c = Tensor(x.scalars.map { Swift.abs(Swift.abs($0) - 0.5) < 0.05 ? $0 + 0.1 : $0 }, shape: x.shape)
        checkGradients([c]) { $0[0].clamped(min: -0.5, max: 0.5).mul2().sum() + $0[0].sum() }
    }

    @Test func powerGradients() {
        let pos = rand([2, 5], seed: 21, low: 0.5, high: 2)
        let any = Tensor(awayFromZero([2, 5], seed: 22).scalars.map { $0 < 0 ? $0 - 0.4 : $0 + 0.4 }, shape: [2, 5])
        for p: Float in [2, 3, -1, 0.5, -0.5, 1.7, 0] { checkGradients([pos]) { $0[0].pow(p).mul2().sum() } }
        for p: Float in [3, -2] { checkGradients([any]) { $0[0].pow(p).mul2().sum() } }
        // Tensor exponent with broadcasting both ways.
        checkGradients([rand([3, 4], seed: 23, low: 0.5, high: 2), rand([4], seed: 24, low: -1.5, high: 1.5)]) {
            Tensor.pow($0[0], $0[1]).mul2().sum()
        }
        checkGradients([rand([4], seed: 25, low: 0.5, high: 2), rand([3, 1], seed: 26, low: -1.5, high: 1.5)]) {
            Tensor.pow($0[0], $0[1]).mul2().sum()
        }
        // Zero exponent: d/da is 0 (not NaN) even at a = 0.
        let a0 = Tensor([0, 1, 2]).requiringGradient()
        let g0 = gradients(of: Tensor.pow(a0, Tensor([0, 0, 0])).sum(), wrt: [a0])[0]
        #expect(g0.scalars == [0, 0, 0])
    }

    @Test func minMaxWhereGradients() {
        let a = rand([3, 4], seed: 31)
        // b differs from every a by ≥ 0.1 so no tie is within the finite-difference step.
        let b = Tensor((0..<4).map { Float($0) * 0.37 - 0.6 }, shape: [4])
        let safeA = Tensor(a.scalars.enumerated().map { i, v in
            let d = v - b.data[i % 4]
            return Swift.abs(d) < 0.1 ? v + (d < 0 ? -0.1 : 0.1) : v
        }, shape: [3, 4])
        checkGradients([safeA, b]) { Tensor.maximum($0[0], $0[1]).mul2().sum() }
        checkGradients([safeA, b]) { Tensor.minimum($0[0], $0[1]).mul2().sum() }
        var g = SeededGenerator(seed: 5)
        let mask = Tensor.randomBernoulli([3, 1], probability: 0.5, generator: &g)
        checkGradients([a, b]) { Tensor.where(mask, $0[0], $0[1]).mul2().sum() }
        // Ties split the gradient half/half.
        let x = Tensor([1, 2]).requiringGradient(), y = Tensor([1, 3]).requiringGradient()
        let gs = gradients(of: Tensor.maximum(x, y).sum(), wrt: [x, y])
        #expect(gs[0].scalars == [0.5, 0] && gs[1].scalars == [0.5, 1])
        let gm = gradients(of: Tensor.minimum(x, y).sum(), wrt: [x, y])
        #expect(gm[0].scalars == [0.5, 1] && gm[1].scalars == [0.5, 0])
    }

    @Test func comparisonsCarryNoGradient() {
        let x = rand([4], seed: 41).requiringGradient()
        #expect(!x.greater(0).requiresGrad && !x.equal(x).requiresGrad && !x.sign().requiresGrad)
        let y = Tensor.where(x.greater(0), x, x * 2)
        let gx = gradients(of: y.sum(), wrt: [x])[0]
        for i in 0..<4 { #expect(gx.data[i] == (x.data[i] > 0 ? 1 : 2)) }
    }

    // MARK: Second order (Hessian-vector products)

    @Test func secondOrderSmoothOps() {
        let x = rand([2, 5], seed: 51, low: -1.5, high: 1.5)
        let pos = rand([2, 5], seed: 52, low: 0.5, high: 2)
        checkSecondOrder(x) { $0.exp().mul2().sum() }
        checkSecondOrder(pos) { $0.log().mul2().sum() }
        checkSecondOrder(x) { $0.tanh().mul2().sum() }
        checkSecondOrder(x) { $0.sigmoid().mul2().sum() }
        checkSecondOrder(x * 3) { $0.softplus().mul2().sum() }
        checkSecondOrder(x) { $0.erf().mul2().sum() }
        checkSecondOrder(x * 2) { $0.gelu().mul2().sum() }
        checkSecondOrder(x * 2) { $0.gelu(approximate: .tanh).mul2().sum() }
        checkSecondOrder(pos) { $0.sqrt().mul2().sum() }
        checkSecondOrder(pos) { $0.rsqrt().mul2().sum() }
        checkSecondOrder(x) { $0.squared().mul2().sum() }
        for p: Float in [3, -1, 1.7, 0.5] { checkSecondOrder(pos) { $0.pow(p).mul2().sum() } }
        let b = rand([5], seed: 53, low: -1.5, high: 1.5)
        checkSecondOrder(pos) { Tensor.pow($0, b).mul2().sum() }
        checkSecondOrder(b) { Tensor.pow(pos, $0).mul2().sum() }
        // Piecewise-linear ops have zero curvature away from kinks; the double backward must still run.
        checkSecondOrder(awayFromZero([2, 5], seed: 54)) { $0.relu().mul2().sum() }
        checkSecondOrder(awayFromZero([2, 5], seed: 55)) { Tensor.maximum($0, Tensor(0)).mul2().sum() }
    }
}
