import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// `mona align` (AlignPipeline) and `mona fit --from-aligned`, end to end on tiny budgets. Configurations are
/// built from flat key–value pairs, as the command line resolves them.
@Suite struct AlignCommandTests {
    var assets: AssetRegistry { AssetRegistry(root: repositoryAssets) }

    static let tinyMoNA: [(String, RunValue)] = [
        ("task", .string("gunpoint")), ("body", .string("tiny-bert")), ("method.name", .string("mona")), ("seed", .number(0)),
        ("model.maxTokens", .number(16)), ("training.epochs", .number(2)), ("training.batchSize", .number(8)),
        ("training.learningRate", .number(3e-3)), ("method.warmupEpochs", .number(1)), ("data.trainLimit", .number(24)),
        ("data.testLimit", .number(20)), ("method.outerSteps", .number(3)), ("method.sourceBatchSize", .number(20)),
        ("method.sourcePerClass", .number(4)), ("method.analysisPerClass", .number(4)),
    ]

    @Test(.enabled(if: assetsPresent("data/ucr/GunPoint/GunPoint_TRAIN.ts", "data/wordnet/data.noun")))
    func alignThenFineTuneFromTheAlignedModel() throws {
        let dir = TemporaryDirectory()
        let alignRun = dir.url.appendingPathComponent("aligned")
        let config = try FitConfig(pairs: Self.tinyMoNA)
        let a = try AlignPipeline(config: config, runDirectory: alignRun, assets: assets).align()
        #expect(a.stages == ["mona"] && a.validationLoss.isFinite)
        let before = try #require(a.knowledgeBefore), after = try #require(a.knowledgeAfter)
        // The analysis sees only the body, which alignment leaves untouched.
        #expect(before == after)
        let fm = FileManager.default
        for file in ["config.yaml", "metrics.jsonl", "report.md", "plots/mona.svg", "plots/mona-grad-ratio.svg",
                     "plots/source-knowledge.svg", "plots/source-knowledge-geometry.svg", "plots/loss.svg",
                     "checkpoints/aligned/model.safetensors", "checkpoints/aligned/model.json"] {
            #expect(fm.fileExists(atPath: alignRun.appendingPathComponent(file).path), "\(file) missing")
        }
        #expect(!fm.fileExists(atPath: alignRun.appendingPathComponent("predictions.csv").path))
        let records = try MetricsLog.read(alignRun.appendingPathComponent("metrics.jsonl"))
        let mona = records.filter { $0["phase"]?.stringValue == "mona" }
        #expect(mona.count == 3)
        for key in ["align", "uniform", "target_loss", "grad_ratio", "outer_loss", "outer_delta"] {
            #expect(mona.allSatisfy { $0[key]?.doubleValue?.isFinite == true }, "\(key) missing in the MoNA records")
        }
        #expect(records.contains { $0["stage"]?.stringValue == "warmup" && $0["split"]?.stringValue == "train" })
        let points = records.filter { $0["phase"]?.stringValue == "analysis" }.compactMap { $0["point"]?.stringValue }
        #expect(points == ["before-alignment", "after-alignment"])
        #expect(!records.contains { $0["split"]?.stringValue == "test" })
        let report = try String(contentsOf: alignRun.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("Alignment stages") && report.contains("plots/mona.svg") && report.contains("Source knowledge")
                && report.contains("--from-aligned"))
        // A second align into the same directory is refused.
        #expect(throws: TransferError.self) { try AlignPipeline(config: config, runDirectory: alignRun, assets: self.assets).align() }

        // Fine-tuning from it: the aligned weights are the starting point, the stages do not run again.
        var pairs = try ConfigFile.load(alignRun.appendingPathComponent("config.yaml")).filter { $0.0 != "output" }
        pairs.append(("fromAligned", .string(alignRun.path)))
        pairs.append(("method.analysisEvery", .number(2)))
        let fitConfig = try FitConfig(pairs: pairs)
        #expect(fitConfig.fromAligned == alignRun.path && fitConfig.method.name == "mona")
        let fitRun = dir.url.appendingPathComponent("fit")
        let pipeline = try FitPipeline(config: fitConfig, runDirectory: fitRun, assets: assets)
        let f = try pipeline.fit()
        #expect(f.testMetric != nil)
        let alignedHere = try #require(try CheckpointStore(directory: fitRun.appendingPathComponent("checkpoints")).load("aligned"))
        let alignedThere = try #require(try CheckpointStore(directory: alignRun.appendingPathComponent("checkpoints")).load("aligned"))
        #expect(alignedHere.model.keys.sorted() == alignedThere.model.keys.sorted())
        for (k, v) in alignedThere.model { #expect(alignedHere.model[k]?.scalars == v.scalars, "\(k) differs") }
        let fitRecords = try MetricsLog.read(fitRun.appendingPathComponent("metrics.jsonl"))
        // The aligned run's stage records open the log, once; MoNA did not run again.
        #expect(fitRecords.filter { $0["phase"]?.stringValue == "mona" }.count == 3)
        let fitPoints = fitRecords.filter { $0["phase"]?.stringValue == "analysis" }.compactMap { $0["point"]?.stringValue }
        #expect(fitPoints.first == "before-alignment" && fitPoints.contains("after-alignment") && fitPoints.contains("finetune")
                && fitPoints.last == "after-finetune", "\(fitPoints)")
        let fitReport = try String(contentsOf: fitRun.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(fitReport.contains("Alignment stages") && fitReport.contains("source-knowledge-geometry.svg"))

        // A fit whose model does not match the aligned one is refused with a named error.
        var other = fitConfig
        other.model.maxTokens = 8
        #expect(throws: TransferError.self) {
            try FitPipeline(config: other, runDirectory: dir.url.appendingPathComponent("other"), assets: self.assets).fit()
        }
    }

    @Test func alignRefusesMethodsWithoutStages() throws {
        let dir = TemporaryDirectory()
        let config = FitConfig(task: "gunpoint", body: "tiny-bert", method: "finetune", seed: 0)
        #expect(throws: TransferError.self) {
            try AlignPipeline(config: config, runDirectory: dir.url.appendingPathComponent("x"), assets: self.assets).align()
        }
    }

    @Test func fromAlignedNeedsAnAlignedRun() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "finetune", seed: 0)
        config.fromAligned = dir.url.appendingPathComponent("nothing").path
        config.training.epochs = 1
        #expect(throws: TransferError.self) {
            try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("x"), assets: self.assets).fit()
        }
        // The option survives the saved-config round trip.
        #expect(try FitConfig(pairs: try config.pairs()) == config)
    }
}
