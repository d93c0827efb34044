import Foundation
import MonaData
import MonaRunKit
import MonaTensor

/// How a method's model starts from the body.
public enum BodyStart: String, Sendable, Codable {
    /// The pretrained weights.
    case pretrained
    /// The same architecture, re-initialised at random (the `scratch` baseline).
    case random
    /// No body: the embedder's tokens go straight to the head (the `no-body` control). The embedder is still
    /// initialised from the pretrained body, so it is the same embedder the other methods start from.
    case identity
}

/// A training method, as a plug-in: one type that owns its options, its stages and trainable set, its report
/// section and whether the source-knowledge analysis is on by default. `MethodCatalog` registers it (with any
/// presets) under one or more names:
///
/// ```swift
/// MethodEntry.create("no-body", "…", NoBodyMethod.self)
/// ```
///
/// A method normally shapes the cross-modal model (`body`, `stages`, `trainability`); the run lifecycle
/// (data, fine-tuning with validation-based selection, one test evaluation, records and report) is shared.
/// A method can instead replace the model entirely by returning a `Learner` from `makeLearner` (expert
/// baselines): the lifecycle then trains and predicts with it under the same split and protocol.
public protocol TransferMethod: Sendable {
    /// The options (`method.<key>` in a config file); `Decodable` from the strict `MethodOptionsDecoder`.
    /// Defaults are the struct's own property defaults.
    associatedtype Options: Decodable & Sendable
    init(options: Options)

    /// One line for `mona fit --help`, docs and the report.
    static var summary: String { get }

    /// How the body starts. Default `.pretrained`.
    var body: BodyStart { get }
    /// The alignment stages run before fine-tuning, in order. Default none.
    var stages: [AlignmentStage] { get }
    /// What fine-tuning trains. Default `.all`.
    var trainability: Trainability { get }
    /// Whether the source-knowledge analysis runs when `method.analysis` is not given. Default false.
    var analysisByDefault: Bool { get }
    /// The analysis settings (nil: the method has none, e.g. it has no body to analyse). Default nil.
    var analysis: AnalysisOptions? { get }
    /// The metric keys and report section of the method's own records (nil: none). Default nil.
    var report: MethodReport? { get }
    /// The model-replacing hook: a learner used instead of the cross-modal model (nil: the cross-modal model).
    /// Default nil.
    func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)?
}

extension TransferMethod {
    public var body: BodyStart { .pretrained }
    public var stages: [AlignmentStage] { [] }
    public var trainability: Trainability { .all }
    public var analysisByDefault: Bool { false }
    public var analysis: AnalysisOptions? { nil }
    public var report: MethodReport? { nil }
    public func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? { nil }
}

/// What a method records besides the shared fine-tuning records, and how the report shows it: the stage's
/// `phase` value and the metric keys, declared once and used both by the stage that writes the records and by
/// `AlignmentReport`, which plots and tabulates them.
public struct MethodReport: Sendable {
    /// One plotted quantity: record key, label in the table and legend.
    public struct Quantity: Sendable {
        public let key: String
        public let label: String
        public init(_ key: String, _ label: String) {
            self.key = key
            self.label = label
        }
    }

    /// One SVG plot of some quantities against the step.
    public struct Plot: Sendable {
        public let file: String
        public let title: String
        public let caption: String
        public let yLabel: String
        public let quantities: [Quantity]
        public init(file: String, title: String, caption: String, yLabel: String, quantities: [Quantity]) {
            self.file = file
            self.title = title
            self.caption = caption
            self.yLabel = yLabel
            self.quantities = quantities
        }
    }

    /// The `phase` field of the method's per-step records.
    public let phase: String
    /// x-axis label of the plots.
    public let stepLabel: String
    /// Rows of the report's table (first, last and mean value of each).
    public let table: [Quantity]
    public let plots: [Plot]

    public init(phase: String, stepLabel: String, table: [Quantity], plots: [Plot]) {
        self.phase = phase
        self.stepLabel = stepLabel
        self.table = table
        self.plots = plots
    }
}

// MARK: The model-replacing hook

/// What a `Learner` gets besides the data.
public struct LearnerContext {
    /// The run's training settings (epoch budget, batch size, patience …), for learners that train by epochs.
    public let training: TrainingConfig
    public let seed: UInt64
    /// Records go to the run's metrics.jsonl (use stage `finetune`, split `validation` and `val_<metric>` keys for
    /// per-epoch selection records, so the loss and metric plots show them).
    public let recorder: RunRecorder

    public init(training: TrainingConfig, seed: UInt64, recorder: RunRecorder) {
        self.training = training
        self.seed = seed
        self.recorder = recorder
    }
}

/// A model that replaces the cross-modal model (embedder → body → head) for a method, e.g. an expert baseline
/// such as MiniRocket with a ridge classifier. The run lifecycle gives it the same train/validation split as
/// every other method, evaluates it once on the test split through `predict`, and writes the same test record,
/// predictions.csv and report; `mona bench` therefore treats it like the other methods.
public protocol Learner: AnyObject {
    /// One line for the report, e.g. "MiniRocket (9 996 features) + ridge, α chosen on validation".
    var summary: String { get }
    /// Fitted parameters (for the report).
    var parameterCount: Int { get }
    /// Trains on `data.train` and selects (epochs, regularisation, …) on `data.validation` only; the test split
    /// is not passed. Returns the final state: `bestEpoch`/`bestMetric` describe the selection (nil when there
    /// was none), `epoch`/`step` how much training ran.
    func fit(task: TaskSpec, data: DataSplits, context: LearnerContext) throws -> TrainingState
    /// Outputs for `data` in the layout the cross-modal model produces for the task: [N, K] class scores for
    /// classification (the prediction is the argmax; the loss applies softmax cross-entropy to them), [N, K]
    /// values for regression and multi-label, [N, C, L] or [N, C, H, W] fields for dense tasks.
    func predict(_ data: LabeledDataset) throws -> Tensor
}
