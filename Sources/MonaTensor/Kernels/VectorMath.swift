/// Vectorised transcendental functions for hot loops (glibc's scalar expf/tanhf/erff cost 3–13 ns per element).
///
/// Every function maps NaN to NaN and is branch-free per lane. Accuracy is stated per function as measured
/// against Double references in `VectorMathTests` (dense sweeps plus ±0, ±inf, NaN, huge and tiny inputs).
/// Results that would be subnormal are flushed to zero (like FTZ hardware), which also avoids the slow
/// microcode assists that producing subnormals costs on x86.
///
/// Polynomial coefficients were fitted for this file (near-minimax, Lawson-weighted least squares on Chebyshev
/// nodes, against mpmath), except `exp`'s, which are the classic Cephes `expf` ones.
///
/// The functions work on 16 lanes: one AVX-512 register, or two AVX2/NEON-pair registers (measured no slower
/// there than 8 lanes). Kernels that step by 8 use the `SIMD8` overloads at the end of the file, which evaluate
/// the same code on a widened vector.
public enum VectorMath {
    public typealias V = SIMD16<Float>
    typealias I = SIMD16<Int32>

    // MARK: Helpers

    /// a·b + c with one rounding. Spelled as scalar FMAs, which LLVM's SLP vectoriser turns into vector FMAs, as
    /// long as dependency chains stay short — hence Estrin's scheme for the longer polynomials below.
    /// (Swift implements SIMD ops as per-lane loops; the stdlib's `addingProduct` loop, long Horner chains and
    /// vector-valued blends were measured to leave kernels half scalar, 2–8× slower.)
    @inline(__always) static func fma(_ a: V, _ b: V, _ c: V) -> V {
        V(c[0].addingProduct(a[0], b[0]), c[1].addingProduct(a[1], b[1]),
          c[2].addingProduct(a[2], b[2]), c[3].addingProduct(a[3], b[3]),
          c[4].addingProduct(a[4], b[4]), c[5].addingProduct(a[5], b[5]),
          c[6].addingProduct(a[6], b[6]), c[7].addingProduct(a[7], b[7]),
          c[8].addingProduct(a[8], b[8]), c[9].addingProduct(a[9], b[9]),
          c[10].addingProduct(a[10], b[10]), c[11].addingProduct(a[11], b[11]),
          c[12].addingProduct(a[12], b[12]), c[13].addingProduct(a[13], b[13]),
          c[14].addingProduct(a[14], b[14]), c[15].addingProduct(a[15], b[15]))
    }

