import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

@Suite struct FitConfigTests {
    @Test func yamlAndFlagsResolveIdentically() throws {
        let yaml = """
        task: gunpoint
        body: tiny-bert
        method:
          name: fpt
          lambda: 0.5
        seed: 4
        model: {maxTokens: 64}
        training:
          epochs: 7
          batchSize: 8
          learningRate: 3e-4
          patience: 2
        data: {trainLimit: 30}
        """
        let fromFile = try FitConfig(pairs: try ConfigFile.parse(yaml))
        let fromFlags = try FitConfig(pairs: [
            ("task", .string("gunpoint")), ("body", .string("tiny-bert")), ("method.name", .string("fpt")),
            ("method.lambda", .number(0.5)), ("seed", .number(4)), ("model.maxTokens", .number(64)),
            ("training.epochs", .number(7)), ("training.batchSize", .number(8)),
            ("training.learningRate", RunValue(Float(3e-4))), ("training.patience", .number(2)),
            ("data.trainLimit", .number(30)),
        ])
        #expect(fromFile == fromFlags)
        #expect(fromFile.training.learningRate == 3e-4 && fromFile.method.options["lambda"] == "0.5")
        #expect(fromFile.training.weightDecay == TrainingConfig().weightDecay)         // defaults kept
        // Flags after the file override it.
        let overridden = try FitConfig(pairs: try ConfigFile.parse(yaml) + [("training.epochs", .number(2))])
        #expect(overridden.training.epochs == 2)
        // The saved form reads back to the same configuration.
        let saved = try ConfigFile.yaml(try fromFile.pairs())
        #expect(try FitConfig(pairs: try ConfigFile.parse(saved)) == fromFile)
    }

    @Test func mistakesAreNamed() throws {
        #expect(throws: TransferError.badConfig("unknown option 'training.learningrate'; known: "
                                                + TrainingConfig.CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))) {
            try FitConfig(pairs: [("training.learningrate", .number(1))])
        }
        do {
            _ = try FitConfig(pairs: [("training.epochs", .string("many"))])
            Issue.record("a text epoch count was accepted")
        } catch let TransferError.badConfig(m) {
            #expect(m.contains("training.epochs"))
        }
        var c = FitConfig(task: "gunpoint")
        c.training.validationFraction = 1
        #expect(throws: TransferError.self) { try c.validate() }
        #expect(throws: TransferError.self) { try FitConfig().validate() }             // no task
        #expect(throws: TransferError.self) { try FitConfig(task: "x", method: "nope").validate() }
    }

    /// Optimizer hyperparameters out of range are config errors naming the key, not traps in the optimizer.
    @Test func optimizerHyperparametersAreValidated() throws {
        let cases: [(String, RunValue)] = [("beta1", .number(1)), ("beta2", .number(-0.5)), ("epsilon", .number(0)),
                                              ("learningRate", .number(-1))]
        for (key, value) in cases {
            let c = try FitConfig(pairs: [("task", .string("gunpoint")), ("training.\(key)", value)])
            #expect(throws: TransferError.self) { try c.validate() }
            do { try c.validate() } catch let TransferError.badConfig(m) {
                #expect(m.hasPrefix("training.\(key): must be"), "\(m)")
            }
        }
        var sgd = FitConfig(task: "gunpoint")
        sgd.training.optimizer = .sgd
        sgd.training.momentum = -0.9
        do {
            try sgd.validate()
            Issue.record("negative momentum accepted")
        } catch let TransferError.badConfig(m) {
            #expect(m.hasPrefix("training.momentum: must be"), "\(m)")
        }
        sgd.training.momentum = 0.9
        try sgd.validate()
    }

    @Test func unknownTaskAndBodyAreOneLineErrors() {
        do {
            _ = try TaskCatalog.load("no-such-task", dataRoot: URL(fileURLWithPath: "/nonexistent"))
            Issue.record("unknown task accepted")
        } catch {
            #expect("\(error)".contains("unknown task 'no-such-task'"))
            #expect(!"\(error)".contains("\n"))
        }
        do {
            _ = try TaskCatalog.load("gunpoint", dataRoot: URL(fileURLWithPath: "/nonexistent"))
            Issue.record("missing data accepted")
        } catch {
            #expect("\(error)".contains("scripts/fetch-data.sh ucr"))
        }
        do {
            _ = try BodyCatalog.load("bert-huge", assets: AssetRegistry(root: URL(fileURLWithPath: "/nonexistent")))
            Issue.record("unknown body accepted")
        } catch {
            #expect("\(error)".contains("unknown body 'bert-huge'"))
        }
        do {
            _ = try BodyCatalog.load("minilm-l6", assets: AssetRegistry(root: URL(fileURLWithPath: "/nonexistent")))
            Issue.record("missing body accepted")
        } catch {
            #expect("\(error)".contains("scripts/fetch-assets.sh bodies"))
        }
    }
}

/// End-to-end runs of the fit pipeline.
@Suite struct FitPipelineTests {
    var assets: AssetRegistry { AssetRegistry(root: repositoryAssets) }


