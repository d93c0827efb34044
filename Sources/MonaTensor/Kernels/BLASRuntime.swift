#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

// Process-wide BLAS state: thread count, serialisation of threaded calls, and the OpenBLAS kernel choice.
//
// Facts about Debian's OpenBLAS 0.3.21 (pthreads, DYNAMIC_ARCH) this file relies on:
// * A GEMM with m·n·k ≤ 262 144 always runs on the calling thread; larger ones use `blas_cpu_number` threads.
// * Single-threaded calls from several application threads at once are safe (its buffer pool is locked).
// * Threaded level-3 calls from several application threads are serialised by a lock *per transpose
//   variant*, so two threaded GEMMs of different variants can run at once and corrupt shared state
//   (OpenMathLib/OpenBLAS#5836, fixed upstream long after 0.3.21). `BLAS.sgemm` therefore holds one
//   process-wide lock around every call that may go threaded.
// * Its CPU detection does not know recent Intel models (e.g. family 6 model 0xCF) and falls back to the
//   SSE3 "Prescott" kernels, about 5× slower than the AVX-512 ones on such a CPU. `prepareLibrary` re-runs
//   the kernel selection with the core the CPU's flags support, unless OPENBLAS_CORETYPE is set.
// * After a threaded call its worker threads poll (sched_yield) for 2^28 TSC cycles (~0.1 s) before sleeping,
//   competing with the engine's own pool for the cores; measured to halve the pool's speed-up on kernels
//   that follow a GEMM. `prepareLibrary` restarts them with a ~60 µs window (OPENBLAS_THREAD_TIMEOUT = 17,
//   like the pool's own spin), unless OPENBLAS_THREAD_TIMEOUT is set.
extension BLAS {
    /// Threads OpenBLAS uses for one call (kept equal to the engine's thread count).
    static let configuredThreads = Atomic<Int>(1)

    /// Above this m·n·k OpenBLAS may split a GEMM over its threads.
    static let threadedThreshold = 262_144

    private nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// The name of the BLAS kernels in use (e.g. "SkylakeX"), for benchmark headers.
    public static var coreName: String {
        _ = Runtime.pool
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        return String(cString: openblas_get_corename())
        #endif
    }

    /// Runs `body` (one BLAS call) under the process-wide lock when the call may use BLAS threads.
    @inline(__always)
    static func serialized(work: Int, _ body: () -> Void) {
        _ = Runtime.pool
        if work <= threadedThreshold || configuredThreads.load(ordering: .relaxed) <= 1 { body(); return }
        pthread_mutex_lock(lock)
        body()
        pthread_mutex_unlock(lock)
    }

    /// Runs `body` with OpenBLAS single-threaded, so that it can call `sgemmOnThisThread` from several pool
    /// threads at once (many small GEMMs are faster split over the pool than threaded one by one).
    static func withSingleThreadedCalls(_ body: () -> Void) {
        _ = Runtime.pool
        #if canImport(Accelerate)
        body()
        #else
        pthread_mutex_lock(lock)
        let n = configuredThreads.load(ordering: .relaxed)
        if n > 1 { openblas_set_num_threads(1) }
        body()
        if n > 1 { openblas_set_num_threads(Int32(n)) }
        pthread_mutex_unlock(lock)
        #endif
    }

    /// `sgemm` (α = 1) without the process-wide lock: only inside `withSingleThreadedCalls`, where every call runs on
    /// the calling thread and concurrent calls are safe.
    @inline(__always)
    static func sgemmOnThisThread(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        countFLOPs(m: m, n: n, k: k)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets OpenBLAS's thread count (waiting for any threaded call in flight).
    static func applyThreadCount(_ n: Int) {
        _ = Runtime.pool
        pthread_mutex_lock(lock)
        configuredThreads.store(n, ordering: .relaxed)
        setThreads(n)
        pthread_mutex_unlock(lock)
    }

    /// First-use set-up, called once from `Runtime` before anything else touches BLAS.
    static func prepareLibrary(threads: Int) {
        #if !canImport(Accelerate) && os(Linux)
        #if arch(x86_64)
        selectOpenBLASKernels()
        #endif
        shortenOpenBLASPolling()
        #endif
        configuredThreads.store(threads, ordering: .relaxed)
        setThreads(threads)
    }

    #if !canImport(Accelerate) && arch(x86_64) && os(Linux)
    /// Re-runs OpenBLAS's DYNAMIC_ARCH kernel selection when it fell back to "Prescott" on a CPU that has
    /// AVX2 or AVX-512 (see the notes above). Uses the library's own entry points, looked up at run time so
    /// that builds without DYNAMIC_ARCH are left alone.
    private static func selectOpenBLASKernels() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              String(cString: openblas_get_corename()).lowercased() == "prescott",
              let flags = cpuFlags() else { return }
        let core: String
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]) {
            core = flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        } else if flags.isSuperset(of: ["avx2", "fma"]) {
            core = "Haswell"
        } else if flags.contains("avx") {
            core = "Sandybridge"
        } else {
            return
        }
        typealias Entry = @convention(c) () -> Void
        guard let handle = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(handle) }
        guard let quit = dlsym(handle, "gotoblas_dynamic_quit"), let initialise = dlsym(handle, "gotoblas_dynamic_init")
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialise, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
    }

    #endif

    #if !canImport(Accelerate) && os(Linux)
    /// Restarts OpenBLAS's worker threads with a short polling window (see the notes above).
    private static func shortenOpenBLASPolling() {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil, let handle = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(handle) }
        guard let readEnv = dlsym(handle, "openblas_read_env"), let shutdown = dlsym(handle, "blas_thread_shutdown_"),
              let start = dlsym(handle, "blas_thread_init") else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "17", 1)
        unsafeBitCast(readEnv, to: (@convention(c) () -> Void).self)()
        _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
        _ = unsafeBitCast(start, to: (@convention(c) () -> Int32).self)()
        unsetenv("OPENBLAS_THREAD_TIMEOUT")
    }
    #endif

    #if !canImport(Accelerate) && arch(x86_64) && os(Linux)
    /// The CPU feature flags the kernel reports (first processor of /proc/cpuinfo).
    static func cpuFlags() -> Set<Substring>? {
        guard let f = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let line {
            let s = String(cString: line)
            if s.hasPrefix("flags") {
                guard let colon = s.firstIndex(of: ":") else { return nil }
                return Set(s[s.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
            }
        }
        return nil
    }
    #endif
}
