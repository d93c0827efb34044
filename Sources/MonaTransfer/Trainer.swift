import Foundation
import MonaData
import MonaDistributed
import MonaNN
import MonaTensor

/// The result of evaluating a model on a split.
public struct Evaluation: Sendable {
    /// Mean training loss over the split's samples.
    public var loss: Double
    /// Every reported metric of the task (undefined ones left out).
    public var metrics: [MetricKind: Double]
    /// Model outputs for every sample, in order: [N, K] logits or values, or [N, C, …] fields.
    public var predictions: Tensor
}

extension Evaluation {
    /// Loss and metrics of `predictions` (as a `Learner` returns them) on `data`; their shape must be the one the
    /// cross-modal model would produce.
    public init(predictions: Tensor, task: TaskSpec, data: LabeledDataset) throws {
        let expected: [Int]
        switch task.output {
        case .classification, .multiLabel, .regression: expected = [data.count, task.outputs]
        case .dense1D, .dense2D: expected = [data.count] + Array(predictions.shape.dropFirst())
        }
        guard predictions.rank >= 2, predictions.shape == expected, data.count > 0 else {
            throw TransferError.badConfig("predictions of shape \(predictions.shape) for \(data.count) samples of "
                                          + "\(task.name); expected \(expected)")
        }
        self.init(loss: withoutGradients { Double(task.lossValue(predictions, data).item) },
                  metrics: task.metrics(predictions: predictions, data: data), predictions: predictions)
    }
}

/// Thrown by `Trainer.run` when `interruptAfter` asks to stop (tests simulate a killed run with it).
public struct TrainingInterrupted: Error, Sendable {
    public let state: TrainingState
}

/// Per-step and per-epoch work that runs alongside training (e.g. the source-knowledge tracker). Errors
/// propagate: a failing observer stops training with its error.
public protocol TrainingObserver: AnyObject {
    /// After every optimizer step (and after any `last` checkpoint of that step was written).
    func afterStep(_ model: CrossModalModel, _ state: TrainingState) throws
    /// After every epoch's validation and checkpoints.
    func afterEpoch(_ model: CrossModalModel, _ state: TrainingState) throws
}

extension TrainingObserver {
    public func afterStep(_ model: CrossModalModel, _ state: TrainingState) throws {}
    public func afterEpoch(_ model: CrossModalModel, _ state: TrainingState) throws {}
}

/// Trains the model's trainable parameters on a task's training split, with validation-based selection.
///
/// Per epoch: seeded shuffled mini-batches (order from seed + epoch), then per optimizer step (`step`) gradient
/// accumulation, optional clipping, the scheduled learning rate and a NaN/Inf check on every loss and gradient
/// norm; at the end of the epoch (`endEpoch`) evaluation on the validation split, the `best` checkpoint when it
/// improved (`TrainingConfig.selection`), early stopping, and the `last` checkpoint (which also holds the
/// optimizer's buffers and the training state). `run(resumingFrom:)` continues from a `last` checkpoint to the
/// same weights and metrics as an uninterrupted run. The test split is not used here.
public final class Trainer {
    public let model: CrossModalModel
    public let task: TaskSpec
    public let splits: DataSplits
    public let config: TrainingConfig
    public let seed: UInt64
    /// Stage name: recorded in metrics and checkpoints.
    public let stage: String
    /// Where `last` and `best` checkpoints go (nil: none are written; the best weights are kept in memory).
    public let checkpoints: CheckpointStore?
    public let recorder: RunRecorder
    /// Checkpoint names used by this trainer.
    public var lastName = "last"
    public var bestName = "best"
    /// Saved with checkpoints so they can be reloaded without the run's configuration.
    public var modelSpec: ModelSpec?
    /// Per-step and per-epoch work (their errors stop training).
    public var observers: [TrainingObserver] = []
    /// Test hook: called after every optimizer step and every epoch (after any checkpoint was written and the
    /// observers ran); returning true stops training with `TrainingInterrupted`, as if the process had been
    /// killed there. Not for production work (use `observers`).
    public var interruptAfter: ((TrainingState) -> Bool)?
    /// Select on validation: keep the best epoch's weights (true, default), or end with the last epoch's.
    public var keepsBest = true
    /// Profiling: wall-clock seconds per phase of each step (nil, the default, measures nothing).
    public var phaseTimer: PhaseTimer?
    /// Write the `last` checkpoint at most every this many seconds (nil, the default: at every epoch end). The
    /// best weights are then kept in memory and written only together with `last`, so that a resume finds the
    /// best weights of its state, and nothing is written at the end of the stage: for runs whose checkpoints are
    /// not kept (bench runs keep only their record), checkpoints serve resume alone and cost a bounded share.
    public var lastCheckpointInterval: Double?
    private var lastWritten = Date()
    /// The state of in-memory best weights not yet on disk (`lastCheckpointInterval` mode).
    private var pendingBest: TrainingState?
    /// The final epoch's weights when no final `last` checkpoint was written (`lastCheckpointInterval` mode, or
    /// a rank that does not write files).
    public private(set) var finalWeights: [String: Tensor]?
    /// The ranks this trainer runs on (data parallel): each takes its shard of every mini-batch, the gradients
    /// are summed over the ranks once per step, and every rank applies the same update. Single-process default.
    public var communicator: any Communicator = LocalCommunicator()
    /// Whether this process writes checkpoints (false on every rank but 0 of a data-parallel run: the best
    /// weights are then kept in memory, and `checkpoints` is only read).
    public var writesCheckpoints = true

