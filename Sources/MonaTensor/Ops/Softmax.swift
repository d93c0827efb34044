// Softmax and log-softmax along any axis: fused row kernels forward, and backward rules that reuse the op itself
// (softmax: a fused gradient op whose own gradient is again fused or composed), so gradients of any order stay
// exact.

extension Tensor {
    /// The [outer, n, inner] view of this tensor around `axis`, and the normalised axis.
    fileprivate func softmaxGeometry(_ axis: Int, op: String) -> (outer: Int, n: Int, inner: Int, axis: Int) {
        let a = normalizeAxis(axis, op: op)
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        return (outer, shape[a], inner, a)
    }

    /// Softmax along `axis`: exp(x − max) / Σ exp(x − max) for every slice along that axis.
    ///
    /// One fused pass per row (max, exponentials, sum, scale), vectorised along the row for the last axis and
    /// across neighbouring rows otherwise. The backward rule, y·(g − Σ g·y), is a fused kernel; with `createGraph`
    /// it is recorded as a differentiable op of (y, g), so second and higher derivatives are exact.
    ///
    /// Special values: a NaN anywhere in a row makes the whole row NaN; +∞ entries give NaN (∞ − ∞). A row
    /// whose entries are all −∞ (a fully masked attention row) is 0/0 = NaN, as in PyTorch — mask with a large
    /// finite negative number (e.g. −1e9) instead; a fully masked row then comes out uniform, a partly masked
    /// row puts (numerically) zero weight on the masked entries.
    /// - Parameter axis: the axis to normalise over (negative counts from the end). A 0-D tensor gives 1.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).softmax(alongAxis: axis == -1 ? 0 : axis).reshaped(to: []) }
        let (outer, n, inner, a) = softmaxGeometry(axis, op: "softmax")
        let out = Tensor.build(shape) { y in RowKernels.softmax(data, y, outer: outer, n: n, inner: inner, log: false) }
        return Tensor.record(out, op: .softmax, inputs: [self]) { g, c in
            let y = c.output
            if !GradMode.isEnabled {
                return [Tensor.build(y.shape) { dx in
                    RowKernels.softmaxBackward(y.data, g.data, dx, outer: outer, n: n, inner: inner, log: false)
                }]
            }
            return [Tensor.softmaxGradient(output: y, gradient: g, axis: a)]
        }
    }

    /// y·(g − Σ g·y) along `axis`: the gradient of softmax with output y for the output gradient g, as an op of
    /// (y, g) with a fused forward kernel. Linear in g, so its gradient with respect to g is the same op; with
    /// respect to y it is u·(g − Σ g·y) − g·Σ u·y (fused for contiguous rows without a graph, else composed).
    fileprivate static func softmaxGradient(output y: Tensor, gradient g: Tensor, axis a: Int) -> Tensor {
        let (outer, n, inner, _) = y.softmaxGeometry(a, op: "softmax")
        let out = Tensor.build(y.shape) { dx in
            RowKernels.softmaxBackward(y.data, g.data, dx, outer: outer, n: n, inner: inner, log: false)
        }
        return record(out, op: .softmaxGradient, inputs: [y, g]) { u, c in
            var grads: [Tensor?] = [nil, nil]
            if c.needsGradient[1] { grads[1] = softmaxGradient(output: y, gradient: u, axis: a) }
            if c.needsGradient[0] {
                if !GradMode.isEnabled && inner == 1 {
                    grads[0] = Tensor.build(y.shape) { dy in
                        RowKernels.softmaxGradientBackward(y.data, g.data, u.data, dy, rows: outer, n: n)
                    }
                } else {
                    let s = (g * y).sum(alongAxis: a, keepingDims: true)
                    let t = (u * y).sum(alongAxis: a, keepingDims: true)
                    grads[0] = u * (g - s) - g * t
                }
            }
            return grads
        }
    }

    /// log(softmax(x)) along `axis`, computed as x − max − log Σ exp(x − max) (no overflow or log(0) for finite
    /// inputs, however large).
    ///
    /// Backward: g − softmax(x)·Σ g, composed of differentiable ops (exact higher derivatives); fused kernel when
    /// no graph of the gradient is requested. Special values as for `softmax(alongAxis:)`: NaN in a row → NaN row,
    /// all −∞ row → NaN; a −∞ entry in an otherwise finite row gives −∞.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped(to: [1]).logSoftmax(alongAxis: axis == -1 ? 0 : axis).reshaped(to: []) }
        let (outer, n, inner, a) = softmaxGeometry(axis, op: "logSoftmax")
        let out = Tensor.build(shape) { y in RowKernels.softmax(data, y, outer: outer, n: n, inner: inner, log: true) }
        let x = self
        return Tensor.record(out, op: .logSoftmax, inputs: [self]) { g, c in
            if !GradMode.isEnabled {
                let y = c.output
                return [Tensor.build(y.shape) { dx in
                    RowKernels.softmaxBackward(y.data, g.data, dx, outer: outer, n: n, inner: inner, log: true)
                }]
            }
            return [g - x.softmax(alongAxis: a) * g.sum(alongAxis: a, keepingDims: true)]
        }
    }
}
