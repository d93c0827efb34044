import Testing
@testable import MonaTensor

/// Gradients of tensors with several consumers: contributions are summed in one pass, and matmul rules add their
/// products into an accumulated gradient that autograd hands over (β = 1). Neither may change any result or
/// write into a tensor that something else still refers to.
@Suite struct GradientAccumulationTests {
    /// x feeds three matmuls (2-D, batched with a shared weight, batched with a per-batch operand), an
    /// elementwise product and a reshape, so its gradient gathers many contributions in varying order.
    private func manyConsumers(_ v: [Tensor]) -> Tensor {
        let x = v[0], w1 = v[1], w2 = v[2]                                           // [6, 4], [4, 5], [4, 5]
        let a = x.matmul(w1) * x.matmul(w2)                                          // [6, 5]
        let x3 = x.reshaped(to: [2, 3, 4])
        let b = Tensor.matmul(x3, x3, transposeB: true)                              // [2, 3, 3]
        let c = x3.matmul(w1)                                                        // [2, 3, 5]
        return a.mul2().sum() + b.mul2().sum() + (c * c).sum() + (x * x * x).sum()
    }

    @Test func gradientsMatchFiniteDifferences() {
        let inputs = [rand([6, 4], seed: 1), rand([4, 5], seed: 2), rand([4, 5], seed: 3)]
        checkGradients(inputs) { manyConsumers($0) }
    }

    @Test func handOverMatchesSeparateSums() {
        // With a graph, no contribution is handed over; the values must agree with the no-graph pass.
        let vars = [rand([6, 4], seed: 4), rand([4, 5], seed: 5), rand([4, 5], seed: 6)].map { $0.requiringGradient() }
        let plain = gradients(of: manyConsumers(vars), wrt: vars)
        let graphed = gradients(of: manyConsumers(vars), wrt: vars, createGraph: true)
        for k in 0..<3 {
            #expect(maxAbsDiff(plain[k], graphed[k].detached()) <= 1e-5 * max(1, graphed[k].scalars.map(abs).max() ?? 0))
        }
    }

    @Test func sharedTensorsAreNotWrittenInto() {
        // The seed flows unchanged to both inputs of an add and on into matmuls; intermediate gradients that are
        // returned to the caller or still referenced must keep their values.
        let x = rand([3, 4], seed: 7).requiringGradient(), w = rand([4, 4], seed: 8).requiringGradient()
        let h = x.matmul(w)                                                          // [3, 4]
        let out = h + h.matmul(w) + x                                                // [3, 4]
        let seed = rand([3, 4], seed: 9)
        let seedBefore = seed.scalars
        let store = gradientStore(of: out, wrt: [x, w, h], seed: seed)
        #expect(seed.scalars == seedBefore)
        let gh = store[h]!, gx = store[x]!
        let ghBefore = gh.scalars, gxBefore = gx.scalars
        // Expected values by hand: dh = s + s·wᵀ, dx = s + dh·wᵀ, dw = hᵀ·s + xᵀ·dh.
        let dh = seed + Tensor.matmul(seed, w, transposeB: true)
        #expect(maxAbsDiff(gh, dh) < 1e-5)
        #expect(maxAbsDiff(gx, seed + Tensor.matmul(dh, w, transposeB: true)) < 1e-5)
        #expect(maxAbsDiff(store[w]!, Tensor.matmul(h, seed, transposeA: true) + Tensor.matmul(x, dh, transposeA: true))
                < 1e-5)
        _ = gradients(of: (h * h).sum(), wrt: [x, w])
        #expect(gh.scalars == ghBefore && gx.scalars == gxBefore)
    }

    @Test func manyContributionsAreSummedEarly() {
        // More uses than autograd holds pending (8) before summing early.
        let x = rand([5, 3], seed: 10).requiringGradient(), w = rand([3, 3], seed: 11)
        var total = Tensor(0)
        for k in 0..<20 { total = total + (x.matmul(w) * Float(k + 1)).sum() + (x * Float(k)).sum() }
        let g = gradients(of: total, wrt: [x])[0]
        // d/dx Σ_k [(k+1)·sum(x·w) + k·sum(x)] = 210·(1·wᵀ row sums) + 190.
        let rowSums = (0..<3).map { i in (0..<3).reduce(Float(0)) { $0 + w[i, $1] } }
        for r in 0..<5 {
            for c in 0..<3 { #expect(abs(g[r, c] - (210 * rowSums[c] + 190)) < 1e-3) }
        }
    }
}
