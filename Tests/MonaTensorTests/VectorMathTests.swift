import Foundation
import Testing
@testable import MonaTensor

/// Worst absolute and relative error of a SIMD8 kernel against a Double reference over the given inputs.
private func errors(_ xs: [Float], _ f: (SIMD8<Float>) -> SIMD8<Float>, _ ref: (Double) -> Double)
    -> (abs: Double, rel: Double, worstX: Float) {
    var worstAbs = 0.0, worstRel = 0.0, worstX: Float = 0
    var i = 0
    while i < xs.count {
        var v = SIMD8<Float>(repeating: 0)
        for k in 0..<8 where i + k < xs.count { v[k] = xs[i + k] }
        let y = f(v)
        for k in 0..<8 where i + k < xs.count {
            let r = ref(Double(xs[i + k]))
            let e = Swift.abs(Double(y[k]) - r)
            if !(e <= worstAbs) { worstAbs = e }
            let rel = r == 0 ? (y[k] == 0 ? 0 : .infinity) : e / Swift.abs(r)
            if !(rel <= worstRel) { worstRel = rel; worstX = xs[i + k] }
        }
        i += 8
    }
    return (worstAbs, worstRel, worstX)
}

/// `count` evenly spaced points in [lo, hi].
private func sweep(_ lo: Double, _ hi: Double, count: Int = 200_000) -> [Float] {
    (0..<count).map { Float(lo + (hi - lo) * Double($0) / Double(count - 1)) }
}

/// Points spread geometrically over [lo, hi] (both positive).
private func geometric(_ lo: Double, _ hi: Double, count: Int = 200_000) -> [Float] {
    (0..<count).map { Float(lo * Foundation.pow(hi / lo, Double($0) / Double(count - 1))) }
}

private func lanes(_ xs: [Float]) -> SIMD8<Float> {
    var v = SIMD8<Float>(repeating: 0)
    for (k, x) in xs.prefix(8).enumerated() { v[k] = x }
    return v
}

private let tinySubnormal = Float(bitPattern: 0x0001_0000)   // ≈ 9e-41

// References in forms that keep relative accuracy for negative x: Φ(x) = erfc(−x/√2)/2 and
// (1 + tanh u)/2 = σ(2u) (1 + erf or 1 + tanh would round to 0 in Double already at x ≈ −9).
private func refGELU(_ x: Double) -> Double { 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) }
private func refGELUTanh(_ x: Double) -> Double {
    x / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
}

@Suite struct VectorMathTests {
    @Test func expMatchesDouble() {
        let e = errors(sweep(-87.3, 88.72), VectorMath.exp, Foundation.exp)
        #expect(e.rel < 2e-7, "worst at \(e.worstX)")
        let s = VectorMath.exp(lanes([-.infinity, .infinity, .nan, 0, -100, 100, 88.72283, -0.0]))
        #expect(s[0] == 0 && s[1] == .infinity && s[2].isNaN && s[3] == 1)
        #expect(s[4] == 0 && s[5] == .infinity && s[6].isFinite && s[6] > 3.4e38 && s[7] == 1)
        let t = VectorMath.exp(lanes([1e-30, -1e-30, 1e30, -1e30, 88.7229, -87.34, 1, -1]))
        #expect(t[0] == 1 && t[1] == 1 && t[2] == .infinity && t[3] == 0 && t[4] == .infinity && t[5] == 0)
    }

    @Test func logMatchesDouble() {
        let wide = errors(geometric(1e-45, 3e38), VectorMath.log, Foundation.log)
        #expect(wide.rel < 2e-7, "worst at \(wide.worstX)")
        // Near 1 the result is small; relative accuracy must hold there too.
        let near = errors(sweep(0.5, 2).filter { $0 != 1 }, VectorMath.log, Foundation.log)
        #expect(near.rel < 2e-7, "worst at \(near.worstX)")
        let s = VectorMath.log(lanes([0, -0.0, -1, .infinity, -.infinity, .nan, 1, .leastNonzeroMagnitude]))
        #expect(s[0] == -.infinity && s[1] == -.infinity && s[2].isNaN && s[3] == .infinity)
        #expect(s[4].isNaN && s[5].isNaN && s[6] == 0 && Swift.abs(s[7] + 103.27893) < 1e-4)
    }

    @Test func tanhMatchesDouble() {
        let e = errors(sweep(-12, 12), VectorMath.tanh, Foundation.tanh)
        #expect(e.abs < 1.5e-7 && e.rel < 3e-7, "worst at \(e.worstX): \(e)")
        let tiny = errors(geometric(1e-38, 1e-3, count: 20_000), VectorMath.tanh, Foundation.tanh)
        #expect(tiny.rel < 2e-7)
        let s = VectorMath.tanh(lanes([.infinity, -.infinity, .nan, 0, -0.0, 1e30, -1e30, tinySubnormal]))
        #expect(s[0] == 1 && s[1] == -1 && s[2].isNaN && s[3] == 0 && s[4] == 0)
        #expect(s[5] == 1 && s[6] == -1 && s[7] == tinySubnormal)
    }