    /// |x| by clearing the sign bit (keeps NaN a NaN).
    @inline(__always) static func magnitude(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: I.self) & I(repeating: 0x7FFF_FFFF), to: V.self)
    }

    /// ±1 by the sign of x (+1 for ±0 and NaN).
    @inline(__always) static func signOf(_ x: V) -> V {
        V(repeating: 1).replacing(with: -1, where: x .< V(repeating: 0))
    }

    /// A 0/1 lane mask as Float.
    @inline(__always) static func indicator(_ mask: SIMDMask<I>) -> V {
        V(repeating: 0).replacing(with: 1, where: mask)
    }

    /// `m ? a : b` for a 0/1 mask `m` and finite `a`, `b` (exact: 1·a + 0·b = a).
    ///
    /// Kernels blend vectors this way, and only ever blend *constants* with `replacing(with:where:)`: the stdlib
    /// implements SIMD ops as per-lane loops, and a vector-valued `replacing` at the top of a long kernel
    /// defeats LLVM's re-vectorisation (measured: GELU went from 62 AVX instructions per 8 lanes to 500).
    @inline(__always) static func select(_ m: V, _ a: V, _ b: V) -> V {
        m * a + (V(repeating: 1) - m) * b
    }

    /// max(x, lo) that keeps NaN (a NaN lane compares false and is left alone).
    @inline(__always) static func atLeast(_ x: V, _ lo: Float) -> V {
        x.replacing(with: V(repeating: lo), where: x .< V(repeating: lo))
    }

    /// min(x, hi) that keeps NaN.
    @inline(__always) static func atMost(_ x: V, _ hi: Float) -> V {
        x.replacing(with: V(repeating: hi), where: x .> V(repeating: hi))
    }

    /// 2^n for integer lanes n in −126…127 (builds the exponent field directly).
    @inline(__always) static func pow2(_ n: I) -> V {
        unsafeBitCast((n &+ 127) &<< 23, to: V.self)
    }

    /// Exact Int32 → Float for |n| < 2²² by the 1.5·2²³ trick (stays in vector registers).
    @inline(__always) static func float(_ n: I) -> V {
        unsafeBitCast(n &+ I(repeating: 0x4B40_0000), to: V.self) - V(repeating: 12_582_912)
    }

    // MARK: exp

    /// e^x with relative error < 2e-7 (≈ 2 ulp) on the whole finite range.
    ///
    /// Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-7 polynomial for e^r, and 2^n applied as two
    /// factors so that n = 128 (x up to ln(FLT_MAX) = 88.7228) stays finite. Above that the result is +inf;
    /// below −87.3365 (where e^x is subnormal) it is 0. exp(NaN) = NaN.
    @inline(__always) public static func exp(_ x: V) -> V {
        let hi = V(repeating: 88.72283), lo = V(repeating: -87.33654)
        let xc = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
        // Round-to-nearest by the 1.5·2²³ trick: the integer lands in the low mantissa bits (no traps on NaN).
        let magic = V(repeating: 12_582_912)
        let t = fma(xc, V(repeating: 1.442695041), magic)
        let fx = t - magic
        var r = fma(fx, V(repeating: -0.693359375), xc)
        r = fma(fx, V(repeating: 2.12194440e-4), r)
        let r2 = r * r
        let q0 = fma(V(repeating: 1.6666665459e-1), r, V(repeating: 5.0000001201e-1))
        let q1 = fma(V(repeating: 8.3334519073e-3), r, V(repeating: 4.1665795894e-2))
        let q2 = fma(V(repeating: 1.9875691500e-4), r, V(repeating: 1.3981999507e-3))
        let p = fma(fma(q2, r2, q1), r2, q0)
        let y = fma(p, r2, r + V(repeating: 1))
        let n = unsafeBitCast(t, to: I.self) &- unsafeBitCast(magic, to: I.self)   // −126…128
        let n1 = n &>> 1
        var result = y * pow2(n1) * pow2(n &- n1)
        result = result.replacing(with: Float.infinity, where: x .> hi)
        result = result.replacing(with: Float(0), where: x .< lo)
        return result
    }

    // MARK: log

    /// Natural logarithm of positive normal values (no special cases): x = 2^e·m, m ∈ [√½, √2),
    /// log(m) = f − f²/2 + f³·P(f) with f = m − 1, P of degree 8 (Estrin's scheme: shallow dependency chains
    /// also keep LLVM's re-vectorisation of the per-lane SIMD ops intact).
    @inline(__always) static func logPositive(_ x: V, exponentBias: I = I(repeating: 0)) -> V {
        let bits = unsafeBitCast(x, to: I.self)
        var e = ((bits &>> 23) & I(repeating: 0xFF)) &- 127 &- exponentBias
        var m = unsafeBitCast((bits & I(repeating: 0x007F_FFFF)) | I(repeating: 0x3F80_0000), to: V.self)
        let big = m .> V(repeating: 1.41421356)
        m = m * V(repeating: 1).replacing(with: 0.5, where: big)
        e = e &+ I(repeating: 0).replacing(with: 1, where: big)
        let f = m - V(repeating: 1)
        let ef = float(e)
        let z = f * f
        let z4 = z * z
        let q0 = fma(V(repeating: -0.24999970197677612), f, V(repeating: 0.3333333134651184))
        let q1 = fma(V(repeating: -0.1667010635137558), f, V(repeating: 0.20000584423542023))
        let q2 = fma(V(repeating: -0.12377125024795532), f, V(repeating: 0.14255660772323608))
        let q3 = fma(V(repeating: -0.11771877855062485), f, V(repeating: 0.11567071825265884))
        let r1 = fma(q3, z, fma(V(repeating: 0.07664850354194641), z4, q2))
        let p = fma(r1, z4, fma(q1, z, q0))
        // Sum the small terms first; ln2 is split so that e·ln2_hi is exact.
        var y = (f * z) * p
        y = fma(ef, V(repeating: -2.12194440e-4), y)
        y = fma(z, V(repeating: -0.5), y)
        return fma(ef, V(repeating: 0.693359375), (f + y))
    }

    /// Natural logarithm, relative error < 2e-7 away from x = 1 and absolute error < 1e-7 near it
    /// (log(1 + f) keeps relative accuracy too, since f = x − 1 is exact there).
    ///
    /// log(+0) = log(−0) = −inf, log(x < 0) = NaN, log(+inf) = +inf, log(NaN) = NaN; subnormal inputs are exact
    /// (scaled by 2²³ first).
    @inline(__always) public static func log(_ x: V) -> V {
        let tiny = x .< V(repeating: Float.leastNormalMagnitude)
        let xs = x * V(repeating: 1).replacing(with: 8_388_608, where: tiny)
        let bias = I(repeating: 0).replacing(with: 23, where: tiny)
        var r = logPositive(xs, exponentBias: bias)
        r = r.replacing(with: .infinity, where: x .== V(repeating: .infinity))
        r = r.replacing(with: .nan, where: x .!= x)
        r = r.replacing(with: -.infinity, where: x .== V(repeating: 0))
        r = r.replacing(with: .nan, where: x .< V(repeating: 0))
        return r
    }

    // MARK: tanh, sigmoid, softplus

    /// Hyperbolic tangent, absolute error < 1.5e-7 and relative error < 3e-7 everywhere.
    ///
    /// |x| < 0.625: x + x³·P(x²) (degree 4); otherwise sign(x)·(1 − 2/(e^{2|x|} + 1)). ±inf → ±1 (the sign of a zero is not kept).
    @inline(__always) public static func tanh(_ x: V) -> V {
        let ax = magnitude(x)
        let xs = atMost(atLeast(x, -0.625), 0.625)   // the small branch on bounded input stays finite
        let u = xs * xs
        var p = fma(V(repeating: -0.006127007305622101), u, V(repeating: 0.02101351134479046))
        p = fma(p, u, V(repeating: -0.05385246127843857))
        p = fma(p, u, V(repeating: 0.13332748413085938))
        p = fma(p, u, V(repeating: -0.333333283662796))
        let small = fma(xs * u, p, xs)
        let e = exp(ax + ax)
        let large = signOf(x) * (V(repeating: 1) - V(repeating: 2) / (e + V(repeating: 1)))
        return select(indicator(ax .< V(repeating: 0.625)), small, large)
    }

    /// Logistic sigmoid 1/(1 + e^{−x}), relative error < 3e-7 (results below 1e-38, x < −87.3, are 0).
    @inline(__always) public static func sigmoid(_ x: V) -> V {
        V(repeating: 1) / (V(repeating: 1) + exp(-x))
    }

    /// softplus(x) = log(1 + e^x) computed as max(x, 0) + log1p(e^{−|x|}): no overflow for large x, and full
    /// relative accuracy for very negative x (softplus(x) ≈ e^x). Relative error < 3e-7.
    @inline(__always) public static func softplus(_ x: V) -> V {
        let u = exp(-magnitude(x))                 // (0, 1], NaN for NaN
        let w = V(repeating: 1) + u
        // log1p(u) = log(w) + c/w with c = u − (w − 1) the rounding error of w; c is tiny, so 1/w ≈ 2 − w
        // (first order around w = 1, where the correction matters) is accurate enough.
        let c = u - (w - V(repeating: 1))
        let l = fma(c, V(repeating: 2) - w, logPositive(w))
        return atLeast(x, 0) + l
    }

    // MARK: erf and GELU

    /// erfc(z)·e^{z²} for z ≥ 0 (the scaled complementary error function) as t·P(t), t = 1/(1 + z/2), with P of
    /// degree 8 fitted on z ∈ [0, 9.5] (where erfc(z) is still a normal float); relative error < 2e-7.
    @inline(__always) static func erfcx(_ z: V) -> V {
        let t = V(repeating: 1) / fma(z, V(repeating: 0.5), V(repeating: 1))
        let t2 = t * t, t4 = t2 * t2
        let q0 = fma(V(repeating: 0.2823534607887268), t, V(repeating: 0.28208768367767334))
        let q1 = fma(V(repeating: 0.20206935703754425), t, V(repeating: 0.24326112866401672))
        let q2 = fma(V(repeating: 0.2759765684604645), t, V(repeating: -0.025176573544740677))
        let q3 = fma(V(repeating: 0.2837013304233551), t, V(repeating: -0.4853823482990265))
        let r1 = fma(q3, t2, fma(V(repeating: -0.05889064818620682), t4, q2))
        let p = fma(r1, t4, fma(q1, t2, q0))
        return t * p
    }

    /// The error function, absolute error < 1.5e-7 and relative error < 3e-7 everywhere.
    ///
    /// |x| < 0.875: x·P(x²) (degree 5); otherwise sign(x)·(1 − e^{−x²}·erfcx(|x|)). ±inf → ±1 (the sign of a zero is not kept).
    @inline(__always) public static func erf(_ x: V) -> V {
        let ax = magnitude(x)
        let xs = atMost(atLeast(x, -0.875), 0.875)
        let u = xs * xs
        var p = fma(V(repeating: -0.0006229461869224906), u, V(repeating: 0.0050371671095490456))
        p = fma(p, u, V(repeating: -0.026794780045747757))
        p = fma(p, u, V(repeating: 0.11282539367675781))
        p = fma(p, u, V(repeating: -0.3761255443096161))
        p = fma(p, u, V(repeating: 1.1283791065216064))
        let small = xs * p
        let z = atMost(ax, 10)                     // erfc(10) underflows; also keeps x² finite
        let tail = signOf(x) * (V(repeating: 1) - exp(-(z * z)) * erfcx(z))
        return select(indicator(ax .< V(repeating: 0.875)), small, tail)
    }

    /// Φ(x) = P(N(0,1) ≤ x) given e = e^{−x²/2} (shared with the density φ(x) = e/√(2π)), for |x| ≤ 14.
    /// Φ(−|x|) = erfc(|x|/√2)/2 = e·erfcx(|x|/√2)/2 for both signs: no cancellation for negative x.
    @inline(__always) static func normalCDF(_ x: V, expMinusHalfSquare e: V) -> V {
        let half = V(repeating: 0.5) * e * erfcx(magnitude(x) * V(repeating: 0.70710677))
        return select(indicator(x .< V(repeating: 0)), half, V(repeating: 1) - half)
    }

    /// GELU, exact (erf) form: x·Φ(x) = x/2·(1 + erf(x/√2)).
    ///
    /// Φ is computed from erfc for both signs, so there is no cancellation for negative x: the relative error is
    /// < 8e-7 for x > −4 (dominated by the rounding of x²/2 in the exponent) and < 1e-5 down to x = −13, where
    /// |gelu| reaches 1e-37; beyond, the result is −0. gelu(−inf) = 0 (the limit), gelu(+inf) = +inf.
    @inline(__always) public static func gelu(_ x: V) -> V {
        let xc = atMost(atLeast(x, -14), 14)       // beyond ±14, Φ is 0 or 1 in Float
        let e = exp(xc * xc * V(repeating: -0.5))
        return atLeast(x, -14) * normalCDF(xc, expMinusHalfSquare: e)
    }

    /// d/dx of exact GELU: Φ(x) + x·φ(x). Absolute error < 4e-7.
    @inline(__always) public static func geluDerivative(_ x: V) -> V { geluDerivatives(x).first }

    /// d²/dx² of exact GELU: φ(x)·(2 − x²). Absolute error < 4e-7 (0 beyond |x| = 14, where |φ| < 1e-42).
    @inline(__always) public static func geluSecondDerivative(_ x: V) -> V { geluDerivatives(x).second }

    /// gelu′(x) and gelu″(x), sharing e^{−x²/2}.
    @inline(__always) static func geluDerivatives(_ x: V) -> (first: V, second: V) {
        let xc = atMost(atLeast(x, -14), 14)
        let x2 = xc * xc
        let e = exp(x2 * V(repeating: -0.5))
        let pdf = e * V(repeating: 0.3989423)
        return (fma(xc, pdf, normalCDF(xc, expMinusHalfSquare: e)), pdf * (V(repeating: 2) - x2))
    }

    static let geluTanhK: Float = 0.7978846           // √(2/π)
    static let geluTanhC: Float = 0.035677407         // √(2/π)·0.044715

    /// GELU, tanh approximation: x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))), evaluated as x·σ(2u) (the same
    /// function) = x/(1 + e^{−2u}). Relative error < 1e-6 for x > −3; further out it grows like 2e-7·|2u| (the
    /// rounding of the exponent's argument; 1.1e-5 at x = −9); −0 below about −10 (|result| < 1e-37).
    @inline(__always) public static func geluTanh(_ x: V) -> V {
        let xc = atLeast(x, -20)
        let u2 = xc * fma(xc * xc, V(repeating: 2 * geluTanhC), V(repeating: 2 * geluTanhK))
        return xc / (V(repeating: 1) + exp(-u2))
    }

    /// d/dx of tanh-approximate GELU: s + x·s·(1 − s)·2u′ with s = σ(2u) = 1/(1 + e), e = e^{−2u},
    /// u′ = √(2/π)(1 + 3·0.044715x²). s(1 − s) is formed as (e·s)·s, not from 1 − s, which would cancel for
    /// large x (an absolute error of 2e-6 at x ≈ 5). Absolute error < 2e-7.
    @inline(__always) public static func geluTanhDerivative(_ x: V) -> V {
        let xc = atMost(atLeast(x, -10), 20)       // beyond: |derivative| < 3e-36, or exactly 1; keeps e finite
        let x2 = xc * xc
        let u2 = xc * fma(x2, V(repeating: 2 * geluTanhC), V(repeating: 2 * geluTanhK))
        let e = exp(-u2)
        let s = V(repeating: 1) / (V(repeating: 1) + e)
        let du2 = fma(x2, V(repeating: 6 * geluTanhC), V(repeating: 2 * geluTanhK))
        return fma(xc * (e * s) * s, du2, s).replacing(with: 0, where: x .< V(repeating: -10))
    }
}

