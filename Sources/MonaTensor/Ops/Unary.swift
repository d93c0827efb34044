// Elementwise unary ops. Each backward rule is written with differentiable ops (so second derivatives work);
// where that costs several passes, a fused kernel is used instead when no graph of the gradient is wanted
// (`GradMode.isEnabled` false inside the rule). Every op maps NaN to NaN.

/// Which form of GELU to compute.
public enum GELUApproximation: Sendable {
    /// x·Φ(x) with the normal CDF Φ (erf form), as in BERT and PyTorch's default.
    case none
    /// x/2·(1 + tanh(√(2/π)(x + 0.044715x³))), as in GPT-2 and PyTorch's `approximate="tanh"`.
    case tanh
}

extension Tensor {
    // MARK: Simple maps

    /// |x|. Gradient: sign(x)·g, with sign(0) = 0.
    public func abs() -> Tensor {
        let out = vectorMap(self) { VectorMath.magnitude($0) }
        return Tensor.record(out, op: .abs, inputs: [self]) { g, _ in [g * self.sign()] }
    }

    /// −1, 0 or +1 by the sign of each element (NaN stays NaN). Piecewise constant: no gradient flows.
    public func sign() -> Tensor {
        vectorMap(self) { x in
            V8(repeating: 0).replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
                .replacing(with: .nan, where: x .!= x)
        }
    }

    /// x². Gradient: 2x·g.
    public func squared() -> Tensor {
        let out = vectorMap(self) { $0 * $0 }
        return Tensor.record(out, op: .squared, inputs: [self]) { g, _ in [g * self * 2] }
    }

    /// Square root (NaN for negative inputs). Gradient: g/(2√x).
    public func sqrt() -> Tensor {
        let out = vectorMap(self, cost: 4) { $0.squareRoot() }
        return Tensor.record(out, op: .sqrt, inputs: [self]) { g, ctx in [g / (ctx.output * 2)] }
    }

    /// 1/√x (correctly rounded division, not the 12-bit hardware estimate). Gradient: −g/(2·x^{3/2}).
    public func rsqrt() -> Tensor {
        let out = vectorMap(self, cost: 6) { V8(repeating: 1) / $0.squareRoot() }
        return Tensor.record(out, op: .rsqrt, inputs: [self]) { g, ctx in
            let y = ctx.output
            return [g * (y * y * y) * -0.5]
        }
    }

    // MARK: Exponentials

    /// e^x (see `VectorMath.exp` for accuracy). Gradient: e^x·g.
    public func exp() -> Tensor {
        let out = laneMap(self, LaneKernels.Exp.self, cost: 8)
        return Tensor.record(out, op: .exp, inputs: [self]) { g, ctx in [g * ctx.output] }
    }

    /// Natural logarithm (−inf at 0, NaN below). Gradient: g/x.
    public func log() -> Tensor {
        let out = laneMap(self, LaneKernels.Log.self, cost: 8)
        return Tensor.record(out, op: .log, inputs: [self]) { g, _ in [g / self] }
    }

    /// log(1 + e^x), without overflow for large x and accurate for very negative x. Gradient: σ(x)·g.
    public func softplus() -> Tensor {
        let out = laneMap(self, LaneKernels.Softplus.self, cost: 12)
        return Tensor.record(out, op: .softplus, inputs: [self]) { g, _ in [g * self.sigmoid()] }
    }

    // MARK: Squashing functions

    /// Hyperbolic tangent. Gradient: (1 − tanh²)·g.
    public func tanh() -> Tensor {
        let out = laneMap(self, LaneKernels.Tanh.self, cost: 10)
        return Tensor.record(out, op: .tanh, inputs: [self]) { g, ctx in
            let y = ctx.output
            if !GradMode.isEnabled { return [vectorZip(g, y, op: "tanh backward") { g, y in g * (1 - y * y) }] }
            return [g * (1 - y * y)]
        }
    }

