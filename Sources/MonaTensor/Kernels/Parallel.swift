#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Splits index ranges over the engine's worker threads.
///
/// Work runs on a persistent pool (`WorkerPool`): `threadCount − 1` threads created once, plus the calling
/// thread, which always takes chunks itself. Calls made while the pool is busy — a kernel inside a parallel
/// body, or a second application thread — run inline on their own thread, so nesting cannot deadlock.
public enum Parallel {
    /// Number of threads kernels may use (`MONA_THREADS`, default: all cores). Setting it resizes the pool only;
    /// `Engine.setThreadCount(_:)` also keeps BLAS in step.
    public static var threadCount: Int {
        get { Runtime.pool.threadCount }
        set { Runtime.pool.threadCount = newValue }
    }

    /// Below this many elementary operations a loop runs inline: waking a worker costs more than it saves.
    public static let minimumParallelWork = 32_768

    /// Calls `body` on disjoint chunks covering `0..<count` (every index exactly once; chunks may run
    /// concurrently and in any order). Runs inline when the work is small (`count * costPerItem` below
    /// `minimumParallelWork`), when one thread is configured, or when called from inside a parallel body.
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        Runtime.pool.forEachChunk(count, costPerItem: costPerItem, body)
    }
}

/// Process-wide engine state, created on first use: applies `MONA_THREADS` and the BLAS set-up
/// (see `Engine`) before any kernel runs, so library users need not configure anything.
enum Runtime {
    static let pool: WorkerPool = {
        let n = Engine.defaultThreadCount
        tuneAllocator()
        BLAS.prepareLibrary(threads: n)
        return WorkerPool(threadCount: n)
    }()

    /// Keeps freed tensor memory in the process instead of returning it to the kernel after every step.
    ///
    /// glibc serves blocks above its (adaptive) mmap threshold with fresh mappings and trims the heap top once
    /// 2× that threshold is free; either way the next step's tensors page-fault on first touch, which was
    /// measured to cost a fifth of a 2048×384×1152 GEMM. Fixed thresholds (32 MiB, glibc's maximum, and no trim
    /// below 2 GiB of free heap: a MoNA outer step frees ~1.4 GB at its end, which a 1 GiB threshold handed back
    /// and the next step faulted in again) make a training loop reuse warm pages. `MONA_MALLOC_TUNING=0` leaves
    /// glibc's defaults.
    private static func tuneAllocator() {
        #if canImport(Glibc)
        if let s = getenv("MONA_MALLOC_TUNING"), String(cString: s) == "0" { return }
        // <malloc.h> is not part of the Glibc module: look `mallopt` up (M_TRIM_THRESHOLD = -1,
        // M_MMAP_THRESHOLD = -3 in glibc's ABI).
        guard let handle = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(handle) }
        guard let symbol = dlsym(handle, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-3, 32 << 20)
        _ = mallopt(-1, Int32.max)
        #endif
    }
}

/// A persistent spin-then-sleep thread pool.
///
/// A job is published in one atomic word — generation (32 bits) | next chunk (16) | chunk count (16) — and
/// every participant claims chunks from it by compare-and-swap, so a worker that wakes late simply finds
/// fewer chunks left (the caller never waits for a worker that has not started). After a job, workers spin
/// on the word for `spinNanoseconds` (back-to-back kernels find them awake), then sleep on a condition
/// variable until the next job.
final class WorkerPool: @unchecked Sendable {
    private let state = Atomic<UInt64>(0)
    /// Chunks of the current job not finished yet.
    private let pending = Atomic<Int>(0)
    /// Set while a caller owns the pool (nested or concurrent callers then run inline).
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// Workers 0..<activeWorkers take part in jobs; the rest stay asleep.
    private let activeWorkers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    // The current job. Written by the owning caller before it publishes the job word (release) and read by
    // participants only after they claimed a chunk of that job (acquire), while the job is still running.
    private nonisolated(unsafe) var jobBody: UnsafeRawPointer?
    private nonisolated(unsafe) var jobCount = 0

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeup = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Guards `threads` and thread-count changes.
    private let configLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private nonisolated(unsafe) var threads: [pthread_t] = []

    /// How long an idle worker polls for the next job before sleeping.
    let spinNanoseconds: Int

