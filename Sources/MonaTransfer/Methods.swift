import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor

/// What an alignment stage gets besides the model and the data.
public final class AlignmentContext {
    public let task: TaskSpec
    /// The fine-tuning configuration (stages derive their own settings from it and from `method`).
    public let training: TrainingConfig
    /// The method's configuration, including method-specific options.
    public let method: MethodConfig
    public let seed: UInt64
    public let recorder: RunRecorder
    /// Where the run's checkpoints go (nil for in-memory runs).
    public let checkpoints: CheckpointStore?
    /// Pretrained assets and data (source data for MoNA/ORCA lives under `assets.root/data`).
    public let assets: AssetRegistry

    public init(task: TaskSpec, training: TrainingConfig, method: MethodConfig, seed: UInt64,
                recorder: RunRecorder = SilentRecorder(), checkpoints: CheckpointStore? = nil,
                assets: AssetRegistry = AssetRegistry()) {
        self.task = task
        self.training = training
        self.method = method
        self.seed = seed
        self.recorder = recorder
        self.checkpoints = checkpoints
        self.assets = assets
    }
}

/// A stage run between model construction and fine-tuning that prepares the model — warm-up, ORCA's OTDD
/// embedder alignment, MoNA's meta-learned knowledge alignment. It may change any weights; it must leave every
/// parameter's trainability as it found it. The test split is off limits (use `data.train` and
/// `data.validation`).
public protocol AlignmentStage: AnyObject {
    /// Short name used in metrics records (`stage` field) and messages.
    var name: String { get }
    func run(model: CrossModalModel, data: DataSplits, context: AlignmentContext) throws
}

/// Stage 0: train the embedder and head on the target loss with the body frozen (a few epochs, no selection:
/// the final weights are kept).
public final class WarmupStage: AlignmentStage {
    public let name = "warmup"
    public let epochs: Int
    /// nil: the fine-tuning learning rate.
    public let learningRate: Float?

    public init(epochs: Int, learningRate: Float? = nil) {
        self.epochs = epochs
        self.learningRate = learningRate
    }

    public func run(model: CrossModalModel, data: DataSplits, context: AlignmentContext) throws {
        guard epochs > 0 else { return }
        try withTrainability(of: model) {
            model.freeze(matching: ["body.*"])
            model.unfreeze(matching: ["embedder.*", "head.*"])
            var config = context.training
            config.epochs = epochs
            config.maxSteps = nil
            config.patience = nil
            config.checkpointEvery = 0
            if let lr = learningRate { config.learningRate = lr }
            let trainer = try Trainer(model: model, task: context.task, splits: data, config: config, seed: context.seed,
                                  stage: name, checkpoints: nil, recorder: context.recorder)
            trainer.keepsBest = false
            try trainer.run()
        }
    }
}

/// Runs `body`, then restores every parameter's trainability.
public func withTrainability<R>(of module: Module, _ body: () throws -> R) rethrows -> R {
    let saved = module.namedParameters().map { ($0.parameter, $0.parameter.isTrainable) }
    defer { for (p, t) in saved where p.isTrainable != t { p.isTrainable = t } }
    return try body()
}

// MARK: Methods

/// Which parameters fine-tuning updates.
public enum Trainability: String, Sendable, Codable {
    /// Embedder, body and head.
    case all
    /// Only the head (linear probe).
    case headOnly = "head-only"
    /// Embedder, every LayerNorm of the body, and the head (FPT: attention and feed-forward weights frozen).
    case frozenBody = "frozen-body"

    /// Sets the model's trainable flags accordingly.
    public func apply(to model: CrossModalModel) {
        model.unfreeze()
        switch self {
        case .all: break
        case .headOnly:
            model.freeze(matching: ["embedder.*", "body.*"])
        case .frozenBody:
            model.freeze(matching: ["body.*"])
            model.unfreeze(matching: ["body.*LayerNorm*", "body.*norm*"])
        }
    }
}

/// The configuration of a method: its name, the warm-up stage's settings, and method-specific options (for
/// MoNA and ORCA) as strings.
public struct MethodConfig: Codable, Sendable, Equatable {
    /// Method name (see `MethodCatalog.names`). Default `finetune`.
    public var name = "finetune"
    /// Warm-up epochs of methods that start with stage 0 (`warmup-only`, MoNA). Default 3.
    public var warmupEpochs = 3
    /// Warm-up learning rate (nil: the fine-tuning rate). Default nil.
    public var warmupLearningRate: Float? = nil
    /// Further method-specific options (`method.<key>: value` in a config file, e.g. `method.lambda: 0.5`),
    /// kept as text.
    public var options: [String: String] = [:]

