import Foundation
import MonaFormats
import MonaRunKit
import MonaTransfer

/// Runs a suite: one `mona fit` run directory per (task, method, seed) under `<output>/runs/…`, in this
/// process or in `jobs` child processes of the `mona` executable, skipping finished cells and resuming
/// interrupted ones.
///
/// * finished = the run's record (`<run>/record/`, `BenchRecordManifest`) is complete and its `config.yaml`
///   decodes to the configuration the suite asks for. The record alone decides, so records copied from another
///   machine (no checkpoints, no logs) continue the same suite there. A record of another configuration (a
///   changed budget) is stale: the run directory is deleted and the cell runs again.
/// * A run that finished before records existed (test record in `metrics.jsonl`, same `config.yaml`) gets its
///   record written and counts as finished.
/// * interrupted = checkpoints exist but no record: continued with `fit --resume` (bit-identical to an
///   uninterrupted run); if resuming fails, the directory is cleared and the run restarts.
/// * Once a run's record is written, its checkpoints are deleted (a run directory's best/last/aligned weights
///   are ≈ 100–300 MB), unless `keepCheckpoints`.
/// * a task name the catalog does not know, or an `expert` cell whose family method is not registered, fails
///   its runs with one line without starting anything.
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
    /// Keep `checkpoints/` of finished runs (default: deleted once the record is written).
    public var keepCheckpoints = false
    /// Without `keepCheckpoints`, fine-tuning writes its resume checkpoint at most this often (seconds) and no
    /// final weights: they would be deleted right after the record. A run shorter than this writes only the
    /// aligned checkpoint of its alignment stages; an interrupted one resumes from its last write.
    public var checkpointInterval: Double = 600
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

    public func config(of run: BenchRun) -> FitConfig { suite.config(task: run.task, method: run.method, seed: run.seed) }

    /// What the bench folder holds for one cell.
    public enum CellState: Equatable, Sendable {
        /// A complete record of this configuration.
        case finished
        /// A finished run without a record (written before records existed): record it, then it is finished.
        case finishedUnrecorded
        /// A record, run or checkpoints of another configuration, or a partial record: run again from scratch.
        case stale
        /// Checkpoints of this configuration and no record: resume.
        case interrupted
        /// Nothing there.
        case empty
    }

    /// The state of `run`'s directory with respect to the configuration the suite asks for.
    public func state(of run: BenchRun) -> CellState {
        let dir = directory(of: run)
        let config = config(of: run)
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir.path) else { return .empty }
        if BenchRecordManifest.read(runDirectory: dir) != nil {
            return BenchRecordManifest.matches(runDirectory: dir, config: config) ? .finished : .stale
        }
        let recordFolder = BenchRecordManifest.folder(in: dir)
        let matches = BenchRunner.savedConfigMatches(dir, config)
        // A partial record (copy interrupted) with the run itself present falls through to the run's own files.
        if BenchRunRecord.testRecord(in: dir) != nil && matches { return .finishedUnrecorded }
        if fm.fileExists(atPath: recordFolder.path) { return .stale }
        if BenchRunner.hasCheckpoints(dir) && matches { return .interrupted }
        return .stale
    }

    static func savedConfigMatches(_ directory: URL, _ config: FitConfig) -> Bool {
        let file = directory.appendingPathComponent("config.yaml")
        guard let pairs = try? ConfigFile.load(file), var saved = try? FitConfig.saved(pairs: pairs) else { return false }
        var mine = config
        mine.output = nil
        saved.output = nil
        return mine == saved
    }

    static func hasCheckpoints(_ directory: URL) -> Bool {
        let store = CheckpointStore(directory: directory.appendingPathComponent("checkpoints", isDirectory: true))
        return store.exists("last") || store.exists("aligned") || store.exists("best")
    }

    /// Why `run` cannot start at all (unknown task, expert method missing), or nil.
    func preflightError(_ run: BenchRun) -> String? {
        if !BenchSuite.taskExists(run.task.name) {
            let known = TaskCatalog.allNames.joined(separator: ", ")
            return "unknown task '\(run.task.name)' (known: \(known))"
        }
        guard let method = suite.resolvedMethod(task: run.task, method: run.method) else {
            return "task '\(run.task.name)' has no expert baseline (family: \(run.task.family ?? "none"))"
        }
        if !MethodCatalog.names.contains(where: { $0.name == method }) {
            let role = run.method == BenchSuite.expertColumn ? " (expert baseline of \(run.task.family ?? "?") tasks)" : ""
            return "method '\(method)'\(role) is not registered in this build"
        }
        return nil
    }

    /// Writes the record of a finished run and, unless kept, deletes its checkpoints.
    func record(_ run: BenchRun, in dir: URL) throws {
        try BenchRecordManifest.write(runDirectory: dir, task: run.task.name, method: run.method, config: config(of: run),
                                      checkpointsKept: keepCheckpoints)
        if !keepCheckpoints {
            let checkpoints = dir.appendingPathComponent("checkpoints", isDirectory: true)
            if FileManager.default.fileExists(atPath: checkpoints.path) { try FileManager.default.removeItem(at: checkpoints) }
        }
    }

    /// Runs every run of the suite that is not finished; returns one outcome per run, in suite order.
    @discardableResult
    public func run() throws -> [BenchRunOutcome] {
        guard jobs == 1 || executable != nil else {
            throw TransferError.badConfig("bench: \(jobs) jobs need the mona executable to spawn")
        }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try BenchRunner.writeIgnoreFile(in: output)
        let runs = suite.runs
        let state = SharedProgress(total: runs.count)
        var outcomes = [BenchRunOutcome?](repeating: nil, count: runs.count)
        var pending: [Int] = []
        let report = onOutcome
        for (i, run) in runs.enumerated() {
            let dir = directory(of: run)
            var o: BenchRunOutcome?
            if let why = preflightError(run) {
                o = BenchRunOutcome(run: run, directory: dir, status: .failed, error: why)
            } else {
                switch self.state(of: run) {
                case .finished:
                    o = BenchRunOutcome(run: run, directory: dir, status: .skipped)
                case .finishedUnrecorded:
                    do {
                        try record(run, in: dir)
                        o = BenchRunOutcome(run: run, directory: dir, status: .skipped)
                    } catch {
                        o = BenchRunOutcome(run: run, directory: dir, status: .failed, error: "\(error)")
                    }
                case .stale, .interrupted, .empty:
                    pending.append(i)
                }
            }
            if let o {
                outcomes[i] = o
                state.finish(o, report)
            }
        }
        let results = ResultSlots(count: runs.count)
        let queue = WorkQueue(pending)
        let workers = min(jobs, max(pending.count, 1))
        let niceness = ThreadNiceness.current()
        let body: @Sendable (Int) -> Void = { [self] _ in
            ThreadNiceness.raise(to: niceness)
            while let i = queue.next() {
                let o = self.execute(runs[i])
                results.set(i, o)
                state.finish(o, report)
            }
        }
        if workers == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
        for i in pending { outcomes[i] = results.get(i) }
        return outcomes.compactMap { $0 }
    }

    /// Runs one run now: resumes it when it was interrupted, restarts it when its directory is stale; records it.
    func execute(_ run: BenchRun) -> BenchRunOutcome {
        let dir = directory(of: run)
        let config = config(of: run)
        let started = Date()
        var outcome = BenchRunOutcome(run: run, directory: dir, status: .finished)
        let fm = FileManager.default
        var resume = false
        switch state(of: run) {
        case .interrupted: resume = true
        case .empty: break
        case .stale, .finished, .finishedUnrecorded: try? fm.removeItem(at: dir)   // start over
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
        } else {
            do {
                try record(run, in: dir)
            } catch {
                outcome.status = .failed
                outcome.error = "cannot write the record of \(dir.path): \(error)"
            }
        }
        return outcome
    }

    /// Runs the cell `index` of `suite.runs` in this process (one array task of a cluster job, e.g.
    /// `mona bench … --run-index $SLURM_ARRAY_TASK_ID`): skipped when its record is complete, else run (or
    /// resumed) and recorded.
    public func runCell(_ index: Int) throws -> BenchRunOutcome {
        let runs = suite.runs
        guard runs.indices.contains(index) else {
            throw TransferError.badConfig("--run-index \(index): the suite has runs 0..<\(runs.count)")
        }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let run = runs[index]
        let dir = directory(of: run)
        if let why = preflightError(run) { return BenchRunOutcome(run: run, directory: dir, status: .failed, error: why) }
        switch state(of: run) {
        case .finished: return BenchRunOutcome(run: run, directory: dir, status: .skipped)
        case .finishedUnrecorded:
            try record(run, in: dir)
            return BenchRunOutcome(run: run, directory: dir, status: .skipped)
        case .stale, .interrupted, .empty:
            return execute(run)
        }
    }

    /// The `mona fit` command line of every cell that is not finished (configs written under `<output>/configs/`),
    /// for another scheduler or GNU parallel. Running them and then this bench again records and aggregates them.
    public func commandLines(executable: URL) throws -> [String] {
        var lines: [String] = []
        for run in suite.runs where preflightError(run) == nil {
            let s = state(of: run)
            if s == .finished || s == .finishedUnrecorded { continue }
            let dir = directory(of: run)
            let configFile = try writeConfig(run)
            var args = [executable.path, "fit", "--config", configFile.path, "--output", dir.path, "--quiet"]
            if s == .interrupted { args.append("--resume") }
            if !keepCheckpoints { args += ["--checkpoint-interval", String(checkpointInterval)] }
            lines.append(args.map(BenchRunner.shellQuoted).joined(separator: " "))
        }
        return lines
    }

    static func shellQuoted(_ s: String) -> String {
        guard s.contains(where: { !($0.isLetter || $0.isNumber || "-_./=:,+".contains($0)) }) else { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `<output>/configs/<task>-<method>-seed<k>.yaml`, the cell's resolved configuration.
    func writeConfig(_ run: BenchRun) throws -> URL {
        let configs = output.appendingPathComponent("configs", isDirectory: true)
        try FileManager.default.createDirectory(at: configs, withIntermediateDirectories: true)
        let file = configs.appendingPathComponent(stem(run) + ".yaml")
        try ConfigFile.write(try config(of: run).pairs(), to: file)
        return file
    }

    func stem(_ run: BenchRun) -> String { "\(BenchRun.pathComponent(run.task.name))-\(run.method)-seed\(run.seed)" }

    /// One fit, in process or as a child; nil on success, else the error line.
    func attempt(_ run: BenchRun, config: FitConfig, directory: URL, resume: Bool) -> String? {
        guard let executable else {
            do {
                let pipeline = try FitPipeline(config: config, runDirectory: directory, assets: assets, mode: .quiet)
                if !keepCheckpoints { pipeline.lastCheckpointInterval = checkpointInterval }
                _ = try pipeline.fit(resume: resume)
                return nil
            } catch {
                return "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; ")
            }
        }
        do {
            let logs = output.appendingPathComponent("logs", isDirectory: true)
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let configFile = try writeConfig(run)
            let logFile = logs.appendingPathComponent(stem(run) + ".log")
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let log = try FileHandle(forWritingTo: logFile)
            defer { try? log.close() }
            let process = Process()
            process.executableURL = executable
            process.arguments = ["fit", "--config", configFile.path, "--output", directory.path, "--quiet"]
                + (resume ? ["--resume"] : [])
                + (keepCheckpoints ? [] : ["--checkpoint-interval", String(checkpointInterval)])
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

    /// The bench folder's `.gitignore` (written once, never over a user's file): everything of a run directory
    /// but its record stays out of git, so `git add <output>` commits only what another machine needs.
    public static let ignoreText = """
        # Written by `mona bench`: only the runs' records (runs/<task>/<method>/seed<k>/record/) and the aggregates
        # are meant to be committed; checkpoints, logs and the rest of each run directory stay local.
        /runs/*/*/*/*
        !/runs/*/*/*/record/
        /logs/
        /configs/

        """

    static func writeIgnoreFile(in output: URL) throws {
        let file = output.appendingPathComponent(".gitignore")
        guard !FileManager.default.fileExists(atPath: file.path) else { return }
        try AtomicFile.write(ignoreText, to: file)
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
