import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// On Linux a nice value belongs to a thread, and a child process inherits the value of the thread that spawns it.
/// `nice mona bench --jobs 2` sets it on the main thread only, while Dispatch's worker threads start at the
/// process default — so children spawned from them ran un-niced. The bench reads the value once on the thread
/// that starts it and gives it to each worker before it spawns.
enum ThreadNiceness {
    /// The calling thread's nice value (0 where it cannot be read).
    static func current() -> Int32 {
        #if os(Linux)
        errno = 0
        let n = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? n : 0
        #else
        return 0
        #endif
    }

    /// Raises the calling thread's nice value to `value` when it is lower (lowering needs privileges and is
    /// never what a niced bench asked for); failures are ignored: the runs are then only less polite.
    static func raise(to value: Int32) {
        #if os(Linux)
        if current() < value { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, value) }
        #endif
    }
}
