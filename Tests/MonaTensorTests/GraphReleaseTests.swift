import Testing
@testable import MonaTensor

/// `gradients(…, retainsGraph: false)`: the same gradients as with the graph kept, and the graph's tensors are
/// freed during the pass even while the caller still holds the output.
@Suite struct GraphReleaseTests {
    /// A loss whose input is used many times (more contributions than `GradientAccumulator.maximumPending`,
    /// added in place when the graph is released) and whose gradient is differentiated again.
    private func doubleBackward(retainsGraph: Bool) -> [Tensor] {
        let w = rand([4, 3], seed: 31).requiringGradient(), x = rand([3, 5], seed: 32).requiringGradient()
        let h = Tensor.matmul(w, x).tanh()                                     // [4, 5]
        var y = h * h
        for k in 1...10 { y = y + (h * Float(k) * 0.1).sigmoid() * x.sum() }
        let g = gradients(of: y.sum(), wrt: [w, x], createGraph: true)
        let objective = (g[0] * g[0]).sum() + (g[1].gelu() * x).sum()
        return gradients(of: objective, wrt: [w, x], retainsGraph: retainsGraph)
    }

    @Test func releasedGraphGivesTheSameGradients() {
        let kept = doubleBackward(retainsGraph: true), released = doubleBackward(retainsGraph: false)
        for (a, b) in zip(kept, released) {
            #expect(a.shape == b.shape)
            #expect(maxAbsDiff(a, b) <= 1e-5 * max(1, a.scalars.map(abs).max() ?? 0))
        }
    }

    @Test func releasedGraphGivesTheSameFirstOrderGradients() {
        let w = rand([6, 6], seed: 33).requiringGradient()
        func loss() -> Tensor {
            var z = w
            for _ in 0..<12 { z = (Tensor.matmul(z, w) * 0.5 + w).tanh() }
            return (z * z).sum()
        }
        let kept = gradients(of: loss(), wrt: [w])[0], released = gradients(of: loss(), wrt: [w], retainsGraph: false)[0]
        #expect(maxAbsDiff(kept, released) <= 1e-5 * max(1, kept.scalars.map(abs).max() ?? 0))
    }

    @Test func releasedGraphFreesIntermediatesDuringThePass() {
        func intermediateStorage(retainsGraph: Bool) -> (loss: Tensor, storage: TensorStorage?) {
            let x = rand([8, 8], seed: 34).requiringGradient()
            var h: Tensor? = (x * x).exp()                                    // held only by the graph below
            let loss = (h! * x).sum()
            weak let storage = h!.storage
            h = nil
            _ = gradients(of: loss, wrt: [x], retainsGraph: retainsGraph)
            return (loss, storage)
        }
        let kept = intermediateStorage(retainsGraph: true)
        #expect(kept.storage != nil)
        let released = intermediateStorage(retainsGraph: false)
        #expect(released.storage == nil)
        #expect(released.loss.requiresGrad)
    }

    @Test func createGraphKeepsTheGraph() {
        let x = rand([5], seed: 35).requiringGradient()
        let y = (x * x * x).sum()
        let g = gradients(of: y, wrt: [x], createGraph: true, retainsGraph: false)[0]   // 3x², graph kept
        let h = gradients(of: g.sum(), wrt: [x])[0]                                          // 6x
        #expect(maxAbsDiff(h, x.detached() * 6) < 1e-5)
        let again = gradients(of: y, wrt: [x])[0]
        #expect(maxAbsDiff(again, g.detached()) < 1e-6)
    }
}
