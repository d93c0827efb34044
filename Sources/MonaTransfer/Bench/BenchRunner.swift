import Foundation
import MonaFormats
import MonaRunKit

/// What happened to one run of a bench invocation.
public struct BenchRunOutcome: Sendable {
    public enum Status: String, Sendable {
        /// Already finished with the same configuration: not run again.
        case skipped
        /// Ran to completion now (fresh, or resumed from its checkpoints).
        case finished
        case failed
    }

    public var run: BenchRun
    public var directory: URL
    public var status: Status
    /// Whether this invocation continued an interrupted run from its checkpoints.
    public var resumed = false
    public var seconds: Double = 0
    /// Why it failed (one line).
    public var error: String?
}

/// Runs a suite: one `mona fit` run directory per (task, method, seed) under `<output>/runs/…`, in this
/// process or in `jobs` child processes of the `mona` executable, skipping finished runs and resuming
/// interrupted ones.
///
/// * finished = `metrics.jsonl` holds the test record (`split: test`, `test_<metric>`) and the saved
///   `config.yaml` equals the configuration the suite asks for. A finished run with a different configuration
///   (a changed budget) is stale: it is deleted and run again.
/// * interrupted = checkpoints exist but no test record: continued with `fit --resume` (bit-identical to an
///   uninterrupted run); if resuming fails, the directory is cleared and the run restarts.
/// * a task name the catalog does not know fails its runs with "unknown task" without starting anything.
public final class BenchRunner: @unchecked Sendable {  // configured before `run()`, then only read
    public let suite: BenchSuite
    public let output: URL
    public let assets: AssetRegistry
    /// Concurrent runs (> 1 needs `executable`).
    public let jobs: Int
    /// The `mona` executable to spawn with `fit` arguments (nil: run in this process, one at a time).
    public let executable: URL?
    /// Kernel threads per child (`MONA_THREADS`); default: cores / jobs, at least 1.
    public var threadsPerJob: Int
    /// Called once per finished, skipped or failed run (from worker threads, serialised).
    public var onOutcome: (@Sendable (BenchRunOutcome, _ done: Int, _ total: Int) -> Void)?

