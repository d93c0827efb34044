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
            gemm(a, b, transposeA: transposeA, transposeB: transposeB, batch: batch, m: m, n: n, k: ka, into: c, beta: 0)
        }
        return record(out, op: .matmul, inputs: [a, b]) { g, c in
            // C = op(A)·op(B):  dop(A) = G·op(B)ᵀ,  dop(B) = op(A)ᵀ·G. Without a graph, each product is added
            // into the gradient already accumulated for its input when autograd hands that over (β = 1).
            let ga: Tensor? = !c.needsGradient[0] ? nil
                : transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true, adding: c.takeAccumulatedGradient(0))
                             : matmul(g, b, transposeB: !transposeB, adding: c.takeAccumulatedGradient(0))
            let gb: Tensor? = !c.needsGradient[1] ? nil
                : transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA, adding: c.takeAccumulatedGradient(1))
                             : matmul(a, g, transposeA: !transposeA, adding: c.takeAccumulatedGradient(1))
            return [ga, gb]
        }
    }

    /// self · other.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    /// `addend` + op(a)·op(b), computed in place in `addend`'s storage (which the caller owns exclusively) with
    /// β = 1 when the shapes allow; untracked (for backward rules without a graph). Nil `addend`: the product.
    static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                       adding addend: Tensor?) -> Tensor {
        guard let addend else { return matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let sameBatch = b.rank == 2 ? (a.rank == 2 || !transposeA) : batchA == batchB
        guard k == kb, sameBatch, addend.shape == batchA + [m, n] else {
            return matmul(a, b, transposeA: transposeA, transposeB: transposeB) + addend
        }
        // A shared 2-D right operand: one GEMM over the flattened batch, as in `matmul(_:_:)`.
        let flat = b.rank == 2 && a.rank > 2
        let left = flat ? a.reshaped(to: [a.count / k, k]) : a
        let batch = flat ? 1 : batchA.reduce(1, *)
        gemm(left, b, transposeA: transposeA, transposeB: transposeB, batch: batch, m: flat ? a.count / k : m, n: n,
             k: k, into: addend.storage.base, beta: 1)
        return addend
    }

    /// C = op(A)·op(B) + β·C for `batch` products [m×k]·[k×n] stored back to back (`b` shared when 2-D).
    private static func gemm(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool, batch: Int, m: Int, n: Int,
                             k: Int, into c: UnsafeMutablePointer<Float>, beta: Float) {
        let pa = a.data, pb = b.data
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let strideB = b.rank == 2 ? 0 : k * n
        if splitsBatchOverPool(batch: batch, m: m, n: n, k: k) {
            // Many small products (attention): one single-threaded BLAS call per pool thread beats threading
            // each call (measured ~2× on 96 × [128×64]·[64×128] with 2 threads).
            BLAS.withSingleThreadedCalls {
                Parallel.forEachChunk(batch, costPerItem: m * n * k) { r in
                    for i in r {
                        BLAS.sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                               a: pa + i * m * k, lda: lda, b: pb + i * strideB, ldb: ldb,
                                               beta: beta, c: c + i * m * n, ldc: n)
                    }
                }
            }
            return
        }
        for i in 0..<batch {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: pa + i * m * k, lda: lda, b: pb + i * strideB, ldb: ldb, beta: beta, c: c + i * m * n, ldc: n)
        }
    }
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
