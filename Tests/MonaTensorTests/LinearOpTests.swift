import Testing
@testable import MonaTensor

/// `Tensor.linear(_:weight:bias:adding:)`: values against a Double loop, gradients, second order, edge cases.
@Suite struct LinearOpTests {
    /// x·Wᵀ + b + r computed in Double.
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ r: Tensor?) -> [Double] {
        let (out, k) = (w.shape[0], w.shape[1])
        let rows = x.count / k
        var y = [Double](repeating: 0, count: rows * out)
        for i in 0..<rows {
            for j in 0..<out {
                var s = Double(b?.scalars[j] ?? 0) + Double(r?.scalars[i * out + j] ?? 0)
                for p in 0..<k { s += Double(x.scalars[i * k + p]) * Double(w.scalars[j * k + p]) }
                y[i * out + j] = s
            }
        }
        return y
    }

    @Test func valuesMatchDoubleLoop() {
        // Widths around the 16-lane boundary exercise the vector and tail paths of the prefill.
        for out in [3, 16, 21] {
            let x = rand([2, 5, 7], seed: 1), w = rand([out, 7], seed: 2), b = rand([out], seed: 3)
            let r = rand([2, 5, out], seed: 4)
            for (bias, addend) in [(nil, nil), (b, nil), (nil, r), (b, r)] as [(Tensor?, Tensor?)] {
                let y = Tensor.linear(x, weight: w, bias: bias, adding: addend)
                #expect(y.shape == [2, 5, out])
                let want = reference(x, w, bias, addend)
                let err = zip(y.scalars, want).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(err < 1e-5, "out \(out), bias \(bias != nil), addend \(addend != nil): \(err)")
            }
        }
    }

    @Test func firstOrderGradients() {
        let x = rand([2, 3, 4], seed: 5), w = rand([3, 4], seed: 6), b = rand([3], seed: 7), r = rand([2, 3, 3], seed: 8)
        checkGradients([x, w, b, r]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2], adding: $0[3]).mul2().sum() }
        checkGradients([x, w]) { Tensor.linear($0[0], weight: $0[1]).mul2().sum() }
        // Rank-1 input (one row).
        checkGradients([rand([4], seed: 9), w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]).mul2().sum() }
    }

    @Test func gradientsAccumulateWithOtherUses() {
        // x and W also feed other ops, so the GEMMs add into gradients handed over by autograd.
        let x = rand([3, 4], seed: 10), w = rand([2, 4], seed: 11), b = rand([2], seed: 12)
        checkGradients([x, w, b]) { v in
            let y = Tensor.linear(v[0], weight: v[1], bias: v[2], adding: Tensor.matmul(v[0], v[1], transposeB: true))
            return y.mul2().sum() + (v[0] * v[0]).sum() + v[1].mul2().sum()
        }
    }

    @Test func secondOrderMatchesFiniteDifferences() {
        // Hessian-vector product with respect to W through the gradient graph.
        let x = rand([3, 4], seed: 13), b = rand([2], seed: 14), r = rand([3, 2], seed: 15)
        let w = rand([2, 4], seed: 16), v = rand([2, 4], seed: 17)
        func grad(_ w: Tensor, createGraph: Bool) -> Tensor {
            let wv = w.requiresGrad ? w : w.requiringGradient()
            let y = Tensor.linear(x, weight: wv, bias: b, adding: r)
            return gradients(of: (y * y * y).sum(), wrt: [wv], createGraph: createGraph)[0]
        }
        let wv = w.requiringGradient()
        let g = grad(wv, createGraph: true)
        let hv = gradients(of: (g * v).sum(), wrt: [wv])[0]
        let h: Float = 1e-2
        let fd = (grad(w + v * h, createGraph: false) - grad(w - v * h, createGraph: false)) / (2 * h)
        #expect(maxAbsDiff(hv, fd) < 5e-3)
    }

    @Test func nanPropagatesAndEmptyWorks() {
        let w = rand([2, 3], seed: 18)
        var xs = rand([2, 3], seed: 19).scalars
        xs[0] = .nan
        let y = Tensor.linear(Tensor(xs, shape: [2, 3]), weight: w, bias: Tensor([1, 2]))
        #expect(y.scalars[0].isNaN && y.scalars[1].isNaN && !y.scalars[2].isNaN)
        let r = Tensor([.nan, 0, 0, 0], shape: [2, 2])
        #expect(Tensor.linear(rand([2, 3], seed: 20), weight: w, adding: r).scalars[0].isNaN)
        let empty = Tensor.linear(Tensor.zeros([0, 3]), weight: w, bias: Tensor([1, 2]))
        #expect(empty.shape == [0, 2])
        let noInner = Tensor.linear(Tensor.zeros([2, 0]), weight: Tensor.zeros([2, 0]), bias: Tensor([1, 2]))
        #expect(noInner.scalars == [1, 2, 1, 2])
    }
}
