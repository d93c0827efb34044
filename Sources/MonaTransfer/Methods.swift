import Foundation
import MonaData
import MonaDistributed
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
    /// The ranks of a data-parallel run (stages shard their target batches and sum gradients over them).
    public var communicator: any Communicator = LocalCommunicator()

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
            trainer.communicator = context.communicator
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
    /// Embedder, every LayerNorm module of the body, and the head (FPT: attention and feed-forward weights frozen).
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
            // Chosen by structure, not by name: every LayerNorm module of the body trains, whatever its
            // checkpoint calls it (`LayerNorm`, `norm1`, `layernorm`, `ln_1`).
            for (name, module) in model.namedModules() where name.hasPrefix("body.") && module is LayerNorm {
                module.unfreeze()
            }
        }
    }
}
