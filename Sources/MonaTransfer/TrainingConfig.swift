import Foundation
import MonaNN

/// How a model is trained: the fine-tuning stage's (and, with its own overrides, the warm-up's) optimisation
/// settings. Every field has a default; decoding fills in the defaults for absent keys and rejects unknown keys.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// Which optimizer.
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable, OptionChoice {
        case adamw, adam, sgd
    }

    /// Learning-rate schedule (a factor on `learningRate` per optimizer step).
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable, OptionChoice {
        /// Constant after the warm-up.
        case constant
        /// Linear warm-up, then linear decay to 0 at the last step.
        case linear
        /// Linear warm-up, then cosine decay to 0 at the last step.
        case cosine
        /// Multiply by `gamma` every `stepSize` steps.
        case step
    }

    /// Passes over the training split. Default 10. Ignored when `maxSteps` is set.
    public var epochs = 10
    /// Stop after this many optimizer steps instead of after `epochs` (nil: use `epochs`). Default nil.
    public var maxSteps: Int? = nil
    /// Samples per mini-batch. Default 16.
    public var batchSize = 16
    /// Samples per batch when evaluating (no sample is ever dropped). Default 64.
    public var evalBatchSize = 64
    /// Mini-batches whose gradients are summed (averaged) into one optimizer step. Default 1.
    public var gradientAccumulation = 1
    /// Clip the global gradient norm to this value (nil or ≤ 0: no clipping). Default 1.
    public var clipNorm: Float? = 1
    /// Default `adamw`.
    public var optimizer: OptimizerKind = .adamw
    /// Base learning rate. Default 1e-4.
    public var learningRate: Float = 1e-4
    /// Weight decay of weight matrices (never of biases, LayerNorms, position or CLS embeddings). Default 0.01.
    public var weightDecay: Float = 0.01
    /// SGD momentum. Default 0.9.
    public var momentum: Float = 0.9
    /// Adam β₁, β₂, ε. Defaults 0.9, 0.999, 1e-8.
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Default `linear`.
    public var schedule: ScheduleKind = .linear
    /// Fraction of the total steps spent warming the learning rate up from 0 (ignored when `warmupSteps` is
    /// set). Default 0.1.
    public var warmupFraction: Double = 0.1
    /// Warm-up steps (nil: `warmupFraction` of the total). Default nil.
    public var warmupSteps: Int? = nil
    /// `step` schedule: steps between decays (default 1000) and the decay factor (default 0.1).
    public var stepSize = 1000
    public var gamma: Float = 0.1
    /// Stop when the validation metric has not improved for this many epochs (nil: never). Default nil.
    public var patience: Int? = nil
    /// Share of the training data held out (seeded; stratified for classes) for validation, model selection
    /// and early stopping. 0 disables validation (the last epoch's model is then used). Default 0.2.
    public var validationFraction: Double = 0.2
    /// Also write the `last` checkpoint every this many optimizer steps (0: only at the end of each epoch).
    /// Default 0.
    public var checkpointEvery = 0
    /// Record the training loss in metrics.jsonl every this many optimizer steps. Default 1.
    public var logEvery = 1
    /// What the validation split selects the best epoch on: `metric`, `loss`, or `auto` — the loss when the
    /// validation split has fewer than `SelectionSetting.smallValidation` samples, else the metric. Default `auto`.
    public var selection: SelectionSetting = .auto

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, maxSteps, batchSize, evalBatchSize, gradientAccumulation, clipNorm, optimizer, learningRate,
             weightDecay, momentum, beta1, beta2, epsilon, schedule, warmupFraction, warmupSteps, stepSize, gamma,
             patience, validationFraction, checkpointEvery, logEvery, selection
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), section: "training")
        let d = TrainingConfig()
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? d.maxSteps
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        evalBatchSize = try c.decodeIfPresent(Int.self, forKey: .evalBatchSize) ?? d.evalBatchSize
        gradientAccumulation = try c.decodeIfPresent(Int.self, forKey: .gradientAccumulation) ?? d.gradientAccumulation
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm) ?? d.clipNorm
        optimizer = try c.decodeIfPresent(OptimizerKind.self, forKey: .optimizer) ?? d.optimizer
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? d.momentum
        beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1) ?? d.beta1
        beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2) ?? d.beta2
        epsilon = try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? d.epsilon
        schedule = try c.decodeIfPresent(ScheduleKind.self, forKey: .schedule) ?? d.schedule
        warmupFraction = try c.decodeIfPresent(Double.self, forKey: .warmupFraction) ?? d.warmupFraction
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
        stepSize = try c.decodeIfPresent(Int.self, forKey: .stepSize) ?? d.stepSize
        gamma = try c.decodeIfPresent(Float.self, forKey: .gamma) ?? d.gamma
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? d.patience
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? d.validationFraction
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery
        logEvery = try c.decodeIfPresent(Int.self, forKey: .logEvery) ?? d.logEvery
        selection = try c.decodeIfPresent(SelectionSetting.self, forKey: .selection) ?? d.selection
    }

    /// Throws `TransferError.badConfig` naming the first impossible value.
    public func validate(section: String = "training") throws {
        func bad(_ key: String, _ why: String) -> TransferError { .badConfig("\(section).\(key): \(why)") }
        if epochs < 1 && maxSteps == nil { throw bad("epochs", "must be ≥ 1, got \(epochs)") }
        if let s = maxSteps, s < 1 { throw bad("maxSteps", "must be ≥ 1, got \(s)") }
        if batchSize < 1 { throw bad("batchSize", "must be ≥ 1, got \(batchSize)") }
        if evalBatchSize < 1 { throw bad("evalBatchSize", "must be ≥ 1, got \(evalBatchSize)") }
        if gradientAccumulation < 1 { throw bad("gradientAccumulation", "must be ≥ 1, got \(gradientAccumulation)") }
        if !(learningRate > 0) || !learningRate.isFinite { throw bad("learningRate", "must be a positive number, got \(learningRate)") }
        if !(weightDecay >= 0) { throw bad("weightDecay", "must be ≥ 0, got \(weightDecay)") }
        if let c = clipNorm, !c.isFinite { throw bad("clipNorm", "must be a finite number (≤ 0: no clipping), got \(c)") }
        if !(momentum >= 0 && momentum < 1) { throw bad("momentum", "must be in [0, 1), got \(momentum)") }
        if !(beta1 >= 0 && beta1 < 1) { throw bad("beta1", "must be in [0, 1), got \(beta1)") }
        if !(beta2 >= 0 && beta2 < 1) { throw bad("beta2", "must be in [0, 1), got \(beta2)") }
        if !(epsilon > 0) { throw bad("epsilon", "must be > 0, got \(epsilon)") }
        if !(gamma > 0) { throw bad("gamma", "must be > 0, got \(gamma)") }
        if !(warmupFraction >= 0 && warmupFraction < 1) { throw bad("warmupFraction", "must be in [0, 1), got \(warmupFraction)") }
        if let w = warmupSteps, w < 0 { throw bad("warmupSteps", "must be ≥ 0, got \(w)") }
        if stepSize < 1 { throw bad("stepSize", "must be ≥ 1, got \(stepSize)") }
        if let p = patience, p < 1 { throw bad("patience", "must be ≥ 1, got \(p)") }
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw bad("validationFraction", "must be in [0, 1), got \(validationFraction)")
        }
        if checkpointEvery < 0 { throw bad("checkpointEvery", "must be ≥ 0, got \(checkpointEvery)") }
        if logEvery < 1 { throw bad("logEvery", "must be ≥ 1, got \(logEvery)") }
        _ = try makeOptimizer(groups: [], section: section)   // the optimizer's own hyperparameter checks
    }

    /// The learning-rate schedule for a run of `totalSteps` optimizer steps.
    public func makeSchedule(totalSteps: Int) -> any LearningRateSchedule {
        let warm = warmupSteps ?? Int((warmupFraction * Double(totalSteps)).rounded(.down))
        switch schedule {
        case .constant: return WarmupThenConstant(warmupSteps: warm)
        case .linear: return LinearWarmupDecay(warmupSteps: warm, totalSteps: totalSteps)
        case .cosine: return CosineSchedule(warmupSteps: warm, totalSteps: totalSteps)
        case .step: return StepSchedule(stepSize: stepSize, gamma: gamma)
        }
    }

    /// An optimizer over `module`'s trainable parameters, with no weight decay on biases, norms, position and
    /// CLS embeddings. Throws `TransferError.badConfig` naming the `training.*` key of a hyperparameter out of
    /// range (an optimizer's check, e.g. β₂ ∉ [0, 1)).
    public func makeOptimizer(for module: Module) throws -> Optimizer {
        try makeOptimizer(groups: ParameterGroup.decayGroups(module, weightDecay: weightDecay)
            .filter { !$0.parameters.isEmpty })
    }

    func makeOptimizer(groups: [ParameterGroup], section: String = "training") throws -> Optimizer {
        do {
            switch optimizer {
            case .adamw:
                return try Adam(groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2,
                                epsilon: epsilon, decoupledWeightDecay: true)
            case .adam:
                return try Adam(groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
            case .sgd:
                return try SGD(groups: groups, learningRate: learningRate, momentum: momentum)
            }
        } catch let error as OptimizerError {
            throw TransferError.badConfig("\(section).\(error.parameter): must be \(error.accepted), got \(error.value)")
        }
    }
}

