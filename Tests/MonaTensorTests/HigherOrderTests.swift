import Testing
@testable import MonaTensor

/// Hessian-vector products H·v of `f` at `xs` by double backward. With `createGraph` the second backward records
/// a graph (the gradient ops' composed backward rules); without, it runs their fused kernels.
private func hessianVector(_ xs: [Tensor], _ v: [Tensor], createGraph: Bool,
                           _ f: ([Tensor]) -> Tensor) -> (vars: [Tensor], hv: [Tensor]) {
    let vars = xs.map { $0.requiringGradient() }
    let g = gradients(of: f(vars), wrt: vars, createGraph: true)
    let dot = zip(g, v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
    return (vars, gradients(of: dot, wrt: vars, createGraph: createGraph))
}

/// Checks the second backward pass through the gradient ops that fused backward rules record (softmax, LayerNorm,
/// GELU): the fused HVP equals the composed one, and the third derivative ∇(H·v · w) by triple backward equals
/// central differences of fused HVPs along w.
private func checkThirdOrder(_ xs: [Tensor], seed: UInt64, step h: Float = 1e-2, tolerance: Float = 4e-3,
                             sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    let v = xs.enumerated().map { rand($1.shape, seed: seed + UInt64($0)) }
    let w = xs.enumerated().map { rand($1.shape, seed: seed + 100 + UInt64($0)) }
    let fused = hessianVector(xs, v, createGraph: false, f).hv
    let (vars, composed) = hessianVector(xs, v, createGraph: true, f)
    for k in xs.indices {
        let scale = max(1, fused[k].scalars.map(Swift.abs).max() ?? 0)
        #expect(maxAbsDiff(fused[k], composed[k].detached()) <= 2e-5 * scale,
                "input \(k): fused vs composed HVP", sourceLocation: sourceLocation)
    }
    // S(x) = Σ_k ⟨(H·v)_k, w_k⟩: its gradient by triple backward, against central differences of fused HVPs
    // along a probe direction for each input.
    let third = gradients(of: zip(composed, w).map { ($0 * $1).sum() }.reduce(Tensor(0), +), wrt: vars)
    for j in xs.indices {
        let probe = rand(xs[j].shape, seed: seed + 200 + UInt64(j))
        func s(_ t: Float) -> Float {
            var ys = xs
            ys[j] = ys[j] + probe * t
            let hv = hessianVector(ys, v, createGraph: false, f).hv
            return zip(hv, w).map { ($0 * $1).sum().item }.reduce(0, +)
        }
        let fd = (s(h) - s(-h)) / (2 * h)
        let exact = (third[j] * probe).sum().item
        #expect(Swift.abs(fd - exact) <= tolerance * max(1, Swift.abs(fd)),
                "input \(j): third derivative \(exact) vs finite differences \(fd)", sourceLocation: sourceLocation)
    }
}

@Suite struct HigherOrderTests {
    @Test func layerNormThirdOrder() {
        let x = rand([3, 5], seed: 1, low: -2, high: 2), w = rand([5], seed: 2, low: 0.5, high: 1.5)
        let b = rand([5], seed: 3), r = rand([3, 5], seed: 4)
        checkThirdOrder([x, w, b], seed: 10) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r).mul2().sum() }
        checkThirdOrder([x], seed: 20) { ($0[0].layerNorm() * r).mul2().sum() }
        // Rows of 11 (SIMD body and tail) over many rows (several blocks of the weight-gradient partials).
        let xl = rand([70, 11], seed: 5, low: -2, high: 2), rl = rand([70, 11], seed: 6)
        let wl = rand([11], seed: 7, low: 0.5, high: 1.5), bl = rand([11], seed: 8)
        checkThirdOrder([xl, wl, bl], seed: 30) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * rl).mul2().sum() }
    }

    @Test func softmaxThirdOrder() {
        let x = rand([3, 5], seed: 11, low: -2, high: 2), r = rand([3, 5], seed: 12)
        checkThirdOrder([x], seed: 40) { ($0[0].softmax(alongAxis: -1) * r).mul2().sum() }
        // Rows of 11 (SIMD tail), and a non-last axis (the composed path of the gradient op's backward).
        let x11 = rand([2, 11], seed: 13, low: -2, high: 2), r11 = rand([2, 11], seed: 14)
        checkThirdOrder([x11], seed: 50) { ($0[0].softmax(alongAxis: -1) * r11).mul2().sum() }
        let x3 = rand([2, 4, 3], seed: 15, low: -2, high: 2), r3 = rand([2, 4, 3], seed: 16)
        checkThirdOrder([x3], seed: 60) { ($0[0].softmax(alongAxis: 1) * r3).mul2().sum() }
    }

    @Test func geluThirdOrder() {
        let x = rand([3, 7], seed: 21, low: -3, high: 3), r = rand([3, 7], seed: 22)
        checkThirdOrder([x], seed: 70) { ($0[0].gelu() * r).mul2().sum() }
        // Through a product, so that the gradient op's second input (the output gradient) carries x too.
        checkThirdOrder([x], seed: 80) { ($0[0].gelu() * $0[0]).sum() }
    }

    @Test func emptyAndNaNInputsThroughSecondBackward() {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("gelu", { $0.gelu() }), ("softmax", { $0.softmax(alongAxis: -1) }), ("layerNorm", { $0.layerNorm() }),
            ("softmax axis 0", { $0.softmax(alongAxis: 0) }),
        ]
        for (name, op) in ops {
            let empty = Tensor.zeros([0, 4]).requiringGradient()
            let g = gradients(of: op(empty).mul2().sum(), wrt: [empty], createGraph: true)[0]
            let h = gradients(of: g.mul2().sum(), wrt: [empty])[0]
            #expect(g.shape == [0, 4] && h.shape == [0, 4], "\(name)")
            // A NaN in one row reaches that row's second derivatives (never a silent finite value).
            let x = Tensor([0.5, .nan, -1, 2, 0.3, -0.7, 1.1, 0.2], shape: [2, 4]).requiringGradient()
            let gx = gradients(of: op(x).mul2().sum(), wrt: [x], createGraph: true)[0]
            let hx = gradients(of: gx.mul2().sum(), wrt: [x])[0]
            #expect(hx.data[1].isNaN, "\(name): \(hx.scalars)")
        }
    }
}