    let parameters: [(name: String, parameter: Parameter)]
    let optimizer: Optimizer
    let dropouts: [Dropout]
    /// In-memory best weights when no checkpoint store is given.
    private(set) var bestWeights: [String: Tensor]?
    /// Start of the current wall-clock interval of `elapsedSeconds`.
    private var clock = Date()

    public init(model: CrossModalModel, task: TaskSpec, splits: DataSplits, config: TrainingConfig, seed: UInt64,
                stage: String = "finetune", checkpoints: CheckpointStore? = nil, recorder: RunRecorder = SilentRecorder()) throws {
        self.model = model
        self.task = task
        self.splits = splits
        self.config = config
        self.seed = seed
        self.stage = stage
        self.checkpoints = checkpoints
        self.recorder = recorder
        parameters = model.trainableParameters()
        optimizer = try config.makeOptimizer(for: model)
        dropouts = model.namedModules().compactMap { $0.module as? Dropout }
    }

    /// Mini-batches per epoch.
    public var batchesPerEpoch: Int { (splits.train.count + config.batchSize - 1) / config.batchSize }

    /// Optimizer steps per epoch (the last accumulation group of an epoch may be short).
    public var stepsPerEpoch: Int { (batchesPerEpoch + config.gradientAccumulation - 1) / config.gradientAccumulation }

    /// Optimizer steps of the whole stage.
    public var totalSteps: Int { config.maxSteps ?? config.epochs * stepsPerEpoch }

    /// What the validation split selects on for this run (`TrainingConfig.selection` resolved for its size).
    public var selectionRule: SelectionRule { config.selection.resolved(validationCount: splits.validation.count) }

