import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// A small labelled token source set for a micro BERT body (vocabulary 12): class c's sequences favour ids
/// 3 + 2c and 4 + 2c, so the classes are separable.
func microSource(count: Int = 24, classes: Int = 4, seed: UInt64 = 11) throws -> SourceTask {
    var g = SeededGenerator(seed: seed)
    var seqs: [[Int]] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % classes
        let len = 4 + Int(g.next() % 3)
        seqs.append([1] + (0..<len).map { _ in (g.next() % 4 == 0) ? 3 + Int(g.next() % 8) : 3 + 2 * c + Int(g.next() % 2) } + [2])
        labels.append(c)
    }
    let data = try LabeledDataset(name: "micro-source", inputs: .tokens(seqs),
                                  targets: .classes(labels, names: (0..<classes).map { "c\($0)" }))
    return SourceTask.split(data, alignmentPerClass: count / classes / 2 + 1)
}

func microModel(seed: UInt64 = 5) throws -> (CrossModalModel, DataSplits) {
    let body = microBertBody(layers: 1, width: 8, positions: 32)
    let train = try waveDataset(count: 16, length: 16, seed: 9)
    let splits = try DataSplits.make(training: train, test: try waveDataset(count: 4, length: 16, seed: 10),
                                     validationFraction: 0.25, seed: 0)
    let task = try TaskSpec.inferred(name: "waves", training: splits.train, vocabularySize: nil)
    let spec = ModelSpec(bodyName: "micro", bodyFamily: body.family, bodyConfig: body.config, task: task, maxTokens: 8)
    return (CrossModalModel(spec: spec, body: body, seed: seed), splits)
}

func context(_ model: CrossModalModel, method: MethodConfig = MethodConfig(name: "mona"),
             recorder: RunRecorder = SilentRecorder()) -> AlignmentContext {
    var training = TrainingConfig()
    training.batchSize = 4
    training.learningRate = 1e-2
    return AlignmentContext(task: model.spec.task, training: training, method: method, seed: 1, recorder: recorder)
}

func parts(_ model: CrossModalModel, _ prefix: String) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: model.namedParameters().filter { $0.name.hasPrefix(prefix) }
        .map { ($0.name, $0.parameter.value.scalars) })
}

@Suite struct MoNAStageTests {
    @Test func stageOneChangesTheEmbedderNotTheBody() throws {
        let (model, splits) = try microModel()
        var o = MoNAOptions()
        o.warmupEpochs = 1
        o.outerSteps = 3
        o.sourceBatchSize = 8
        let recorder = MemoryRecorder()
        let stage = MoNAStage(options: o, source: try microSource())
        let embedderBefore = parts(model, "embedder."), headBefore = parts(model, "head.")
        // Warm-up alone first, to know what it changes.
        let ctx = context(model, recorder: recorder)
        try WarmupStage(epochs: 1).run(model: model, data: splits, context: ctx)
        let bodyAfterWarmup = parts(model, "body."), embedderAfterWarmup = parts(model, "embedder.")
        let headAfterWarmup = parts(model, "head.")
        #expect(embedderAfterWarmup != embedderBefore && headAfterWarmup != headBefore)
        var noWarmup = o
        noWarmup.warmupEpochs = 0
        try MoNAStage(options: noWarmup, source: stage.source).run(model: model, data: splits, context: ctx)
        #expect(parts(model, "body.") == bodyAfterWarmup, "stage 1 must not modify the body")
        #expect(parts(model, "embedder.") != embedderAfterWarmup, "stage 1 must update the embedder")
        #expect(parts(model, "head.") == headAfterWarmup, "the head is not an outer parameter by default")
        #expect(model.trainableParameters().count == model.namedParameters().count, "trainability restored")
        let steps = recorder.records.filter { $0.text("phase") == "mona" }
        #expect(steps.count == 3)
        for r in steps {
            for k in ["align", "uniform", "outer_loss", "target_loss", "grad_ratio", "outer_delta"] {
                #expect(r.number(k)?.isFinite == true, "\(k) missing or not finite")
            }
        }
        _ = stage
    }