    public init(suite: BenchSuite, output: URL, assets: AssetRegistry = AssetRegistry(), jobs: Int = 1,
                executable: URL? = nil) {
        self.suite = suite
        self.output = output
        self.assets = assets
        self.jobs = max(1, jobs)
        self.executable = executable
        threadsPerJob = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, jobs))
    }

    public func directory(of run: BenchRun) -> URL { output.appendingPathComponent(run.relativePath, isDirectory: true) }

    /// Whether `name` is a known task or an existing data path.
    public static func taskExists(_ name: String) -> Bool {
        TaskCatalog.known.contains { $0.name == name.lowercased() } || FileManager.default.fileExists(atPath: name)
    }

    /// Whether the run directory holds a finished run of `config`.
    public static func isFinished(_ directory: URL, config: FitConfig) -> Bool {
        guard BenchRunRecord.testRecord(in: directory) != nil else { return false }
        return savedConfigMatches(directory, config)
    }

    static func savedConfigMatches(_ directory: URL, _ config: FitConfig) -> Bool {
        let file = directory.appendingPathComponent("config.yaml")
        guard let pairs = try? ConfigFile.load(file), var saved = try? FitConfig(pairs: pairs) else { return false }
        var mine = config
        mine.output = nil
        saved.output = nil
        return mine == saved
    }

    static func hasCheckpoints(_ directory: URL) -> Bool {
        let store = CheckpointStore(directory: directory.appendingPathComponent("checkpoints", isDirectory: true))
        return store.exists("last") || store.exists("aligned") || store.exists("best")
    }

    /// Runs every run of the suite that is not finished; returns one outcome per run, in suite order.
    @discardableResult
    public func run() throws -> [BenchRunOutcome] {
        precondition(jobs == 1 || executable != nil, "BenchRunner: \(jobs) jobs need the executable to spawn")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let runs = suite.runs
        let state = SharedProgress(total: runs.count)
        var outcomes = [BenchRunOutcome?](repeating: nil, count: runs.count)
        var pending: [Int] = []
        let report = onOutcome
        for (i, run) in runs.enumerated() {
            let dir = directory(of: run)
            if !BenchRunner.taskExists(run.task.name) {
                let known = TaskCatalog.known.map(\.name).joined(separator: ", ")
                let o = BenchRunOutcome(run: run, directory: dir, status: .failed,
                                        error: "unknown task '\(run.task.name)' (known: \(known))")
                outcomes[i] = o
                state.finish(o, report)
            } else if BenchRunner.isFinished(dir, config: suite.config(task: run.task, method: run.method, seed: run.seed)) {
                let o = BenchRunOutcome(run: run, directory: dir, status: .skipped)
                outcomes[i] = o
                state.finish(o, report)
            } else {
                pending.append(i)
            }
        }
        let results = ResultSlots(count: runs.count)
        let queue = WorkQueue(pending)
        let workers = min(jobs, max(pending.count, 1))
        let body: @Sendable (Int) -> Void = { [self] _ in
            while let i = queue.next() {
                let o = self.execute(runs[i])
                results.set(i, o)
                state.finish(o, report)
            }
        }
        if workers == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
        for i in pending { outcomes[i] = results.get(i) }
        return outcomes.map { $0! }
    }

    /// Runs one run now: resumes it when it was interrupted, restarts it when its directory is stale.
    func execute(_ run: BenchRun) -> BenchRunOutcome {
        let dir = directory(of: run)
        let config = suite.config(task: run.task, method: run.method, seed: run.seed)
        let started = Date()
        var outcome = BenchRunOutcome(run: run, directory: dir, status: .finished)
        let fm = FileManager.default
        var resume = false
        if fm.fileExists(atPath: dir.path) {
            if BenchRunner.hasCheckpoints(dir) && BenchRunner.savedConfigMatches(dir, config) {
                resume = true
            } else {
                try? fm.removeItem(at: dir)   // stale or barely started: start over
            }
        }
        var error = attempt(run, config: config, directory: dir, resume: resume)
        if error != nil && resume {
            try? fm.removeItem(at: dir)
            error = attempt(run, config: config, directory: dir, resume: false)
            resume = false
        }
        outcome.resumed = resume
        outcome.seconds = Date().timeIntervalSince(started)
        if let error {
            outcome.status = .failed
            outcome.error = error
        } else if BenchRunRecord.testRecord(in: dir) == nil {
            outcome.status = .failed
            outcome.error = "the run ended without a test record in \(dir.path)/metrics.jsonl"
        }
        return outcome
    }

    /// One fit, in process or as a child; nil on success, else the error line.
    func attempt(_ run: BenchRun, config: FitConfig, directory: URL, resume: Bool) -> String? {
        guard let executable else {
            do {
                _ = try FitPipeline(config: config, runDirectory: directory, assets: assets, mode: .quiet).fit(resume: resume)
                return nil
            } catch {
                return "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; ")
            }
        }
        do {
            let configs = output.appendingPathComponent("configs", isDirectory: true)
            let logs = output.appendingPathComponent("logs", isDirectory: true)
            try FileManager.default.createDirectory(at: configs, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let stem = "\(BenchRun.pathComponent(run.task.name))-\(run.method)-seed\(run.seed)"
            let configFile = configs.appendingPathComponent(stem + ".yaml")
            try ConfigFile.write(try config.pairs(), to: configFile)
            let logFile = logs.appendingPathComponent(stem + ".log")
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let log = try FileHandle(forWritingTo: logFile)
            defer { try? log.close() }
            let process = Process()
            process.executableURL = executable
            process.arguments = ["fit", "--config", configFile.path, "--output", directory.path, "--quiet"]
                + (resume ? ["--resume"] : [])
            var environment = ProcessInfo.processInfo.environment
            environment["MONA_THREADS"] = String(threadsPerJob)
            environment["MONA_ASSETS"] = assets.root.path
            process.environment = environment
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                let last = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
                let why = process.terminationReason == .uncaughtSignal
                    ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
                return "mona fit: \(why)\(last.isEmpty ? "" : ": " + last) (log: \(logFile.path))"
            }
            return nil
        } catch {
            return "cannot run \(executable.path): \(error)"
        }
    }
}

// MARK: - Thread-safe helpers

private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int]
    init(_ items: [Int]) { self.items = items }
    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return items.isEmpty ? nil : items.removeFirst()
    }
}

private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [BenchRunOutcome?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ o: BenchRunOutcome) { lock.lock(); slots[i] = o; lock.unlock() }
    func get(_ i: Int) -> BenchRunOutcome? { lock.lock(); defer { lock.unlock() }; return slots[i] }
}

private final class SharedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    let total: Int
    init(total: Int) { self.total = total }
    func finish(_ o: BenchRunOutcome, _ report: (@Sendable (BenchRunOutcome, Int, Int) -> Void)?) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        report?(o, done, total)
    }
}