    public init(name: String = "finetune") { self.name = name }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, warmupEpochs, warmupLearningRate }

    /// Decodes the named fields; every other key becomes an option (its value as text).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "finetune"
        warmupEpochs = try c.decodeIfPresent(Int.self, forKey: .warmupEpochs) ?? 3
        warmupLearningRate = try c.decodeIfPresent(Float.self, forKey: .warmupLearningRate)
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let all = try decoder.container(keyedBy: AnyKey.self)
        let named = Set(CodingKeys.allCases.map(\.rawValue))
        for key in all.allKeys where !named.contains(key.stringValue) {
            if let s = try? all.decode(String.self, forKey: key) { options[key.stringValue] = s }
            else if let x = try? all.decode(Double.self, forKey: key) { options[key.stringValue] = String(x) }
            else if let b = try? all.decode(Bool.self, forKey: key) { options[key.stringValue] = String(b) }
            else { throw TransferError.badConfig("method.\(key.stringValue): expected a single value") }
        }
    }

    /// Option `key` as a number, or `fallback`.
    public func number(_ key: String, default fallback: Double) throws -> Double {
        guard let s = options[key] else { return fallback }
        guard let x = Double(s) else { throw TransferError.badConfig("method.\(key): '\(s)' is not a number") }
        return x
    }
}

/// A training method: how the body starts, which alignment stages run, and what fine-tuning updates.
public struct MethodSpec {
    public let name: String
    public let summary: String
    /// false: the body is re-initialised at random (same architecture).
    public let pretrainedBody: Bool
    public let stages: [AlignmentStage]
    public let trainability: Trainability

    public init(name: String, summary: String, pretrainedBody: Bool = true, stages: [AlignmentStage] = [],
                trainability: Trainability = .all) {
        self.name = name
        self.summary = summary
        self.pretrainedBody = pretrainedBody
        self.stages = stages
        self.trainability = trainability
    }
}

/// Known methods by name. `register` adds more (MoNA, ORCA and ablations plug in this way).
public enum MethodCatalog {
    public typealias Factory = @Sendable (MethodConfig) throws -> MethodSpec

    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var entries: [(name: String, summary: String, factory: Factory)] = []
    }

    private static let registry: Registry = {
        let r = Registry()
        r.entries = [
            ("finetune", "vanilla fine-tuning: embedder, body and head all train", { _ in
                MethodSpec(name: "finetune", summary: "vanilla fine-tuning") }),
            ("scratch", "same architecture with a randomly initialised body, everything trains", { _ in
                MethodSpec(name: "scratch", summary: "random body", pretrainedBody: false) }),
            ("linear-probe", "only the head trains (embedder and body frozen)", { _ in
                MethodSpec(name: "linear-probe", summary: "linear probe", trainability: .headOnly) }),
            ("fpt", "frozen pretrained transformer: embedder, LayerNorms and head train", { _ in
                MethodSpec(name: "fpt", summary: "FPT-style frozen body", trainability: .frozenBody) }),
            ("warmup-only", "stage 0 (embedder + head on the target loss, body frozen), then fine-tuning", { c in
                MethodSpec(name: "warmup-only", summary: "warm-up, then fine-tuning",
                           stages: [WarmupStage(epochs: c.warmupEpochs, learningRate: c.warmupLearningRate)]) }),
        ]
        r.entries += alignmentMethodEntries
        return r
    }()

    /// Adds (or replaces) a method.
    public static func register(_ name: String, summary: String, factory: @escaping Factory) {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        registry.entries.removeAll { $0.name == name }
        registry.entries.append((name, summary, factory))
    }

    /// Method names with summaries, in registration order.
    public static var names: [(name: String, summary: String)] {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        return registry.entries.map { ($0.name, $0.summary) }
    }

    /// The method `config.name`.
    public static func make(_ config: MethodConfig) throws -> MethodSpec {
        registry.lock.lock()
        let entry = registry.entries.first { $0.name == config.name.lowercased() }
        let known = registry.entries.map(\.name)
        registry.lock.unlock()
        guard let entry else {
            throw TransferError.badConfig("unknown method '\(config.name)'; known methods: \(known.joined(separator: ", "))")
        }
        return try entry.factory(config)
    }
}
