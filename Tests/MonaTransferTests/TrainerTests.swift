import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// A small classification setup: waves [N, 1, 16] on a micro BERT body with dropout.
struct WaveSetup {
    let splits: DataSplits
    let task: TaskSpec
    let dropout: Float

    init(count: Int = 24, dropout: Float = 0.1) throws {
        let data = try waveDataset(count: count)
        let test = try waveDataset(count: 8, seed: 10)
        splits = try DataSplits.make(training: data, test: test, validationFraction: 0.25, seed: 1)
        task = try TaskSpec.inferred(name: "waves", training: splits.train)
        self.dropout = dropout
    }

    func model(seed: UInt64 = 7) -> CrossModalModel {
        let body = microBertBody(width: 8, dropout: dropout, seed: 11)
        let spec = ModelSpec(bodyName: "micro", bodyFamily: "bert", bodyConfig: body.config, task: task, maxTokens: 8)
        return CrossModalModel(spec: spec, body: body, seed: seed)
    }

    func config(epochs: Int = 6) -> TrainingConfig {
        var c = TrainingConfig()
        c.epochs = epochs
        c.batchSize = 4
        c.learningRate = 3e-3
        c.checkpointEvery = 2
        c.evalBatchSize = 5
        return c
    }
}

func weightsEqual(_ a: [String: Tensor], _ b: [String: Tensor]) -> Bool {
    guard a.keys.sorted() == b.keys.sorted() else { return false }
    return a.allSatisfy { k, t in t.shape == b[k]!.shape && t.scalars == b[k]!.scalars }
}

@Suite struct TrainerTests {
    @Test func resumedRunMatchesAnUninterruptedOneBitForBit() throws {
        let setup = try WaveSetup()
        let dirA = TemporaryDirectory(), dirB = TemporaryDirectory()

        // Uninterrupted: 6 epochs.
        let recA = MemoryRecorder()
        let a = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: setup.config(), seed: 3,
                        checkpoints: CheckpointStore(directory: dirA.url), recorder: recA)
        let stateA = try a.run()
        #expect(a.stepsPerEpoch == 5)
        #expect(stateA.step == 30 && stateA.epoch == 6 && stateA.finished)