    /// Logistic sigmoid 1/(1 + e^{−x}). Gradient: σ(1 − σ)·g.
    public func sigmoid() -> Tensor {
        let out = laneMap(self, LaneKernels.Sigmoid.self, cost: 10)
        return Tensor.record(out, op: .sigmoid, inputs: [self]) { g, ctx in
            let y = ctx.output
            if !GradMode.isEnabled {
                return [vectorZip(g, y, op: "sigmoid backward") { g, y in g * y * (1 - y) }]
            }
            return [g * y * (1 - y)]
        }
    }

    /// max(x, 0), with relu(NaN) = NaN. Gradient: g where x > 0, else 0 (0 at the kink; NaN where x is NaN).
    public func relu() -> Tensor {
        let out = vectorMap(self) { x in x.replacing(with: 0, where: x .< 0) }
        return Tensor.record(out, op: .relu, inputs: [self]) { g, _ in
            if !GradMode.isEnabled {
                return [vectorZip(g, self, op: "relu backward") { g, x in
                    (g * V8(repeating: 0).replacing(with: 1, where: x .> 0)).replacing(with: .nan, where: x .!= x)
                }]
            }
            return [g * self.greater(0)]
        }
    }

    /// The error function. Gradient: (2/√π)·e^{−x²}·g.
    public func erf() -> Tensor {
        let out = laneMap(self, LaneKernels.Erf.self, cost: 12)
        return Tensor.record(out, op: .erf, inputs: [self]) { g, _ in
            if !GradMode.isEnabled {
                return [laneZip(g, self, LaneKernels.ErfBackward.self, op: "erf backward", cost: 10)]
            }
            return [g * (self * self * -1).exp() * 1.1283792]
        }
    }

    // MARK: GELU

    /// Gaussian error linear unit, exact (erf) form by default.
    ///
    /// Gradient (exact): (Φ(x) + x·φ(x))·g; (tanh): s + x·s(1 − s)·2u′ with s = σ(2u), u = √(2/π)(x + 0.044715x³).
    /// Without a graph of the gradient, the backward pass is one fused kernel; with one, it is recorded as the
    /// differentiable `geluGradient(g, x)` op (exact form) or composed of `sigmoid` ops (tanh form), so that
    /// derivatives of any order exist.
    public func gelu(approximate: GELUApproximation = .none) -> Tensor {
        switch approximate {
        case .none:
            let out = laneMap(self, LaneKernels.GELU.self, cost: 16)
            return Tensor.record(out, op: .gelu, inputs: [self]) { g, _ in
                if !GradMode.isEnabled {
                    return [laneZip(g, self, LaneKernels.GELUBackward.self, op: "gelu backward", cost: 16)]
                }
                return [Tensor.geluGradient(g, self)]
            }
        case .tanh:
            let out = laneMap(self, LaneKernels.GELUTanh.self, cost: 12)
            return Tensor.record(out, op: .geluTanh, inputs: [self]) { g, _ in
                if !GradMode.isEnabled {
                    return [laneZip(g, self, LaneKernels.GELUTanhBackward.self, op: "gelu backward", cost: 14)]
                }
                let k = 2 * VectorMath.geluTanhK, c = 2 * VectorMath.geluTanhC
                let x2 = self * self
                let s = (self * (x2 * c + k)).sigmoid()                       // σ(2u)
                let du2 = x2 * (3 * c) + k                                     // 2u′
                return [g * (s + self * s * (1 - s) * du2)]
            }
        }
    }

    /// g·gelu′(x), the gradient of exact GELU with respect to its input x for the output gradient g, as a
    /// differentiable op of (g, x) (what `gelu()`'s backward records when a graph of the gradient is wanted).
    ///
    /// One fused kernel instead of the eleven ops of the composed formula, whose temporaries dominated GELU's
    /// share of a create-graph backward and of the backward through it. Gradient, for the output gradient u:
    /// u·gelu′(x) with respect to g (the same op) and u·g·gelu″(x) with respect to x (one fused pass for both
    /// without a graph; `geluSecondDerivative()` with one).
    static func geluGradient(_ g: Tensor, _ x: Tensor) -> Tensor {
        let out = laneZip(g, x, LaneKernels.GELUBackward.self, op: "gelu backward", cost: 16)
        return record(out, op: .geluGradient, inputs: [g, x]) { u, c in
            let needG = c.needsGradient[0], needX = c.needsGradient[1]
            if !GradMode.isEnabled {
                let (dg, dx) = geluGradientBackward(u, g, x, wantG: needG, wantX: needX)
                return [dg, dx]
            }
            return [needG ? geluGradient(u, x) : nil, needX ? u * g * x.geluSecondDerivative() : nil]
        }
    }

