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
/// <run>/preprocessing.json how `mona predict` reads new files (tasks read through a task spec)
/// <run>/run.lock           locked (flock) while a process writes the run
/// <run>/.mona-run          marker: mona created the directory (existing folders without it are refused)
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
        if exists { try RunDirectory.checkOwned(self.url) }
        for directory in [self.url, checkpoints, plots] {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw RunError(file: directory.path, "cannot create the directory (\(describe(error)))")
            }
        }
        try RunDirectory.mark(self.url)
    }

    // MARK: Ownership

    /// The marker file that says `mona` created (or was allowed to use) a directory.
    public static let markerName = ".mona-run"

    /// What `mona` writes at the top of a run directory: an existing folder holding any of these is only used
    /// when it is already a run.
    public static let ownedNames = ["config.yaml", "metrics.jsonl", "checkpoints", "plots", "report.md",
                                    "predictions.csv", "predictions.npy", "timings.json", "run.lock",
                                    "preprocessing.json"]

    /// Refuses an existing directory that `mona` did not create: it must be empty, carry the marker, or be a run
    /// written before markers existed (config.yaml and checkpoints/), so a user's own files are never overwritten.
    static func checkOwned(_ url: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: url.appendingPathComponent(markerName).path) { return }
        let entries: [String]
        do {
            entries = try fm.contentsOfDirectory(atPath: url.path)
        } catch {
            throw RunError(file: url.path, "cannot list the directory (\(describe(error)))")
        }
        if entries.isEmpty { return }
        let legacyRun = entries.contains("config.yaml") && entries.contains("checkpoints")
        if legacyRun { return }
        throw RunError(file: url.path, "exists and is not a mona run directory (no \(markerName) marker); choose a new "
                       + "output directory, or pass --force to use it (files mona did not write are kept)", exitCode: 2)
    }

    /// Lets `mona` use an existing folder that is not a run (`--force`): allowed only when none of the names a run
    /// writes is taken, so that nothing the user put there is overwritten.
    public static func adopt(_ url: URL) throws {
        let fm = FileManager.default
        let url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw RunError(file: url.path, "is a file, not a run directory", exitCode: 2) }
        if fm.fileExists(atPath: url.appendingPathComponent(markerName).path) { return }
        let taken = ownedNames.filter { fm.fileExists(atPath: url.appendingPathComponent($0).path) }
        guard taken.isEmpty else {
            throw RunError(file: url.path, "--force: the folder already holds \(taken.joined(separator: ", ")), which a run "
                           + "would overwrite; move them or choose another output directory", exitCode: 2)
        }
        try mark(url)
    }

    static func mark(_ url: URL) throws {
        let marker = url.appendingPathComponent(markerName)
        if FileManager.default.fileExists(atPath: marker.path) { return }
        try AtomicFile.write("mona run directory\n", to: marker)
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
    /// The lock is an advisory `flock` on `run.lock` (see `FolderLock`), which also records `pid host` for the
    /// error message. Locking again from the same process succeeds; `unlock()` releases it early.
    public func lock() throws {
        try FolderLock.lock(lockFile, what: url.path, advice: "wait for that run to finish or choose another run directory")
    }

    /// Releases this process's lock on the directory (no effect if it does not hold one).
    public func unlock() { FolderLock.unlock(lockFile) }

    /// Whether some process (this one included) holds the directory's lock.
    public var isLocked: Bool { FolderLock.isLocked(lockFile) }
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
