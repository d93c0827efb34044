#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Max / min (values and arg-indices), log-sum-exp, variance and standard deviation along any axes.
//
// Naming: the value reductions are `maximum(alongAxes:)` / `minimum(alongAxes:)`, not `max` / `min`. A Tensor
// method named `max` would shadow Swift's global `max(_:_:)` inside every `extension Tensor` (in this module and
// in modules that extend Tensor), turning each unqualified `max(a, b)` there into a compile error.

extension Tensor {
    /// Shape with `ax` (normalised) set to 1, and the output shape for `keepingDims`.
    func reducedShapes(_ ax: [Int], keepingDims: Bool) -> (kept: [Int], out: [Int]) {
        var kept = shape
        for a in ax { kept[a] = 1 }
        let out = keepingDims ? kept : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        return (kept, out)
    }

    /// This tensor as a row-major [outer, n, inner] block whose middle axis runs over the axes `ax` (normalised,
    /// sorted); the [outer, inner] result is in row-major order of the kept axes. Size-1 axes between reduced
    /// axes are swept in (they change nothing); axes that are still not adjacent are permuted to the end first.
    func reductionLayout(_ ax: [Int]) -> (src: Tensor, outer: Int, n: Int, inner: Int) {
        guard let lo = ax.first, let hi = ax.last else { return (self, count, 1, 1) }
        if (lo...hi).allSatisfy({ ax.contains($0) || shape[$0] == 1 }) {
            return (self, shape[..<lo].reduce(1, *), shape[lo...hi].reduce(1, *), shape[(hi + 1)...].reduce(1, *))
        }
        let kept = (0..<rank).filter { !ax.contains($0) }
        let moved = detached().permuted(kept + ax)                        // [kept…, reduced…]
        return (moved, kept.reduce(1) { $0 * shape[$1] }, ax.reduce(1) { $0 * shape[$1] }, 1)
    }

    // MARK: Max / min

