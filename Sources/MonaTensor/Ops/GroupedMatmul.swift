// Two matrix products that convolutions need and `matmul` does not express without copies: a weight shared by
// every batch element (one GEMM per batch element and group, no expanded weight), and its weight gradient summed
// over the batch (GEMMs accumulating into one result). Each is the other's backward, so gradients of gradients
// stay within this pair.

extension Tensor {
    /// out[n, g] = op(w[g]) · x[n, g].
    ///
    /// Shapes: w [G, M, K] (or [G, K, M] with `transposeW`), x [N, G, K, L] → [N, G, M, L].
    static func sharedWeightMatmul(_ w: Tensor, _ x: Tensor, transposeW: Bool) -> Tensor {
        precondition(w.rank == 3 && x.rank == 4 && w.shape[0] == x.shape[1]
                        && (transposeW ? w.shape[1] : w.shape[2]) == x.shape[2],
                     "sharedWeightMatmul: weight \(w.shape)\(transposeW ? "ᵀ" : "") does not fit input \(x.shape)")
        let groups = w.shape[0], m = transposeW ? w.shape[2] : w.shape[1], k = x.shape[2]
        let batch = x.shape[0], l = x.shape[3]
        let out = Tensor.build([batch, groups, m, l]) { c in
            let pw = w.data, px = x.data
            for n in 0..<batch {
                for g in 0..<groups {
                    BLAS.sgemm(transposeA: transposeW, transposeB: false, m: m, n: l, k: k,
                               a: pw + g * m * k, lda: transposeW ? m : k,
                               b: px + (n * groups + g) * k * l, ldb: l,
                               c: c + (n * groups + g) * m * l, ldc: l)
                }
            }
        }
        return record(out, op: .sharedWeightMatmul, inputs: [w, x]) { grad, ctx in
            // Y = op(W)·X:  d op(W) = Σₙ G·Xᵀ,  dX = op(W)ᵀ·G.
            let gw: Tensor? = !ctx.needsGradient[0] ? nil
                : transposeW ? batchSummedMatmulNT(x, grad) : batchSummedMatmulNT(grad, x)
            let gx: Tensor? = !ctx.needsGradient[1] ? nil : sharedWeightMatmul(w, grad, transposeW: !transposeW)
            return [gw, gx]
        }
    }

    /// out[g] = Σₙ a[n, g] · b[n, g]ᵀ.
    ///
    /// Shapes: a [N, G, M, L], b [N, G, K, L] → [G, M, K].
    static func batchSummedMatmulNT(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 4 && b.rank == 4 && a.shape[0] == b.shape[0] && a.shape[1] == b.shape[1]
                        && a.shape[3] == b.shape[3],
                     "batchSummedMatmulNT: shapes \(a.shape) and \(b.shape) do not fit")
        let batch = a.shape[0], groups = a.shape[1], m = a.shape[2], k = b.shape[2], l = a.shape[3]
        let out = Tensor.build([groups, m, k]) { c in
            if batch == 0 { c.update(repeating: 0, count: groups * m * k); return }
            let pa = a.data, pb = b.data
            for g in 0..<groups {
                for n in 0..<batch {
                    BLAS.sgemm(transposeA: false, transposeB: true, m: m, n: k, k: l,
                               a: pa + (n * groups + g) * m * l, lda: l,
                               b: pb + (n * groups + g) * k * l, ldb: l,
                               beta: n == 0 ? 0 : 1, c: c + g * m * k, ldc: k)
                }
            }
        }
        return record(out, op: .batchSummedMatmulNT, inputs: [a, b]) { grad, ctx in
            // Y = Σₙ Aₙ·Bₙᵀ:  dAₙ = G·Bₙ,  dBₙ = Gᵀ·Aₙ.
            [ctx.needsGradient[0] ? sharedWeightMatmul(grad, b, transposeW: false) : nil,
             ctx.needsGradient[1] ? sharedWeightMatmul(grad, a, transposeW: true) : nil]
        }
    }
}