        // Killed mid-epoch 3 after step 13 (the last checkpoint is from step 12), then resumed in a new process.
        let storeB = CheckpointStore(directory: dirB.url)
        let b1 = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: setup.config(), seed: 3,
                         checkpoints: storeB)
        b1.interruptAfter = { $0.step == 13 }
        #expect(throws: TrainingInterrupted.self) { try b1.run() }
        let checkpoint = try #require(try storeB.load("last"))
        #expect(checkpoint.state.step == 12 && checkpoint.state.epoch == 2 && checkpoint.state.batchInEpoch == 2)
        #expect(checkpoint.optimizer?.keys.contains { $0.hasSuffix("/exp_avg_sq") } == true)   // Adam's second moments

        let recB = MemoryRecorder()
        let b2 = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: setup.config(), seed: 3,
                         checkpoints: storeB, recorder: recB)
        let stateB = try b2.run(resumingFrom: checkpoint)

        #expect(stateB.step == stateA.step && stateB.bestMetric == stateA.bestMetric && stateB.bestEpoch == stateA.bestEpoch)
        #expect(weightsEqual(a.model.stateDict(), b2.model.stateDict()))
        let lastA = try #require(try CheckpointStore(directory: dirA.url).load("last"))
        let lastB = try #require(try storeB.load("last"))
        #expect(weightsEqual(lastA.model, lastB.model))
        #expect(weightsEqual(lastA.optimizer ?? [:], lastB.optimizer ?? [:]))
        // The records after the checkpoint are the same numbers.
        func after(_ r: MemoryRecorder) -> [String] {
            r.records.filter { ($0.number("step") ?? 0) > 12 }.map { rec in
                rec.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            }
        }
        #expect(!after(recA).isEmpty)
        #expect(after(recA) == after(recB))
    }

    @Test func nonFiniteLossStopsWithTheStepAndKeepsTheBestCheckpoint() throws {
        let setup = try WaveSetup(dropout: 0)
        let dir = TemporaryDirectory()
        let store = CheckpointStore(directory: dir.url)
        var config = setup.config(epochs: 8)
        // The learning rate explodes after two epochs (10 steps): ×1e30, then ×1e60 (infinite in Float).
        config.schedule = .step
        config.stepSize = 10
        config.gamma = 1e30
        config.clipNorm = nil
        let trainer = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                              checkpoints: store)
        var message = ""
        do {
            try trainer.run()
            Issue.record("training with an exploding learning rate did not stop")
        } catch let TransferError.nonFinite(m) {
            message = m
        }
        #expect(message.contains("training stopped at step"))
        #expect(message.contains("best checkpoint (epoch"))
        let best = try #require(try store.load("best"))
        #expect(best.state.step <= 10)
        #expect(best.model.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        let last = try #require(try store.load("last"))
        #expect(last.state.step <= 10)
        #expect(last.model.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    @Test func gradientAccumulationMatchesALargerBatch() throws {
        let setup = try WaveSetup(dropout: 0)
        var big = setup.config(epochs: 1)
        big.batchSize = 8
        big.checkpointEvery = 0
        big.clipNorm = nil
        var small = big
        small.batchSize = 4
        small.gradientAccumulation = 2
        // The sampler shuffles the same permutation, so batches 2k, 2k+1 of size 4 are batch k of size 8.
        let a = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: big, seed: 3)
        let b = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: small, seed: 3)
        a.keepsBest = false
        b.keepsBest = false
        let sa = try a.run(), sb = try b.run()
        #expect(sa.step == 3 && sb.step == 3)
        let wa = a.model.stateDict(), wb = b.model.stateDict()
        for (k, t) in wa { #expect(maxAbsDiff(t, wb[k]!) < 1e-5, "\(k)") }
    }

    @Test func optimizerStateRoundTrips() throws {
        var g = SeededGenerator(seed: 1)
        let layer = Linear(3, 2, generator: &g)
        let copy = Linear(3, 2, generator: &g)
        try copy.load(stateDict: layer.stateDict())
        let x = rand([4, 3])
        func step(_ m: Linear, _ opt: Optimizer) {
            let loss = m(x).mul2().sum()
            opt.step(gradientStore(of: loss, wrt: m.namedParameters().map(\.parameter.value)))
        }
        let a = try Adam(groups: [ParameterGroup(layer.trainableParameters())], learningRate: 0.1)
        for _ in 0..<3 { step(layer, a) }
        try copy.load(stateDict: layer.stateDict())
        let b = try Adam(groups: [ParameterGroup(copy.trainableParameters())], learningRate: 0.1)
        let saved = a.stateTensors()
        #expect(Set(saved.keys) == ["weight/exp_avg", "weight/exp_avg_sq", "bias/exp_avg", "bias/exp_avg_sq"])
        try b.loadState(saved, stepCount: a.stepCount)
        step(layer, a)
        step(copy, b)
        #expect(weightsEqual(layer.stateDict(), copy.stateDict()))
        // Unknown names and wrong shapes are errors.
        #expect(throws: LoadError.self) { try b.loadState(["nope/0": Tensor.zeros([1])], stepCount: 1) }
        #expect(throws: LoadError.self) { try b.loadState(["weight/0": Tensor.zeros([1])], stepCount: 1) }
        #expect(throws: LoadError.self) { try b.loadState(["weight/exp_avg": Tensor.zeros([1])], stepCount: 1) }
    }

    @Test func methodsSetWhatTrains() throws {
        let setup = try WaveSetup()
        let m = setup.model()
        func trainable() -> [String] { m.trainableParameters().map(\.name) }
        Trainability.headOnly.apply(to: m)
        #expect(!trainable().isEmpty && trainable().allSatisfy { $0.hasPrefix("head.") })
        Trainability.frozenBody.apply(to: m)
        let fpt = trainable()
        #expect(fpt.contains("embedder.projection.weight"))
        #expect(fpt.contains("body.encoder.layer.0.attention.output.LayerNorm.weight"))
        #expect(!fpt.contains("body.encoder.layer.0.attention.self.query.weight"))
        #expect(!fpt.contains("body.encoder.layer.0.intermediate.dense.weight"))
        #expect(fpt.filter { $0.hasPrefix("body.") }.allSatisfy { $0.contains("LayerNorm") })
        Trainability.all.apply(to: m)
        #expect(trainable().count == m.namedParameters().count)
        for name in ["finetune", "scratch", "linear-probe", "fpt", "warmup-only"] {
            #expect(try MethodCatalog.make(MethodConfig(name: name)).name == name)
        }
        #expect(try MethodCatalog.make(MethodConfig(name: "scratch")).pretrainedBody == false)
        #expect(throws: TransferError.self) { try MethodCatalog.make(MethodConfig(name: "nope")) }
    }

    @Test func warmupTrainsOnlyEmbedderAndHeadAndRestoresTrainability() throws {
        let setup = try WaveSetup(dropout: 0)
        let m = setup.model()
        let before = m.stateDict()
        let context = AlignmentContext(task: setup.task, training: setup.config(), method: MethodConfig(name: "warmup-only"),
                                       seed: 1)
        try WarmupStage(epochs: 2).run(model: m, data: setup.splits, context: context)
        let after = m.stateDict()
        for (k, t) in before {
            let changed = t.scalars != after[k]!.scalars
            if k.hasPrefix("body.") { #expect(!changed, "\(k) changed during warm-up") }
        }
        #expect(before["embedder.projection.weight"]!.scalars != after["embedder.projection.weight"]!.scalars)
        #expect(before["head.linear.weight"]!.scalars != after["head.linear.weight"]!.scalars)
        #expect(m.trainableParameters().count == m.namedParameters().count)
    }

    @Test func evaluationKeepsEverySampleAndIsDeterministic() throws {
        let setup = try WaveSetup()
        let m = setup.model()
        m.train()
        let data = try waveDataset(count: 13)
        let a = Trainer.evaluate(model: m, task: setup.task, data: data, batchSize: 4)
        let b = Trainer.evaluate(model: m, task: setup.task, data: data, batchSize: 13)
        #expect(a.predictions.shape == [13, 2])
        #expect(maxAbsDiff(a.predictions, b.predictions) < 1e-5)       // dropout off, no sample dropped
        #expect(m.isTraining)                                           // mode restored
    }
}