    /// Largest element over `axes` (`keepingDims` leaves them as size 1). A NaN in a reduced group makes that
    /// result NaN.
    ///
    /// Gradient: the output gradient goes to the positions equal to the maximum, split evenly between ties
    /// (like PyTorch's `amax`); a NaN result sends it to the NaN positions. The tie mask is a constant, so the
    /// rule is linear in the gradient and differentiates again. Precondition: no reduced axis is empty unless
    /// the result is empty too.
    public func maximum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        extremum(axes, keepingDims: keepingDims, sign: 1, op: "maximum")
    }

    public func maximum(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        maximum(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// Largest element (0-D). Precondition: not empty.
    public func maximum() -> Tensor { maximum(alongAxes: Array(0..<rank)) }

    /// Smallest element over `axes`; NaN and gradient behave as for `maximum(alongAxes:keepingDims:)`.
    public func minimum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        extremum(axes, keepingDims: keepingDims, sign: -1, op: "minimum")
    }

    public func minimum(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        minimum(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// Smallest element (0-D). Precondition: not empty.
    public func minimum() -> Tensor { minimum(alongAxes: Array(0..<rank)) }

    private func extremum(_ axes: [Int], keepingDims: Bool, sign: Float, op: String) -> Tensor {
        let ax = normalizedAxes(axes, op: op)
        let (kept, outShape) = reducedShapes(ax, keepingDims: keepingDims)
        let layout = reductionLayout(ax)
        precondition(layout.n > 0 || layout.outer * layout.inner == 0,
                     "\(op): reducing shape \(shape) over axes \(axes) has no elements to compare")
        let out = Tensor.build(outShape) {
            if sign > 0 {
                extremumMiddleAxis(layout.src.data, outer: layout.outer, n: layout.n, inner: layout.inner,
                                   order: MaxOrder.self, into: $0)
            } else {
                extremumMiddleAxis(layout.src.data, outer: layout.outer, n: layout.n, inner: layout.inner,
                                   order: MinOrder.self, into: $0)
            }
        }
        let x = self
        return Tensor.record(out, op: sign > 0 ? .maximumAlongAxes : .minimumAlongAxes, inputs: [self]) { g, ctx in
            let weights = extremumWeights(x.detached(), ctx.output.detached().reshaped(to: kept), axes: ax)
            return [g.reshaped(to: kept) * weights]
        }
    }

    // MARK: Arg-max / arg-min

    /// Index of the first maximum along `axis`, as a Float tensor of integers (a constant). NaN counts as the
    /// maximum. Precondition: the axis is not empty (unless the result is).
    public func argmax(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        argExtremum(axis, keepingDims: keepingDims, sign: 1, op: "argmax")
    }

    /// Index of the first minimum along `axis` (see `argmax(alongAxis:keepingDims:)`).
    public func argmin(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        argExtremum(axis, keepingDims: keepingDims, sign: -1, op: "argmin")
    }

    /// Row-major flat index of the first maximum. Precondition: not empty.
    public func argmax() -> Int {
        precondition(count > 0, "argmax: tensor of shape \(shape) is empty")
        return Int(reshaped(to: [count]).argmax(alongAxis: 0).item)
    }

    /// Row-major flat index of the first minimum. Precondition: not empty.
    public func argmin() -> Int {
        precondition(count > 0, "argmin: tensor of shape \(shape) is empty")
        return Int(reshaped(to: [count]).argmin(alongAxis: 0).item)
    }

    private func argExtremum(_ axis: Int, keepingDims: Bool, sign: Float, op: String) -> Tensor {
        precondition(rank > 0, "\(op): needs an axis, got a 0-D tensor")
        let a = normalizeAxis(axis, op: op)
        let (_, outShape) = reducedShapes([a], keepingDims: keepingDims)
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        precondition(n > 0 || outer * inner == 0, "\(op): axis \(axis) of shape \(shape) is empty")
        let src = self
        return Tensor.build(outShape) {
            if outer * inner > 0 {
                argExtremumMiddleAxis(src.data, outer: outer, n: n, inner: inner, sign: sign, into: $0)
            }
        }
    }

    // MARK: Log-sum-exp

    /// log Σ exp(x) over `axes`, computed stably (shifted by the maximum). An all −∞ group (or an empty one)
    /// gives −∞; +∞ gives +∞; NaN propagates.
    ///
    /// Gradient: softmax over `axes`, `g · exp(x − logSumExp(x))`, written in differentiable ops (so its own
    /// gradient, the softmax Jacobian, follows). An all −∞ group gets a NaN gradient, as in PyTorch.
    public func logSumExp(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "logSumExp")
        let (kept, outShape) = reducedShapes(ax, keepingDims: keepingDims)
        let layout = reductionLayout(ax)
        let out = Tensor.build(outShape) {
            logSumExpMiddleAxis(layout.src.data, outer: layout.outer, n: layout.n, inner: layout.inner, into: $0)
        }
        let x = self
        return Tensor.record(out, op: .logSumExp, inputs: [self]) { g, ctx in
            let softmax = (x - ctx.output.reshaped(to: kept)).lseExp()    // x.shape
            return [g.reshaped(to: kept) * softmax]
        }
    }

    public func logSumExp(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        logSumExp(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// log Σ exp over all elements (0-D).
    public func logSumExp() -> Tensor { logSumExp(alongAxes: Array(0..<rank)) }

    /// e^x with gradient `g · e^x`. Private to log-sum-exp so it cannot clash with the public elementwise `exp`;
    /// it can be replaced by that op once both are in one tree.
    fileprivate func lseExp() -> Tensor {
        let out = unaryMap(self, { VectorMath.exp($0) }, { vectorExp($0) })
        return Tensor.record(out, op: .exp, inputs: [self]) { g, ctx in [g * ctx.output] }
    }

    // MARK: Variance / standard deviation

    /// Variance over `axes`: mean of squared deviations from the mean, divided by N (or N − 1 when `unbiased`;
    /// a group of one then gives NaN, as 0/0).
    ///
    /// Gradient: `g · 2(x − mean) / (N − ddof)`, in differentiable ops. Precondition: the reduced group is
    /// not empty (unless the result is).
    public func variance(alongAxes axes: [Int], keepingDims: Bool = false, unbiased: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "variance")
        let (kept, outShape) = reducedShapes(ax, keepingDims: keepingDims)
        let (out, divisor) = varianceValues(ax, outShape: outShape, unbiased: unbiased, op: "variance")
        let x = self
        return Tensor.record(out, op: .variance, inputs: [self]) { g, _ in
            guard x.count > 0 else { return [Tensor.zeros(x.shape)] }
            let centered = x - x.mean(alongAxes: ax, keepingDims: true)  // x.shape
            return [centered * (g.reshaped(to: kept) * (2 / divisor))]
        }
    }

    public func variance(alongAxis axis: Int, keepingDims: Bool = false, unbiased: Bool = false) -> Tensor {
        variance(alongAxes: [axis], keepingDims: keepingDims, unbiased: unbiased)
    }

    /// Variance of all elements (0-D).
    public func variance(unbiased: Bool = false) -> Tensor {
        variance(alongAxes: Array(0..<rank), unbiased: unbiased)
    }

    /// Square root of `variance(alongAxes:keepingDims:unbiased:)`.
    ///
    /// Gradient: `g · (x − mean) / ((N − ddof) · std)`; where the standard deviation is 0 the gradient is NaN
    /// (0/0; the square root is not differentiable there).
    public func standardDeviation(alongAxes axes: [Int], keepingDims: Bool = false,
                                  unbiased: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "standardDeviation")
        let (kept, outShape) = reducedShapes(ax, keepingDims: keepingDims)
        let (v, divisor) = varianceValues(ax, outShape: outShape, unbiased: unbiased, op: "standardDeviation")
        let values = v.storage.base   // made above, not shared yet
        for i in 0..<v.count { values[i] = sqrtf(values[i]) }
        let x = self
        return Tensor.record(v, op: .standardDeviation, inputs: [self]) { g, ctx in
            guard x.count > 0 else { return [Tensor.zeros(x.shape)] }
            let centered = x - x.mean(alongAxes: ax, keepingDims: true)  // x.shape
            return [centered * (g.reshaped(to: kept) / (ctx.output.reshaped(to: kept) * divisor))]
        }
    }

    public func standardDeviation(alongAxis axis: Int, keepingDims: Bool = false, unbiased: Bool = false) -> Tensor {
        standardDeviation(alongAxes: [axis], keepingDims: keepingDims, unbiased: unbiased)
    }

    /// Standard deviation of all elements (0-D).
    public func standardDeviation(unbiased: Bool = false) -> Tensor {
        standardDeviation(alongAxes: Array(0..<rank), unbiased: unbiased)
    }

    /// Untracked variance values and the divisor N − ddof.
    private func varianceValues(_ ax: [Int], outShape: [Int], unbiased: Bool, op: String) -> (Tensor, Float) {
        let layout = reductionLayout(ax)
        precondition(layout.n > 0 || layout.outer * layout.inner == 0,
                     "\(op): reducing shape \(shape) over axes \(ax) averages zero elements")
        let divisor = Float(layout.n - (unbiased ? 1 : 0))
        let out = Tensor.build(outShape) {
            if layout.n > 0 {
                varianceMiddleAxis(layout.src.data, outer: layout.outer, n: layout.n, inner: layout.inner,
                                   divisor: divisor, into: $0)
            }
        }
        return (out, divisor)
    }
}

/// Gradient weights of a max/min: 1/ties at the positions equal to the result `m` (broadcast over `axes`),
/// NaN positions counting as equal to a NaN result; 0 elsewhere. Untracked constant of `x.shape`.
private func extremumWeights(_ x: Tensor, _ m: Tensor, axes: [Int]) -> Tensor {
    withoutGradients {
        let mask = binaryMap(x, m, op: "maximum", { a, b in
            SIMD8<Float>(repeating: 0).replacing(with: 1, where: (a .== b) .| ((a .!= a) .& (b .!= b)))
        }, { a, b in (a == b || (a != a && b != b)) ? 1 : 0 })
        return mask / mask.sum(alongAxes: axes, keepingDims: true)
    }
}