    @Test func resumedFitReproducesTheUninterruptedRun() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "warmup-only", seed: 2)
        config.method.warmupEpochs = 1
        config.model.maxTokens = 8
        config.training.epochs = 4
        config.training.batchSize = 6
        config.training.checkpointEvery = 1
        let a = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("a"), assets: assets).fit()
        let bDir = dir.url.appendingPathComponent("b")
        let killed = try FitPipeline(config: config, runDirectory: bDir, assets: assets)
        killed.interruptAfter = { $0.step == 6 }
        #expect(throws: TrainingInterrupted.self) { try killed.fit() }
        // A second start without --resume refuses to overwrite.
        #expect(throws: TransferError.self) { try FitPipeline(config: config, runDirectory: bDir, assets: assets).fit() }
        let b = try FitPipeline(config: config, runDirectory: bDir, assets: assets).fit(resume: true)
        #expect(a.testMetrics == b.testMetrics)
        #expect(a.testLoss == b.testLoss)
        func lines(_ url: URL) throws -> [String] {
            try MetricsLog.readOrdered(url.appendingPathComponent("metrics.jsonl")).map { RunValue.object($0).json }
        }
        let la = try lines(a.runDirectory), lb = try lines(b.runDirectory)
        #expect(la == lb)
        if la != lb {
            for (x, y) in zip(la, lb) where x != y { print("A: \(x)\nB: \(y)") }
            print("counts \(la.count) \(lb.count)")
        }
        // Resuming with a different configuration is refused.
        var other = config
        other.training.epochs = 5
        #expect(throws: TransferError.self) { try FitPipeline(config: other, runDirectory: bDir, assets: assets).fit(resume: true) }
    }

    @Test(.enabled(if: assetsPresent("data/ucr/GunPoint/GunPoint_TRAIN.ts")))
    func gunPointWithATinyRandomBody() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: "gunpoint", body: "tiny-bert", method: "finetune", seed: 0)
        config.model.maxTokens = 32
        config.training.epochs = 60
        config.training.batchSize = 8
        config.training.learningRate = 3e-3
        config.training.schedule = .constant
        let run = dir.url.appendingPathComponent("run")
        let result = try FitPipeline(config: config, runDirectory: run, assets: assets).fit()
        let fm = FileManager.default
        for file in ["config.yaml", "metrics.jsonl", "report.md", "predictions.csv", "plots/loss.svg", "plots/metric.svg",
                     "checkpoints/best/model.safetensors", "checkpoints/best/state.json", "checkpoints/best/model.json",
                     "checkpoints/last/model.safetensors", "checkpoints/last/optimizer.safetensors",
                     "checkpoints/last/state.json"] {
            #expect(fm.fileExists(atPath: run.appendingPathComponent(file).path), "\(file) missing")
        }
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        let test = try #require(records.last { $0["split"]?.stringValue == "test" })
        let accuracy = try #require(test["test_accuracy"]?.doubleValue)
        #expect(accuracy > 0.6, "GunPoint test accuracy \(accuracy)")
        #expect(accuracy == result.testMetric)
        #expect(test["test_macro_f1"] != nil && test["test_auroc"] != nil && test["test_loss"] != nil)
        #expect(records.filter { $0["split"]?.stringValue == "train" }.count == result.state.step)
        #expect(records.filter { $0["split"]?.stringValue == "validation" }.count == result.state.epoch)
        let csv = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 151)                              // header + 150 test series
        #expect(csv.hasPrefix("index,label,prediction,p_1,p_2"))
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("Test accuracy") && report.contains("trainable"))

        // The saved model gives the same test metrics and predictions without the run's configuration.
        let saved = try SavedModel.load(run)
        let loaded = try TaskCatalog.load("gunpoint", dataRoot: repositoryAssets.appendingPathComponent("data"))
        let data = try saved.prepared(loaded.test)
        let again = Trainer.evaluate(model: saved.model, task: saved.spec.task, data: data, batchSize: 50)
        #expect(again.metrics[.accuracy] == accuracy)
        let file = repositoryAssets.appendingPathComponent("data/ucr/GunPoint/GunPoint_TEST.ts")
        let fresh = try saved.prepared(try SavedModel.readInputs(file))
        #expect(FitPipeline.predictionTable(saved.predict(fresh), data: fresh, task: saved.spec.task) == csv)
    }

    @Test(.enabled(if: assetsPresent("data/pde/darcy_train_16.pt")))
    func darcyFieldToFieldRunsEndToEnd() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: "darcy16", body: "tiny-vit", method: "finetune", seed: 0)
        config.data.trainLimit = 12
        config.data.testLimit = 4
        config.training.epochs = 2
        config.training.batchSize = 4
        config.training.learningRate = 1e-3
        let run = dir.url.appendingPathComponent("darcy")
        let result = try FitPipeline(config: config, runDirectory: run, assets: assets).fit()
        #expect(result.task.output == .dense2D && result.task.sampleShape == [1, 16, 16])
        let error = try #require(result.testMetrics[.relativeL2])
        #expect(error.isFinite && error > 0)
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        #expect(records.last?["test_relative_l2"]?.doubleValue == error)
        let predictions = try NumPyArray.load(contentsOf: run.appendingPathComponent("predictions.npy"))
        #expect(predictions.shape == [4, 1, 16, 16])
    }

    @Test(.enabled(if: assetsPresent("data/ucr/GunPoint/GunPoint_TRAIN.ts", "minilm-l6/model.safetensors")))
    func gunPointWithMiniLM() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: "gunpoint", body: "minilm-l6", method: "finetune", seed: 0)
        config.model.maxTokens = 16
        config.training.epochs = 3
        config.training.batchSize = 8
        config.training.learningRate = 3e-4
        let result = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("m"), assets: assets).fit()
        let accuracy = try #require(result.testMetric)
        #expect(accuracy > 0.6, "GunPoint test accuracy with MiniLM \(accuracy)")
        #expect(result.parameterCount > 10_000_000)
    }
}
