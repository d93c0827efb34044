import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// What a run directory holds after a NaN stop, and resumed runs with the source-knowledge tracker on.
@Suite struct RunStopResumeTests {
    var assets: AssetRegistry { AssetRegistry(root: repositoryAssets) }


    /// metrics.jsonl as JSON lines without wall-clock fields.
    func lines(_ run: URL) throws -> [String] {
        try MetricsLog.readOrdered(run.appendingPathComponent("metrics.jsonl")).map { r in
            RunValue.object(r.filter { !$0.0.contains("seconds") && !$0.0.contains("elapsed") }).json
        }
    }

    @Test func nonFiniteStopWritesAReportAndKeepsTheBestCheckpoint() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "finetune", seed: 2)
        config.model.maxTokens = 8
        config.training.epochs = 8
        config.training.batchSize = 6
        config.training.learningRate = 1e-3
        // After two epochs (8 steps) the learning rate is multiplied by 1e30, then by 1e60 (infinite in Float).
        config.training.schedule = .step
        config.training.stepSize = 8
        config.training.gamma = 1e30
        config.training.clipNorm = nil
        let run = dir.url.appendingPathComponent("run")
        let best = run.appendingPathComponent("checkpoints/best/model.safetensors")
        let pipeline = try FitPipeline(config: config, runDirectory: run, assets: assets)
        var lastBest: Data?
        pipeline.interruptAfter = { _ in
            lastBest = try? Data(contentsOf: best)
            return false
        }
        var message = ""
        do {
            _ = try pipeline.fit()
            Issue.record("a fit with an exploding learning rate did not stop")
        } catch let TransferError.nonFinite(m) {
            message = m
        }
        #expect(!message.isEmpty && !message.contains("\n"))
        #expect(message.contains("finetune: training stopped at step"), "\(message)")

        // metrics.jsonl ends with the stop: stage, step and reason.
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        let stop = try #require(records.last)
        #expect(stop["split"]?.stringValue == "stopped" && stop["stage"]?.stringValue == "finetune")
        let step = try #require(stop["step"]?.doubleValue)
        #expect(step > 8 && step <= 16, "stopped at step \(step)")
        #expect(stop["reason"]?.stringValue?.contains("NaN") == true || stop["reason"]?.stringValue?.contains("infinity") == true)
        #expect(records.filter { $0["split"]?.stringValue == "stopped" }.count == 1)
        #expect(!records.contains { $0["split"]?.stringValue == "test" })

        // report.md says where and why; no test predictions were made.
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("The run stopped") && report.contains("stage `finetune`, step \(Int(step))"), "\(report)")
        #expect(report.contains("checkpoints/best/"))
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("plots/loss.svg").path))
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("predictions.csv").path))

        // The best checkpoint is byte for byte what it was at the last step before the stop, and finite.
        let saved = try #require(lastBest)
        #expect(try Data(contentsOf: best) == saved)
        let checkpoint = try #require(try CheckpointStore(directory: run.appendingPathComponent("checkpoints")).load("best"))
        #expect(checkpoint.model.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        #expect(checkpoint.state.step <= 8)
    }

    @Test(.enabled(if: assetExists("data/wordnet/data.noun")))
    func resumeKeepsSourceKnowledgeRecordsExactlyOnce() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "warmup-only", seed: 2)
        config.method.options = ["analysis": "true", "analysisEvery": "2", "analysisPerClass": "4", "sourcePerClass": "4"]
        config.method.warmupEpochs = 1
        config.model.maxTokens = 8
        config.training.epochs = 3
        config.training.batchSize = 6
        config.training.checkpointEvery = 1
        let a = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("a"), assets: assets).fit()
        let expected = try lines(a.runDirectory)
        let points = expected.filter { $0.contains("\"analysis\"") }
        #expect(points.count >= 5, "\(points)")                  // before/after alignment, steps 2, 4, …, after fine-tuning
        let reportA = try String(contentsOf: a.runDirectory.appendingPathComponent("report.md"), encoding: .utf8)

        // Killed at an epoch's last step (measured, but after the last checkpoint: redone on resume), and in
        // mid-epoch right after a measured, checkpointed step (kept, not measured again).
        for killStep in [4, 6] {
            let bDir = dir.url.appendingPathComponent("b\(killStep)")
            let killed = try FitPipeline(config: config, runDirectory: bDir, assets: assets)
            killed.interruptAfter = { $0.step == killStep }
            #expect(throws: TrainingInterrupted.self) { try killed.fit() }
            let b = try FitPipeline(config: config, runDirectory: bDir, assets: assets).fit(resume: true)
            let got = try lines(b.runDirectory)
            #expect(got == expected, "kill at step \(killStep)")
            if got != expected {
                for (x, y) in zip(expected, got) where x != y { print("expected: \(x)\n     got: \(y)") }
                print("counts \(expected.count) \(got.count)")
            }
            // The report's source-knowledge table lists every point once, as in the uninterrupted run.
            let reportB = try String(contentsOf: b.runDirectory.appendingPathComponent("report.md"), encoding: .utf8)
            func table(_ s: String) -> [Substring] {
                // Rows of the source-knowledge table (8 columns; the timings table also has a `finetune` row).
                s.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.split(separator: "|").count == 8 }
            }
            #expect(table(reportB) == table(reportA), "kill at step \(killStep)")
        }
    }
}