    @Test func sigmoidAndSoftplusMatchDouble() {
        let sig = errors(sweep(-87, 40), VectorMath.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
        #expect(sig.rel < 3e-7, "worst at \(sig.worstX)")
        let sp = errors(sweep(-80, 80), VectorMath.softplus) { $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0)) }
        #expect(sp.rel < 3e-7, "worst at \(sp.worstX)")
        let s = VectorMath.sigmoid(lanes([.infinity, -.infinity, .nan, 0, 100, -100, 1e30, -1e30]))
        #expect(s[0] == 1 && s[1] == 0 && s[2].isNaN && Swift.abs(s[3] - 0.5) < 1e-7 && s[4] == 1 && s[5] < 1e-38 && s[6] == 1 && s[7] == 0)
        let p = VectorMath.softplus(lanes([.infinity, -.infinity, .nan, 0, 1e30, -1e30, 100, -100]))
        #expect(p[0] == .infinity && p[1] == 0 && p[2].isNaN && Swift.abs(p[3] - 0.6931472) < 1e-7)
        #expect(p[4] == 1e30 && p[5] == 0 && p[6] == 100 && p[7] < 1e-38)
    }

    @Test func erfMatchesDouble() {
        let e = errors(sweep(-7, 7), VectorMath.erf, Foundation.erf)
        #expect(e.abs < 1.5e-7 && e.rel < 3e-7, "worst at \(e.worstX): \(e)")
        let tiny = errors(geometric(1e-38, 1e-2, count: 20_000), VectorMath.erf, Foundation.erf)
        #expect(tiny.rel < 2e-7)
        let s = VectorMath.erf(lanes([.infinity, -.infinity, .nan, 0, -0.0, 1e30, -1e30, tinySubnormal]))
        #expect(s[0] == 1 && s[1] == -1 && s[2].isNaN && s[3] == 0 && s[4] == 0 && s[5] == 1 && s[6] == -1)
        #expect(s[7] > tinySubnormal)
    }

    @Test func geluMatchesDouble() {
        // Relative accuracy for x > −4 and absolute accuracy everywhere.
        let main = errors(sweep(-4, 12), VectorMath.gelu, refGELU)
        #expect(main.rel < 8e-7, "worst at \(main.worstX): \(main)")
        let tail = errors(sweep(-13, -4, count: 20_000), VectorMath.gelu, refGELU)
        #expect(tail.rel < 1e-5, "\(tail)")
        let s = VectorMath.gelu(lanes([.infinity, -.infinity, .nan, 0, -0.0, 1e30, -1e30, -20]))
        #expect(s[0] == .infinity && s[1] == 0 && s[2].isNaN && s[3] == 0 && s[4] == 0 && s[5] == 1e30)
        #expect(s[6] == 0 && s[7] == 0)

        let t = errors(sweep(-3, 12), VectorMath.geluTanh, refGELUTanh)
        #expect(t.rel < 1e-6, "worst at \(t.worstX): \(t)")
        let tt = errors(sweep(-9, -3, count: 20_000), VectorMath.geluTanh, refGELUTanh)
        #expect(tt.rel < 2e-5, "worst at \(tt.worstX): \(tt)")
        let u = VectorMath.geluTanh(lanes([.infinity, -.infinity, .nan, 0, -0.0, 1e30, -1e30, -20]))
        #expect(u[0] == .infinity && u[1] == 0 && u[2].isNaN && u[3] == 0 && u[4] == 0 && u[5] == 1e30)
        #expect(u[6] == 0 && u[7] == 0)
    }

    @Test func geluDerivativesMatchDouble() {
        let d = errors(sweep(-16, 16), VectorMath.geluDerivative) { x in
            0.5 * Foundation.erfc(-x / 2.0.squareRoot()) + x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
        }
        #expect(d.abs < 4e-7, "\(d)")
        let dt = errors(sweep(-16, 16), VectorMath.geluTanhDerivative) { x in
            let k = (2 / Double.pi).squareRoot(), u = k * (x + 0.044715 * x * x * x)
            let s = 1 / (1 + Foundation.exp(-2 * u))
            return s + x * s * (1 - s) * 2 * k * (1 + 3 * 0.044715 * x * x)
        }
        #expect(dt.abs < 2e-7, "\(dt)")
        let derivatives: [(SIMD8<Float>) -> SIMD8<Float>] = [VectorMath.geluDerivative, VectorMath.geluTanhDerivative]
        for f in derivatives {
            let s = f(lanes([.infinity, -.infinity, .nan, 0, 1e30, -1e30, 30, -30]))
            #expect(s[0] == 1 && s[1] == 0 && s[2].isNaN && Swift.abs(s[3] - 0.5) < 1e-7 && s[4] == 1 && s[5] == 0 && s[6] == 1 && s[7] == 0)
        }
    }
}
