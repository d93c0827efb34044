import CKernelRef
import Dispatch
import MonaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-op parallelism: one compute-bound elementwise pass (y = eˣ over `count` floats, the C reference loop)
/// split over 2 chunks by the engine's pool and by `DispatchQueue.concurrentPerform`, back to back (a worker
/// is still spinning) and after an idle gap (workers asleep: the figure includes their wake-up).
struct RuntimeResult {
    let count: Int
    let idleMicroseconds: Int
    let serial: Double, pool: Double, dispatch: Double
}

func benchRuntime(count: Int, idleMicroseconds: Int, budget: BenchBudget) -> RuntimeResult {
    let x = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { x.deallocate(); y.deallocate() }
    for i in 0..<count { x[i] = Float(i % 13) * 0.5 - 3 }
    y.initialize(repeating: 0, count: count)
    let box = PointerBox(x: x, y: y)

    func pause() { if idleMicroseconds > 0 { usleep(UInt32(idleMicroseconds)) } }
    let serial = budget.best(untimed: pause) { ref_exp(x, y, 0, count) }
    Engine.setThreadCount(2)
    let pool = budget.best(untimed: pause) {
        Parallel.forEachChunk(2, costPerItem: count) { r in
            for c in r { ref_exp(box.x, box.y, c * count / 2, (c + 1) * count / 2) }
        }
    }
    let dispatch = budget.best(untimed: pause) {
        DispatchQueue.concurrentPerform(iterations: 2) { c in
            ref_exp(box.x, box.y, c * count / 2, (c + 1) * count / 2)
        }
    }
    return RuntimeResult(count: count, idleMicroseconds: idleMicroseconds, serial: serial, pool: pool,
                         dispatch: dispatch)
}

/// Shares raw buffers with Dispatch's worker closures (each chunk touches a disjoint range).
struct PointerBox: @unchecked Sendable {
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
}
