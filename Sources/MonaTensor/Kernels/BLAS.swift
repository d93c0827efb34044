#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import Synchronization

/// Thin wrappers over CBLAS (OpenBLAS on Linux, Accelerate on Apple platforms).
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major. `lda`, `ldb`, `ldc` are row strides.
    @inline(__always)
    public static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        countFLOPs(m: m, n: n, k: k)
        // Threaded OpenBLAS calls must not overlap (see BLASRuntime.swift).
        serialized(work: m * n * k) {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// Floating-point operations (2·m·n·k per GEMM) of every GEMM since the process started: benchmarks read
    /// differences of it, to compare the arithmetic two computations need independently of timing noise.
    public static var performedFLOPs: Int { flops.load(ordering: .relaxed) }

    private static let flops = Atomic<Int>(0)

    @inline(__always)
    static func countFLOPs(m: Int, n: Int, k: Int) {
        flops.wrappingAdd(2 * m * n * k, ordering: .relaxed)
    }

    /// Sets the BLAS library's own thread count (no-op on Accelerate).
    public static func setThreads(_ n: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(n))
        #endif
    }
}
