import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// Every method through the `mona fit` path (flat key–value configuration → FitPipeline → run directory) on the
/// real bodies, with tiny budgets: DINOv2 on Darcy flow (source: Fashion-MNIST through DINOv2's own patch
/// embedder, at 28×28 → 2×2 patches) and MiniLM on GunPoint (source: WordNet glosses). Skipped, with the
/// reason in the test name's condition, when the assets are missing.
@Suite(.serialized) struct TransferEndToEndTests {
    var assets: AssetRegistry { AssetRegistry(root: repositoryAssets) }

    /// Runs `mona fit` with `pairs` into a fresh directory; returns the result, the run URL and its records.
    func fit(_ pairs: [(String, RunValue)], in dir: TemporaryDirectory, name: String) throws
        -> (FitResult, URL, [[String: RunValue]]) {
        let run = dir.url.appendingPathComponent(name)
        // One option list for every method, as a bench suite has: each method keeps the keys it knows.
        var config = try FitConfig(pairs: pairs)
        config.method = config.method.keepingKnownOptions()
        let result = try FitPipeline(config: config, runDirectory: run, assets: assets).fit()
        return (result, run, try MetricsLog.read(run.appendingPathComponent("metrics.jsonl")))
    }

    func expectCompleteRun(_ run: URL, alignment: Bool, analysis: Bool, dense: Bool = false) {
        var files = ["config.yaml", "metrics.jsonl", "report.md", "predictions.csv", "plots/loss.svg", "plots/metric.svg",
                     "checkpoints/best/model.safetensors", "checkpoints/last/state.json"]
        if alignment { files.append("checkpoints/aligned/model.safetensors") }
        if analysis { files += ["plots/source-knowledge.svg", "plots/source-knowledge-geometry.svg"] }
        if dense { files.append("predictions.npy") }
        for f in files {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(f).path), "\(run.lastPathComponent): \(f) missing")
        }
    }

    func analysisPoints(_ records: [[String: RunValue]]) -> [String] {
        records.filter { $0["phase"]?.stringValue == "analysis" }.compactMap { $0["point"]?.stringValue }
    }

    static let darcy: [(String, RunValue)] = [
        ("task", .string("darcy16")), ("body", .string("dinov2-s14")), ("seed", .number(0)), ("model.maxTokens", .number(16)),
        ("data.trainLimit", .number(12)), ("data.testLimit", .number(4)), ("training.epochs", .number(1)),
        ("training.batchSize", .number(4)), ("training.learningRate", .number(1e-4)), ("method.warmupEpochs", .number(1)),
        ("method.sourceImageSize", .number(28)), ("method.sourcePerClass", .number(2)), ("method.analysisPerClass", .number(2)),
        ("method.analysisEvery", .number(2)),
        ("method.outerSteps", .number(2)), ("method.sourceBatchSize", .number(10)), ("method.targetBatchSize", .number(4)),
        ("method.orcaSteps", .number(2)), ("method.orcaBatchSize", .number(8)),
    ]

    @Test(.enabled(if: assetExists("dinov2-s14/vit_s_focus.onnx") && assetExists("data/pde/darcy_train_16.pt")
                   && assetExists("data/fashion-mnist/train-images-idx3-ubyte.gz")),
          arguments: ["mona", "orca"])
    func dinov2OnDarcy(method: String) throws {
        let dir = TemporaryDirectory()
        let (result, run, records) = try fit(Self.darcy + [("method.name", .string(method))], in: dir, name: method)
        let error = try #require(result.testMetrics[.relativeL2])
        print("MEASURED: darcy16 · dinov2-s14 · \(method): test relative L2 \(error), test loss \(result.testLoss)")
        #expect(error.isFinite && error > 0)
        expectCompleteRun(run, alignment: true, analysis: true, dense: true)
        let phase = method == "mona" ? "mona" : "orca"
        #expect(records.filter { $0["phase"]?.stringValue == phase }.count == 2)
        let points = analysisPoints(records)
        #expect(points.first == "before-alignment" && points.contains("after-alignment") && points.contains("finetune")
                && points.last == "after-finetune", "\(points)")
        let first = try #require(records.first { $0["phase"]?.stringValue == "analysis" })
        for key in ["linear_probe_accuracy", "knn_accuracy", "davies_bouldin", "alignment", "uniformity"] {
            #expect(first[key]?.doubleValue?.isFinite == true, "\(key)")
        }
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("Source knowledge") && report.contains("plots/source-knowledge.svg")
                && report.contains("Alignment stages"))
    }

    static let gunPoint: [(String, RunValue)] = [
        ("task", .string("gunpoint")), ("body", .string("minilm-l6")), ("seed", .number(0)), ("model.maxTokens", .number(16)),
        ("data.trainLimit", .number(16)), ("data.testLimit", .number(20)), ("training.epochs", .number(1)),
        ("training.batchSize", .number(8)), ("training.learningRate", .number(3e-4)), ("method.warmupEpochs", .number(1)),
        ("method.sourcePerClass", .number(2)), ("method.analysisPerClass", .number(2)),
        ("method.outerSteps", .number(2)), ("method.sourceBatchSize", .number(10)),
        ("method.orcaSteps", .number(2)), ("method.orcaBatchSize", .number(8)),
    ]

    /// `finetune` has its own test (FitPipelineTests.gunPointWithMiniLM); these are the other five.
    @Test(.enabled(if: assetExists("minilm-l6/model.safetensors") && assetExists("data/ucr/GunPoint/GunPoint_TRAIN.ts")
                   && assetExists("data/wordnet/data.noun")),
          arguments: ["scratch", "linear-probe", "fpt", "orca", "mona"])
    func miniLMOnGunPoint(method: String) throws {
        let dir = TemporaryDirectory()
        let (result, run, records) = try fit(Self.gunPoint + [("method.name", .string(method))], in: dir, name: method)
        let accuracy = try #require(result.testMetric)
        print("MEASURED: gunpoint · minilm-l6 · \(method): test accuracy \(accuracy)")
        #expect(accuracy >= 0 && accuracy <= 1)
        let aligned = method == "orca" || method == "mona"
        expectCompleteRun(run, alignment: aligned, analysis: aligned)
        #expect(records.contains { $0["test_accuracy"] != nil })
        switch method {
        case "linear-probe":
            #expect(result.trainableCount < 10_000, "linear probe trains \(result.trainableCount) parameters")
        case "fpt":
            #expect(result.trainableCount < result.parameterCount / 10)
        case "scratch", "mona", "orca":
            #expect(result.trainableCount == result.parameterCount)
        default: break
        }
        if aligned {
            #expect(records.filter { $0["phase"]?.stringValue == method }.count == 2)
            #expect(analysisPoints(records) == ["before-alignment", "after-alignment", "after-finetune"])
        } else {
            #expect(analysisPoints(records).isEmpty)
        }
    }
}
