import Foundation
import MonaBench
import MonaFormats
import MonaRunKit
import Testing
@testable import MonaTransfer

@Suite struct BenchRecordTests {
    /// A finished run directory written by hand: config.yaml, metrics.jsonl (two epochs, the test record),
    /// timings.json, predictions.csv and a checkpoint folder.
    static func fakeRun(in dir: URL, config: FitConfig, testAccuracy: Double = 0.75) throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("checkpoints/best"),
                                                withIntermediateDirectories: true)
        try AtomicFile.write(Data(count: 64), to: dir.appendingPathComponent("checkpoints/best/model.safetensors"))
        try ConfigFile.write(try config.pairs(), to: dir.appendingPathComponent("config.yaml"))
        let lines = [
            #"{"epoch": 1, "step": 3, "split": "validation", "stage": "finetune", "train_loss": 0.9, "val_accuracy": 0.5}"#,
            #"{"epoch": 2, "step": 6, "split": "validation", "stage": "finetune", "train_loss": 0.7, "val_accuracy": 0.6}"#,
            #"{"epoch": 2, "step": 6, "split": "test", "stage": "finetune", "selected_epoch": 2, "test_accuracy": \#(testAccuracy), "test_loss": 0.5}"#,
        ]
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("metrics.jsonl"))
        try AtomicFile.write(#"{"data": 0.5, "finetune": 3.25, "total": 4}"# + "\n", to: dir.appendingPathComponent("timings.json"))
        try AtomicFile.write("index,label,prediction\n0,a,a\n", to: dir.appendingPathComponent("predictions.csv"))
    }

    static func config(epochs: Int = 5) -> FitConfig {
        var c = FitConfig(task: "gunpoint", body: "tiny-bert", method: "finetune", seed: 3)
        c.training.epochs = epochs
        c.training.patience = 2
        return c
    }

    @Test func recordRoundTrip() throws {
        let tmp = TemporaryDirectory()
        let run = tmp.url.appendingPathComponent("runs/gunpoint/finetune/seed3", isDirectory: true)
        let config = BenchRecordTests.config()
        try BenchRecordTests.fakeRun(in: run, config: config)
        let written = try BenchRecordManifest.write(runDirectory: run, task: "gunpoint", method: "finetune",
                                                    config: config, checkpointsKept: false)
        #expect(written.files.map(\.name) == ["config.yaml", "metrics.jsonl", "timings.json", "predictions.csv"])
        #expect(written.testValue == 0.75 && written.testLoss == 0.5 && written.metric == "accuracy")
        #expect(written.epochs == 2 && written.epochCap == 5 && written.selectedEpoch == 2 && written.stoppedEarly)
        #expect(written.seconds == 4 && written.seed == 3 && written.resolvedMethod == "finetune")
        let configBytes = try Data(contentsOf: run.appendingPathComponent("config.yaml"))
        #expect(written.configHash == BenchRecordManifest.fnv1a64(configBytes))
        // FNV-1a 64 reference values: the empty input is the offset basis; "a" is 0xaf63dc4c8601ec8c.
        #expect(BenchRecordManifest.fnv1a64(Data()) == "cbf29ce484222325")
        #expect(BenchRecordManifest.fnv1a64(Data("a".utf8)) == "af63dc4c8601ec8c")

        // Read back: the same manifest; the run's values come from the record alone.
        #expect(BenchRecordManifest.read(runDirectory: run) == written)
        for name in ["metrics.jsonl", "timings.json", "config.yaml", "predictions.csv", "checkpoints"] {
            try FileManager.default.removeItem(at: run.appendingPathComponent(name))
        }
        let r = try #require(BenchRunRecord(directory: run))
        #expect(r.manifest == written && r.testValue == 0.75 && r.epochs == 2 && r.finalTrainLoss == 0.7 && r.seconds == 4)
        #expect(BenchRecordManifest.matches(runDirectory: run, config: config))
        var other = config
        other.output = "/elsewhere"
        #expect(BenchRecordManifest.matches(runDirectory: run, config: other))     // the output folder is not the config
        #expect(!BenchRecordManifest.matches(runDirectory: run, config: BenchRecordTests.config(epochs: 6)))

        // A partly copied record (truncated metrics) is no record.
        let metrics = BenchRecordManifest.folder(in: run).appendingPathComponent("metrics.jsonl")
        let text = try String(contentsOf: metrics, encoding: .utf8)
        try AtomicFile.write(String(text.dropLast(10)), to: metrics)
        #expect(BenchRecordManifest.read(runDirectory: run) == nil)
        #expect(BenchRunRecord(directory: run) == nil)
    }

    @Test func recordNeedsATestRecord() throws {
        let tmp = TemporaryDirectory()
        let config = BenchRecordTests.config()
        try BenchRecordTests.fakeRun(in: tmp.url, config: config)
        let metrics = tmp.url.appendingPathComponent("metrics.jsonl")
        let kept = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"test\"") }
        try AtomicFile.write(kept.joined(separator: "\n") + "\n", to: metrics)
        #expect(throws: TransferError.self) {
            try BenchRecordManifest.write(runDirectory: tmp.url, task: "gunpoint", method: "finetune", config: config,
                                          checkpointsKept: false)
        }
        #expect(BenchRecordManifest.read(runDirectory: tmp.url) == nil)
    }

    @Test func fullSuiteSeedsAndExpertColumn() {
        let full = BenchSuite.full
        #expect(full.methods == ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona", "no-body",
                                 "expert"])
        for task in full.tasks {
            let n = full.seeds(for: task).count
            #expect(task.family != nil, "\(task.name) has no family")
            #expect(n == 5 || n == 3)
        }
        #expect(full.seeds(for: full.tasks[0]).count == 5)                                    // gunpoint, 50 samples
        #expect(full.seeds(for: full.tasks.first { $0.name == "peptides" }!).count == 3)     // 600 samples
        // Probes: every 50 steps, at most four in fine-tuning on the large tasks (600 samples: 30 steps × 10 epochs).
        #expect(full.config(task: full.tasks.first { $0.name == "peptides" }!, method: "mona", seed: 0)
                    .method.options["analysisEvery"] == "75")
        #expect(full.config(task: full.tasks[0], method: "mona", seed: 0).method.options["analysisEvery"] == "50")
        let gunpoint = full.tasks[0]
        #expect(full.resolvedMethod(task: gunpoint, method: "expert") == BenchTask.Family.expertMethods["series"])
        #expect(full.config(task: gunpoint, method: "expert", seed: 0).method.name == "minirocket")
        #expect(full.resolvedMethod(task: BenchTask("x"), method: "expert") == nil)
        #expect(BenchRun(task: gunpoint, method: "expert", seed: 4).relativePath == "runs/gunpoint/expert/seed4")
        #expect(full.runs.count == full.tasks.reduce(0) { $0 + full.seeds(for: $1).count } * full.methods.count)
    }

    @Test func convergenceCountsEarlyStopsAndCaps() throws {
        let tmp = TemporaryDirectory()
        var suite = BenchSuite(name: "t", tasks: [BenchTask("gunpoint", body: "tiny-bert", epochs: 2, patience: 2)],
                               methods: ["finetune"], seeds: [0, 1])
        suite.analysisEvery = 0
        // Seed 0 runs both epochs and selects the last (still improving); seed 1 has a cap of 5 and stopped after 2.
        let at = { (seed: UInt64) in tmp.url.appendingPathComponent("runs/gunpoint/finetune/seed\(seed)", isDirectory: true) }
        try BenchRecordTests.fakeRun(in: at(0), config: suite.config(task: suite.tasks[0], method: "finetune", seed: 0))
        var five = suite.config(task: suite.tasks[0], method: "finetune", seed: 1)
        five.training.epochs = 5
        try BenchRecordTests.fakeRun(in: at(1), config: five)
        try BenchRecordManifest.write(runDirectory: at(0), task: "gunpoint", method: "finetune",
                                      config: suite.config(task: suite.tasks[0], method: "finetune", seed: 0),
                                      checkpointsKept: true)
        try BenchRecordManifest.write(runDirectory: at(1), task: "gunpoint", method: "finetune", config: five,
                                      checkpointsKept: true)
        let c = BenchConvergence.collect(suite: suite, output: tmp.url)
        #expect(c.rows == [BenchConvergence.Row(method: "finetune", runs: 2, stoppedEarly: 1, hitCap: 1, improvingAtCap: 1)])
        #expect(c.stillImproving.count == 1 && c.stillImproving[0].task == "gunpoint")
        #expect(c.markdown().contains("| finetune | 2 | 1 (50 %) | 1 (50 %) | 1 (50 %) |"))
    }
}