@Suite struct TaskMetricTests {
    @Test func classificationMetricsByHand() throws {
        let data = try LabeledDataset(name: "t", inputs: .series(Tensor.zeros([4, 1, 2])),
                                      targets: .classes([0, 1, 1, 0], names: ["a", "b"]))
        let task = try TaskSpec.inferred(name: "t", training: data)
        #expect(task.metric == .accuracy && task.loss == .crossEntropy && task.outputs == 2)
        // Predictions: 0, 1, 0, 0 → accuracy 3/4; F1(a) = 2·2/(2·2+1) = 0.8, F1(b) = 2/(2+1) = 2/3.
        let logits = Tensor([2, 0, 0, 1, 0.5, 0, 3, 0], shape: [4, 2])
        let m = task.metrics(predictions: logits, data: data)
        #expect(m[.accuracy] == 0.75)
        let expectedF1: Double = (0.8 + 2.0 / 3) / 2
        #expect(abs(m[.macroF1]! - expectedF1) < 1e-12)
        // AUROC of the margin s1 − s0 = (−2, 1, −0.5, −3) for positives (b) at 1 and 2: all 4 pairs ordered → 1.
        #expect(m[.auroc] == 1)
        // Cross-entropy as the evaluation loss.
        let loss = task.lossValue(logits, data).item
        #expect(loss > 0)
    }

    @Test func denseMetricIsTheMeanPerSampleRelativeL2() throws {
        let y = Tensor([1, 0, 0, 2], shape: [2, 1, 2])
        let data = try LabeledDataset(name: "d", inputs: .series(Tensor.zeros([2, 1, 2])), targets: .fields(y))
        let task = try TaskSpec.inferred(name: "d", training: data)
        #expect(task.output == .dense1D && task.metric == .relativeL2 && !task.higherIsBetter)
        let p = Tensor([1, 1, 0, 1], shape: [2, 1, 2])
        // Sample 0: ‖(0, 1)‖ / ‖(1, 0)‖ = 1; sample 1: ‖(0, −1)‖ / ‖(0, 2)‖ = 0.5.
        #expect(abs(task.metrics(predictions: p, data: data)[.relativeL2]! - 0.75) < 1e-12)
        #expect(abs(Double(task.lossValue(p, data).item) - 0.75) < 1e-6)
    }
}
