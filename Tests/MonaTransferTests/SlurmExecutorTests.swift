import Foundation
import MonaBench
import MonaFormats
import MonaRunKit
import Testing
@testable import MonaTransfer

/// The Slurm executor's own logic against stand-in `sbatch` and `squeue` scripts (the real Slurm is exercised by
/// scripts/slurm-test.sh): which cells are submitted, followed or settled, the batch script, and every cell's
/// state from the queue, the exit files and the records.
@Suite struct SlurmExecutorTests {
    @Test func settingsAcceptSlurmValuesAndNameTheOptionOtherwise() throws {
        for t in ["30", "90:00", "1:30:00", "2-12", "2-12:30", "1-00:00:00", "UNLIMITED"] {
            try SlurmSettings.checkTime(t)
        }
        for (t, _) in [("0", 0), ("1:2:3:4", 0), ("abc", 0), ("-5", 0), ("1-", 0), ("+5", 0), ("", 0), ("1-2-3", 0)] {
            #expect(message { try SlurmSettings.checkTime(t) }.hasPrefix("--time: "))
        }
        for m in ["4G", "500M", "1024", "2t"] { try SlurmSettings.checkMemory(m) }
        for m in ["0", "G", "4GB", "-1", "1.5G", "99999999999999G"] {
            #expect(message { try SlurmSettings.checkMemory(m) }.hasPrefix("--mem: "))
        }
        try SlurmSettings.checkName("gpu,cpu", option: "--partition", list: true)
        #expect(message { try SlurmSettings.checkName("a b", option: "--partition", list: true) }.hasPrefix("--partition: "))
        #expect(message { try SlurmSettings.checkName("a,", option: "--partition", list: true) }.hasPrefix("--partition: "))
        #expect(message { try SlurmSettings.checkName("a,b", option: "--account") }.hasPrefix("--account: "))
        #expect(message { try SlurmSettings.checkName("--x", option: "--account") }.hasPrefix("--account: "))
        try SlurmSettings.checkExtra("--qos=long")
        try SlurmSettings.checkExtra("--exclusive")
        for e in ["qos=long", "--", "--a b=1", "--qos=long\n#SBATCH --x", "--array=0-3", "--output=x"] {
            #expect(message { try SlurmSettings.checkExtra(e) }.hasPrefix("--sbatch: "))
        }
        #expect(message { try SlurmSettings.checkMaxParallel(0) }.hasPrefix("--max-parallel: "))
        #expect(message { try SlurmSettings.checkCPUs(0) }.hasPrefix("--cpus-per-task: "))
        #expect(message { try SlurmSettings.checkCPUs(5000) }.hasPrefix("--cpus-per-task: "))
    }

    @Test func squeueLinesBecomeArrayTaskStates() {
        let q = SlurmQueue.parse("42_0 R\n42_1 PD\n42_[2-4,7%2] PD\n99 R\n42_9 CA\nx_1 R\n42_[bad] PD\n")
        #expect(q[SlurmTaskID(job: "42", index: 0)] == "R")
        #expect(q[SlurmTaskID(job: "42", index: 1)] == "PD")
        #expect([2, 3, 4, 7].allSatisfy { q[SlurmTaskID(job: "42", index: $0)] == "PD" })
        #expect(q[SlurmTaskID(job: "42", index: 9)] == "CA")
        #expect(q.count == 7)
        #expect(!SlurmQueue.isLive("CA") && !SlurmQueue.isLive("CD") && SlurmQueue.isLive("PD") && SlurmQueue.isLive("R"))
    }

