import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// Runs the built `mona` (see CLISupport.swift); fails the test when it is not built.
private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    try runMona(arguments)
}

@Suite struct PDETaskTests {
    @Test func generateCommandWritesATaskFile() throws {
        let dir = TemporaryDirectory()
        let file = dir.url.appendingPathComponent("adv.npz").path
        let r = try run(["generate", "advection", "--samples", "6", "--test-samples", "3", "--resolution", "32",
                         "--seed", "5", "--beta", "1", "--output", file])
        #expect(r.status == 0, "stderr: \(r.err)")
        #expect(r.out.hasPrefix("wrote advection: 6 train + 3 test samples, 1×32"), "\(r.out)")
        let task = try TaskCatalog.load(file, dataRoot: dir.url)
        #expect(task.spec.input == .series && task.spec.output == .dense1D)
        #expect(task.spec.sampleShape == [1, 32] && task.spec.targetShape == [1, 32])
        #expect(task.training.inputTensor!.shape == [6, 1, 32] && task.test.inputTensor!.shape == [3, 1, 32])
        // The file holds exactly what the library generates.
        let lib = try PDEGenerator.generate(.advection, options: PDEOptions(samples: 6, testSamples: 3, resolution: 32,
                                                                           seed: 5, coefficients: ["beta": 1]))
        let saved = try NumPyArchive.load(contentsOf: URL(fileURLWithPath: file))
        for (name, t) in lib.arrays { #expect(saved[name]?.scalars == t.scalars, "\(name)") }

        let darcy = dir.url.appendingPathComponent("darcy.npz").path
        let d = try run(["generate", "darcy", "--samples", "3", "--test-samples", "2", "--resolution", "9",
                         "--coefficient", "high=10", "--output", darcy, "--quiet"])
        #expect(d.status == 0, "stderr: \(d.err)")
        let dt = try TaskCatalog.load(darcy, dataRoot: dir.url)
        #expect(dt.spec.output == .dense2D && dt.training.inputTensor!.shape == [3, 1, 9, 9])
        #expect(Set(dt.training.inputTensor!.scalars) == [10, 3])

        // Mistakes: exit status 2 and a message naming the option.
        let bad = try run(["generate", "advection", "--coefficient", "cfl=2", "--output", file])
        #expect(bad.status == 2 && bad.err.contains("'cfl'"), "\(bad.err)")
        let wrongFlag = try run(["generate", "darcy", "--nu", "1", "--output", darcy])
        #expect(wrongFlag.status == 2 && wrongFlag.err.contains("--nu"), "\(wrongFlag.err)")
        let notNpz = try run(["generate", "advection", "--output", dir.url.appendingPathComponent("x.bin").path])
        #expect(notNpz.status == 2 && notNpz.err.contains(".npz"), "\(notNpz.err)")
    }

    /// `--task diffreact` generates and caches its data under <assets>/data/generated on first use, reports nRMSE,
    /// and a few fine-tuning steps of a tiny body lower the training loss.
    @Test func generatedTaskTrains() throws {
        let dir = TemporaryDirectory()
        let assets = AssetRegistry(root: dir.url.appendingPathComponent("assets"))
        var config = FitConfig(task: "diffreact", body: "tiny-bert", method: "finetune", seed: 0)
        config.model.maxTokens = 16
        config.training.epochs = 4
        config.training.batchSize = 8
        config.training.learningRate = 3e-3
        config.training.schedule = .constant
        config.data.trainLimit = 48
        config.data.testLimit = 16
        let result = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("run"), assets: assets).fit()
        let cache = assets.root.appendingPathComponent("data/generated/diffreact-v1.npz")
        #expect(FileManager.default.fileExists(atPath: cache.path))
        #expect(result.task.metric == .nrmse && result.task.output == .dense1D)
        let nrmse = try #require(result.testMetric)
        #expect(nrmse.isFinite && nrmse > 0)
        let records = try MetricsLog.read(result.runDirectory.appendingPathComponent("metrics.jsonl"))
        let losses = records.compactMap { $0["train_loss"]?.doubleValue }
        print("diffreact tiny-bert: epoch train losses \(losses), test nRMSE \(nrmse)")
        #expect(losses.count == 4 && losses.last! < losses.first!, "train losses \(losses)")
        // The cached file is reused (same spec and data on a second load).
        let again = try TaskCatalog.load("diffreact", dataRoot: assets.root.appendingPathComponent("data"))
        #expect(again.spec.metric == .nrmse)
        #expect(again.training.count == 512 && again.test.count == 128)
    }
}