    /// gelu″(x) = φ(x)·(2 − x²), fused. Gradient: gelu‴(x)·g = φ(x)·x·(x² − 4)·g, composed of differentiable
    /// ops, so derivatives of every order exist.
    func geluSecondDerivative() -> Tensor {
        let out = laneMap(self, LaneKernels.GELUSecondDerivative.self, cost: 12)
        return Tensor.record(out, op: .geluSecondDerivative, inputs: [self]) { g, _ in
            let x2 = self * self
            let pdf = (x2 * -0.5).exp() * 0.3989423                                  // φ(x)
            return [g * pdf * self * (x2 - 4)]
        }
    }

    // MARK: Powers and clamping

    /// x^p for a constant exponent.
    ///
    /// Integer exponents with |p| ≤ 64 use repeated squaring (exact up to rounding, defined for negative x);
    /// p = ½ and −½ use the square root; other exponents compute e^{p·log x}, with relative error about
    /// (3 + |p·ln x|)·1e-7, NaN for negative x unless p is an integer. x^0 = 1 (NaN for NaN x).
    /// Gradient: p·x^{p−1}·g (zero for p = 0).
    public func pow(_ p: Float) -> Tensor {
        let out: Tensor
        if p == 0 {
            out = vectorMap(self) { x in V8(repeating: 1).replacing(with: .nan, where: x .!= x) }
        } else if p == 1 {
            out = vectorMap(self) { $0 }
        } else if p == 0.5 {
            out = vectorMap(self, cost: 4) { $0.squareRoot() }
        } else if p == -0.5 {
            out = vectorMap(self, cost: 6) { V8(repeating: 1) / $0.squareRoot() }
        } else if p == p.rounded() && Swift.abs(p) <= 64 {
            let e = Int(Swift.abs(p)), invert = p < 0
            out = vectorMap(self, cost: 6) { x in
                var result = V8(repeating: 1), base = x, k = e
                while k > 0 {
                    if k & 1 == 1 { result *= base }
                    k >>= 1
                    if k > 0 { base *= base }
                }
                return invert ? V8(repeating: 1) / result : result
            }
        } else {
            let isInteger = p == p.rounded()
            let odd = isInteger && (p / 2) != (p / 2).rounded()
            out = vectorMap(self, cost: 20) { x in
                if !isInteger { return VectorMath.exp(V8(repeating: p) * VectorMath.log(x)) }
                let r = VectorMath.exp(V8(repeating: p) * VectorMath.log(VectorMath.magnitude(x)))
                return odd ? r * VectorMath.signOf(x) : r
            }
        }
        return Tensor.record(out, op: .pow, inputs: [self]) { g, _ in
            if p == 0 { return [Tensor.zeros(self.shape)] }
            return [g * self.pow(p - 1) * p]
        }
    }

    /// Each element limited to [min, max] (either bound optional). NaN stays NaN.
    /// Gradient: g where min ≤ x ≤ max (bounds included), else 0.
    public func clamped(min lo: Float? = nil, max hi: Float? = nil) -> Tensor {
        if let lo, let hi {
            precondition(lo <= hi, "clamped: min \(lo) is greater than max \(hi) (shape \(shape))")
        }
        let l = lo ?? -.infinity, h = hi ?? .infinity
        let out = vectorMap(self) { x in
            x.replacing(with: l, where: x .< V8(repeating: l)).replacing(with: h, where: x .> V8(repeating: h))
        }
        return Tensor.record(out, op: .clamp, inputs: [self]) { g, _ in
            let inside = vectorMap(self) { x in
                V8(repeating: 0).replacing(with: 1, where: (x .>= V8(repeating: l)) .& (x .<= V8(repeating: h)))
                    .replacing(with: .nan, where: x .!= x)
            }
            return [g * inside]
        }
    }
}