    @Test func jobScriptCarriesEveryOption() throws {
        var s = SlurmSettings()
        s.maxParallel = 3
        s.partition = "short"
        s.timeLimit = "1:00:00"
        s.cpusPerTask = 2
        s.memory = "4G"
        s.account = "lab"
        s.extraOptions = ["--qos=long"]
        let script = SlurmJobScript(settings: s, executable: URL(fileURLWithPath: "/shared/bin/mona"),
                                    benchArguments: ["--suite=micro", "--option=lr=1e-3 x"],
                                    output: URL(fileURLWithPath: "/shared/bench"), assets: URL(fileURLWithPath: "/shared/assets"),
                                    folder: URL(fileURLWithPath: "/shared/bench/slurm"),
                                    cellsFile: URL(fileURLWithPath: "/shared/bench/slurm/cells-1.tsv"), taskCount: 8)
        let lines = script.text.split(separator: "\n").map(String.init)
        #expect(lines.first == "#!/bin/bash")
        for expected in ["#SBATCH --array=0-7%3", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=short",
                         "#SBATCH --time=1:00:00", "#SBATCH --mem=4G", "#SBATCH --account=lab", "#SBATCH --qos=long",
                         "#SBATCH --output=/shared/bench/slurm/logs/%A_%a.log", "export MONA_THREADS=2",
                         "export MONA_ASSETS=/shared/assets"] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(lines.contains("/shared/bin/mona bench --suite=micro '--option=lr=1e-3 x' --run-index \"$cell\" "
                               + "--output /shared/bench --quiet"))
        // Every #SBATCH line precedes the first command (sbatch stops reading them there).
        let lastDirective = try #require(lines.lastIndex { $0.hasPrefix("#SBATCH") })
        #expect(lines[1...lastDirective].allSatisfy { $0.hasPrefix("#SBATCH") })
    }

