#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide engine settings.
///
/// Nothing needs to be called before using the engine: the first kernel (or BLAS call, or read of
/// `Parallel.threadCount`) starts the worker pool with `MONA_THREADS` threads and sets BLAS to match.
public enum Engine {
    /// Threads from `MONA_THREADS` (default: all online cores), clamped to 1…256.
    public static var defaultThreadCount: Int {
        if let s = getenv("MONA_THREADS"), let n = Int(String(cString: s)), n > 0 { return min(n, 256) }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Threads used by engine kernels and BLAS.
    public static var threadCount: Int { Parallel.threadCount }

    /// Sets the number of threads used by engine kernels and by BLAS (kept equal so nothing oversubscribes).
    public static func setThreadCount(_ n: Int) {
        let t = min(max(1, n), 256)
        Parallel.threadCount = t
        BLAS.applyThreadCount(t)
    }

    /// Re-applies `MONA_THREADS` (done automatically on first use; call it after changing the variable).
    public static func configureFromEnvironment() { setThreadCount(defaultThreadCount) }
}
