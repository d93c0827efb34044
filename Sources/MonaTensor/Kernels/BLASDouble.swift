#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

extension BLAS {
    /// Double-precision C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major (the closed-form ridge solvers
    /// need float64 Gram matrices: their smallest eigenvalues sit near the regularisation constant).
    public static func dgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double = 1,
                             a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                             beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        countFLOPs(m: m, n: n, k: k)
        serialized(work: m * n * k) {
            cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}
