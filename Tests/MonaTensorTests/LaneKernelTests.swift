import Foundation
import Testing
@testable import MonaTensor

/// Element i of `op` applied to a tensor of `n` values must equal `f` applied to that value alone, bit for bit:
/// the 16-lane loops, their zero-padded tails and the thread chunks must not change any result.
private func checkPositionIndependent(_ name: String, _ op: (Tensor) -> Tensor, _ f: (SIMD8<Float>) -> SIMD8<Float>,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
    // Sizes around multiples of 16 (every tail length), and one large enough to be split over threads.
    for n in Array(0...40) + [1003, 100_003] {
        let x = Tensor((0..<n).map { Float(($0 * 7919) % 2003) / 2003 * 24 - 12 })
        let y = op(x)
        for i in 0..<n where y.data[i].bitPattern != f(SIMD8(repeating: x.data[i]))[0].bitPattern {
            Issue.record("\(name): n = \(n), x[\(i)] = \(x.data[i]): \(y.data[i]) vs \(f(SIMD8(repeating: x.data[i]))[0])",
                         sourceLocation: sourceLocation)
            return
        }
    }
}

@Suite struct LaneKernelTests {
    @Test func forwardKernelsAreIndependentOfPosition() {
        checkPositionIndependent("exp", { $0.exp() }, VectorMath.exp)
        checkPositionIndependent("log", { $0.abs().log() }, { VectorMath.log(VectorMath.magnitude($0)) })
        checkPositionIndependent("softplus", { $0.softplus() }, VectorMath.softplus)
        checkPositionIndependent("tanh", { $0.tanh() }, VectorMath.tanh)
        checkPositionIndependent("sigmoid", { $0.sigmoid() }, VectorMath.sigmoid)
        checkPositionIndependent("erf", { $0.erf() }, VectorMath.erf)
        checkPositionIndependent("gelu", { $0.gelu() }, VectorMath.gelu)
        checkPositionIndependent("geluTanh", { $0.gelu(approximate: .tanh) }, VectorMath.geluTanh)
        checkPositionIndependent("gelu″", { $0.geluSecondDerivative() }, VectorMath.geluSecondDerivative)
    }

    @Test func geluSecondDerivativeMatchesDouble() {
        // φ(x)·(2 − x²), including where it underflows and the special values.
        var worst = 0.0
        for i in 0..<200_000 {
            let x = Float(-16 + 32 * Double(i) / 199_999)
            let xd = Double(x)
            let want = Foundation.exp(-xd * xd / 2) / (2 * Double.pi).squareRoot() * (2 - xd * xd)
            worst = max(worst, Swift.abs(Double(VectorMath.geluSecondDerivative(SIMD8(repeating: x))[0]) - want))
        }
        #expect(worst < 4e-7, "max abs error \(worst)")
        let s = VectorMath.geluSecondDerivative(SIMD8<Float>(.infinity, -.infinity, .nan, 0, 1e30, -1e30, 30, -30))
        #expect(s[0] == 0 && s[1] == 0 && s[2].isNaN && Swift.abs(s[3] - 0.7978846) < 1e-7)
        #expect(s[4] == 0 && s[5] == 0 && s[6] == 0 && s[7] == 0)
    }

    @Test func geluGradientBackwardIsIndependentOfPosition() {
        // The fused backward of the GELU gradient op: u·gelu′(x) and u·g·gelu″(x), every tail length.
        for n in Array(0...40) + [1003] {
            let x = Tensor((0..<n).map { Float(($0 * 7919) % 2003) / 2003 * 24 - 12 })
            let g = Tensor((0..<n).map { Float($0 % 7) - 3 }), u = Tensor((0..<n).map { Float($0 % 5) * 0.5 - 1 })
            let (dg, dx) = geluGradientBackward(u, g, x, wantG: true, wantX: true)
            for i in 0..<n {
                let xv = SIMD8<Float>(repeating: x.data[i])
                #expect(dg!.data[i] == u.data[i] * VectorMath.geluDerivative(xv)[0])
                #expect(dx!.data[i] == u.data[i] * g.data[i] * VectorMath.geluSecondDerivative(xv)[0])
            }
        }
    }

    @Test func backwardKernelsAreIndependentOfPosition() {
        // Gradient of sum(f(x)) is f′(x) through the fused backward kernel (no graph).
        func derivative(_ f: @escaping (Tensor) -> Tensor) -> (Tensor) -> Tensor {
            { x in
                let xv = x.requiringGradient()
                return gradients(of: f(xv).sum(), wrt: [xv])[0]
            }
        }
        checkPositionIndependent("gelu′", derivative { $0.gelu() }, VectorMath.geluDerivative)
        checkPositionIndependent("geluTanh′", derivative { $0.gelu(approximate: .tanh) },
                                 VectorMath.geluTanhDerivative)
        checkPositionIndependent("erf′", derivative { $0.erf() }) { x in
            VectorMath.exp(-(x * x)) * SIMD8(repeating: 1.1283792)
        }
    }

    @Test func backwardKernelBroadcastsAFallbackShape() {
        // The fused backward kernels get same-shape operands from autograd; other shapes are broadcast.
        let g = Tensor([1, 2, 3], shape: [3, 1]), x = Tensor([-1, 0, 0.5, 2], shape: [4])
        let z = laneZip(g, x, LaneKernels.GELUBackward.self, op: "test", cost: 1)
        #expect(z.shape == [3, 4])
        for r in 0..<3 {
            for c in 0..<4 {
                let want = Float(r + 1) * VectorMath.geluDerivative(SIMD8(repeating: x.data[c]))[0]
                #expect(z[r, c] == want)
            }
        }
    }
}
