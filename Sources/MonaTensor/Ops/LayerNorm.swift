// Layer normalisation over the last axis (PyTorch semantics): fused forward; fused backward, or a backward
// composed of differentiable ops when a graph of the gradient is requested (second derivatives).

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
            RowKernels.layerNormForward(data, weight: weight.map { UnsafePointer($0.data) },
                                        bias: bias.map { UnsafePointer($0.data) }, y,
                                        mean: mean.base, rstd: rstd.base, rows: rows, d: d, epsilon: epsilon)
        }

        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let weightIndex: Int? = weight == nil ? nil : 1
        let biasIndex: Int? = bias == nil ? nil : inputs.count - 1
        let x = self
        return Tensor.record(out, op: "layerNorm", inputs: inputs) { g, c in
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
                // Recompute the statistics with differentiable ops so that the gradient depends on x correctly.
                let mu = x.mean(alongAxis: -1, keepingDims: true)                                   // [..., 1]
                let xc = x - mu                                                                     // [..., D]
                let r = (xc * xc).mean(alongAxis: -1, keepingDims: true).layerNormRsqrt(epsilon)    // [..., 1]
                let xhat = xc * r                                                                   // [..., D]
                if needX {
                    let gh = weight.map { g * $0 } ?? g
                    let proj = (gh * xhat).mean(alongAxis: -1, keepingDims: true)
                    grads[0] = r * (gh - gh.mean(alongAxis: -1, keepingDims: true) - xhat * proj)
                }
                if needW, let i = weightIndex { grads[i] = (g * xhat).sum(toShape: [d]) }
                if needB, let i = biasIndex { grads[i] = g.sum(toShape: [d]) }
                return grads
            }
            let dx: TensorStorage? = needX ? TensorStorage(count: x.count) : nil
            let dw: TensorStorage? = needW ? TensorStorage(count: d) : nil
            let db: TensorStorage? = needB ? TensorStorage(count: d) : nil
            RowKernels.layerNormBackward(x.data, g.data, weight: weight.map { UnsafePointer($0.data) },
                                         mean: mean.base, rstd: rstd.base, rows: rows, d: d,
                                         dx: dx?.base, dweight: dw?.base, dbias: db?.base)
            if let dx { grads[0] = Tensor(storage: dx, shape: x.shape) }
            if let dw, let i = weightIndex { grads[i] = Tensor(storage: dw, shape: [d]) }
            if let db, let i = biasIndex { grads[i] = Tensor(storage: db, shape: [d]) }
            return grads
        }
    }

    /// (self + ε)^(−1/2), differentiable to any order (its derivative −½·y³ is written with the output).
    fileprivate func layerNormRsqrt(_ epsilon: Float) -> Tensor {
        let e = SIMD8<Float>(repeating: epsilon)
        let out = unaryMap(self, { 1 / ($0 + e).squareRoot() }, { 1 / ($0 + epsilon).squareRoot() })
        return Tensor.record(out, op: "layerNormRsqrt", inputs: [self]) { g, c in
            let y = c.output
            return [g * (y * y * y) * -0.5]
        }
    }
}
