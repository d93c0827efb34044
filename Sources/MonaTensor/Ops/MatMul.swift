// Matrix products. Transposes are BLAS flags, never copies, in forward and backward alike.

extension Tensor {
    /// op(a) · op(b) where op transposes the last two axes when asked.
    ///
    /// Shapes: a [..., M, K] (or [..., K, M] with `transposeA`), b [K, N] or [..., K, N] (or the transposed
    /// forms). Batch axes must match exactly, or `b` may be 2-D and shared by every batch element.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2,
                     "matmul: operands need rank ≥ 2, got shapes \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(ka == kb, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(b.rank == 2 || batchA == batchB,
                     "matmul: batch axes \(batchA) and \(batchB) differ (shapes \(a.shape), \(b.shape))")

        // A shared 2-D right operand with a non-transposed left operand is one big GEMM over the flattened batch.
        if b.rank == 2 && a.rank > 2 && !transposeA {
            let rows = a.count / ka
            let flat = matmul(a.reshaped(to: [rows, ka]), b, transposeB: transposeB)
            return flat.reshaped(to: batchA + [m, n])
        }
        if b.rank == 2 && a.rank > 2 {
            return matmul(a, b.expanded(to: batchA + b.shape), transposeA: transposeA, transposeB: transposeB)
        }

        let batch = batchA.reduce(1, *)
        let out = Tensor.build(batchA + [m, n]) { c in
            let pa = a.data, pb = b.data
            let lda = transposeA ? m : ka, ldb = transposeB ? ka : n
            if splitsBatchOverPool(batch: batch, m: m, n: n, k: ka) {
                // Many small products (attention): one single-threaded BLAS call per pool thread beats threading
                // each call (measured ~2× on 96 × [128×64]·[64×128] with 2 threads).
                BLAS.withSingleThreadedCalls {
                    Parallel.forEachChunk(batch, costPerItem: m * n * ka) { r in
                        for i in r {
                            BLAS.sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                                                   a: pa + i * m * ka, lda: lda, b: pb + i * ka * n, ldb: ldb,
                                                   c: c + i * m * n, ldc: n)
                        }
                    }
                }
                return
            }
            for i in 0..<batch {
                BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                           a: pa + i * m * ka, lda: lda, b: pb + i * ka * n, ldb: ldb, c: c + i * m * n, ldc: n)
            }
        }
        return record(out, op: "matmul", inputs: [a, b]) { g, c in
            // C = op(A)·op(B):  dop(A) = G·op(B)ᵀ,  dop(B) = op(A)ᵀ·G.
            let ga: Tensor? = !c.needsGradient[0] ? nil
                : transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                             : matmul(g, b, transposeB: !transposeB)
            let gb: Tensor? = !c.needsGradient[1] ? nil
                : transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
                             : matmul(a, g, transposeA: !transposeA)
            return [ga, gb]
        }
    }

    /// self · other.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }
}

/// Whether a batch of `batch` products [m×k]·[k×n] is split over the worker pool (BLAS single-threaded inside)
/// rather than run one by one with BLAS's own threads. Splitting wins when there are enough products to keep
/// every thread busy and each is too small for BLAS threading to pay off (or there are many of them).
func splitsBatchOverPool(batch: Int, m: Int, n: Int, k: Int) -> Bool {
    let threads = Parallel.threadCount
    if threads <= 1 || batch < threads { return false }
    let work = m * n * k
    if batch * work < Parallel.minimumParallelWork * 8 { return false }
    return batch >= 2 * threads || work <= 1 << 23
}