    @Test func lambdaZeroIsPureTargetTraining() throws {
        let (model, splits) = try microModel()
        var o = MoNAOptions()
        o.meta.lambda = 0
        let stage = MoNAStage(options: o)
        let src = try microSource()
        withTrainability(of: model) {
            model.eval()
            let phi = stage.prepareOuterParameters(model)
            let batch = splits.train.subset(Array(0..<4))
            let r = stage.outerStep(model: model, phi: phi, task: model.spec.task, targetBatch: batch,
                                    sourceBatch: src.alignment)
            let loss = model.spec.task.lossValue(model(model.input(for: batch)), batch)
            let direct = gradients(of: loss, wrt: phi.map(\.parameter.value))
            for (a, b) in zip(r.meta.phiGradients, direct) { #expect(maxAbsDiff(a, b) < 1e-6) }
            #expect(r.meta.outerScale == 0)
        }
    }

    /// Stage 1 reads the logged L_outer(θ) off features of the whole source pool computed once; that must be the
    /// number a forward pass of the batch gives, and must not change the meta-gradient.
    @Test func beforeStepLossFromPoolFeaturesMatchesAForwardPass() throws {
        let (model, splits) = try microModel()
        let src = try microSource()
        let stage = MoNAStage(options: MoNAOptions())
        let rows = [5, 0, 11, 3, 8, 14]
        withTrainability(of: model) {
            model.eval()
            let phi = stage.prepareOuterParameters(model)
            let batch = splits.train.subset(Array(0..<4)), sourceBatch = src.alignment.subset(rows)
            let direct = stage.outerStep(model: model, phi: phi, task: model.spec.task, targetBatch: batch,
                                         sourceBatch: sourceBatch)
            let pool = TaskModalityGap.sourceFeatures(model.body, src.alignment, batchSize: 4)   // [16, D]
            #expect(pool.shape == [src.alignment.count, model.body.width])
            let cached = stage.outerStep(model: model, phi: phi, task: model.spec.task, targetBatch: batch,
                                         sourceBatch: sourceBatch,
                                         sourceFeaturesAtTheta: pool.indexSelect(axis: 0, indices: rows))
            let before = direct.meta.outerLossBeforeStep
            #expect(before.isFinite)
            #expect(abs(cached.meta.outerLossBeforeStep - before) <= 1e-5 * max(1, abs(before)),
                    "cached \(cached.meta.outerLossBeforeStep) vs forward pass \(before)")
            #expect(cached.meta.outerLoss == direct.meta.outerLoss)
            for (a, b) in zip(cached.meta.phiGradients, direct.meta.phiGradients) { #expect(maxAbsDiff(a, b) == 0) }
            // L_outer(θ) is L_outer(θ′) at α = 0: a check of the cached number that involves no cache.
            var still = MoNAOptions()
            still.meta.alpha = 0
            let atTheta = MoNAStage(options: still).outerStep(model: model, phi: phi, task: model.spec.task,
                                                              targetBatch: batch, sourceBatch: sourceBatch)
            #expect(abs(atTheta.meta.outerLoss - cached.meta.outerLossBeforeStep) <= 1e-5 * max(1, abs(before)))
        }
    }

    @Test func exactAndFiniteDifferenceAgree() throws {
        let (model, splits) = try microModel()
        let src = try microSource()
        func outer(_ mode: MetaGradientMode) -> [Tensor] {
            var o = MoNAOptions()
            o.meta.mode = mode
            o.meta.alpha = 0.1
            o.meta.outerGradientNormalization = .none
            let stage = MoNAStage(options: o)
            return withTrainability(of: model) {
                model.eval()
                let phi = stage.prepareOuterParameters(model)
                return stage.outerStep(model: model, phi: phi, task: model.spec.task,
                                       targetBatch: splits.train.subset(Array(0..<4)), sourceBatch: src.alignment).meta.outerGradients
            }
        }
        let exact = outer(.exact), fd = outer(.finiteDifference(epsilon: 0.01))
        let diff = globalNorm(zip(exact, fd).map { $0 - $1 }), norm = globalNorm(exact)
        #expect(norm > 0, "the outer term must reach the embedder")
        #expect(diff / norm < 1e-2, "relative difference \(diff / norm)")
    }

    @Test func orcaLowersOTDD() throws {
        let (model, splits) = try microModel()
        var o = ORCAOptions()
        o.steps = 30
        o.batchSize = 12
        let src = try microSource(count: 32)
        let recorder = MemoryRecorder()
        var method = MethodConfig(name: "orca")
        method.options = [:]
        var training = TrainingConfig()
        training.learningRate = 3e-2
        let ctx = AlignmentContext(task: model.spec.task, training: training, method: method, seed: 1, recorder: recorder)
        let stage = ORCAStage(options: o, source: src)
        let prepared = stage.prepare(model, src)
        let labels = stage.targetLabels(splits.train, seed: 1)
        func current() -> Float {
            withoutGradients { stage.distance(ORCAStage.embeddedFeatures(model, splits.train), labels: labels, source: prepared).item }
        }
        let before = current()
        let bodyBefore = parts(model, "body.")
        try stage.run(model: model, data: splits, context: ctx)
        let after = current()
        #expect(after < 0.8 * before, "OTDD \(before) → \(after)")
        #expect(parts(model, "body.") == bodyBefore)
        #expect(recorder.records.filter { $0.text("phase") == "orca" }.count == 30)
    }

    @Test func optionsAndRegistry() throws {
        var c = MethodConfig(name: "mona")
        c.options = ["alpha": "0.001", "metaGradient": "finite-difference", "outerNormalization": "none",
                     "outerUpdates": "embedder+head", "outerSteps": "7"]
        let o = try #require(try MethodCatalog.make(c).stages.first as? MoNAStage).options
        #expect(o.meta.alpha == 0.001 && o.meta.mode == .finiteDifference(epsilon: 0.01) && o.outerSteps == 7)
        #expect(o.meta.outerGradientNormalization == OuterGradientNormalization.none && o.updatesHead)
        c.options = ["metaGradient": "first-order"]
        #expect(throws: TransferError.self) { try MethodCatalog.make(c) }
        let names = Set(MethodCatalog.names.map(\.name))
        for n in ["mona", "mona-fd", "mona-no-warmup", "mona-lambda0", "warmup-only", "orca", "orca-mmd"] {
            #expect(names.contains(n), "\(n) not registered")
            _ = try MethodCatalog.make(MethodConfig(name: n))
        }
        let lambda0 = try MethodCatalog.make(MethodConfig(name: "mona-lambda0"))
        #expect((lambda0.stages.first as? MoNAStage)?.options.meta.lambda == 0)
        #expect((try MethodCatalog.make(MethodConfig(name: "mona-no-warmup")).stages.first as? MoNAStage)?.options.warmupEpochs == 0)
        #expect((try MethodCatalog.make(MethodConfig(name: "orca-mmd")).stages.first as? ORCAStage)?.options.distance == .mmd)
    }

    @Test func analysisRecordsTheSourceKnowledge() throws {
        let (model, _) = try microModel()
        let recorder = MemoryRecorder()
        let tracker = SourceKnowledgeTracker(source: try microSource(count: 40).analysis, every: 2, recorder: recorder)
        try tracker.measure(model, point: "before-alignment", step: 0)
        var s = TrainingState(stage: "finetune", metric: "accuracy", higherIsBetter: true, seed: 0)
        s.step = 2
        try tracker.afterStep(model, s)
        try tracker.afterStep(model, s)                  // same step again (end of epoch): no second record
        s.step = 3
        try tracker.afterStep(model, s)
        let records = recorder.records.filter { $0.text("phase") == "analysis" }
        #expect(records.count == 2)
        let p = try #require(records.first?.number("linear_probe_accuracy"))
        #expect(p >= 0 && p <= 1)
        #expect(records.first?.number("knn_accuracy") != nil && records.first?.number("davies_bouldin") != nil)
        #expect(tracker.reportSection().contains("| before-alignment | 0 |"))
    }

    @Test func anUnchangedBodyReusesTheLastMeasurementAndAChangedOneIsMeasuredAgain() throws {
        let (model, _) = try microModel()
        let source = try microSource(count: 40).analysis
        let recorder = MemoryRecorder()
        let tracker = SourceKnowledgeTracker(source: source, every: 0, recorder: recorder)
        let first = try tracker.measure(model, point: "before-alignment", step: 0)
        let again = try tracker.measure(model, point: "finetune", step: 5)        // body untouched: reused
        #expect(tracker.reusedMeasurements == 1)
        #expect(again == first)
        // A fresh tracker (no memo) measures the same body to the same report: reuse changes nothing.
        let fresh = try SourceKnowledgeTracker(source: source, every: 0, recorder: SilentRecorder())
            .measure(model, point: "x", step: 0)
        #expect(fresh == first)
        // Change one body weight (not the head or embedder): measured again, and equal to a fresh measurement.
        let (name, p) = try #require(model.body.namedParameters().first { $0.parameter.value.shape.count == 2 })
        var w = p.value.scalars
        w[0] += 0.5
        p.assign(Tensor(w, shape: p.value.shape))
        let changed = try tracker.measure(model, point: "finetune", step: 10)
        #expect(tracker.reusedMeasurements == 1, "changed \(name) must be re-measured")
        let freshChanged = try SourceKnowledgeTracker(source: source, every: 0, recorder: SilentRecorder())
            .measure(model, point: "x", step: 0)
        #expect(changed == freshChanged)
        #expect(recorder.records.filter { $0.text("phase") == "analysis" }.count == 3)
    }

    @Test(.enabled(if: assetsPresent("data/ucr/GunPoint/GunPoint_TRAIN.ts", "data/wordnet/data.noun")))
    func monaFitOnGunPointWithATinyBody() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: "gunpoint", body: "tiny-bert", method: "mona", seed: 0)
        config.model.maxTokens = 16
        config.training.epochs = 2
        config.training.batchSize = 8
        config.training.learningRate = 3e-3
        config.method.options = ["outerSteps": "3", "sourceBatchSize": "20", "sourcePerClass": "4", "analysisPerClass": "4",
                                 "analysisEvery": "10"]
        config.method.warmupEpochs = 1
        let run = dir.url.appendingPathComponent("run")
        let result = try FitPipeline(config: config, runDirectory: run, assets: AssetRegistry(root: repositoryAssets)).fit()
        #expect(result.testMetric != nil)
        let fm = FileManager.default
        for file in ["config.yaml", "metrics.jsonl", "report.md", "predictions.csv", "plots/source-knowledge.svg",
                     "checkpoints/aligned/model.safetensors", "checkpoints/best/model.safetensors"] {
            #expect(fm.fileExists(atPath: run.appendingPathComponent(file).path), "\(file) missing")
        }
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        #expect(records.filter { $0["phase"]?.stringValue == "mona" }.count == 3)
        let analysis = records.filter { $0["phase"]?.stringValue == "analysis" }.compactMap { $0["point"]?.stringValue }
        #expect(analysis.first == "before-alignment" && analysis.contains("after-alignment")
                && analysis.last == "after-finetune", "\(analysis)")
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("Source knowledge"))
    }
}