// MARK: 8-lane entry points

/// The same functions for kernels that step by 8 lanes: each evaluates the 16-lane code on the vector repeated
/// twice (no separate 8-lane polynomials to keep in step; hot loops should step by 16 instead).
extension VectorMath {
    @inline(__always) static func widened(_ x: SIMD8<Float>) -> V { V(lowHalf: x, highHalf: x) }

    @inline(__always) static func magnitude(_ x: SIMD8<Float>) -> SIMD8<Float> { magnitude(widened(x)).lowHalf }
    @inline(__always) static func signOf(_ x: SIMD8<Float>) -> SIMD8<Float> { signOf(widened(x)).lowHalf }
    @inline(__always) public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> { exp(widened(x)).lowHalf }
    @inline(__always) public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> { log(widened(x)).lowHalf }
    @inline(__always) public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> { tanh(widened(x)).lowHalf }
    @inline(__always) public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { sigmoid(widened(x)).lowHalf }
    @inline(__always) public static func softplus(_ x: SIMD8<Float>) -> SIMD8<Float> {
        softplus(widened(x)).lowHalf
    }
    @inline(__always) public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> { erf(widened(x)).lowHalf }
    @inline(__always) public static func gelu(_ x: SIMD8<Float>) -> SIMD8<Float> { gelu(widened(x)).lowHalf }
    @inline(__always) public static func geluDerivative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        geluDerivative(widened(x)).lowHalf
    }
    @inline(__always) public static func geluSecondDerivative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        geluSecondDerivative(widened(x)).lowHalf
    }
    @inline(__always) public static func geluTanh(_ x: SIMD8<Float>) -> SIMD8<Float> { geluTanh(widened(x)).lowHalf }
    @inline(__always) public static func geluTanhDerivative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        geluTanhDerivative(widened(x)).lowHalf
    }
}
