/// Vectorised transcendental functions for hot loops (glibc's scalar expf/tanhf/erff cost 4–24 ns per element).
///
/// Accuracy is stated per function and tested against Double references in `VectorMathTests`.
public enum VectorMath {
    public typealias V = SIMD8<Float>

    /// e^x, relative error ≤ 2 ulp-ish (Cephes polynomial on [−ln2/2, ln2/2], exponent by bit manipulation).
    /// Overflows to +inf above 88.376 (true overflow is 88.72), underflows to 0 below −87.33, propagates NaN.
    @inline(__always) public static func exp(_ x: V) -> V {
        let hi = V(repeating: 88.3762626647949), lo = V(repeating: -87.33654)
        let xc = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
        // Round-to-nearest by the 1.5·2²³ trick: the integer lands in the low mantissa bits (no traps on NaN).
        let magic = V(repeating: 12_582_912)
        let t = xc * V(repeating: 1.442695041) + magic
        let fx = t - magic
        var r = xc.addingProduct(fx, V(repeating: -0.693359375))
        r = r.addingProduct(fx, V(repeating: 2.12194440e-4))
        var p = V(repeating: 1.3981999507e-3).addingProduct(V(repeating: 1.9875691500e-4), r)
        p = V(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
        let y = (r + V(repeating: 1)).addingProduct(p * r, r)
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        var result = y * scale
        result = result.replacing(with: Float.infinity, where: x .> hi)
        result = result.replacing(with: Float(0), where: x .< lo)
        return result
    }
}
