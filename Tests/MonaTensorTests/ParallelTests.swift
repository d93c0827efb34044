import Dispatch
import Synchronization
import Testing
@testable import MonaTensor

/// Counts how often each index of `0..<count` was visited (chunks are disjoint, so plain writes suffice;
/// overlapping chunks would show up as counts of 2).
private final class Visits: @unchecked Sendable {
    let counts: UnsafeMutablePointer<UInt8>
    let count: Int
    init(_ count: Int) {
        self.count = count
        counts = .allocate(capacity: max(count, 1))
        counts.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { counts.deallocate() }
    func visit(_ r: Range<Int>) { for i in r { counts[i] &+= 1 } }
    var allOnce: Bool { (0..<count).allSatisfy { counts[$0] == 1 } }
}

// Serialized: two tests change the engine's global thread count, which the others in this suite read.
@Suite(.serialized) struct ParallelTests {
    static let sizes = [0, 1, 2, 3, 7, 8, 100, 1000, 32_767, 32_768, 65_537, 1_000_003]

    @Test(arguments: [1, 2, 3, 4])
    func poolCoversEveryIndexOnce(threads: Int) {
        let pool = WorkerPool(threadCount: threads, spinNanoseconds: 20_000)
        defer { pool.shutdown() }
        for n in Self.sizes {
            for cost in [1, 64, 100_000] {
                let v = Visits(n)
                pool.forEachChunk(n, costPerItem: cost) { v.visit($0) }
                #expect(v.allOnce, "threads \(threads), count \(n), cost \(cost)")
            }
        }
    }

    @Test(arguments: [0, 20_000])
    func manyBackToBackJobsComputeExactSums(spinNanoseconds: Int) {
        // spin 0: every job has to wake a sleeping worker; 20 µs: workers mostly catch jobs while spinning.
        let pool = WorkerPool(threadCount: 2, spinNanoseconds: spinNanoseconds)
        defer { pool.shutdown() }
        let n = 4096
        let data = UnsafeMutablePointer<Int>.allocate(capacity: n)
        defer { data.deallocate() }
        let box = UncheckedBox(data)
        for job in 0..<3000 {
            pool.forEachChunk(n, costPerItem: 64) { r in for i in r { box.value[i] = i &* job } }
            var ok = true
            for i in 0..<n where data[i] != i &* job { ok = false }
            if !ok { Issue.record("job \(job): wrong result"); return }
        }
    }

    @Test func nestedCallsRunInlineWithoutDeadlock() {
        let outer = 64, inner = 50_000
        let v = Visits(outer * inner)
        Parallel.forEachChunk(outer, costPerItem: inner) { r in
            for o in r {
                Parallel.forEachChunk(inner) { ir in v.visit((o * inner + ir.lowerBound)..<(o * inner + ir.upperBound)) }
            }
        }
        #expect(v.allOnce)

        // The same on a private pool, three levels deep.
        let pool = WorkerPool(threadCount: 2, spinNanoseconds: 0)
        defer { pool.shutdown() }
        let w = Visits(8 * 8 * 4096)
        pool.forEachChunk(8, costPerItem: 1 << 20) { r in
            for a in r {
                pool.forEachChunk(8, costPerItem: 1 << 16) { r2 in
                    for b in r2 {
                        let base = (a * 8 + b) * 4096
                        pool.forEachChunk(4096, costPerItem: 16) { r3 in
                            w.visit((base + r3.lowerBound)..<(base + r3.upperBound))
                        }
                    }
                }
            }
        }
        #expect(w.allOnce)
    }

    @Test func concurrentCallersShareThePool() {
        let results = Mutex<[Bool]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { k in
            var ok = true
            for rep in 0..<50 {
                let n = 10_000 + 997 * k + rep
                let v = Visits(n)
                Parallel.forEachChunk(n, costPerItem: 16) { v.visit($0) }
                ok = ok && v.allOnce
            }
            results.withLock { $0.append(ok) }
        }
        #expect(results.withLock { $0 } == Array(repeating: true, count: 6))
    }

    @Test func threadCountChangesKeepResultsExact() {
        let pool = WorkerPool(threadCount: 1, spinNanoseconds: 10_000)
        defer { pool.shutdown() }
        #expect(pool.threadCount == 1)
        for t in [2, 1, 3, 2, 1, 2] {
            pool.threadCount = t
            #expect(pool.threadCount == t)
            let v = Visits(200_000)
            pool.forEachChunk(200_000) { v.visit($0) }
            #expect(v.allOnce, "threads \(t)")
        }
    }

