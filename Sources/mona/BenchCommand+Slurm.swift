import ArgumentParser
import Foundation
import MonaBench
import MonaRunKit
import MonaTransfer

/// `mona bench --executor slurm`, `--status` and the checks of the executor options.
extension BenchCommand {
    static let executors = ["local", "slurm", "print"]

    /// Every executor option, checked before anything is read or written.
    func validateExecutorOptions() throws {
        guard BenchCommand.executors.contains(executor) else {
            throw ValidationError("--executor: '\(executor)' is not one of \(BenchCommand.executors.joined(separator: ", "))")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs: expected ≥ 1, got \(jobs)") }
        if let runIndex, runIndex < 0 { throw ValidationError("--run-index: expected a cell number ≥ 0, got \(runIndex)") }
        let slurmOnly: [(String, Bool)] = [
            ("--max-parallel", maxParallel != nil), ("--partition", partition != nil), ("--time", time != nil),
            ("--cpus-per-task", cpusPerTask != nil), ("--mem", mem != nil), ("--account", account != nil),
            ("--sbatch", !sbatchOptions.isEmpty), ("--wait", wait), ("--detach", detach),
        ]
        if executor != "slurm", let hit = slurmOnly.first(where: { $0.1 }) {
            throw ValidationError("\(hit.0): only with --executor slurm")
        }
        if wait && detach { throw ValidationError("--detach: not together with --wait (--wait is the default)") }
        if executor == "slurm" {
            if jobs != 1 {
                throw ValidationError("--jobs: only with --executor local (Slurm runs --max-parallel array tasks at once)")
            }
            _ = try slurmSettings()
            if let output, URL(fileURLWithPath: output).path.contains(where: { $0.isWhitespace || $0 == "%" }) {
                throw ValidationError("--output: a Slurm bench folder cannot have a blank or '%' in its path (sbatch "
                                      + "log paths cannot hold them)")
            }
        }
        if status {
            let other: [(String, Bool)] = [("--run-index", runIndex != nil), ("--no-run", noRun),
                                           ("--executor", executor != "local" && executor != "slurm"), ("--detach", detach)]
            if let hit = other.first(where: { $0.1 }) { throw ValidationError("--status: not together with \(hit.0)") }
        }
        if runIndex != nil && executor != "local" {
            throw ValidationError("--run-index: runs one cell in this process (not with --executor \(executor))")
        }
    }

    func slurmSettings() throws -> SlurmSettings {
        var s = SlurmSettings()
        s.maxParallel = maxParallel
        s.partition = partition
        s.timeLimit = time
        if let cpusPerTask { s.cpusPerTask = cpusPerTask }
        s.memory = mem
        s.account = account
        s.extraOptions = sbatchOptions
        do {
            try s.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return s
    }

    /// The options that decide the suite's cells and their configurations, as `mona bench` arguments: stored in
    /// the Slurm plan and repeated by every array task, so both resolve exactly these cells.
    func suiteArguments() -> [String] {
        var a: [String] = []
        func add(_ name: String, _ value: CustomStringConvertible?) { if let value { a.append("--\(name)=\(value)") } }
        add("suite", suite)
        add("tasks", tasks)
        add("methods", methods)
        add("seeds", seeds)
        add("body", body)
        add("epochs", epochs)
        add("patience", patience)
        add("train-limit", trainLimit)
        add("test-limit", testLimit)
        add("max-tokens", maxTokens)
        add("analysis-every", analysisEvery)
        for o in methodOptions { add("option", o) }
        if keepCheckpoints { a.append("--keep-checkpoints") }
        return a
    }

    /// Whether this command line names the suite itself (else `--status` takes it from the folder's plan).
    var hasSuiteOptions: Bool {
        suite != nil || tasks != nil || methods != nil || seeds != nil || epochs != nil || patience != nil
            || trainLimit != nil || testLimit != nil || maxTokens != nil || analysisEvery != nil || !methodOptions.isEmpty
            || body != "minilm-l6"
    }

    /// Submits the unfinished cells and, unless detached, follows them to the end. nil: detached (nothing to
    /// aggregate yet).
    func runSlurm(_ runner: BenchRunner, suite resolved: BenchSuite, mode: OutputMode,
                  report: @escaping @Sendable (BenchRunOutcome, Int, Int) -> Void) throws -> [BenchRunOutcome]? {
        let settings = try slurmSettings()
        let slurm = SlurmExecutor(runner: runner, settings: settings, executable: BenchCommand.executable(),
                                  arguments: suiteArguments())
        let submitted = try slurm.submit()
        let out = runner.output
        let finishedEarlier = submitted.settled.filter { $0.outcome.status == .skipped }.count
        var summary = "bench \(resolved.name): \(resolved.runs.count) runs → \(out.path); "
        if let job = submitted.job, let spec = submitted.arraySpec {
            summary += "Slurm job \(job) (array \(spec), \(settings.cpusPerTask) CPU\(settings.cpusPerTask == 1 ? "" : "s") "
                + "per task) runs \(submitted.cells.count)"
        } else {
            summary += "nothing new to submit"
        }
        if !submitted.following.isEmpty {
            let jobs = Set(submitted.following.map(\.task.job)).sorted().joined(separator: ", ")
            summary += "; \(submitted.following.count) still in job \(jobs)"
        }
        summary += "; \(finishedEarlier) finished earlier"
        switch mode {
        case .json:
            var fields: [(String, RunValue)] = [("event", .string("submitted")), ("output", .string(out.path)),
                                                ("cells", .number(Double(submitted.cells.count))),
                                                ("following", .number(Double(submitted.following.count))),
                                                ("finished_earlier", .number(Double(finishedEarlier)))]
            if let job = submitted.job { fields.append(("job", .string(job))) }
            if let script = submitted.script { fields.append(("script", .string(script.path))) }
            print(RunValue.object(fields).json)
        case .auto: print(summary)
        case .quiet: break
        }
        fflush(nil)
        if detach && !(submitted.cells.isEmpty && submitted.following.isEmpty) {
            if mode == .auto {
                print("detached: `mona bench --status -o \(out.path)` shows progress; the same command again waits and aggregates")
            }
            return nil
        }
        return try slurm.wait(for: submitted, onOutcome: report) { running, pending in
            guard mode == .auto else { return }
            print("slurm: \(running) running, \(pending) pending")
            fflush(nil)
        }
    }

    /// `--status`: every cell of the folder's suite (from its Slurm plan unless this command line names one).
    func showStatus(mode: OutputMode) throws {
        var command = self
        let folderGiven = output.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if !hasSuiteOptions {
            guard let folderGiven else {
                throw ValidationError("--status: give the bench folder with -o (its Slurm plan names the suite)")
            }
            guard let plan = try SlurmPlan.read(output: folderGiven) else {
                throw CommandError("--status: \(folderGiven.path) has no Slurm plan (slurm/plan.json); give its suite "
                                   + "options (e.g. --suite micro) to see its cells")
            }
            do {
                command = try BenchCommand.parse(plan.arguments)
            } catch {
                throw CommandError("\(SlurmPlan.file(in: folderGiven).path): stored arguments do not parse "
                                   + "(\(BenchCommand.message(for: error))); name the suite on the command line")
            }
        }
        let resolved = try command.resolveSuite()
        let out = folderGiven ?? URL(fileURLWithPath: "bench-\(resolved.name)", isDirectory: true)
        guard FileManager.default.fileExists(atPath: out.path) else {
            throw CommandError("--status: \(out.path) does not exist (give the bench folder with -o)")
        }
        let runner = BenchRunner(suite: resolved, output: out)
        let slurm = SlurmExecutor(runner: runner, settings: SlurmSettings(), executable: BenchCommand.executable(),
                                  arguments: command.suiteArguments())
        let cells = try slurm.status()
        let order: [SlurmExecutor.CellStatus.State] = [.finished, .running, .pending, .failed, .unsubmitted]
        let counts = order.map { state in cells.filter { $0.state == state }.count }
        if mode == .json {
            for c in cells {
                var fields: [(String, RunValue)] = [("event", .string("cell")), ("index", .number(Double(c.index))),
                                                    ("run", .string(c.run.label)), ("state", .string(c.state.rawValue))]
                if let t = c.task { fields.append(("task", .string(t.description))) }
                if let d = c.detail { fields.append(("detail", .string(d))) }
                if let l = c.log { fields.append(("log", .string(l.path))) }
                print(RunValue.object(fields).json)
            }
            var fields: [(String, RunValue)] = [("event", .string("status")), ("output", .string(out.path))]
            for (state, count) in zip(order, counts) { fields.append((state.rawValue, .number(Double(count)))) }
            print(RunValue.object(fields).json)
            return
        }
        print("bench \(resolved.name) in \(out.path): \(cells.count) runs — "
              + zip(order, counts).map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", "))
        guard mode == .auto else { return }
        for c in cells where c.state != .finished {
            var line = "  \(c.state.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) [\(c.index)] \(c.run.label)"
            if let t = c.task, c.state == .running || c.state == .pending { line += "  (array task \(t), \(c.detail ?? ""))" }
            if c.state == .failed {
                line += "  \(c.detail ?? "")" + (c.log.map { "; log \($0.path)" } ?? "")
            }
            print(line)
        }
    }
}
