import ArgumentParser
import Foundation
import MonaBench
import MonaFormats
import MonaRunKit
import MonaTransfer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark suite (tasks × methods × seeds) and aggregate it into tables, plots and a report.",
        discussion: """
        Every run is a `mona fit` run directory <output>/runs/<task>/<method>/seed<k>/. A finished run leaves a \
        record in <run>/record/ (resolved config.yaml, metrics.jsonl, timings.json, small predictions; \
        record.json lists them with sizes and hashes) and its checkpoints are deleted (--keep-checkpoints keeps \
        them). A cell whose record is complete and has the same configuration is skipped — records copied from \
        another machine are enough — a changed configuration runs again, and an interrupted run is resumed from its \
        checkpoints, so re-running the same command continues a benchmark. With --jobs N the runs go to N child \
        processes of this executable, each with MONA_THREADS = cores / N. With --executor slurm the unfinished cells \
        go to Slurm as one job array (the output folder must be on a filesystem the nodes share); --status shows \
        each cell's state (docs/cluster.md).

        Suites: quick (gunpoint, italypowerdemand, darcy16 with small budgets; every method; 1 seed), full (all \
        target modalities; 5 seeds on tasks with ≤ 500 training samples, 3 on the others; adds no-body and the \
        expert baseline of each task's family), ablations (MoNA's variants — finite-difference meta-gradient, no \
        warm-up, λ = 0, α, outer steps, the objective without gradient normalisation — against the default mona \
        on four tasks of three modalities with the full suite's budgets and seeds), demo (MoNA, fine-tuning and \
        the expert on GunPoint), micro (two UCR tasks on a tiny random body, for tests). --tasks, \
        --methods and --seeds replace the suite's lists (tasks not in the suite get default budgets and --body).

        Methods default to scratch, linear-probe, fpt, finetune, orca, warmup-only, mona (warm-up only is \
        MoNA's control); `expert` stands for the expert baseline of each task's family. Each trains with early \
        stopping on validation within an epoch budget. A built-in suite's method that this build does not \
        register is left out with a note.

        Output: results.md / results.csv / results.json (mean ± std and 95 % bootstrap interval per task and \
        method; MoNA minus each control paired by seed with its interval; wins/ties/losses and Wilcoxon tests \
        across tasks; Friedman, Iman–Davenport and Nemenyi's critical difference; average ranks, final training \
        loss, source-knowledge reuse, modality gap; run directories behind every cell), plots/*.svg (with the \
        critical-difference diagram), report.md, convergence.md (runs that stopped early vs hit the epoch cap, per \
        method). See docs/bench.md, "Statistics".

        Examples:
          mona bench --suite quick --jobs 2 --output bench-quick
          mona bench --suite full --executor slurm --max-parallel 32 --cpus-per-task 2 --time 2:00:00 -o /shared/bench-full
          mona bench --status -o /shared/bench-full
        """)

    @Option(help: "Built-in suite: quick, full, ablations, demo or micro (default quick).")
    var suite: String?

    @Option(help: "Comma-separated task names (replaces the suite's tasks).")
    var tasks: String?

    @Option(help: "Comma-separated methods (replaces the suite's methods).")
    var methods: String?

    @Option(help: "Comma-separated seeds (replaces the suite's seeds).")
    var seeds: String?

    @Option(help: "Body of tasks that are not in the suite.")
    var body: String = "minilm-l6"

    @Option(name: .shortAndLong, help: "Benchmark folder (default bench-<suite>).")
    var output: String?

    @Option(help: "Runs at the same time, each in its own process.")
    var jobs: Int = 1

    @Option(help: "Override every task's epoch budget.")
    var epochs: Int?

    @Option(help: "Override every task's early-stopping patience (epochs).")
    var patience: Int?

    @Option(name: .customLong("train-limit"), help: "Override every task's training-sample limit.")
    var trainLimit: Int?

    @Option(name: .customLong("test-limit"), help: "Override every task's test-sample limit.")
    var testLimit: Int?

    @Option(name: .customLong("max-tokens"), help: "Override every task's embedder token cap.")
    var maxTokens: Int?

    @Option(name: .customLong("analysis-every"), help: "Source-knowledge measurement every N fine-tuning steps.")
    var analysisEvery: Int?

    @Option(name: .customLong("option"), help: ArgumentHelp("Method option for every run (repeatable), e.g. outerSteps=20.",
                                                            valueName: "key=value"))
    var methodOptions: [String] = []

    @Flag(name: .customLong("no-run"), help: "Run nothing: aggregate the runs already finished in the output folder.")
    var noRun = false

    @Flag(name: .customLong("no-gap"), help: "Do not measure the modality gap.")
    var noGap = false

    @Option(help: "Where runs go: local (child processes of this executable, default), slurm (one Slurm job array; the output folder must be on a filesystem the nodes share) or print (write each unfinished cell's `mona fit` command line, for another scheduler or GNU parallel; run this bench again afterwards to record and aggregate).")
    var executor: String = "local"

    @Option(name: .customLong("max-parallel"), help: "Slurm: array tasks running at once (the K of --array=0-N%K; default: no limit).")
    var maxParallel: Int?

    @Option(help: "Slurm: partition (or a comma-separated list).")
    var partition: String?

    @Option(help: "Slurm: time limit of each array task (minutes, HH:MM:SS or D-HH:MM:SS).")
    var time: String?

    @Option(name: .customLong("cpus-per-task"), help: "Slurm: CPUs of each array task, also its MONA_THREADS (default 1).")
    var cpusPerTask: Int?

    @Option(help: "Slurm: memory of each array task, e.g. 4G.")
    var mem: String?

    @Option(help: "Slurm: account to charge.")
    var account: String?

    @Option(name: .customLong("sbatch"), help: ArgumentHelp("Slurm: a further #SBATCH option (repeatable), written with '=', e.g. --sbatch=--qos=long.",
                                                         valueName: "option"))
    var sbatchOptions: [String] = []

    @Flag(help: "Slurm: follow the job array until it ends, then aggregate (the default).")
    var wait = false

    @Flag(help: "Slurm: return once the array is submitted; `mona bench --status -o DIR` shows its progress, the same command again waits and aggregates.")
    var detach = false

    @Flag(help: "Show each cell of the output folder as finished, running, pending, failed (with its log) or not submitted, and exit.")
    var status = false

    @Option(name: .customLong("run-index"),
            help: "Run only cell N of the suite (0-based, in suite order) in this process and record it, e.g. one array task of a cluster job.")
    var runIndex: Int?

    @Flag(name: .customLong("keep-checkpoints"),
          help: "Keep finished runs' checkpoints (default: deleted once the run's record is written).")
    var keepCheckpoints = false

    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try reportingErrors(command: "bench", mode: outputOptions.mode) {
            try validateExecutorOptions()
            let mode = outputOptions.mode
            if status {
                try showStatus(mode: mode)
                return
            }
            let resolved = try resolveSuite()
            let out = URL(fileURLWithPath: output ?? "bench-\(resolved.name)", isDirectory: true)
            if let runIndex {
                // One array task among many on the same folder: the run directory's own lock keeps cells apart, so
                // the bench folder's lock (held by the submitting `mona bench`) is not taken.
                let runner = BenchRunner(suite: resolved, output: out)
                runner.keepCheckpoints = keepCheckpoints
                let o = try runner.runCell(runIndex)
                BenchCommand.printOutcome(o, done: 1, total: 1, mode: mode)
                if o.status == .failed { throw ExitCode(1) }
                return
            }
            try FolderLock.lock(out.appendingPathComponent("bench.lock"), what: out.path, advice: "wait for that benchmark to finish")
            let started = Date()
            let runner = BenchRunner(suite: resolved, output: out, jobs: jobs,
                                     executable: jobs > 1 ? BenchCommand.executable() : nil)
            runner.keepCheckpoints = keepCheckpoints
            if executor == "print" && !noRun {
                for line in try runner.commandLines(executable: BenchCommand.executable()) { print(line) }
                return
            }
            let report: @Sendable (BenchRunOutcome, Int, Int) -> Void = { o, done, total in
                BenchCommand.printOutcome(o, done: done, total: total, mode: mode)
            }
            runner.onOutcome = report
            var outcomes: [BenchRunOutcome] = []
            if executor == "slurm" && !noRun {
                guard let o = try runSlurm(runner, suite: resolved, mode: mode, report: report) else { return }
                outcomes = o
            } else {
                if mode != .quiet && mode != .json && !noRun {
                    print("bench \(resolved.name): \(resolved.runs.count) runs (\(resolved.tasks.count) tasks × "
                          + "\(resolved.methods.count) methods × \(BenchCommand.seedSummary(resolved)) seeds) → \(out.path)"
                          + (jobs > 1 ? ", \(jobs) jobs × \(runner.threadsPerJob) threads" : ""))
                }
                outcomes = noRun ? [] : try runner.run()
            }
            var gaps: [String: TaskModalityGap] = [:]
            if !noGap {
                gaps = BenchGaps.measure(suite: resolved, output: out) { task, why in
                    FileHandle.standardError.write(Data("mona bench: modality gap of \(task): \(why)\n".utf8))
                }
            }
            let results = BenchResults.collect(suite: resolved, output: out, outcomes: outcomes, gaps: gaps)
            let wall = Date().timeIntervalSince(started)
            // An aggregation-only call reports no wall time, so that it reproduces report.md from the same records.
            try results.write(to: out, outcomes: outcomes, wallSeconds: noRun ? nil : wall)
            try AtomicFile.write(BenchConvergence.collect(suite: resolved, output: out).markdown(),
                                 to: out.appendingPathComponent("convergence.md"))
            let failed = outcomes.filter { $0.status == .failed }.count
            switch mode {
            case .json:
                print(RunValue.object([("event", .string("result")), ("output", .string(out.path)),
                                       ("runs", .number(Double(outcomes.count))), ("failed", .number(Double(failed))),
                                       ("seconds", .number(wall)), ("results", results.json())]).json)
            case .quiet, .auto:
                if mode != .quiet { print(results.summaryMarkdown()) }
                print(String(format: "bench %@: %d runs, %d failed, %.1f s; report %@", resolved.name, outcomes.count,
                             failed, wall, out.appendingPathComponent("report.md").path))
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// The suite after --tasks/--methods/--seeds and the budget overrides.
    func resolveSuite() throws -> BenchSuite {
        let name = suite ?? "quick"
        guard var s = BenchSuite.named(name) else {
            throw ValidationError("--suite: unknown suite '\(name)'; known: \(BenchSuite.builtInNames.joined(separator: ", "))")
        }
        try checkOverrides()
        func list(_ text: String, _ flag: String) throws -> [String] {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !items.isEmpty else { throw ValidationError("\(flag): expected a comma-separated list, got '\(text)'") }
            return items
        }
        if let tasks {
            s.tasks = try list(tasks, "--tasks").map { t in
                if let known = s.tasks.first(where: { $0.name == t.lowercased() }) { return known }
                // A task the suite does not have: a known task or an existing data path (checked now, not when
                // its runs start).
                guard TaskCatalog.allNames.contains(t.lowercased()) || FileManager.default.fileExists(atPath: t) else {
                    throw ValidationError("--tasks: '\(t)' is neither a known task (\(TaskCatalog.allNames.joined(separator: ", "))) nor an existing data path")
                }
                return BenchTask(t, body: body)
            }
            if suite == nil { s.name = "custom" }
        }
        let registered = Set(MethodCatalog.names.map(\.name))
        if let methods {
            s.methods = try list(methods, "--methods")
            // Unknown methods fail up front.
            for m in s.methods where m != BenchSuite.expertColumn {
                do {
                    // A variant column of the suite runs its method with its options.
                    if let v = s.variant(named: m) { try v.validate() } else { _ = try MethodCatalog.make(MethodConfig(name: m)) }
                } catch {
                    throw ValidationError("--methods: \(error)")
                }
            }
        } else {
            let missing = s.methods.filter {
                $0 != BenchSuite.expertColumn && !registered.contains(s.variant(named: $0)?.method ?? $0)
            }
            if !missing.isEmpty {
                FileHandle.standardError.write(Data(("mona bench: suite \(s.name): left out \(missing.joined(separator: ", ")) "
                                                     + "(not registered in this build)\n").utf8))
                s.methods.removeAll { missing.contains($0) }
            }
        }
        if let seeds {
            s.seeds = try list(seeds, "--seeds").map {
                guard let x = UInt64($0), x <= 1 << 53 else {
                    throw ValidationError("--seeds: '\($0)' is not an integer from 0 to 2^53")
                }
                return x
            }
            for i in s.tasks.indices { s.tasks[i].seeds = nil }   // --seeds replaces the per-task seed lists too
        }
        if let analysisEvery {
            s.analysisEvery = analysisEvery
            for i in s.tasks.indices { s.tasks[i].analysisEvery = nil }   // the flag replaces per-task intervals too
        }
        var options: [(String, String)] = []
        for a in methodOptions {
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { throw ValidationError("--option \(a): expected key=value") }
            options.append((String(a[..<eq]), String(a[a.index(after: eq)...])))
        }
        for i in s.tasks.indices {
            if let epochs { s.tasks[i].epochs = epochs }
            if let patience { s.tasks[i].patience = patience }
            if let trainLimit { s.tasks[i].trainLimit = trainLimit }
            if let testLimit { s.tasks[i].testLimit = testLimit }
            if let maxTokens { s.tasks[i].maxTokens = maxTokens }
            for (k, v) in options { s.tasks[i].options[k] = v }
        }
        guard !s.tasks.isEmpty, !s.methods.isEmpty, !s.seeds.isEmpty else {
            throw ValidationError("the suite needs at least one task, method and seed")
        }
        return s
    }

    /// The budget overrides, checked before any run starts (a run would refuse them one by one later, naming
    /// its config key rather than the flag).
    func checkOverrides() throws {
        let limit = 1 << 53
        let minimums: [(String, Int?, Int)] = [("--epochs", epochs, 1), ("--patience", patience, 1), ("--train-limit", trainLimit, 2),
                                               ("--test-limit", testLimit, 1), ("--max-tokens", maxTokens, 1),
                                               ("--analysis-every", analysisEvery, 0), ("--jobs", jobs, 1),
                                               ("--run-index", runIndex, 0)]
        for (flag, value, minimum) in minimums {
            guard let value else { continue }
            guard value >= minimum, value <= limit else {
                throw ValidationError("\(flag) \(value): accepted: an integer from \(minimum) to 2^53")
            }
        }
        guard body.isEmpty == false, BodyCatalog.builtInNames.contains(body) || AssetRegistry.bodyNames.contains(body)
                || FileManager.default.fileExists(atPath: body) else {
            throw ValidationError("--body: '\(body)' is neither a known body (\((AssetRegistry.bodyNames + BodyCatalog.builtInNames).joined(separator: ", "))) nor a model directory")
        }
    }

    /// "3", or "3–5" when tasks have their own seed lists.
    static func seedSummary(_ s: BenchSuite) -> String {
        let counts = s.tasks.map { s.seeds(for: $0).count }
        guard let lo = counts.min(), let hi = counts.max(), lo != hi else { return String(counts.first ?? s.seeds.count) }
        return "\(lo)–\(hi)"
    }

    /// This executable, to spawn `fit` children.
    static func executable() -> URL {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: target)
        }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }

    static func printOutcome(_ o: BenchRunOutcome, done: Int, total: Int, mode: OutputMode) {
        let record = o.status == .failed ? nil : BenchRunRecord(directory: o.directory)
        if mode == .json {
            var fields: [(String, RunValue)] = [("event", .string("run")), ("done", .number(Double(done))),
                                                ("total", .number(Double(total))), ("run", .string(o.run.label)),
                                                ("status", .string(o.status.rawValue)), ("seconds", .number(o.seconds)),
                                                ("directory", .string(o.directory.path))]
            if let r = record { fields.append(("test_\(r.metric)", .number(r.testValue))) }
            if let e = o.error { fields.append(("error", .string(e))) }
            print(RunValue.object(fields).json)
            return
        }
        guard mode != .quiet || o.status == .failed else { return }
        let width = String(total).count
        let counter = "[\(String(repeating: " ", count: width - String(done).count))\(done)/\(total)]"
        var line = "\(counter) \(o.run.label)  "
        switch o.status {
        case .skipped: line += "skipped (finished earlier)"
        case .finished: line += (o.resumed ? "resumed, " : "") + String(format: "%.1f s", o.seconds)
        case .failed: line += "FAILED: \(o.error ?? "")"
        }
        if let r = record { line += String(format: "  test %@ %.4f", r.metric, r.testValue) }
        print(line)
        fflush(nil)   // one line per run, visible at once when piped
    }
}