    /// Engine results at 1 and 2 threads: the engine's kernels split work, never change it, so their results are
    /// bit-identical; BLAS products agree to rounding.
    @Test func engineOpsMatchAtOneAndTwoThreads() {
        let before = Engine.threadCount
        defer { Engine.setThreadCount(before) }
        let a = rand([300, 257], seed: 3), b = rand([257], seed: 4)
        let qa = rand([16, 32, 24], seed: 5), qb = rand([16, 40, 24], seed: 6)
        var outputs: [[Tensor]] = []
        for t in [1, 2] {
            Engine.setThreadCount(t)
            #expect(Engine.threadCount == t && Parallel.threadCount == t)
            let add = a + b
            let rows = (a * a).sum(alongAxis: 1)
            let cols = a.sum(alongAxis: 0)
            let big = Tensor.matmul(rand([96, 200], seed: 7), rand([200, 150], seed: 8))
            let batched = Tensor.matmul(qa, qb, transposeB: true)   // [16, 32, 40]
            outputs.append([add, rows, cols, big, batched])
        }
        // The engine's own kernels (add, sums) split work without changing it: bit-identical. The products go
        // through OpenBLAS, whose kernel choice may depend on the thread count (seen on an AVX-512 Xeon: the
        // batched product differs in the last bit), so they are compared to a tight relative tolerance.
        for (x, y) in zip(outputs[0].prefix(3), outputs[1].prefix(3)) { #expect(x.scalars == y.scalars) }
        for (x, y) in zip(outputs[0].suffix(2), outputs[1].suffix(2)) {
            let worst = zip(x.scalars, y.scalars).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
            #expect(worst <= 1e-5)
        }
    }

    /// The batched product split over the pool (BLAS single-threaded inside) against a Double reference.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func batchedMatmulSplitOverPool(_ flags: (Bool, Bool)) {
        let before = Engine.threadCount
        defer { Engine.setThreadCount(before) }
        Engine.setThreadCount(2)
        let (ta, tb) = flags
        let (batch, m, k, n) = (12, 33, 40, 29)
        #expect(splitsBatchOverPool(batch: batch, m: m, n: n, k: k))
        let a = rand([batch] + (ta ? [k, m] : [m, k]), seed: 9)
        let b = rand([batch] + (tb ? [n, k] : [k, n]), seed: 10)
        let c = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
        #expect(c.shape == [batch, m, n])
        var worst = 0.0
        for p in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for q in 0..<k {
                        let x = ta ? a[p, q, i] : a[p, i, q]
                        let y = tb ? b[p, j, q] : b[p, q, j]
                        s += Double(x) * Double(y)
                    }
                    worst = max(worst, abs(s - Double(c[p, i, j])))
                }
            }
        }
        #expect(worst < 1e-4)
        // Gradients go through the same path.
        let ga = gradients(of: Tensor.matmul(a.requiringGradient(), b, transposeA: ta, transposeB: tb).sum(),
                           wrt: [a])
        #expect(ga[0].shape == a.shape)
    }

    @Test func blasFollowsTheEngineThreadCount() {
        let before = Engine.threadCount
        defer { Engine.setThreadCount(before) }
        for t in [1, 2, 1] {
            Engine.setThreadCount(t)
            #expect(BLAS.configuredThreads.load(ordering: .relaxed) == t)
        }
    }

    /// OpenBLAS 0.3.21 falls back to SSE3 "Prescott" kernels on CPUs it does not know; the engine re-selects.
    @Test func blasKernelsMatchTheCPU() {
        #if arch(x86_64) && os(Linux)
        guard let flags = BLAS.cpuFlags(), flags.contains("avx2") else { return }
        #expect(BLAS.coreName.lowercased() != "prescott", "BLAS core \(BLAS.coreName) on an AVX2 CPU")
        #endif
    }

    /// Threaded GEMMs of different transpose variants from several application threads at once (OpenBLAS 0.3.21
    /// corrupts such overlapping calls unless they are serialised) and batched products split over the pool.
    @Test func concurrentMatmulsFromSeveralThreadsAreExact() {
        let before = Engine.threadCount
        defer { Engine.setThreadCount(before) }
        Engine.setThreadCount(2)
        let flags = [(false, false), (false, true), (true, false), (true, true)]
        let a = rand([160, 160], seed: 31), b = rand([160, 160], seed: 32)
        let qa = rand([8, 64, 48], seed: 33), qb = rand([8, 64, 48], seed: 34)
        let expected = flags.map { Tensor.matmul(a, b, transposeA: $0.0, transposeB: $0.1).scalars }
        let expectedBatched = Tensor.matmul(qa, qb, transposeB: true).scalars
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 5) { k in
            for _ in 0..<40 {
                if k == 4 {
                    if Tensor.matmul(qa, qb, transposeB: true).scalars != expectedBatched { failures.withLock { $0 += 1 } }
                } else {
                    let (ta, tb) = flags[k]
                    if Tensor.matmul(a, b, transposeA: ta, transposeB: tb).scalars != expected[k] {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test func smallBatchesStaySerial() {
        #expect(!splitsBatchOverPool(batch: 1, m: 512, n: 512, k: 512))
        #expect(!splitsBatchOverPool(batch: 4, m: 2, n: 2, k: 2))
    }
}
