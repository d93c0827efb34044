import Dispatch

/// Splits index ranges over the engine's worker threads.
///
/// Placeholder implementation on Dispatch; replaced by a persistent spin-then-sleep pool.
public enum Parallel {
    /// Number of threads kernels may use (`MONA_THREADS`, default: all cores).
    public nonisolated(unsafe) static var threadCount: Int = 1

    /// Calls `body` on disjoint chunks covering `0..<count`. Runs inline when the work is small
    /// (`count * costPerItem` below ~32k elementary operations) or when one thread is configured.
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1,
                                               _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let threads = threadCount
        if threads <= 1 || count * costPerItem < 32_768 || count < 2 { body(0..<count); return }
        let chunks = min(threads, count)
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * count / chunks, hi = (c + 1) * count / chunks
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

/// Carries a non-Sendable value into worker threads whose accesses are disjoint by construction.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
