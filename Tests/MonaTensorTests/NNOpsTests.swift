import Foundation
import Testing
@testable import MonaTensor

/// Second-order check: the Hessian-vector product from double backward (`createGraph: true`) equals central
/// finite differences of first gradients along the directions `v`. Returns nothing; records expectations.
func nnHessianVectorCheck(_ inputs: [Tensor], directions v: [Tensor], step h: Float = 1e-2, tolerance: Float = 3e-3,
                          sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    func grads(_ xs: [Tensor], createGraph: Bool) -> ([Tensor], [Tensor]) {
        let vars = xs.map { $0.requiringGradient() }
        return (vars, gradients(of: f(vars), wrt: vars, createGraph: createGraph))
    }
    let (vars, g) = grads(inputs, createGraph: true)
    var dot = (g[0] * v[0]).sum()
    for k in 1..<inputs.count { dot = dot + (g[k] * v[k]).sum() }
    let hv = gradients(of: dot, wrt: vars)
    let plus = grads(zip(inputs, v).map { $0 + $1 * h }, createGraph: false).1
    let minus = grads(zip(inputs, v).map { $0 - $1 * h }, createGraph: false).1
    for k in 0..<inputs.count {
        let fd = (plus[k] - minus[k]) / (2 * h)
        let scale = max(1, fd.scalars.map(abs).max() ?? 0)
        #expect(maxAbsDiff(hv[k], fd) <= tolerance * scale,
                "input \(k): HVP \(hv[k].scalars.prefix(6)) vs finite differences \(fd.scalars.prefix(6))",
                sourceLocation: sourceLocation)
    }
}

/// First gradients must not depend on whether the backward ran fused (no graph) or composed (createGraph).
func nnFusedMatchesComposed(_ inputs: [Tensor], tolerance: Float = 1e-5,
                            sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    let vars = inputs.map { $0.requiringGradient() }
    let fused = gradients(of: f(vars), wrt: vars)
    let composed = gradients(of: f(vars), wrt: vars, createGraph: true)
    for k in 0..<inputs.count {
        let scale = max(1, fused[k].scalars.map(abs).max() ?? 0)
        #expect(maxAbsDiff(fused[k], composed[k]) <= tolerance * scale, "input \(k)", sourceLocation: sourceLocation)
    }
}

/// Naive Double softmax / log-softmax of `x` along `axis`.
private func referenceSoftmax(_ x: Tensor, axis: Int, log: Bool) -> [Double] {
    let a = axis < 0 ? axis + x.rank : axis
    let outer = x.shape[..<a].reduce(1, *), n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
    let v = x.scalars.map(Double.init)
    var out = [Double](repeating: 0, count: v.count)
    for o in 0..<outer {
        for j in 0..<inner {
            let idx = (0..<n).map { o * n * inner + $0 * inner + j }
            let m = idx.map { v[$0] }.max()!
            let s = idx.reduce(0.0) { $0 + Foundation.exp(v[$1] - m) }
            for i in idx { out[i] = log ? v[i] - m - Foundation.log(s) : Foundation.exp(v[i] - m) / s }
        }
    }
    return out
}

