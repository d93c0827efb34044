import Foundation

/// The source-knowledge analysis options every method with a body accepts (KnowledgeTracker.swift):
/// `analysis` (on/off; unset: the method's default), `analysisEvery` (fine-tuning steps between measurements,
/// 0 = only at stage boundaries), `analysisPerClass` (held-out source samples per class), `sourcePerClass`
/// and `sourceImageSize` (which source samples are set aside for alignment, and the source image side for
/// vision bodies).
public struct AnalysisOptions: Decodable, Sendable, Equatable {
    /// nil: the method's default (`TransferMethod.analysisByDefault`).
    public var enabled: Bool? = nil
    public var every = 0
    public var perClass = SourceTask.Options().analysisPerClass
    public var sourcePerClass = SourceTask.Options().alignmentPerClass
    public var sourceImageSize: Int? = SourceTask.Options().imageSize

    public init() {}

    enum CodingKeys: String, CodingKey {
        case analysis, analysisEvery, analysisPerClass, sourcePerClass, sourceImageSize
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .analysis)
        every = try c.decodeIfPresent(Int.self, forKey: .analysisEvery) ?? every
        perClass = try c.decodeIfPresent(Int.self, forKey: .analysisPerClass) ?? perClass
        sourcePerClass = try c.decodeIfPresent(Int.self, forKey: .sourcePerClass) ?? sourcePerClass
        sourceImageSize = try c.decodeIfPresent(Int.self, forKey: .sourceImageSize) ?? sourceImageSize
        try requireOption(every >= 0, "analysisEvery", "an integer ≥ 0", got: every)
        try requireOption(perClass >= 1, "analysisPerClass", "an integer ≥ 1", got: perClass)
        try requireOption(sourcePerClass >= 1, "sourcePerClass", "an integer ≥ 1", got: sourcePerClass)
        if let s = sourceImageSize { try requireOption(s >= 1, "sourceImageSize", "an integer ≥ 1", got: s) }
    }
}

/// How a baseline differs from vanilla fine-tuning: where the body starts and what trains.
public struct BaselineSpec: Sendable {
    public let summary: String
    public let body: BodyStart
    public let trainability: Trainability

    public init(_ summary: String, body: BodyStart = .pretrained, trainability: Trainability = .all) {
        self.summary = summary
        self.body = body
        self.trainability = trainability
    }
}

/// A baseline, named by a type so that the registry can hold it: its `BaselineSpec`.
public protocol Baseline: Sendable {
    static var spec: BaselineSpec { get }
}

/// The fine-tuning baselines: the run lifecycle's fine-tuning shaped by `Kind.spec`, with the source-knowledge
/// analysis options (off unless asked for). A new one is a `Baseline` type and a registry line.
public struct BaselineMethod<Kind: Baseline>: TransferMethod {
    public static var summary: String { Kind.spec.summary }
    public let options: AnalysisOptions
    public init(options: AnalysisOptions) { self.options = options }
    public var body: BodyStart { Kind.spec.body }
    public var trainability: Trainability { Kind.spec.trainability }
    public var analysis: AnalysisOptions? { options }
}

/// Vanilla fine-tuning: embedder, body and head all train.
public enum FineTuneBaseline: Baseline {
    public static let spec = BaselineSpec("vanilla fine-tuning: embedder, body and head all train")
}

/// The same architecture with a randomly initialised body.
public enum ScratchBaseline: Baseline {
    public static let spec = BaselineSpec("same architecture with a randomly initialised body, everything trains", body: .random)
}

/// Linear probe: only the head trains.
public enum LinearProbeBaseline: Baseline {
    public static let spec = BaselineSpec("only the head trains (embedder and body frozen)", trainability: .headOnly)
}

/// Frozen pretrained transformer (FPT): embedder, LayerNorms and head train.
public enum FPTBaseline: Baseline {
    public static let spec = BaselineSpec("frozen pretrained transformer: embedder, LayerNorms and head train",
                                          trainability: .frozenBody)
}

/// Stage 0 alone (embedder and head on the target loss, body frozen), then fine-tuning: MoNA's control.
public struct WarmupOnlyMethod: TransferMethod {
    public struct Options: Decodable, Sendable, Equatable {
        /// `warmupEpochs`, default 3; `warmupLearningRate`, default the fine-tuning rate.
        public var epochs = 3
        public var learningRate: Float? = nil
        public var analysis = AnalysisOptions()

        enum CodingKeys: String, CodingKey { case warmupEpochs, warmupLearningRate }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            epochs = try c.decodeIfPresent(Int.self, forKey: .warmupEpochs) ?? epochs
            learningRate = try c.decodeIfPresent(Float.self, forKey: .warmupLearningRate) ?? learningRate
            try requireOption(epochs >= 0, "warmupEpochs", "an integer ≥ 0", got: epochs)
            if let r = learningRate { try requireOption(r > 0, "warmupLearningRate", "a finite number > 0", got: r) }
            analysis = try AnalysisOptions(from: decoder)
        }
    }

    public static let summary = "stage 0 (embedder + head on the target loss, body frozen), then fine-tuning"
    public let options: Options
    public init(options: Options) { self.options = options }
    public var stages: [AlignmentStage] { [WarmupStage(epochs: options.epochs, learningRate: options.learningRate)] }
    public var analysis: AnalysisOptions? { options.analysis }
}
