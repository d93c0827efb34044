import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// The real-data suite tasks of the catalog: sizes, classes and split, then a few training steps end to end
/// with a tiny random body. Each test is skipped (listed as skipped) when its data is not fetched.
@Suite struct SuiteTaskTests {
    var assets: AssetRegistry { AssetRegistry(root: repositoryAssets) }
    var dataRoot: URL { repositoryAssets.appendingPathComponent("data", isDirectory: true) }

    /// A short fit; returns the selection metric on the test split.
    func shortFit(_ task: String, body: String = "tiny-bert", trainLimit: Int? = nil, testLimit: Int = 40,
                  maxTokens: Int = 32) throws -> FitResult {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: task, body: body, method: "finetune", seed: 0)
        config.model.maxTokens = maxTokens
        config.data.trainLimit = trainLimit
        config.data.testLimit = testLimit
        config.training.epochs = 1
        config.training.batchSize = 8
        config.training.learningRate = 1e-3
        let result = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("run"), assets: assets).fit()
        let records = try MetricsLog.read(dir.url.appendingPathComponent("run/metrics.jsonl"))
        #expect(records.contains { $0["split"]?.stringValue == "train" })
        #expect(records.last?["split"]?.stringValue == "test")
        return result
    }

    func isStratifiedSplit(_ t: LoadedTask, total: Int) -> Bool {
        guard let a = t.training.classCounts, let b = t.test.classCounts, t.training.count + t.test.count == total else {
            return false
        }
        // Every class is split about 75 / 25.
        return zip(a, b).allSatisfy { abs(Double($1) / Double($0 + $1) - TaskCatalog.suiteTestFraction) < 0.02 }
    }

    @Test(.enabled(if: assetsPresent("data/modlamp/AMPvsUniProt.csv")))
    func peptides() throws {
        let t = try TaskCatalog.load("peptides", dataRoot: dataRoot)
        #expect(t.spec.input == .tokens && t.spec.output == .classification)
        #expect(t.spec.classNames == ["UniProt", "AMP"] && t.spec.vocabularySize == 22)
        #expect(t.training.count == 3900 && t.test.count == 1300)
        #expect(isStratifiedSplit(t, total: 5200))
        // The same split every time.
        let again = try TaskCatalog.load("Peptides", dataRoot: dataRoot)
        #expect(again.test.labels == t.test.labels)
        let r = try shortFit("peptides", trainLimit: 48)
        #expect(r.task.vocabularySize == 22)
        #expect(r.testMetric.map { $0 >= 0 && $0 <= 1 } == true)
    }

    @Test(.enabled(if: assetsPresent("data/16s/rRNA16S.gold.fasta")))
    func rrna16s() throws {
        let t = try TaskCatalog.load("rrna16s", dataRoot: dataRoot)
        #expect(t.spec.input == .tokens && t.spec.classNames?.count == TaskCatalog.rrnaPhyla)
        #expect(t.spec.classNames?.first == "Proteobacteria")
        #expect(t.spec.vocabularySize == 258 && t.spec.sampleShape == [TaskCatalog.rrnaMaxTokens])
        #expect(isStratifiedSplit(t, total: 4873), "\(t.training.count) + \(t.test.count)")
        let r = try shortFit("rrna16s", trainLimit: 48, maxTokens: 64)
        #expect(r.testMetric.map { $0 >= 0 && $0 <= 1 } == true)
    }

    @Test(.enabled(if: assetsPresent("data/audio/words/yes_en-us_s160_p50.wav")))
    func spokenWords() throws {
        let t = try TaskCatalog.load("spokenwords", dataRoot: dataRoot)
        #expect(t.spec.input == .series && t.spec.sampleShape.first == TaskCatalog.spokenMelBands)
        #expect(t.spec.classNames?.count == 10)
        #expect(isStratifiedSplit(t, total: 360), "\(t.training.count) + \(t.test.count)")
        let r = try shortFit("spokenwords", testLimit: 90)
        #expect(r.testMetric.map { $0 >= 0 && $0 <= 1 } == true)
    }

    @Test(.enabled(if: assetsPresent("data/fashion-mnist/train-images-idx3-ubyte.gz")))
    func fashion() throws {
        let t = try TaskCatalog.load("fashion", dataRoot: dataRoot)
        #expect(t.spec.input == .fields && t.spec.sampleShape == [1, 28, 28] && t.spec.classNames?.count == 10)
        #expect(t.training.count == TaskCatalog.fashionTrain && t.test.count == TaskCatalog.fashionTest)
        #expect((t.training.classCounts ?? []).allSatisfy { $0 > 100 })               // a fair draw of every class
        let x = try #require(t.training.inputTensor)
        #expect(x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 } && x.scalars.contains { $0 > 0.9 })
        let r = try shortFit("fashion", body: "tiny-vit", trainLimit: 48)
        #expect(r.testMetric.map { $0 >= 0 && $0 <= 1 } == true)
    }

    @Test(.enabled(if: assetsPresent("data/pde/burgers_lowres.pt")))
    func burgers() throws {
        let t = try TaskCatalog.load("burgers", dataRoot: dataRoot)
        #expect(t.spec.output == .dense1D && t.spec.sampleShape == [1, 16] && t.spec.targetShape == [1, 16])
        #expect(t.training.count == TaskCatalog.burgersTrain && t.test.count == 200)
        #expect(t.spec.metric == .nrmse)
        let r = try shortFit("burgers", trainLimit: 48)
        #expect(r.task.metric == .nrmse)
        let e = try #require(r.testMetric)
        #expect(e.isFinite && e > 0)
    }

    @Test func missingSuiteDataNamesTheFetchTarget() {
        for (task, target) in [("peptides", "modlamp"), ("rrna16s", "16s"), ("spokenwords", "audio"), ("fashion", "fashion"),
                               ("burgers", "pde")] {
            do {
                _ = try TaskCatalog.load(task, dataRoot: URL(fileURLWithPath: "/nonexistent"))
                Issue.record("\(task): missing data accepted")
            } catch {
                #expect("\(error)".contains("scripts/fetch-data.sh \(target)"), "\(error)")
            }
        }
    }
}
