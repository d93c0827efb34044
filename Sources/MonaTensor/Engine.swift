#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide engine settings.
public enum Engine {
    /// Threads from `MONA_THREADS` (default: all online cores), clamped to 1…256.
    public static var defaultThreadCount: Int {
        if let s = getenv("MONA_THREADS"), let n = Int(String(cString: s)), n > 0 { return min(n, 256) }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Sets the number of threads used by engine kernels and by BLAS (kept equal so nothing oversubscribes).
    public static func setThreadCount(_ n: Int) {
        let t = max(1, n)
        Parallel.threadCount = t
        BLAS.setThreads(t)
    }

    /// Applies `MONA_THREADS` (call once at start-up; tools and tests do).
    public static func configureFromEnvironment() { setThreadCount(defaultThreadCount) }
}