private func maxDiff(_ a: Tensor, _ b: [Double]) -> Double {
    zip(a.scalars, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}

@Suite struct NNOpsTests {
    // MARK: Softmax

    @Test func softmaxMatchesDoubleOnEveryAxis() {
        let cases: [([Int], Int)] = [([5, 13], -1), ([3, 128], 1), ([2, 7, 9], 0), ([2, 7, 9], 1), ([2, 7, 9], 2),
                                     ([4, 3, 17], 1), ([1, 1], -1), ([6], 0), ([3, 40, 8], -2)]
        for (shape, axis) in cases {
            let x = rand(shape, seed: 7, low: -30, high: 30)
            let y = x.softmax(alongAxis: axis), ly = x.logSoftmax(alongAxis: axis)
            #expect(y.shape == shape && ly.shape == shape)
            #expect(maxDiff(y, referenceSoftmax(x, axis: axis, log: false)) < 2e-6, "softmax \(shape) axis \(axis)")
            #expect(maxDiff(ly, referenceSoftmax(x, axis: axis, log: true)) < 3e-5, "logSoftmax \(shape) axis \(axis)")
        }
        #expect(Tensor(3).softmax().item == 1 && Tensor(3).logSoftmax().item == 0)
    }

    @Test func rowExpAccuracy() {
        // The kernels' exp of non-positive arguments, against Double, over the whole non-underflowing range.
        var worst = 0.0
        var x: Float = -87.3
        while x <= 0 {
            var v = SIMD8<Float>()
            for l in 0..<8 { v[l] = x * (1 - Float(l) * 1e-3) }
            let e = RowKernels.expNonPositive(v)
            for l in 0..<8 {
                let ref = Foundation.exp(Double(v[l]))
                worst = max(worst, abs(Double(e[l]) - ref) / ref)
            }
            x += 0.0173
        }
        #expect(worst < 2e-7, "max relative error \(worst)")
        let special = RowKernels.expNonPositive(SIMD8(-.infinity, .nan, 0, -100, -87.5, -1e-30, -Float.greatestFiniteMagnitude, -0.0))
        #expect(special[0] == 0 && special[1].isNaN && special[2] == 1 && special[3] == 0 && special[4] == 0)
        #expect(special[5] == 1 && special[6] == 0 && special[7] == 1)
    }

    @Test func softmaxSpecialValues() {
        // NaN poisons its own row only; −∞ gets zero weight; ±1e4 logits stay finite.
        let x = Tensor([1, .nan, 2, 3,
                        0, -.infinity, 0, 1e4,
                        -1e4, 1e4, 0, -1e4], shape: [3, 4])
        let y = x.softmax(), ly = x.logSoftmax()
        #expect((0..<4).allSatisfy { y[0, $0].isNaN && ly[0, $0].isNaN })
        #expect(y[1, 1] == 0 && y[1, 3] == 1 && ly[1, 1] == -.infinity && ly[1, 3] == 0)
        #expect(y[2, 1] == 1 && ly[2, 0] == -2e4 && (4..<12).allSatisfy { y.data[$0].isFinite })
        // Same along a non-last axis.
        let yt = x.reshaped(to: [3, 4, 1]).softmax(alongAxis: 1).reshaped(to: [3, 4])
        #expect((0..<4).allSatisfy { yt[0, $0].isNaN } && yt[1, 3] == 1)
        // Fully masked rows: all −∞ → NaN (as PyTorch); a large finite mask → uniform.
        let masked = Tensor([-.infinity, -.infinity, -.infinity], shape: [1, 3]).softmax()
        #expect(masked.scalars.allSatisfy { $0.isNaN })
        let bigMask = (rand([2, 5], seed: 3) + Tensor.full([2, 5], -1e9)).softmax()
        #expect(bigMask.scalars.allSatisfy { abs($0 - 0.2) < 1e-6 })
        // Empty tensors.
        #expect(Tensor.zeros([0, 5]).softmax().shape == [0, 5])
        #expect(Tensor.zeros([3, 0]).logSoftmax().shape == [3, 0])
        #expect(Tensor.zeros([2, 0, 3]).softmax(alongAxis: 1).shape == [2, 0, 3])
    }

    @Test func softmaxGradients() {
        // Rows of 5 run the scalar tail, rows of 19 the SIMD body too; inner sizes 2 and 9 the strided kernel.
        for (shape, axis) in [([3, 5], -1), ([2, 19], -1), ([2, 3, 4], 1), ([3, 4], 0), ([2, 3, 9], 1), ([2, 9, 2], 1)] {
            let x = rand(shape, seed: 11, low: -2, high: 2), w = rand(shape, seed: 12)
            checkGradients([x]) { ($0[0].softmax(alongAxis: axis) * w).mul2().sum() }
            checkGradients([x]) { ($0[0].logSoftmax(alongAxis: axis) * w).mul2().sum() }
            nnFusedMatchesComposed([x]) { ($0[0].softmax(alongAxis: axis) * w).mul2().sum() }
            nnFusedMatchesComposed([x]) { ($0[0].logSoftmax(alongAxis: axis) * w).mul2().sum() }
        }
    }

    @Test func softmaxSecondOrder() {
        for (shape, axis) in [([3, 5], -1), ([2, 3, 4], 1)] {
            let x = rand(shape, seed: 21, low: -2, high: 2), w = rand(shape, seed: 22), v = rand(shape, seed: 23)
            nnHessianVectorCheck([x], directions: [v]) { ($0[0].softmax(alongAxis: axis) * w).mul2().sum() }
            nnHessianVectorCheck([x], directions: [v]) { ($0[0].logSoftmax(alongAxis: axis) * w).mul2().sum() }
            // Third order enters through softmax inside its own backward: a linear loss has a non-zero Hessian.
            nnHessianVectorCheck([x], directions: [v]) { ($0[0].softmax(alongAxis: axis) * w).sum() }
            nnHessianVectorCheck([x], directions: [v]) { ($0[0].logSoftmax(alongAxis: axis) * w).sum() }
        }
    }

    // MARK: LayerNorm

    private func referenceLayerNorm(_ x: Tensor, _ w: Tensor?, _ b: Tensor?, eps: Double) -> [Double] {
        let d = x.shape.last!, v = x.scalars.map(Double.init)
        var out = [Double](repeating: 0, count: v.count)
        for r in 0..<(x.count / d) {
            let row = v[(r * d)..<((r + 1) * d)]
            let mu = row.reduce(0, +) / Double(d)
            let variance = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(d)
            for j in 0..<d {
                let xn = (row[r * d + j] - mu) / (variance + eps).squareRoot()
                out[r * d + j] = xn * Double(w?.data[j] ?? 1) + Double(b?.data[j] ?? 0)
            }
        }
        return out
    }

    @Test func layerNormMatchesDouble() {
        for (shape, affine, eps) in [([4, 384], true, 1e-12), ([3, 13], false, 1e-5), ([2, 3, 7], true, 1e-5),
                                     ([5, 8], true, 1e-5), ([1, 1], false, 1e-5)] as [([Int], Bool, Double)] {
            let d = shape.last!
            let x = rand(shape, seed: 31, low: -3, high: 3)
            let w: Tensor? = affine ? rand([d], seed: 32, low: 0.5, high: 1.5) : nil
            let b: Tensor? = affine ? rand([d], seed: 33) : nil
            let y = x.layerNorm(weight: w, bias: b, epsilon: Float(eps))
            #expect(y.shape == shape)
            #expect(maxDiff(y, referenceLayerNorm(x, w, b, eps: eps)) < 2e-5, "\(shape)")
            // Weight-only and bias-only variants.
            if affine {
                #expect(maxDiff(x.layerNorm(weight: w), referenceLayerNorm(x, w, nil, eps: 1e-5)) < 2e-5)
                #expect(maxDiff(x.layerNorm(bias: b), referenceLayerNorm(x, nil, b, eps: 1e-5)) < 2e-5)
            }
        }
        // A large common offset (|mean| ≫ std) must not cancel: the variance is computed centred.
        let shifted = rand([3, 384], seed: 34) * 0.01 + 1000
        #expect(maxDiff(shifted.layerNorm(), referenceLayerNorm(shifted, nil, nil, eps: 1e-5)) < 5e-3)
        // A constant row normalises to 0 (not NaN); NaN stays in its row.
        #expect(Tensor.full([2, 6], 4).layerNorm().scalars.allSatisfy { $0 == 0 })
        let withNaN = Tensor([1, .nan, 3, 1, 2, 3], shape: [2, 3]).layerNorm()
        #expect((0..<3).allSatisfy { withNaN[0, $0].isNaN } && withNaN[1, 1] == 0)
        #expect(Tensor.zeros([0, 4]).layerNorm().shape == [0, 4] && Tensor.zeros([2, 0]).layerNorm().shape == [2, 0])
    }

    @Test func layerNormGradients() {
        let x = rand([3, 5], seed: 41, low: -2, high: 2), w = rand([5], seed: 42, low: 0.5, high: 1.5)
        let b = rand([5], seed: 43), r = rand([3, 5], seed: 44)
        checkGradients([x]) { ($0[0].layerNorm() * r).mul2().sum() }
        checkGradients([x, w, b]) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r).mul2().sum() }
        checkGradients([x, w]) { ($0[0].layerNorm(weight: $0[1]) * r).mul2().sum() }
        checkGradients([x, b]) { ($0[0].layerNorm(bias: $0[1]) * r).mul2().sum() }
        let x3 = rand([2, 3, 4], seed: 45), r3 = rand([2, 3, 4], seed: 46), w4 = rand([4], seed: 47), b4 = rand([4], seed: 48)
        checkGradients([x3, w4, b4]) { ($0[0].layerNorm(weight: $0[1], bias: $0[2], epsilon: 1e-3) * r3).mul2().sum() }
        // Rows of 11: SIMD body plus tail in the fused kernels.
        let x11 = rand([2, 11], seed: 53, low: -2, high: 2), r11 = rand([2, 11], seed: 54)
        let w11 = rand([11], seed: 55, low: 0.5, high: 1.5), b11 = rand([11], seed: 56)
        checkGradients([x11, w11, b11]) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r11).mul2().sum() }
        checkGradients([x11]) { ($0[0].layerNorm() * r11).mul2().sum() }
        nnFusedMatchesComposed([x, w, b]) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r).mul2().sum() }
        nnFusedMatchesComposed([x]) { ($0[0].layerNorm() * r).mul2().sum() }
        // Only the affine parameters need a gradient (fused kernel without dx).
        let wv = w.requiringGradient(), bv = b.requiringGradient()
        let g = gradients(of: (x.layerNorm(weight: wv, bias: bv) * r).mul2().sum(), wrt: [wv, bv])
        let full = gradients(of: (x.requiringGradient().layerNorm(weight: wv, bias: bv) * r).mul2().sum(), wrt: [wv, bv])
        #expect(maxAbsDiff(g[0], full[0]) < 1e-6 && maxAbsDiff(g[1], full[1]) < 1e-6)
        // Many rows: the blocked partial sums of dw/db must match the composed reduction.
        let xl = rand([100, 24], seed: 49), rl = rand([100, 24], seed: 50)
        let wl = rand([24], seed: 51), bl = rand([24], seed: 52)
        nnFusedMatchesComposed([xl, wl, bl], tolerance: 2e-5) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * rl).sum() }
    }

    @Test func layerNormSecondOrder() {
        let x = rand([3, 5], seed: 61, low: -2, high: 2), w = rand([5], seed: 62, low: 0.5, high: 1.5)
        let b = rand([5], seed: 63), r = rand([3, 5], seed: 64)
        let v = [rand([3, 5], seed: 65), rand([5], seed: 66), rand([5], seed: 67)]
        nnHessianVectorCheck([x, w, b], directions: v) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r).mul2().sum() }
        nnHessianVectorCheck([x, w, b], directions: v) { ($0[0].layerNorm(weight: $0[1], bias: $0[2]) * r).sum() }
        nnHessianVectorCheck([x], directions: [v[0]]) { ($0[0].layerNorm(epsilon: 1e-12) * r).mul2().sum() }
    }

    // MARK: Dropout

    @Test func dropoutIsSeededAndScaled() {
        let x = rand([100, 100], seed: 71, low: 1, high: 2)
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5), g3 = SeededGenerator(seed: 6)
        let a = x.dropout(probability: 0.3, generator: &g1), b = x.dropout(probability: 0.3, generator: &g2)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != x.dropout(probability: 0.3, generator: &g3).scalars)
        // Survivors are x/(1 − p); the kept fraction is ≈ 1 − p.
        var kept = 0
        for i in 0..<x.count where a.data[i] != 0 {
            kept += 1
            #expect(abs(a.data[i] - x.data[i] / 0.7) <= 1e-6 * a.data[i])
        }
        #expect(abs(Double(kept) / Double(x.count) - 0.7) < 0.02)
        // The generator advanced: the next mask differs.
        #expect(x.dropout(probability: 0.3, generator: &g1).scalars != a.scalars)
        // Evaluation and p = 0 are the identity and draw nothing; p = 1 zeroes.
        var g4 = SeededGenerator(seed: 5)
        #expect(x.dropout(probability: 0.3, generator: &g4, training: false).scalars == x.scalars)
        #expect(x.dropout(probability: 0, generator: &g4).scalars == x.scalars)
        #expect(x.dropout(probability: 0.3, generator: &g4).scalars == a.scalars)
        #expect(x.dropout(probability: 1, generator: &g4).scalars.allSatisfy { $0 == 0 })
        // Odd sizes and NaN.
        var g5 = SeededGenerator(seed: 9)
        let odd = Tensor([.nan, 1, 2], shape: [3]).dropout(probability: 0, generator: &g5)
        #expect(odd.data[0].isNaN)
        #expect(Tensor.zeros([0, 3]).dropout(probability: 0.5, generator: &g5).shape == [0, 3])
    }

    @Test func dropoutGradient() {
        let x = rand([4, 5], seed: 72)
        checkGradients([x]) { xs in
            var g = SeededGenerator(seed: 13)
            return xs[0].dropout(probability: 0.4, generator: &g).mul2().sum()
        }
        var g = SeededGenerator(seed: 13)
        let xv = x.requiringGradient()
        let y = xv.dropout(probability: 0.4, generator: &g)
        let grad = gradients(of: y.sum(), wrt: [xv])[0]
        for i in 0..<x.count { #expect(grad.data[i] == (y.data[i] == 0 ? 0 : 1 / 0.6 as Float)) }
        nnHessianVectorCheck([x], directions: [rand([4, 5], seed: 73)]) { xs in
            var g = SeededGenerator(seed: 13)
            return xs[0].dropout(probability: 0.4, generator: &g).mul2().sum()
        }
    }

    // MARK: Embedding

    @Test func embeddingGathersRows() {
        let w = Tensor((0..<12).map(Float.init), shape: [4, 3])
        let e = Tensor.embedding(weight: w, indices: [3, 0, 0, 2, 1, 3], shape: [2, 3])
        #expect(e.shape == [2, 3, 3])
        #expect(e.scalars == [9, 10, 11, 0, 1, 2, 0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11])
        #expect(Tensor.embedding(weight: w, indices: [2]).shape == [1, 3])
        #expect(Tensor.embedding(weight: w, indices: []).shape == [0, 3])
    }

    @Test func embeddingGradientAccumulatesRepeats() {
        let w = rand([5, 3], seed: 81).requiringGradient()
        let idx = [1, 4, 1, 1, 0, 4]
        let g = gradients(of: Tensor.embedding(weight: w, indices: idx, shape: [3, 2]).sum(), wrt: [w])[0]
        #expect(g.scalars == [1, 1, 1, 3, 3, 3, 0, 0, 0, 0, 0, 0, 2, 2, 2])
        // With a seed: rows of the seed land on (and add up in) their table rows.
        let seed = rand([6, 3], seed: 82)
        let gs = gradients(of: Tensor.embedding(weight: w, indices: idx), wrt: [w], seed: seed)[0]
        for j in 0..<3 {
            #expect(abs(gs[1, j] - (seed[0, j] + seed[2, j] + seed[3, j])) < 1e-6)
            #expect(abs(gs[4, j] - (seed[1, j] + seed[5, j])) < 1e-6 && gs[2, j] == 0)
        }
        // Padding index: looked up normally, no gradient.
        let ep = Tensor.embedding(weight: w, indices: idx, paddingIndex: 1)
        #expect(ep[0, 0] == w[1, 0])
        let gp = gradients(of: ep.sum(), wrt: [w])[0]
        #expect(gp.scalars == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2])
        // A wide table exercises the column-parallel scatter (more work than one chunk).
        let wide = rand([50, 40], seed: 83).requiringGradient()
        let many = (0..<2000).map { ($0 * 7) % 50 }
        let gw = gradients(of: Tensor.embedding(weight: wide, indices: many).sum(), wrt: [wide])[0]
        #expect(gw.scalars.allSatisfy { $0 == 40 })
    }

    @Test func embeddingGradientChecks() {
        let w = rand([4, 3], seed: 91), idx = [2, 0, 2, 3]
        checkGradients([w]) { Tensor.embedding(weight: $0[0], indices: idx, shape: [2, 2]).mul2().sum() }
        // The scatter-add op and its gather backward.
        let g = rand([4, 3], seed: 92)
        checkGradients([g]) { Tensor.embeddingBackward($0[0], indices: idx, vocabularySize: 5).mul2().sum() }
        nnHessianVectorCheck([w], directions: [rand([4, 3], seed: 93)]) {
            Tensor.embedding(weight: $0[0], indices: idx).mul2().mul2().sum()
        }
        // Gradient of a gradient runs embeddingBackward's backward (the gather) with padding zeroed.
        let wv = w.requiringGradient()
        let first = gradients(of: Tensor.embedding(weight: wv, indices: idx, paddingIndex: 2).mul2().sum(),
                              wrt: [wv], createGraph: true)[0]                        // 2·count·w, padding rows 0
        let second = gradients(of: first.sum(), wrt: [wv])[0]
        #expect(second.scalars == [2, 2, 2, 0, 0, 0, 0, 0, 0, 2, 2, 2])
    }
}
