import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive claim on a folder by one process: an advisory `flock` on a lock file in it, which also records
/// `pid host` so that a second process can name the holder. The operating system releases the lock when the
/// process exits or crashes, so a lock file left behind is stale by construction and is simply taken over.
/// Locking again from the same process succeeds (the lock belongs to the process, not to a value).
///
/// Run directories lock `run.lock` (`RunDirectory.lock()`); `mona bench` locks `bench.lock` in its folder so two
/// benchmarks never write the same runs and tables.
public enum FolderLock {
    /// Locks `file` (created if missing); `what` names the folder and `advice` says what to do in the error a
    /// second process gets.
    public static func lock(_ file: URL, what: String, advice: String) throws {
        let path = file.path
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try RunLocks.shared.withHeld { held in
            if held[path] != nil { return }
            for _ in 0..<5 {
                let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw RunError(file: path, "cannot create the lock file (\(POSIX.lastError))") }
                if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    let code = errno
                    close(fd)
                    guard code == EWOULDBLOCK else {
                        throw RunError(file: path, "cannot lock \(what) (\(String(cString: strerror(code))))")
                    }
                    let holder = holderOf(path).map { "process \($0.pid) on \($0.host)" } ?? "another process"
                    throw RunError("\(what) is in use by \(holder); \(advice)")
                }
                // A holder that was releasing may have unlinked the file between our open and flock: then we
                // locked an orphan inode and must start over on the new file.
                var opened = stat(), current = stat()
                guard fstat(fd, &opened) == 0, stat(path, &current) == 0,
                      opened.st_ino == current.st_ino, opened.st_dev == current.st_dev
                else {
                    close(fd)
                    continue
                }
                let record = Array("\(POSIX.processID) \(POSIX.hostName)\n".utf8)
                _ = ftruncate(fd, 0)
                _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                held[path] = fd
                return
            }
            throw RunError(file: path, "cannot claim the lock file (it keeps being replaced)")
        }
    }

    /// Releases this process's lock on `file` (no effect if it does not hold one).
    public static func unlock(_ file: URL) {
        let path = file.path
        RunLocks.shared.withHeld { held in
            guard let fd = held.removeValue(forKey: path) else { return }
            unlink(path)  // before closing, so a waiting process re-checks the inode and retries
            close(fd)
        }
    }

    /// Whether some process (this one included) holds the lock on `file`.
    public static func isLocked(_ file: URL) -> Bool {
        let path = file.path
        if RunLocks.shared.withHeld({ $0[path] != nil }) { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        _ = flock(fd, LOCK_UN)
        return false
    }

    private static func holderOf(_ path: String) -> (pid: Int32, host: String)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let pid = Int32(parts[0]) else { return nil }
        return (pid, String(parts[1]))
    }
}