    /// A pool using `threadCount` threads including the caller (so `threadCount − 1` workers).
    init(threadCount: Int, spinNanoseconds: Int = WorkerPool.defaultSpinNanoseconds) {
        self.spinNanoseconds = spinNanoseconds
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeup, nil)
        pthread_mutex_init(configLock, nil)
        self.threadCount = threadCount
    }

    /// `MONA_SPIN_US` (microseconds, default 50): long enough to bridge the serial gap between two kernels of
    /// a training step, short enough not to steal a core for long when the engine goes idle.
    static var defaultSpinNanoseconds: Int {
        if let s = getenv("MONA_SPIN_US"), let us = Int(String(cString: s)), us >= 0 { return us * 1000 }
        return 50_000
    }

    /// Threads taking part in jobs, including the caller (1…256).
    var threadCount: Int {
        get { activeWorkers.load(ordering: .relaxed) + 1 }
        set {
            let workers = min(max(newValue, 1), 256) - 1
            pthread_mutex_lock(configLock)
            while threads.count < workers { spawnWorker(index: threads.count) }
            activeWorkers.store(workers, ordering: .relaxed)
            pthread_mutex_unlock(configLock)
        }
    }

    /// Stops and joins the workers (for pools made by tests; the shared pool lives as long as the process).
    func shutdown() {
        pthread_mutex_lock(configLock)
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wakeup)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        threads = []
        activeWorkers.store(0, ordering: .relaxed)
        pthread_mutex_unlock(configLock)
    }

    // MARK: Jobs

    func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let threads = activeWorkers.load(ordering: .relaxed) + 1
        let work = count.multipliedReportingOverflow(by: max(costPerItem, 1))
        let total = work.overflow ? Int.max : work.partialValue
        if threads <= 1 || count < 2 || total < Parallel.minimumParallelWork {
            body(0..<count); return
        }
        // Up to 4 chunks per thread (≥ ~16k operations each) so that a late worker leaves less imbalance.
        let perThread = min(4, max(1, total / (threads * 16_384)))
        let chunks = min(count, threads * perThread, 0xFFFF)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            body(0..<count); return
        }
        withoutActuallyEscaping(body) { escapable in
            var fn = escapable
            withUnsafeMutablePointer(to: &fn) { p in
                run(body: UnsafeRawPointer(p), count: count, chunks: chunks)
            }
        }
        busy.store(false, ordering: .releasing)
    }

    private func run(body: UnsafeRawPointer, count: Int, chunks: Int) {
        jobBody = body
        jobCount = count
        pending.store(chunks, ordering: .relaxed)
        let generation = ((state.load(ordering: .relaxed) >> 32) &+ 1) & 0xFFFF_FFFF
        let word = (generation << 32) | UInt64(chunks)
        // Sequentially consistent with the workers' `sleepers` increment: either we see a sleeper and signal
        // it, or it sees this job before it waits.
        state.store(word, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wakeup)
            pthread_mutex_unlock(mutex)
        }
        participate(word)
        // Wait for chunks that workers claimed and are still running.
        var spins = 0
        while pending.load(ordering: .acquiring) != 0 {
            spins += 1
            if spins > 20_000 { sched_yield() }
        }
        jobBody = nil
    }

    /// Claims and runs chunks of the job published as `word` until none are left.
    private func participate(_ word: UInt64) {
        let generation = word >> 32
        var v = word
        while true {
            let next = Int((v >> 16) & 0xFFFF), chunks = Int(v & 0xFFFF)
            if v >> 32 != generation || next >= chunks { return }
            let (claimed, seen) = state.compareExchange(
                expected: v, desired: v + (1 << 16), successOrdering: .acquiringAndReleasing,
                failureOrdering: .acquiring)
            if !claimed { v = seen; continue }
            runChunk(next, of: chunks)
            pending.subtract(1, ordering: .releasing)
            v = state.load(ordering: .acquiring)
        }
    }

    // Not inlined so that the closure copy loaded here is released before the chunk is reported done.
    @inline(never)
    private func runChunk(_ c: Int, of chunks: Int) {
        let n = jobCount
        let lo = c * n / chunks, hi = (c + 1) * n / chunks
        guard lo < hi, let p = jobBody else { return }
        p.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee(lo..<hi)
    }

    // MARK: Workers

    private final class WorkerStart {
        let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
    }

    private func spawnWorker(index: Int) {
        let start = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
        #if canImport(Glibc)
        var tid = pthread_t()
        #else
        var tid: pthread_t?
        #endif
        #if canImport(Glibc)
        let rc = pthread_create(&tid, nil, { arg in WorkerPool.workerMain(arg!); return nil }, start)
        #else
        let rc = pthread_create(&tid, nil, { arg in WorkerPool.workerMain(arg); return nil }, start)
        #endif
        precondition(rc == 0, "Parallel: cannot start worker thread (pthread_create returned \(rc))")
        #if canImport(Glibc)
        threads.append(tid)
        #else
        threads.append(tid!)
        #endif
    }

    private static func workerMain(_ arg: UnsafeMutableRawPointer) {
        let s = Unmanaged<WorkerStart>.fromOpaque(arg).takeRetainedValue()
        s.pool.workerLoop(index: s.index)
    }

    private func workerLoop(index: Int) {
        var seen = state.load(ordering: .acquiring) >> 32
        while true {
            // Spin for the next job, then sleep.
            var v = state.load(ordering: .acquiring)
            if v >> 32 == seen {
                var clock = monotonicNanoseconds()
                let deadline = clock + spinNanoseconds
                var polls = 0
                while v >> 32 == seen {
                    polls += 1
                    if polls & 63 == 0 {
                        if stopping.load(ordering: .relaxed) { return }
                        // Past the window, or descheduled in it (the machine is oversubscribed: spinning only
                        // burns the time slice, while a sleeper gets woken promptly), so sleep.
                        let now = monotonicNanoseconds()
                        if now > deadline || now - clock > 20_000 { break }
                        clock = now
                    }
                    v = state.load(ordering: .acquiring)
                }
                if v >> 32 == seen {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    v = state.load(ordering: .sequentiallyConsistent)
                    while v >> 32 == seen && !stopping.load(ordering: .relaxed) {
                        pthread_cond_wait(wakeup, mutex)
                        v = state.load(ordering: .acquiring)
                    }
                    sleepers.subtract(1, ordering: .relaxed)
                    pthread_mutex_unlock(mutex)
                }
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = v >> 32
            if index < activeWorkers.load(ordering: .relaxed) { participate(v) }
        }
    }
}

@inline(__always) func monotonicNanoseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Carries a non-Sendable value into worker threads whose accesses are disjoint by construction.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