@Suite(.serialized) struct BenchContinuationTests {
    /// Runs one micro task, copies only the records into a fresh folder, and continues there: everything is
    /// skipped and aggregates the same; a cell whose configuration changed runs again.
    @Test func continuesFromCopiedRecordsOnly() throws {
        let missing = BenchRunnerTests.needed.filter { !assetExists($0) }
        guard missing.isEmpty else {
            Issue.record("SKIPPED: bench test needs \(missing) under \(repositoryAssets.path) (scripts/fetch-data.sh)")
            return
        }
        let assets = AssetRegistry(root: repositoryAssets)
        var suite = BenchSuite.micro
        suite.tasks = [suite.tasks[0]]
        let first = TemporaryDirectory()
        let outcomes = try BenchRunner(suite: suite, output: first.url, assets: assets).run()
        #expect(outcomes.count == 4 && outcomes.allSatisfy { $0.status == .finished }, "\(outcomes.compactMap(\.error))")
        let fm = FileManager.default
        for o in outcomes {
            // Checkpoints are gone once the record is written; the record is complete.
            #expect(!fm.fileExists(atPath: o.directory.appendingPathComponent("checkpoints").path))
            let m = try #require(BenchRecordManifest.read(runDirectory: o.directory))
            #expect(!m.checkpointsKept && m.task == "gunpoint" && m.seed == o.run.seed)
        }
        #expect(fm.fileExists(atPath: first.url.appendingPathComponent(".gitignore").path))

        // Another machine: only runs/<task>/<method>/seed<k>/record/ arrive.
        let second = TemporaryDirectory()
        for o in outcomes {
            let target = second.url.appendingPathComponent(o.run.relativePath, isDirectory: true)
            try fm.createDirectory(at: target, withIntermediateDirectories: true)
            try fm.copyItem(at: BenchRecordManifest.folder(in: o.directory), to: BenchRecordManifest.folder(in: target))
        }
        let again = try BenchRunner(suite: suite, output: second.url, assets: assets).run()
        #expect(again.map(\.status) == Array(repeating: .skipped, count: 4))
        let a = BenchResults.collect(suite: suite, output: first.url), b = BenchResults.collect(suite: suite, output: second.url)
        #expect(a.cells.count == 2 && b.cells.count == 2)
        for (x, y) in zip(a.cells, b.cells) {
            #expect(x.method == y.method && x.values == y.values && x.seeds == y.seeds && x.runs == y.runs)
        }

        // A changed budget on one cell: that cell runs again (from scratch), the rest is still skipped.
        // A new analysis interval changes the configuration: run the linear-probe seed-0 cell under it.
        var onlyLinear = suite
        onlyLinear.methods = ["linear-probe"]
        onlyLinear.seeds = [0]
        onlyLinear.analysisEvery = 3
        let third = try BenchRunner(suite: onlyLinear, output: second.url, assets: assets).run()
        #expect(third.map(\.status) == [.finished])
        let rerun = try #require(BenchRecordManifest.recordedConfig(runDirectory: third[0].directory))
        #expect(rerun.method.options["analysisEvery"] == "3")
        // Back under the original suite, that cell's record is stale and runs again; the other three are skipped.
        let fourth = try BenchRunner(suite: suite, output: second.url, assets: assets).run()
        #expect(fourth.filter { $0.status == .finished }.map(\.run.label) == ["gunpoint/linear-probe/seed0"])
        #expect(fourth.filter { $0.status == .skipped }.count == 3)

        // One cell by index (a cluster array task) and the command lines of unfinished cells (other schedulers).
        #expect(try BenchRunner(suite: suite, output: second.url, assets: assets).runCell(1).status == .skipped)
        let fresh = TemporaryDirectory()
        let printer = BenchRunner(suite: suite, output: fresh.url, assets: assets)
        #expect(throws: TransferError.self) { try printer.runCell(4) }
        let lines = try printer.commandLines(executable: URL(fileURLWithPath: "/opt/mona bin/mona"))
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.hasPrefix("'/opt/mona bin/mona' fit --config ") && $0.contains("--checkpoint-interval ") })
        #expect(try printer.commandLines(executable: URL(fileURLWithPath: "/m")).count == 4)
    }
}
