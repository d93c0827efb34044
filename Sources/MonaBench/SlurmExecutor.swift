import Foundation
import MonaRunKit
import MonaTransfer

/// `mona bench --executor slurm`: the suite's unfinished cells go to Slurm as one job array per invocation; the
/// array tasks run `mona bench … --run-index` on the shared bench folder, so a cell's state lives in its run
/// directory exactly as with the local executor (finished = complete record; interrupted = resumed).
///
/// Re-running submits only the cells that have no finished record and are not still queued or running in an
/// earlier submission (those are followed instead). State comes from `squeue` and the per-task exit files,
/// never from `sacct`, which needs an accounting database that small clusters often lack.
public final class SlurmExecutor: @unchecked Sendable {  // configured before use, then only read
    public let runner: BenchRunner
    public let settings: SlurmSettings
    public let executable: URL
    /// `mona bench` arguments that define the suite, stored in the plan and repeated by every array task.
    public let arguments: [String]
    public var sbatchProgram = "sbatch"
    public var squeueProgram = "squeue"
    /// Seconds between two squeue polls while waiting, given the seconds waited so far: often at first (short
    /// runs), then every 30 s so that a long suite does not load the controller.
    public var pollInterval: @Sendable (Double) -> Double = { waited in waited < 120 ? 3 : 30 }
    /// Consecutive failed squeue polls tolerated while waiting (the controller may be busy or restarting).
    public var squeueRetries = 20

    public init(runner: BenchRunner, settings: SlurmSettings, executable: URL, arguments: [String]) {
        self.runner = runner
        self.settings = settings
        self.executable = executable
        self.arguments = arguments
    }

    public var folder: URL { runner.output.appendingPathComponent("slurm", isDirectory: true) }

    public func logFile(_ task: SlurmTaskID) -> URL {
        folder.appendingPathComponent("logs", isDirectory: true).appendingPathComponent("\(task).log")
    }

    func exitFile(_ task: SlurmTaskID) -> URL {
        folder.appendingPathComponent("exit", isDirectory: true).appendingPathComponent(task.description)
    }