    /// Seed of this stage's random streams (stages draw independent streams from the run seed).
    var stageSeed: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in stage.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return seed ^ h
    }

    /// The mini-batch order of `epoch`.
    func batches(epoch: Int) -> [[Int]] {
        BatchSampler(count: splits.train.count, batchSize: config.batchSize, shuffle: true, dropLast: false,
                     seed: stageSeed).batches(epoch: epoch)
    }

    // MARK: Training

    /// Trains to the end of the stage and returns the final state. With a checkpoint, the model weights, the
    /// optimizer's buffers and the state are restored from it first. Afterwards the model holds the weights of
    /// the best validation epoch (or the last epoch when there is no validation split).
    @discardableResult
    public func run(resumingFrom checkpoint: Checkpoint? = nil) throws -> TrainingState {
        guard splits.train.count > 0 else { throw TransferError.badConfig("the training split is empty") }
        var state = TrainingState(stage: stage, metric: task.metric.key, higherIsBetter: task.higherIsBetter, seed: seed)
        if let checkpoint {
            try restore(checkpoint)
            state = checkpoint.state
        }
        try synchronizeRanks()
        let schedule = config.makeSchedule(totalSteps: totalSteps)
        clock = Date()
        recorder.beginStage(stage, totalSteps: totalSteps)
        if state.step >= totalSteps || (config.maxSteps == nil && state.epoch >= config.epochs) { state.finished = true }

        while !state.finished {
            model.train()
            let batches = batches(epoch: state.epoch)
            while state.batchInEpoch < batches.count && state.step < totalSteps {
                try step(&state, batches: batches, schedule: schedule)
                for o in observers { try o.afterStep(model, state) }
                if interruptAfter?(state) == true { throw TrainingInterrupted(state: state) }
            }
            try endEpoch(&state)
            for o in observers { try o.afterEpoch(model, state) }
            if interruptAfter?(state) == true && !state.finished { throw TrainingInterrupted(state: state) }
        }
        recorder.endStage(summary: state.bestMetric.map { [("best_val_\(task.metric.key)", $0)] } ?? [])
        // Without a final `last` checkpoint, the final epoch's weights stay in memory for the final-epoch test.
        if (lastCheckpointInterval != nil || !writesCheckpoints) && checkpoints != nil && keepsBest {
            finalWeights = model.stateDict().mapValues { Tensor($0.scalars, shape: $0.shape) }
        }
        if keepsBest { try loadBestWeights() }
        return state
    }

    /// Every rank starts from rank 0's parameters; a rank whose own differed says so on standard error (they
    /// should be equal: every rank builds the model from the same seed and files).
    func synchronizeRanks() throws {
        guard communicator.isDistributed else { return }
        let worst = try communicator.synchronize(parameters)
        if worst != 0 {
            FileHandle.standardError.write(Data(("mona: rank \(communicator.rank): \(stage): initial parameters differed "
                + "from rank 0's by up to \(worst); continuing with rank 0's\n").utf8))
        }
    }

    /// Adds the wall-clock time since the last call to `state.elapsedSeconds`.
    func tick(_ state: inout TrainingState) {
        let now = Date()
        state.elapsedSeconds += now.timeIntervalSince(clock)
        clock = now
    }

    /// One optimizer step over the next `gradientAccumulation` mini-batches of `batches` (from
    /// `state.batchInEpoch`): forward, backward, clipping, the scheduled update, the training-loss record, and
    /// the `last` checkpoint every `checkpointEvery` steps. Advances `state` past the step.
    public func step(_ state: inout TrainingState, batches: [[Int]], schedule: any LearningRateSchedule) throws {
        let stepStart = phaseTimer?.now()
        let b = state.batchInEpoch
        let group = Array(batches[b..<min(b + config.gradientAccumulation, batches.count)])
        let groupSamples = group.reduce(0) { $0 + $1.count }
        var accumulated = Gradients()
        var lossSum = 0.0
        let distributed = communicator.isDistributed
        for (j, all) in group.enumerated() {
            // This rank's shard of the mini-batch (all of it on a single process).
            let indices = distributed ? Array(all[communicator.shard(of: all.count)]) : all
            if indices.isEmpty { continue }
            reseedDropout(step: state.step, micro: j)
            let (batch, input) = timed(.data) { () -> (LabeledDataset, ModelInput) in
                let batch = splits.train.subset(indices)
                return (batch, model.input(for: batch))
            }
            let loss = timed(.forward) { task.lossValue(model(input), batch) }       // scalar
            let lv = Double(loss.item)
            guard lv.isFinite || distributed else {
                throw nonFinite("the training loss is \(describeNonFinite(lv))", state: state, batch: b + j)
            }
            lossSum += lv * Double(indices.count)
            // Each micro-batch's mean loss is weighted by its share of the group's samples.
            let weight = Float(indices.count) / Float(groupSamples)
            timed(.backward) {
                let params = parameters.map(\.parameter.value)
                let g = gradientStore(of: loss * weight, wrt: params)
                withoutGradients {
                    for p in params {
                        guard let gi = g[p] else { continue }
                        accumulated[p] = accumulated[p].map { $0 + gi } ?? gi
                    }
                }
            }
        }
        if distributed {
            // The one gradient all-reduce of the step: each rank's part is already weighted by its share of the
            // group's samples, so the sum is the mean gradient of the whole group (as on one process).
            let start = phaseTimer?.now()
            try communicator.allReduce(&accumulated, parameters: parameters.map(\.1))
            lossSum = try communicator.sum(lossSum)
            if let start { phaseTimer?.add("allreduce", since: start) }
            guard lossSum.isFinite else {
                throw nonFinite("the training loss is \(describeNonFinite(lossSum))", state: state, batch: b)
            }
        }
        let norm = timed(.clipping) { gradientNorm(accumulated, parameters: parameters.map(\.1)) }
        guard norm.isFinite else {
            throw nonFinite("the gradient norm is \(describeNonFinite(Double(norm)))", state: state, batch: b)
        }
        let lr = config.learningRate * schedule.factor(at: state.step)
        timed(.clipping) {
            if let clip = config.clipNorm, clip > 0 {
                scaleGradients(&accumulated, parameters: parameters.map(\.1), norm: norm, maxNorm: clip)
            }
        }
        timed(.optimizer) {
            optimizer.learningRate = lr
            optimizer.step(accumulated)
        }
        state.step += 1
        state.optimizerSteps = optimizer.stepCount
        state.batchInEpoch = b + group.count
        state.epochLossSum += lossSum
        state.epochSamples += groupSamples
        let stepLoss = lossSum / Double(groupSamples)
        if state.step % config.logEvery == 0 {
            try recorder.record([("stage", .text(stage)), ("epoch", .number(Double(state.epoch + 1))),
                                 ("step", .number(Double(state.step))), ("split", .text("train")),
                                 ("loss", .number(stepLoss)), ("lr", .number(Double(lr.description) ?? Double(lr))),
                                 ("grad_norm", .number(Double(norm)))])
        }
        recorder.progress(step: state.step, metrics: [("loss", stepLoss), ("epoch", Double(state.epoch + 1))])
        if config.checkpointEvery > 0 && state.step % config.checkpointEvery == 0 && state.batchInEpoch < batches.count {
            tick(&state)
            try saveLast(state)
        }
        if let stepStart { phaseTimer?.endStep(since: stepStart, samples: groupSamples) }
    }

    /// The end of an epoch (or of the step budget): the epoch's validation record, selection (`best`
    /// checkpoint), early stopping, the end of the stage, and the `last` checkpoint.
    public func endEpoch(_ state: inout TrainingState) throws {
        let epochEndStart = phaseTimer?.now()
        let epochLoss = state.epochLossSum, epochSamples = state.epochSamples
        state.epoch += 1
        state.batchInEpoch = 0
        state.epochLossSum = 0
        state.epochSamples = 0
        let trainLoss = epochLoss / Double(max(epochSamples, 1))
        var fields: [(String, RecordValue)] = [("stage", .text(stage)), ("epoch", .number(Double(state.epoch))),
                                              ("step", .number(Double(state.step))), ("split", .text("validation")),
                                              ("train_loss", .number(trainLoss))]
        var summary: [(String, Double)] = [("train_loss", trainLoss)]
        let hasValidation = splits.validation.count > 0
        try communicator.checkIdentical(parameters, context: "\(stage) epoch \(state.epoch)")
        if hasValidation {
            let v = try evaluate(splits.validation)
            fields.append(("val_loss", .number(v.loss)))
            for m in task.reportedMetrics { if let x = v.metrics[m] { fields.append(("val_\(m.key)", .number(x))) } }
            let value = v.metrics[task.metric] ?? .nan
            summary.append(("val_\(task.metric.key)", value))
            let rule = selectionRule
            state.selectedOn = rule.rawValue
            if isImprovement(value, loss: v.loss, over: state.bestMetric, loss: state.bestLoss, rule: rule) {
                state.bestMetric = value
                state.bestLoss = v.loss
                state.bestEpoch = state.epoch
                state.bestStep = state.step
                state.epochsWithoutImprovement = 0
                if keepsBest {
                    tick(&state)
                    try saveBest(state)
                }
            } else {
                state.epochsWithoutImprovement += 1
            }
            fields.append(("best_val_\(task.metric.key)", .number(state.bestMetric ?? .nan)))
            if let p = config.patience, state.epochsWithoutImprovement >= p {
                state.stoppedEarly = true
                state.finished = true
                recorder.message("\(stage): no validation improvement for \(p) epochs; stopping after epoch \(state.epoch)")
            }
        }
        try recorder.record(fields)
        recorder.progress(step: state.step, metrics: summary)
        if state.step >= totalSteps || (config.maxSteps == nil && state.epoch >= config.epochs) { state.finished = true }
        if state.finished && !hasValidation && keepsBest {
            state.bestEpoch = state.epoch
            state.bestStep = state.step
            tick(&state)
            try saveBest(state)
        }
        if lastIsDue(state) {
            tick(&state)
            try saveLast(state)
        }
        if let epochEndStart { phaseTimer?.add(.epochEnd, since: epochEndStart) }
    }

    /// Puts the best weights of this stage back into the model (the in-memory copy when this process found them,
    /// else the `best` checkpoint).
    public func loadBestWeights() throws {
        if let w = bestWeights {
            try model.load(stateDict: w, strict: true, source: "best weights")
        } else if let store = checkpoints, let best = try store.load(bestName) {
            try model.load(stateDict: best.model, strict: true, source: store.folder(bestName).path)
        }
    }

    /// Whether the epoch end writes `last`: always by default; with `lastCheckpointInterval`, only when that much
    /// time passed since the last write and the stage goes on.
    func lastIsDue(_ state: TrainingState) -> Bool {
        guard let interval = lastCheckpointInterval else { return true }
        return !state.finished && Date().timeIntervalSince(lastWritten) >= interval
    }

    func restore(_ checkpoint: Checkpoint) throws {
        try model.load(stateDict: checkpoint.model, strict: true, source: "checkpoint '\(lastName)'")
        try optimizer.loadState(checkpoint.optimizer ?? [:], stepCount: checkpoint.state.optimizerSteps,
                                source: "optimizer state of checkpoint '\(lastName)'")
    }

    func saveLast(_ state: TrainingState) throws {
        guard let store = checkpoints, writesCheckpoints else { return }
        let start = phaseTimer?.now()
        defer { if let start { phaseTimer?.add("checkpoints", since: start) } }
        if let best = pendingBest, let w = bestWeights {
            try store.save(bestName, model: w, state: best, modelSpec: modelSpec)
            pendingBest = nil
        }
        lastWritten = Date()
        try store.save(lastName, model: model.stateDict(), optimizer: optimizer.stateTensors(), state: state,
                       modelSpec: modelSpec)
    }

    func saveBest(_ state: TrainingState) throws {
        let start = phaseTimer?.now()
        defer { if let start { phaseTimer?.add("checkpoints", since: start) } }
        if let store = checkpoints, lastCheckpointInterval == nil, writesCheckpoints {
            try store.save(bestName, model: model.stateDict(), state: state, modelSpec: modelSpec)
        } else {
            bestWeights = model.stateDict().mapValues { Tensor($0.scalars, shape: $0.shape) }
            if checkpoints != nil && writesCheckpoints { pendingBest = state }
        }
    }

    /// Whether an epoch with validation `value` and `loss` improves on the best so far. `.metric`: a better
    /// metric, or the same metric with a lower validation loss. `.loss`: a lower validation loss (the metric
    /// must still be defined).
    func isImprovement(_ value: Double, loss: Double, over best: Double?, loss bestLoss: Double?,
                       rule: SelectionRule = .metric) -> Bool {
        guard value.isFinite else { return false }
        if rule == .loss {
            guard loss.isFinite else { return false }
            return loss < (bestLoss ?? .infinity)
        }
        guard let best else { return true }
        if value == best { return loss.isFinite && loss < (bestLoss ?? .infinity) }
        return task.higherIsBetter ? value > best : value < best
    }

    func reseedDropout(step: Int, micro: Int) {
        var g = SeededGenerator(seed: stageSeed ^ 0x64_726f_706f_7574).forked(UInt64(step) &* 1024 &+ UInt64(micro))
        // Ranks hold different samples: their masks come from their own streams (rank 0 keeps the 1-process one).
        if communicator.rank > 0 { g = g.forked(UInt64(communicator.rank)) }
        for d in dropouts { d.reseed(g.next()) }
    }

    func nonFinite(_ what: String, state: TrainingState, batch: Int) -> TransferError {
        var message = "\(stage): training stopped at step \(state.step + 1) (epoch \(state.epoch + 1), batch \(batch + 1)): "
            + "\(what)"
        if let e = state.bestEpoch, let m = state.bestMetric {
            message += "; the best checkpoint (epoch \(e), validation \(task.metric.key) \(formatMetric(m))) was kept"
        } else {
            message += "; no checkpoint was written"
        }
        message += ". Try a lower learning rate or gradient clipping."
        // The stop is part of the run's record; a failing write must not hide the cause, so it is not thrown.
        try? recorder.record([("stage", .text(stage)), ("epoch", .number(Double(state.epoch + 1))),
                              ("step", .number(Double(state.step + 1))), ("split", .text("stopped")),
                              ("batch", .number(Double(batch + 1))), ("reason", .text(what))])
        return .nonFinite(message)
    }

    // MARK: Evaluation

    /// Evaluates the model on `data` in evaluation mode, without gradients, in order and without dropping any
    /// sample; restores the previous mode afterwards.
    public func evaluate(_ data: LabeledDataset) throws -> Evaluation {
        try Trainer.evaluate(model: model, task: task, data: data, batchSize: config.evalBatchSize,
                             communicator: communicator)
    }

    /// See `evaluate(_:)`. With several ranks (and at least as many samples), each evaluates its contiguous
    /// shard; the outputs are gathered in order and the loss summed, so every rank gets the whole evaluation.
    public static func evaluate(model: CrossModalModel, task: TaskSpec, data: LabeledDataset, batchSize: Int,
                                communicator: any Communicator) throws -> Evaluation {
        guard communicator.isDistributed, data.count >= communicator.size else {
            return evaluate(model: model, task: task, data: data, batchSize: batchSize)
        }
        let mine = data.subset(Array(communicator.shard(of: data.count)))
        let (outputs, localLoss) = outputsAndLossSum(model: model, task: task, data: mine, batchSize: batchSize)
        let predictions = try communicator.gatherRows(outputs, total: data.count)
        let lossSum = try communicator.sum(localLoss)
        let metrics = withoutGradients { task.metrics(predictions: predictions, data: data) }
        return Evaluation(loss: lossSum / Double(data.count), metrics: metrics, predictions: predictions)
    }

    /// See `evaluate(_:)`.
    public static func evaluate(model: CrossModalModel, task: TaskSpec, data: LabeledDataset, batchSize: Int) -> Evaluation {
        let (predictions, lossSum) = outputsAndLossSum(model: model, task: task, data: data, batchSize: batchSize)
        let metrics = data.count == 0 ? [:] : withoutGradients { task.metrics(predictions: predictions, data: data) }
        return Evaluation(loss: data.count == 0 ? .nan : lossSum / Double(data.count), metrics: metrics,
                          predictions: predictions)
    }

    /// The model's outputs for every sample of `data`, in order, and the sum of the per-sample losses.
    static func outputsAndLossSum(model: CrossModalModel, task: TaskSpec, data: LabeledDataset,
                                  batchSize: Int) -> (Tensor, Double) {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        return withoutGradients {
            var outputs: [Tensor] = []
            var lossSum = 0.0
            for indices in BatchSampler.evaluation(count: data.count, batchSize: batchSize).batches(epoch: 0) {
                let batch = data.subset(indices)
                let y = model(model.input(for: batch))
                lossSum += Double(task.lossValue(y, batch).item) * Double(indices.count)
                outputs.append(y)
            }
            return (outputs.isEmpty ? Tensor.zeros([0]) : Tensor.concat(outputs, axis: 0), lossSum)
        }
    }
}

extension CrossModalModel {
    /// The model input for a batch of `dataset` (token sequences are capped at the embedder's length).
    public func input(for batch: LabeledDataset) -> ModelInput {
        ModelInput(batch, maxLength: (embedder as? TokenEmbedder)?.maxLength ?? .max)
    }
}

/// "NaN", "+infinity" or "-infinity".
func describeNonFinite(_ x: Double) -> String {
    x.isNaN ? "NaN" : (x > 0 ? "+infinity" : "-infinity")
}

/// A metric value for messages: 4 significant digits.
func formatMetric(_ x: Double) -> String {
    if x == 0 || (abs(x) >= 1e-3 && abs(x) < 1e5) { return String(format: "%.4f", x) }
    return String(format: "%.4g", x)
}
