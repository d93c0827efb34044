import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory a run writes everything into:
///
/// ```
/// <run>/config.yaml        resolved configuration
/// <run>/metrics.jsonl      one JSON object per logged step or evaluation
/// <run>/checkpoints/       best/, last/, aligned/: model.safetensors, model.json, state.json (+ optimizer)
/// <run>/timings.json       wall-clock seconds per phase
/// <run>/plots/             SVG plots
/// <run>/report.md          Markdown report
/// <run>/predictions.csv    test-set predictions
/// <run>/run.lock           locked (flock) while a process writes the run
/// ```
public struct RunDirectory: Sendable {
    public let url: URL

    /// - Parameter create: create the directory (with `checkpoints/` and `plots/`) if missing; when false, a
    ///   missing directory is an error (e.g. evaluating an existing run).
    public init(_ url: URL, create: Bool = true) throws {
        self.url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: self.url.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw RunError(file: self.url.path, "is a file, not a run directory")
        }
        if !create {
            guard exists else { throw RunError(file: self.url.path, "no such run directory") }
            return
        }
        for directory in [self.url, checkpoints, plots] {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw RunError(file: directory.path, "cannot create the directory (\(describe(error)))")
            }
        }
    }

    public var config: URL { url.appendingPathComponent("config.yaml") }
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints", isDirectory: true) }
    public var plots: URL { url.appendingPathComponent("plots", isDirectory: true) }
    public var report: URL { url.appendingPathComponent("report.md") }
    public var predictions: URL { url.appendingPathComponent("predictions.csv") }
    /// `checkpoints/best/` (the best-validation weights: model.safetensors, model.json, state.json).
    public var bestCheckpoint: URL { checkpoints.appendingPathComponent("best", isDirectory: true) }
    /// `checkpoints/last/` (the latest weights, with optimizer.safetensors, for `--resume`).
    public var lastCheckpoint: URL { checkpoints.appendingPathComponent("last", isDirectory: true) }
    /// `checkpoints/<name>` (e.g. `state.json`).
    public func checkpoint(_ name: String) -> URL { checkpoints.appendingPathComponent(name) }
    /// `plots/<name>` (e.g. `loss.svg`).
    public func plot(_ name: String) -> URL { plots.appendingPathComponent(name) }
    /// The lock file `lock()` creates.
    public var lockFile: URL { url.appendingPathComponent("run.lock") }

    /// Claims the directory for this process, refusing if another live process holds it.
    ///
    /// The lock is an advisory `flock` on `run.lock`, which also records `pid host` for the error message. The
    /// operating system releases it when the process exits or crashes, so a lock file left behind is stale by
    /// construction and is simply taken over. Locking again from the same process succeeds (the lock belongs
    /// to the process, not to this value); `unlock()` releases it early.
    public func lock() throws {
        let path = lockFile.path
        try RunLocks.shared.withHeld { held in
            if held[path] != nil { return }
            for _ in 0..<5 {
                let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw RunError(file: path, "cannot create the lock file (\(POSIX.lastError))") }
                if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    let code = errno
                    close(fd)
                    guard code == EWOULDBLOCK else {
                        throw RunError(file: path, "cannot lock the run directory (\(String(cString: strerror(code))))")
                    }
                    let holder = RunDirectory.readLock(path).map { "process \($0.pid) on \($0.host)" } ?? "another process"
                    throw RunError(
                        "\(url.path) is in use by \(holder); wait for that run to finish or choose another run directory")
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

    /// Releases this process's lock on the directory (no effect if it does not hold one).
    public func unlock() {
        let path = lockFile.path
        RunLocks.shared.withHeld { held in
            guard let fd = held.removeValue(forKey: path) else { return }
            unlink(path)  // before closing, so a waiting process re-checks the inode and retries
            close(fd)
        }
    }

    /// Whether some process (this one included) holds the directory's lock.
    public var isLocked: Bool {
        let path = lockFile.path
        if RunLocks.shared.withHeld({ $0[path] != nil }) { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        _ = flock(fd, LOCK_UN)
        return false
    }

    private static func readLock(_ path: String) -> (pid: Int32, host: String)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let pid = Int32(parts[0]) else { return nil }
        return (pid, String(parts[1]))
    }
}

/// The lock files this process holds: path → open descriptor (closing it would release the lock).
final class RunLocks: @unchecked Sendable {
    static let shared = RunLocks()
    private let mutex = NSLock()
    private var held: [String: Int32] = [:]

    func withHeld<T>(_ body: (inout [String: Int32]) throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&held)
    }
}