    /// A folder with stand-in `sbatch` (prints the job id in `next-job`, keeps the script) and `squeue` (prints
    /// `queue`).
    final class FakeSlurm {
        let dir = TemporaryDirectory()
        var sbatch: String { dir.url.appendingPathComponent("sbatch").path }
        var squeue: String { dir.url.appendingPathComponent("squeue").path }
        init() throws {
            let d = dir.url.path
            try script("#!/bin/sh\ncp \"$2\" \(d)/submitted-$(cat \(d)/next-job | cut -d';' -f1).sh\ncat \(d)/next-job\n", "sbatch")
            try script("#!/bin/sh\necho \"$@\" > \(d)/squeue-args\ncat \(d)/queue\n", "squeue")
            try write("", "queue")
        }
        func write(_ text: String, _ name: String) throws { try AtomicFile.write(text, to: dir.url.appendingPathComponent(name)) }
        func script(_ text: String, _ name: String) throws {
            try write(text, name)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.appendingPathComponent(name).path)
        }
    }

    static func executor(_ runner: BenchRunner, _ fake: FakeSlurm, arguments: [String] = ["--suite=micro"]) -> SlurmExecutor {
        var s = SlurmSettings()
        s.maxParallel = 2
        let e = SlurmExecutor(runner: runner, settings: s, executable: URL(fileURLWithPath: "/opt/mona"), arguments: arguments)
        e.sbatchProgram = fake.sbatch
        e.squeueProgram = fake.squeue
        e.pollInterval = { _ in 0 }
        e.squeueRetries = 0
        return e
    }

    /// Writes a finished record for `run` as the array task would.
    static func finish(_ runner: BenchRunner, _ run: BenchRun) throws {
        let dir = runner.directory(of: run)
        try BenchRecordTests.fakeRun(in: dir, config: runner.config(of: run))
        try BenchRecordManifest.write(runDirectory: dir, task: run.task.name, method: run.method,
                                      config: runner.config(of: run), checkpointsKept: false)
    }

    @Test func submitsOnlyUnfinishedCellsAndReportsEachCellsState() throws {
        let fake = try FakeSlurm()
        let bench = TemporaryDirectory()
        let suite = try #require(BenchSuite.named("micro"))
        let runner = BenchRunner(suite: suite, output: bench.url, assets: AssetRegistry(root: bench.url))
        let runs = suite.runs
        #expect(runs.count == 8)
        try SlurmExecutorTests.finish(runner, runs[6])

        // First submission: everything but the finished cell, as one array.
        try fake.write("42\n", "next-job")
        let slurm = SlurmExecutorTests.executor(runner, fake)
        let first = try slurm.submit()
        #expect(first.job == "42")
        #expect(first.cells == [0, 1, 2, 3, 4, 5, 7])
        #expect(first.arraySpec == "0-6%2")
        #expect(first.settled.map(\.cell) == [6] && first.settled[0].outcome.status == .skipped)
        let script = try String(contentsOf: fake.dir.url.appendingPathComponent("submitted-42.sh"), encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-6%2\n"))
        let cells = try String(contentsOf: bench.url.appendingPathComponent("slurm/cells-1.tsv"), encoding: .utf8)
        #expect(cells.split(separator: "\n").count == 7)
        #expect(cells.hasPrefix("0\t\(runs[0].label)\n"))
        #expect(FileManager.default.fileExists(atPath: bench.url.appendingPathComponent("configs").path))

        // The queue: task 0 runs, 1 waits, 2 was cancelled; task 3 exited 1; 4 finished (record and exit 0);
        // 5 and 6 (cells 5, 7) are gone without a trace.
        try fake.write("42_0 R\n42_1 PD\n42_2 CA\n", "queue")
        let exits = bench.url.appendingPathComponent("slurm/exit")
        try AtomicFile.write("1 12\n", to: exits.appendingPathComponent("42_3"))
        try AtomicFile.write("0 30\n", to: exits.appendingPathComponent("42_4"))
        try SlurmExecutorTests.finish(runner, runs[4])
        let status = try slurm.status()
        #expect(status.map(\.state) == [.running, .pending, .failed, .failed, .finished, .failed, .finished, .failed])
        #expect(status[2].detail?.contains("42_2 cancelled") == true)
        #expect(status[3].detail?.contains("exited with status 1") == true)
        #expect(status[3].log?.path == bench.url.appendingPathComponent("slurm/logs/42_3.log").path)
        #expect(status[5].detail?.contains("without an exit status") == true)
        #expect(status[4].seconds == 30 && status[6].task == nil)
        let args = try String(contentsOf: fake.dir.url.appendingPathComponent("squeue-args"), encoding: .utf8)
        #expect(args.hasPrefix("--noheader --array --format=%i %t"))

        // Re-running: cells 0 and 1 are still in job 42 (followed), 4 and 6 finished, the rest is submitted again.
        try fake.write("43;cluster\n", "next-job")
        let second = try slurm.submit()
        #expect(second.job == "43" && second.cells == [2, 3, 5, 7])
        #expect(second.following.map(\.cell) == [0, 1] && second.following.map(\.task.job) == ["42", "42"])
        #expect(second.settled.map(\.cell) == [4, 6])
        let plan = try #require(try SlurmPlan.read(output: bench.url))
        #expect(plan.submissions.map(\.job) == ["42", "43"] && plan.latestTask(of: 5) == SlurmTaskID(job: "43", index: 2))

        // Waiting: the queue empties; cells 0 and 2 finish with records, the others end without one.
        try fake.write("", "queue")
        try SlurmExecutorTests.finish(runner, runs[0])
        try SlurmExecutorTests.finish(runner, runs[2])
        try AtomicFile.write("0 7\n", to: exits.appendingPathComponent("43_0"))
        try AtomicFile.write("2 1\n", to: exits.appendingPathComponent("43_1"))
        let outcomes = try slurm.wait(for: second, onOutcome: nil)
        #expect(outcomes.map(\.run.label) == runs.map(\.label))
        #expect(outcomes.map(\.status) == [.finished, .failed, .finished, .failed, .skipped, .failed, .skipped, .failed])
        #expect(outcomes[2].seconds == 7)
        #expect(outcomes[3].error?.contains("43_1 exited with status 2") == true)
        #expect(outcomes[3].error?.contains("(log: \(bench.url.path)/slurm/logs/43_1.log)") == true)

        // Another suite configuration may not replace the plan while a job of the old one is queued.
        try fake.write("43_3 PD\n", "queue")
        let other = SlurmExecutorTests.executor(runner, fake, arguments: ["--suite=micro", "--epochs=2"])
        #expect(message { _ = try other.submit() }.contains("job 43 of another suite configuration still queued"))
    }

    @Test func sbatchFailureNamesTheScriptAndTheAnswer() throws {
        let fake = try FakeSlurm()
        try fake.script("#!/bin/sh\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n", "sbatch")
        let bench = TemporaryDirectory()
        let runner = BenchRunner(suite: try #require(BenchSuite.named("micro")), output: bench.url)
        let text = message { _ = try SlurmExecutorTests.executor(runner, fake).submit() }
        #expect(text.contains("sbatch refused") && text.contains("invalid partition specified: nope"))
        #expect(try SlurmPlan.read(output: bench.url)?.submissions.isEmpty ?? true)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }
}
