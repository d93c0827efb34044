import MonaData
import MonaTensor

/// A fitted expert baseline: the standard model of a task family, trained without a pretrained body.
///
/// `predict` returns outputs in the layout the transformer methods produce (`TaskSpec.metrics` reads them):
/// [N, K] class scores (argmax = predicted class), [N, K] regression values, or [N, C, …] dense fields.
public protocol ExpertModel: Sendable {
    /// Outputs for every sample of `data`, in order.
    func predict(_ data: LabeledDataset) throws -> Tensor
    /// The hyperparameters chosen during fitting (name → value), for reports and metrics records.
    var selected: [(String, Double)] { get }
    /// Fitted parameters (learned weights, and fitted biases of a transform).
    var parameterCount: Int { get }
    /// One line describing the fitted model, for reports.
    var summary: String { get }
}

/// The expert baselines by task family. Each is fitted on the training split and selects its
/// hyperparameters on the training split (closed-form cross-validation) or on the validation split; the test
/// split is never passed to `fit`.
public enum Experts {
    /// Which expert serves `task`, or nil when none covers it.
    public static func kind(for task: TaskSpec) -> String? {
        switch (task.input, task.output) {
        case (.series, .classification), (.series, .regression): return "minirocket"
        case (.tokens, .classification): return "kmer-logistic"
        case (.series, .dense1D), (.fields, .dense2D): return "resnet"
        default: return nil
        }
    }

    /// Fits the expert of `task`'s family. `epochs` is the training budget of the gradient-trained expert
    /// (the dense residual network); the closed-form experts ignore it.
    public static func fit(train: LabeledDataset, validation: LabeledDataset, task: TaskSpec, seed: UInt64,
                           epochs: Int = 10, onEpoch: ((Int, Double, Double) throws -> Void)? = nil) throws -> any ExpertModel {
        switch kind(for: task) {
        case "minirocket":
            return try MiniRocketModel.fit(train: train, validation: validation, task: task, seed: seed)
        case "kmer-logistic":
            return try KmerLogisticModel.fit(train: train, validation: validation, task: task, seed: seed)
        case "resnet":
            return try ResidualConvNetModel.fit(train: train, validation: validation, task: task, seed: seed,
                                                epochs: epochs, onEpoch: onEpoch)
        default:
            throw TransferError.badTask("expert: no expert baseline for \(task.input.rawValue) inputs with "
                                        + "\(task.output.rawValue) outputs (task '\(task.name)'); experts cover series "
                                        + "classification/regression (MiniRocket), token classification (k-mer "
                                        + "logistic regression) and dense 1-D/2-D targets (residual conv net)")
        }
    }
}
