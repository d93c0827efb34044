// Fully connected layer as one op: the bias (and a residual) is written into the output first and the GEMM adds
// into it (β = 1), instead of a GEMM into a zeroed buffer followed by separate passes for the bias and residual.

extension Tensor {
    /// x·Wᵀ + bias + addend, with W stored [out, in] (PyTorch layout).
    ///
    /// Shapes: x [..., in], weight [out, in], bias [out], addend (e.g. a residual) [..., out] → [..., out].
    /// Same values as `Tensor.matmul(x, weight, transposeB: true) + bias + addend` (up to the order of the
    /// additions), with one pass over the output fewer per addition. Every gradient is made of differentiable
    /// ops (matmul, sum, reshape), so it can be differentiated again.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, adding addend: Tensor? = nil) -> Tensor {
        precondition(x.rank >= 1 && weight.rank == 2 && x.shape[x.rank - 1] == weight.shape[1],
                     "linear: input \(x.shape) does not end in the input width of weight \(weight.shape) ([out, in])")
        let (out, k) = (weight.shape[0], weight.shape[1])
        let outShape = Array(x.shape.dropLast()) + [out]
        if let bias {
            precondition(bias.shape == [out], "linear: bias \(bias.shape) for weight \(weight.shape)")
        }
        if let addend {
            precondition(addend.shape == outShape,
                         "linear: addend \(addend.shape) for output \(outShape) (input \(x.shape), weight \(weight.shape))")
        }
        let rows = outShape.dropLast().reduce(1, *)
        let y = Tensor.build(outShape) { c in
            let prefilled = prefill(c, rows: rows, width: out, bias: bias, addend: addend)
            BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: out, k: k, a: x.data, lda: k,
                       b: weight.data, ldb: k, beta: prefilled ? 1 : 0, c: c, ldc: out)
        }
        var inputs = [x, weight]
        let biasIndex = bias.map { inputs.append($0); return inputs.count - 1 }
        let addendIndex = addend.map { inputs.append($0); return inputs.count - 1 }
        return record(y, op: .linear, inputs: inputs) { g, c in
            let g2 = g.reshaped(to: [rows, out])                                             // [rows, out]
            var grads = [Tensor?](repeating: nil, count: inputs.count)
            if c.needsGradient[0] {
                let acc = c.takeAccumulatedGradient(0)?.reshaped(to: [rows, k])
                grads[0] = matmul(g2, weight, adding: acc).reshaped(to: x.shape)             // [rows, in]
            }
            if c.needsGradient[1] {
                let x2 = x.reshaped(to: [rows, k])
                grads[1] = matmul(g2, x2, transposeA: true, adding: c.takeAccumulatedGradient(1))  // [out, in]
            }
            if let i = biasIndex, c.needsGradient[i] { grads[i] = g2.sum(alongAxis: 0) }     // [out]
            if let i = addendIndex, c.needsGradient[i] { grads[i] = g }
            return grads
        }
    }

    /// Writes bias (broadcast over rows) + addend into `c`; false when there is neither (the GEMM then uses β = 0).
    private static func prefill(_ c: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: Tensor?,
                                addend: Tensor?) -> Bool {
        switch (bias, addend) {
        case (nil, nil):
            return false
        case (nil, let r?):
            c.update(from: r.data, count: rows * width)
        case (let b?, nil):
            let pb = b.data
            Parallel.forEachChunk(rows, costPerItem: width) { range in
                for i in range { (c + i * width).update(from: pb, count: width) }
            }
        case (let b?, let r?):
            let pb = b.data, pr = r.data
            Parallel.forEachChunk(rows, costPerItem: 2 * width) { range in
                for i in range {
                    let dst = c + i * width, src = pr + i * width
                    var j = 0
                    while j + 16 <= width {
                        let s = UnsafeRawPointer(src + j).loadUnaligned(as: SIMD16<Float>.self)
                            + UnsafeRawPointer(pb + j).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(dst + j).storeBytes(of: s, as: SIMD16<Float>.self)
                        j += 16
                    }
                    while j < width { dst[j] = src[j] + pb[j]; j += 1 }
                }
            }
        }
        return true
    }
}
