// Broadcasting binary ops beyond + − × ÷: power with a tensor exponent, minimum/maximum, `where`, and
// comparisons. Comparisons and masks are 0/1 Float tensors; a NaN operand gives a NaN mask entry (the error
// policy: NaN never silently turns into a number).

extension Tensor {
    // MARK: Power

    /// a^b elementwise with broadcasting.
    ///
    /// Computed as e^{b·log|a|} (relative error about (3 + |b·ln a|)·1e-7), with the sign of a for negative a and
    /// integer b, NaN for negative a and non-integer b; a^0 = 1 and 1^b = 1 (unless the other operand is NaN).
    /// Gradients: ∂/∂a = b·a^{b−1} (0 where b = 0); ∂/∂b = a^b·log a (0 where a = 0 and b ≥ 0, NaN for a < 0).
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = vectorZip(a, b, op: "pow") { x, y in
            var r = VectorMath.exp(y * VectorMath.log(VectorMath.magnitude(x)))
            // Integer and parity tests by rounding to nearest with the 1.5·2²³ trick (|y| ≥ 2²³ is even).
            let magic = V8(repeating: 12_582_912)
            let big = VectorMath.magnitude(y) .>= V8(repeating: 8_388_608)
            let isInteger = big .| (((y + magic) - magic) .== y)
            let half = y * 0.5
            let isOdd = .!big .& isInteger .& (((half + magic) - magic) .!= half)
            let negative = x .< V8(repeating: 0)
            let sign = V8(repeating: 1).replacing(with: -1, where: negative .& isOdd)
                .replacing(with: .nan, where: negative .& .!isInteger)
            r = r * sign
            r = r.replacing(with: 1, where: ((y .== V8(repeating: 0)) .& (x .== x)) .| ((x .== V8(repeating: 1)) .& (y .== y)))
            return r
        }
        return record(out, op: .powTensor, inputs: [a, b]) { g, ctx in
            var ga: Tensor?, gb: Tensor?
            if ctx.needsGradient[0] {
                let d = Tensor.where(b.equal(0), Tensor(0), b * Tensor.pow(a, b - 1))
                ga = (g * d).sum(toShape: a.shape)
            }
            if ctx.needsGradient[1] {
                let d = Tensor.where(a.equal(0) * b.greaterEqual(0), Tensor(0), ctx.output * a.log())
                gb = (g * d).sum(toShape: b.shape)
            }
            return [ga, gb]
        }
    }

    // MARK: Minimum and maximum

    /// Elementwise minimum with broadcasting; NaN if either operand is NaN.
    /// Gradient: to the smaller operand; ties split it half/half (as PyTorch does).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = vectorZip(a, b, op: "minimum") { x, y in
            x.replacing(with: y, where: y .< x).replacing(with: .nan, where: y .!= y)
        }
        return record(out, op: .minimum, inputs: [a, b]) { g, ctx in
            let wa = vectorZip(a, b, op: "minimum backward") { x, y in selectionWeight(first: x, second: y, pickLess: true) }
            return [ctx.needsGradient[0] ? (g * wa).sum(toShape: a.shape) : nil,
                    ctx.needsGradient[1] ? (g * (1 - wa)).sum(toShape: b.shape) : nil]
        }
    }

    /// Elementwise maximum with broadcasting; NaN if either operand is NaN.
    /// Gradient: to the larger operand; ties split it half/half (as PyTorch does).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = vectorZip(a, b, op: "maximum") { x, y in
            x.replacing(with: y, where: y .> x).replacing(with: .nan, where: y .!= y)
        }
        return record(out, op: .maximum, inputs: [a, b]) { g, ctx in
            let wa = vectorZip(a, b, op: "maximum backward") { x, y in selectionWeight(first: x, second: y, pickLess: false) }
            return [ctx.needsGradient[0] ? (g * wa).sum(toShape: a.shape) : nil,
                    ctx.needsGradient[1] ? (g * (1 - wa)).sum(toShape: b.shape) : nil]
        }
    }

    /// Share of the gradient that goes to the first operand of min/max: 1, 0, or ½ on ties (NaN for NaN).
    @inline(__always) static func selectionWeight(first x: V8, second y: V8, pickLess: Bool) -> V8 {
        let wins = pickLess ? x .< y : x .> y
        return V8(repeating: 0).replacing(with: 1, where: wins).replacing(with: 0.5, where: x .== y)
            .replacing(with: .nan, where: (x .!= x) .| (y .!= y))
    }

    // MARK: Selection

    /// `mask ≠ 0 ? a : b` elementwise, broadcasting all three. `mask` is a 0/1 tensor (e.g. from `greater`); it
    /// gets no gradient, and a NaN in it gives NaN. Gradients: g to `a` where the mask is set, to `b` elsewhere.
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let out = selectKernel(mask, a, b)
        let m = mask.detached()
        return record(out, op: .where, inputs: [a, b]) { g, ctx in
            let zero = Tensor(0)
            return [ctx.needsGradient[0] ? Tensor.where(m, g, zero).sum(toShape: a.shape) : nil,
                    ctx.needsGradient[1] ? Tensor.where(m, zero, g).sum(toShape: b.shape) : nil]
        }
    }

    // MARK: Comparisons (0/1 masks, no gradient)

    /// Builds a mask from a lane predicate, with NaN where either operand is NaN.
    @inline(__always)
    static func compare(_ a: Tensor, _ b: Tensor, op: String, _ pred: (V8, V8) -> SIMDMask<SIMD8<Int32>>) -> Tensor {
        vectorZip(a, b, op: op) { x, y in
            V8(repeating: 0).replacing(with: 1, where: pred(x, y)).replacing(with: .nan, where: (x .!= x) .| (y .!= y))
        }
    }

    /// 1 where `self == other`, else 0 (NaN where either is NaN). Broadcasting; no gradient.
    public func equal(_ other: Tensor) -> Tensor { Tensor.compare(self, other, op: "equal") { $0 .== $1 } }
    /// 1 where `self > other`, else 0 (NaN where either is NaN). Broadcasting; no gradient.
    public func greater(_ other: Tensor) -> Tensor { Tensor.compare(self, other, op: "greater") { $0 .> $1 } }
    /// 1 where `self < other`, else 0 (NaN where either is NaN). Broadcasting; no gradient.
    public func less(_ other: Tensor) -> Tensor { Tensor.compare(self, other, op: "less") { $0 .< $1 } }
    /// 1 where `self >= other`, else 0 (NaN where either is NaN). Broadcasting; no gradient.
    public func greaterEqual(_ other: Tensor) -> Tensor { Tensor.compare(self, other, op: "greaterEqual") { $0 .>= $1 } }
    /// 1 where `self <= other`, else 0 (NaN where either is NaN). Broadcasting; no gradient.
    public func lessEqual(_ other: Tensor) -> Tensor { Tensor.compare(self, other, op: "lessEqual") { $0 .<= $1 } }

    public func equal(_ s: Float) -> Tensor { equal(Tensor(s)) }
    public func greater(_ s: Float) -> Tensor { greater(Tensor(s)) }
    public func less(_ s: Float) -> Tensor { less(Tensor(s)) }
    public func greaterEqual(_ s: Float) -> Tensor { greaterEqual(Tensor(s)) }
    public func lessEqual(_ s: Float) -> Tensor { lessEqual(Tensor(s)) }
}