/// What the validation split selects the best epoch on.
public enum SelectionRule: String, Sendable, Codable {
    /// The task's metric (ties broken by the lower validation loss).
    case metric
    /// The validation loss.
    case loss
}

/// `training.selection`.
///
/// Small validation splits (a UCR task with 50 training series keeps 10) make the metric a coarse, noisy
/// selector: accuracy on 10 series moves in steps of 0.1 and ties across most epochs, so the "best" epoch is
/// largely chance. The validation loss is continuous and uses every sample's confidence, so `auto` selects on it
/// below `smallValidation` samples; the test record also holds the final epoch's metrics (`test_final_<metric>`)
/// so that results can be compared at the selected and at the final epoch.
public enum SelectionSetting: String, Codable, Sendable, CaseIterable, OptionChoice {
    case auto, metric, loss

    /// Below this many validation samples `auto` selects on the validation loss.
    public static let smallValidation = 50

    public func resolved(validationCount: Int) -> SelectionRule {
        switch self {
        case .metric: return .metric
        case .loss: return .loss
        case .auto: return validationCount < SelectionSetting.smallValidation ? .loss : .metric
        }
    }
}

/// Linear warm-up, then 1.
public struct WarmupThenConstant: LearningRateSchedule {
    public var warmupSteps: Int
    public init(warmupSteps: Int) { self.warmupSteps = warmupSteps }
    public func factor(at step: Int) -> Float {
        step < warmupSteps ? Float(step + 1) / Float(max(1, warmupSteps)) : 1
    }
}

/// Throws `TransferError.badConfig` for keys of the decoder's object that are not in `known` (typos in config
/// files should not pass silently).
func rejectUnknownKeys(_ decoder: Decoder, known: [String], section: String) throws {
    let all = try decoder.container(keyedBy: TextKey.self).allKeys.map(\.stringValue)
    if let unknown = all.first(where: { !known.contains($0) }) {
        let prefix = section.isEmpty ? "" : section + "."
        throw TransferError.badConfig("unknown option '\(prefix)\(unknown)'; known: \(known.joined(separator: ", "))")
    }
}
