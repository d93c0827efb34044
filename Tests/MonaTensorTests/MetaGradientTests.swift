import Testing
@testable import MonaTensor

/// The MoNA pattern on a tiny model: the outer loss reaches the embedder φ only through the simulated inner
/// update θ' = θ − α∇θ L_inner(φ, θ), so its gradient is a mixed second derivative.
@Suite struct MetaGradientTests {
    let xt = rand([5, 3], seed: 21)      // target batch
    let xs = rand([6, 4], seed: 22)      // source batch
    let theta = rand([4, 4], seed: 23)   // body
    let alpha: Float = 0.5

    func innerLoss(_ phi: Tensor, _ theta: Tensor) -> Tensor {
        let h = Tensor.matmul(Tensor.matmul(xt, phi), theta)     // [5, 4]
        return (h * h * h).mean() + (h * h).mean()
    }

    func outerLoss(_ thetaPrime: Tensor) -> Tensor {
        let z = Tensor.matmul(xs, thetaPrime)                     // [6, 4]
        return (z * z).mean()
    }

    /// L_outer(θ'(φ)) with the graph of the inner gradient kept.
    func metaObjective(_ phi: Tensor) -> Tensor {
        let th = theta.requiringGradient()
        let g = gradients(of: innerLoss(phi, th), wrt: [th], createGraph: true)[0]
        return outerLoss(th - g * alpha)
    }

    @Test func exactMetaGradientMatchesFiniteDifferences() {
        let phi = rand([3, 4], seed: 24).requiringGradient()
        let meta = gradients(of: metaObjective(phi), wrt: [phi])[0]
        // Finite differences in φ of the same objective, each evaluation with a fresh first-order inner step.
        var worst: Float = 0, scale: Float = 0
        for i in 0..<phi.count {
            let h: Float = 1e-2
            var p = phi.detached(), m = phi.detached()
            p.withUnsafeMutableBufferPointer { $0[i] += h }
            m.withUnsafeMutableBufferPointer { $0[i] -= h }
            let fd = (metaObjective(p).item - metaObjective(m).item) / (2 * h)
            worst = max(worst, abs(fd - meta.data[i]))
            scale = max(scale, abs(fd))
        }
        #expect(scale > 1e-3, "the outer loss must depend on φ through θ'")
        #expect(worst <= 2e-3 + 2e-2 * scale)
    }

    @Test func firstOrderApproximationLosesTheSignal() {
        // Without createGraph the inner gradient is a constant: φ gets no gradient from the outer loss at all.
        let phi = rand([3, 4], seed: 24).requiringGradient()
        let th = theta.requiringGradient()
        let g = gradients(of: innerLoss(phi, th), wrt: [th], createGraph: false)[0]
        let outer = outerLoss(th - g * alpha)
        #expect(gradients(of: outer, wrt: [phi])[0].scalars.allSatisfy { $0 == 0 })
    }
}
