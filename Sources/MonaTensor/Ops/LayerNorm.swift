// Layer normalisation over the last axis (PyTorch semantics): fused forward; fused backward, or, when a graph
// of the gradient is requested (second derivatives), fused gradient ops whose own backward rules are fused
// again without a graph and composed of differentiable ops with one (derivatives of any order).

extension Tensor {
    /// Layer normalisation over the last axis: (x − mean) / √(var + ε) · weight + bias.
    ///
    /// Matches `torch.nn.functional.layer_norm(x, [D], weight, bias, eps)`: biased variance (divides by D), ε
    /// inside the square root. PyTorch's default ε is 1e-5; BERT-family checkpoints use 1e-12.
    ///
    /// - Parameters:
    ///   - weight: optional [D] scale (γ).
    ///   - bias: optional [D] shift (β).
    ///   - epsilon: added to the variance.
    /// - Returns: a tensor of the same shape, shape [..., D].
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
        precondition(rank >= 1, "layerNorm: input must have rank ≥ 1, got shape \(shape)")
        let d = shape[rank - 1]
        let rows = d == 0 ? 0 : count / d
        if let weight {
            precondition(weight.shape == [d], "layerNorm: weight shape \(weight.shape) must be [\(d)] for input \(shape)")
        }
        if let bias {
            precondition(bias.shape == [d], "layerNorm: bias shape \(bias.shape) must be [\(d)] for input \(shape)")
        }
        let mean = TensorStorage(count: rows), rstd = TensorStorage(count: rows)
        let out = Tensor.build(shape) { y in
            RowKernels.layerNormForward(data, weight: weight.map { $0.data },
                                        bias: bias.map { $0.data }, y,
                                        mean: mean.base, rstd: rstd.base, rows: rows, d: d, epsilon: epsilon)
        }

        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let weightIndex: Int? = weight == nil ? nil : 1
        let biasIndex: Int? = bias == nil ? nil : inputs.count - 1
        let x = self
        return Tensor.record(out, op: .layerNorm, inputs: inputs) { g, c in
            let needX = c.needsGradient[0]
            let needW = weightIndex.map { c.needsGradient[$0] } ?? false
            let needB = biasIndex.map { c.needsGradient[$0] } ?? false
            var grads: [Tensor?] = Array(repeating: nil, count: c.needsGradient.count)
            if rows == 0 {
                if needX { grads[0] = Tensor.zeros(x.shape) }
                if needW, let i = weightIndex { grads[i] = Tensor.zeros([d]) }
                if needB, let i = biasIndex { grads[i] = Tensor.zeros([d]) }
                return grads
            }
            if GradMode.isEnabled {
                // Fused ops whose own backward rules are differentiable: the backward of this gradient then runs
                // a few row kernels instead of the backward of some twenty composed ops.
                let stats = LayerNormRows(mean: mean, rstd: rstd, rows: rows, d: d, epsilon: epsilon)
                if needX { grads[0] = Tensor.layerNormInputGradient(x, g, weight: weight, stats) }
                if needW, let i = weightIndex { grads[i] = Tensor.layerNormWeightGradient(x, g, stats) }
                if needB, let i = biasIndex { grads[i] = g.sum(toShape: [d]) }
                return grads
            }
            let dx: TensorStorage? = needX ? TensorStorage(count: x.count) : nil
            let dw: TensorStorage? = needW ? TensorStorage(count: d) : nil
            let db: TensorStorage? = needB ? TensorStorage(count: d) : nil
            RowKernels.layerNormBackward(x.data, g.data, weight: weight.map { $0.data },
                                         mean: mean.base, rstd: rstd.base, rows: rows, d: d,
                                         dx: dx?.base, dweight: dw?.base, dbias: db?.base)
            if let dx { grads[0] = Tensor(storage: dx, shape: x.shape) }
            if let dw, let i = weightIndex { grads[i] = Tensor(storage: dw, shape: [d]) }
            if let db, let i = biasIndex { grads[i] = Tensor(storage: db, shape: [d]) }
            return grads
        }
    }

    /// x̂ = (x − mean)·rstd over the last axis, from the statistics the forward pass saved for `self`.
    /// Gradient: the LayerNorm input gradient J(x)·g.
    fileprivate func layerNormNormalized(_ stats: LayerNormRows) -> Tensor {
        let out = Tensor.build(shape) { y in
            RowKernels.normalizeRows(data, mean: stats.mean.base, rstd: stats.rstd.base, weight: nil, y,
                                     rows: stats.rows, d: stats.d)
        }
        return Tensor.record(out, op: .layerNormNormalized, inputs: [self]) { g, _ in
            [Tensor.layerNormInputGradient(self, g, weight: nil, stats)]
        }
    }

    /// J(x)·(g·w) = r·(v − mean(v) − x̂·mean(v·x̂)) with v = g·w (w optional), over the last axis (r = rstd,
    /// x̂ = (x − mean)·r): LayerNorm's gradient with respect to x for the output gradient g, as a differentiable op
    /// of (x, g, w). J is the symmetric Jacobian of x̂, so the gradient with respect to g is w·J(x)·u, the same op;
    /// with respect to x see `RowKernels.layerNormGradientBackward` (one fused row kernel for all three inputs
    /// without a graph; composed of differentiable ops with one).
    fileprivate static func layerNormInputGradient(_ x: Tensor, _ g: Tensor, weight: Tensor?,
                                                   _ stats: LayerNormRows) -> Tensor {
        let d = stats.d
        let out = Tensor.build(x.shape) { dx in
            RowKernels.layerNormBackward(x.data, g.data, weight: weight.map { $0.data },
                                         mean: stats.mean.base, rstd: stats.rstd.base, rows: stats.rows, d: d,
                                         dx: dx, dweight: nil, dbias: nil)
        }
        return Tensor.record(out, op: .layerNormInputGradient, inputs: [x, g] + (weight.map { [$0] } ?? [])) { u, c in
            let needX = c.needsGradient[0], needG = c.needsGradient[1]
            let needW = weight != nil && c.needsGradient[2]
            if !GradMode.isEnabled {
                let dx: TensorStorage? = needX ? TensorStorage(count: x.count) : nil
                let dg: TensorStorage? = needG ? TensorStorage(count: x.count) : nil
                let dw: TensorStorage? = needW ? TensorStorage(count: d) : nil
                RowKernels.layerNormGradientBackward(x.data, g.data, weight: weight.map { $0.data },
                                                     output: c.output.data, u.data, mean: stats.mean.base,
                                                     rstd: stats.rstd.base, rows: stats.rows, d: d,
                                                     dx: dx?.base, dg: dg?.base, dweight: dw?.base)
                var grads: [Tensor?] = [dx.map { Tensor(storage: $0, shape: x.shape) },
                                        dg.map { Tensor(storage: $0, shape: x.shape) }]
                if weight != nil { grads.append(dw.map { Tensor(storage: $0, shape: [d]) }) }
                return grads
            }
            let o = c.output
            let dv = layerNormInputGradient(x, u, weight: nil, stats)                              // J·u [..., D]
            var grads: [Tensor?] = [nil, needG ? weight.map { dv * $0 } ?? dv : nil]
            if let weight { grads.append(needW ? (g * dv).sum(toShape: weight.shape) : nil) }
            if needX {
                let v = weight.map { g * $0 } ?? g
                let xh = x.layerNormNormalized(stats)                                              // [..., D]
                let xc = x - x.mean(alongAxis: -1, keepingDims: true)
                let r = (xc * xc).mean(alongAxis: -1, keepingDims: true).layerNormRsqrt(stats.epsilon) // [..., 1]
                let uo = (u * o).mean(alongAxis: -1, keepingDims: true)
                let ux = (u * xh).mean(alongAxis: -1, keepingDims: true)
                let vx = (v * xh).mean(alongAxis: -1, keepingDims: true)
                grads[0] = -(r * (uo * xh + vx * dv + ux * o))
            }
            return grads
        }
    }

    /// Σ_rows g·x̂ over every axis but the last (x̂ = (x − mean)·rstd): LayerNorm's weight gradient, as a
    /// differentiable op of (x, g) with a fused forward. Gradient, for the output gradient u [D]: x̂·u with
    /// respect to g, and J(x)·(g·u) — the input-gradient op with u as its weight — with respect to x.
    fileprivate static func layerNormWeightGradient(_ x: Tensor, _ g: Tensor, _ stats: LayerNormRows) -> Tensor {
        let d = stats.d
        let out = Tensor.build([d]) { dw in
            RowKernels.layerNormBackward(x.data, g.data, weight: nil, mean: stats.mean.base, rstd: stats.rstd.base,
                                         rows: stats.rows, d: d, dx: nil, dweight: dw, dbias: nil)
        }
        return Tensor.record(out, op: .layerNormWeightGradient, inputs: [x, g]) { u, c in
            let dx = c.needsGradient[0] ? layerNormInputGradient(x, g, weight: u, stats) : nil
            guard c.needsGradient[1] else { return [dx, nil] }
            if GradMode.isEnabled { return [dx, x.layerNormNormalized(stats) * u] }
            return [dx, Tensor.build(x.shape) { dg in
                RowKernels.normalizeRows(x.data, mean: stats.mean.base, rstd: stats.rstd.base,
                                         weight: u.data, dg, rows: stats.rows, d: d)
            }]
        }
    }

    /// (self + ε)^(−1/2), differentiable to any order (its derivative −½·y³ is written with the output).
    fileprivate func layerNormRsqrt(_ epsilon: Float) -> Tensor {
        let e = SIMD8<Float>(repeating: epsilon)
        let out = unaryMap(self, { 1 / ($0 + e).squareRoot() }, { 1 / ($0 + epsilon).squareRoot() })
        return Tensor.record(out, op: .layerNormRsqrt, inputs: [self]) { g, c in
            let y = c.output
            return [g * (y * y * y) * -0.5]
        }
    }
}

/// Row statistics of a LayerNorm input, saved by the forward pass for the gradient ops.
private struct LayerNormRows {
    let mean: TensorStorage, rstd: TensorStorage
    let rows: Int, d: Int
    let epsilon: Float
}