    /// `(exit status, seconds)` that the task's script wrote when `mona` returned.
    func exitRecord(_ task: SlurmTaskID) -> (status: Int, seconds: Double)? {
        guard let text = try? String(contentsOf: exitFile(task), encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0.isNewline })
        guard fields.count == 2, let status = Int(fields[0]), let seconds = Double(fields[1]) else { return nil }
        return (status, seconds)
    }

    // MARK: - Status of one cell

    public struct CellStatus: Sendable {
        public enum State: String, Sendable { case finished, running, pending, failed, unsubmitted = "not submitted" }
        public var index: Int
        public var run: BenchRun
        public var state: State
        /// The latest array task given this cell.
        public var task: SlurmTaskID?
        /// Why it failed, or the queue state of a live task.
        public var detail: String?
        /// The failing (or running) task's log.
        public var log: URL?
        public var seconds: Double?
    }

    /// The state of cell `index` from the plan, the queue and its run directory.
    func status(index: Int, run: BenchRun, plan: SlurmPlan?, queue: [SlurmTaskID: String]) -> CellStatus {
        var s = CellStatus(index: index, run: run, state: .unsubmitted)
        s.task = plan?.latestTask(of: index)
        if let why = runner.preflightError(run) {
            s.state = .failed
            s.detail = why
            return s
        }
        if let task = s.task, let q = queue[task], SlurmQueue.isLive(q) {
            s.state = SlurmQueue.runningStates.contains(q) ? .running : .pending
            s.detail = q
            s.log = logFile(task)
            return s
        }
        if runner.state(of: run) == .finished {
            s.state = .finished
            s.seconds = s.task.flatMap { exitRecord($0)?.seconds }
            return s
        }
        guard let task = s.task else { return s }
        s.state = .failed
        s.log = logFile(task)
        if let e = exitRecord(task) {
            s.seconds = e.seconds
            s.detail = e.status == 0 ? "array task \(task) ended without a finished record"
                : "array task \(task) exited with status \(e.status)"
        } else if let q = queue[task] {
            s.detail = "array task \(task) \(SlurmQueue.meaning(q)) before its run finished"
        } else {
            s.detail = "array task \(task) ended without an exit status (cancelled, timed out, preempted or killed)"
        }
        if BenchRunner.hasCheckpoints(runner.directory(of: run)) { s.detail! += "; its checkpoints resume it" }
        return s
    }

    /// Every cell's state (`mona bench --status`). squeue is asked only when something was submitted.
    public func status() throws -> [CellStatus] {
        let plan = try SlurmPlan.read(output: runner.output)
        let queue = (plan?.submissions.isEmpty ?? true) ? [:] : try SlurmQueue.query(program: squeueProgram)
        return runner.suite.runs.enumerated().map { status(index: $0.offset, run: $0.element, plan: plan, queue: queue) }
    }

    // MARK: - Submitting

    public struct Submitted: Sendable {
        /// The new job (nil when nothing needed submitting).
        public var job: String?
        /// Suite cells of the new job's array tasks, in array order.
        public var cells: [Int] = []
        /// Cells still queued or running in earlier submissions: followed, not submitted again.
        public var following: [(cell: Int, task: SlurmTaskID)] = []
        /// Cells that need no run (finished earlier) or cannot run (preflight), one outcome each.
        public var settled: [(cell: Int, outcome: BenchRunOutcome)] = []
        public var script: URL?
        public var arraySpec: String?
    }

    /// Submits one job array for the cells that are neither finished nor live in an earlier submission.
    public func submit() throws -> Submitted {
        try settings.validate()
        let output = runner.output
        // sbatch reads `#SBATCH --output=` up to the first blank and expands `%` patterns in it.
        if output.path.contains(where: { $0.isWhitespace || $0 == "%" }) {
            throw TransferError.badConfig("--output: '\(output.path)' has a blank or '%', which a Slurm log path cannot "
                                          + "hold; choose a folder without them")
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("exit"), withIntermediateDirectories: true)
        try BenchRunner.writeIgnoreFile(in: output)
        var plan = try SlurmPlan.read(output: output) ?? SlurmPlan(arguments: arguments)
        let queue = plan.submissions.isEmpty ? [:] : try SlurmQueue.query(program: squeueProgram)
        func live(_ task: SlurmTaskID?) -> Bool { task.flatMap { queue[$0] }.map(SlurmQueue.isLive) ?? false }
        if plan.arguments != arguments {
            // Earlier submissions belong to other cells: they must have ended before a new plan replaces them.
            let busy = Set(plan.submissions.flatMap { s in s.cells.indices.compactMap { i -> String? in
                live(SlurmTaskID(job: s.job, index: i)) ? s.job : nil } })
            if !busy.isEmpty {
                throw TransferError.badConfig("\(output.path) has Slurm job \(busy.sorted().joined(separator: ", ")) of "
                                              + "another suite configuration still queued; wait for it or scancel it")
            }
            plan = SlurmPlan(arguments: arguments)
        }
        var result = Submitted()
        var cells: [Int] = []
        for (i, run) in runner.suite.runs.enumerated() {
            let dir = runner.directory(of: run)
            if let why = runner.preflightError(run) {
                result.settled.append((cell: i, outcome: BenchRunOutcome(run: run, directory: dir, status: .failed, error: why)))
                continue
            }
            if let task = plan.latestTask(of: i), live(task) {
                result.following.append((cell: i, task: task))
                continue
            }
            switch runner.state(of: run) {
            case .finished:
                result.settled.append((cell: i, outcome: BenchRunOutcome(run: run, directory: dir, status: .skipped)))
            case .finishedUnrecorded:
                do {
                    try runner.record(run, in: dir)
                    result.settled.append((cell: i, outcome: BenchRunOutcome(run: run, directory: dir, status: .skipped)))
                } catch {
                    result.settled.append((cell: i, outcome: BenchRunOutcome(run: run, directory: dir, status: .failed, error: "\(error)")))
                }
            case .stale, .interrupted, .empty:
                cells.append(i)
            }
        }
        guard !cells.isEmpty else {
            try plan.write(output: output)
            return result
        }
        let runs = runner.suite.runs
        for i in cells { _ = try runner.writeConfig(runs[i]) }   // the resolved plan, for people to read
        let number = min(plan.submissions.map(\.number).max() ?? 0, 999_999) + 1
        let cellsFile = folder.appendingPathComponent("cells-\(number).tsv")
        try AtomicFile.write(cells.map { "\($0)\t\(runs[$0].label)\n" }.joined(), to: cellsFile)
        let script = SlurmJobScript(settings: settings, executable: executable, benchArguments: arguments, output: output,
                                    assets: runner.assets.root, folder: folder, cellsFile: cellsFile, taskCount: cells.count)
        let scriptFile = folder.appendingPathComponent("job-\(number).sh")
        try AtomicFile.write(script.text, to: scriptFile)
        let job = try SlurmQueue.submit(script: scriptFile, program: sbatchProgram)
        plan.submissions.append(.init(number: number, job: job, cells: cells))
        do {
            try plan.write(output: output)
        } catch {
            throw TransferError.badConfig("submitted Slurm job \(job) but cannot record it in "
                                          + "\(SlurmPlan.file(in: output).path): \(error); scancel \(job) and retry")
        }
        result.job = job
        result.cells = cells
        result.script = scriptFile
        result.arraySpec = script.arraySpec
        return result
    }

    // MARK: - Waiting

    /// Follows the submitted and followed array tasks with squeue until every one has ended; reports each cell
    /// as it ends (and the settled ones first) and returns one outcome per suite cell, in suite order.
    public func wait(for submitted: Submitted,
                     onOutcome: (@Sendable (BenchRunOutcome, _ done: Int, _ total: Int) -> Void)?,
                     onQueue: ((_ running: Int, _ pending: Int) -> Void)? = nil) throws -> [BenchRunOutcome] {
        let runs = runner.suite.runs
        var outcomes = [BenchRunOutcome?](repeating: nil, count: runs.count)
        var done = 0
        func report(_ cell: Int, _ o: BenchRunOutcome) {
            outcomes[cell] = o
            done += 1
            onOutcome?(o, done, runs.count)
        }
        for (cell, o) in submitted.settled { report(cell, o) }
        var tracked: [(cell: Int, task: SlurmTaskID)] = submitted.following
        if let job = submitted.job {
            tracked += submitted.cells.enumerated().map { (cell: $0.element, task: SlurmTaskID(job: job, index: $0.offset)) }
        }
        let plan = try SlurmPlan.read(output: runner.output)
        let started = Date()
        var failures = 0
        var lastCounts: (Int, Int)?
        while !tracked.isEmpty {
            Thread.sleep(forTimeInterval: pollInterval(Date().timeIntervalSince(started)))
            let queue: [SlurmTaskID: String]
            do {
                queue = try SlurmQueue.query(program: squeueProgram)
                failures = 0
            } catch {
                failures += 1
                if failures > squeueRetries { throw error }
                continue
            }
            var remaining: [(cell: Int, task: SlurmTaskID)] = []
            var running = 0, pending = 0
            for t in tracked {
                let s = status(index: t.cell, run: runs[t.cell], plan: plan, queue: queue)
                let dir = runner.directory(of: runs[t.cell])
                switch s.state {
                case .running: running += 1; remaining.append(t)
                case .pending: pending += 1; remaining.append(t)
                case .finished:
                    report(t.cell, BenchRunOutcome(run: runs[t.cell], directory: dir, status: .finished, seconds: s.seconds ?? 0))
                case .failed, .unsubmitted:
                    let why = (s.detail ?? "array task \(t.task) ended without a record")
                        + (s.log.map { " (log: \($0.path))" } ?? "")
                    report(t.cell, BenchRunOutcome(run: runs[t.cell], directory: dir, status: .failed,
                                                   seconds: s.seconds ?? 0, error: why))
                }
            }
            tracked = remaining
            if !tracked.isEmpty, lastCounts.map({ $0 != (running, pending) }) ?? true {
                onQueue?(running, pending)
                lastCounts = (running, pending)
            }
        }
        return outcomes.compactMap { $0 }
    }
}
