import Foundation

/// MoNA: warm-up (stage 0), meta-learned knowledge alignment of the embedder (stage 1), fine-tuning. Presets
/// in the registry: `mona-fd` (finite-difference meta-gradient), `mona-no-warmup` (no stage 0) and
/// `mona-lambda0` (λ = 0: stage 1 trains the embedder on the target loss only, a longer warm-up — the control
/// that tells knowledge alignment apart from extra warm-up).
public typealias MoNAMethod = AligningMethod<MoNAOptions>

/// Record keys of MoNA's per-outer-step records, shared by `MoNAStage` (which writes them) and its
/// `MethodReport` (which plots them).
public enum MoNAKeys {
    public static let phase = "mona"
    public static let align = "align"
    public static let uniform = "uniform"
    public static let outerLoss = "outer_loss"
    public static let outerLossBefore = "outer_loss_before"
    public static let outerDelta = "outer_delta"
    public static let targetLoss = "target_loss"
    public static let outerGradNorm = "outer_grad_norm"
    public static let taskGradNorm = "task_grad_norm"
    public static let gradRatio = "grad_ratio"
    public static let outerScale = "outer_scale"
}

extension MoNAStage {
    /// The report of MoNA's stage-1 records.
    public static let report: MethodReport = {
        typealias Q = MethodReport.Quantity
        let k = MoNAKeys.self
        return MethodReport(
            phase: k.phase, stepLabel: "outer step",
            table: [Q(k.targetLoss, "MoNA target loss"), Q(k.align, "MoNA L_align (θ′)"), Q(k.uniform, "MoNA L_uniform (θ′)"),
                    Q(k.outerLoss, "MoNA L_outer (θ′)"), Q(k.outerDelta, "MoNA L_outer(θ′) − L_outer(θ)"),
                    Q(k.gradRatio, "MoNA gradient ratio (raw)")],
            plots: [
                MethodReport.Plot(file: "mona.svg", title: "MoNA stage 1", caption: "MoNA stage 1: losses per outer step",
                                  yLabel: "loss",
                                  quantities: [Q(k.align, "L_align (θ′)"), Q(k.uniform, "L_uniform (θ′)"),
                                               Q(k.outerLoss, "L_outer (θ′)"), Q(k.targetLoss, "target loss")]),
                MethodReport.Plot(file: "mona-grad-ratio.svg", title: "MoNA gradient ratio",
                                  caption: "MoNA: gradient ratio and the simulated step's effect on L_outer", yLabel: "value",
                                  quantities: [Q(k.gradRatio, "λ‖∇φL_outer‖ / ‖∇φL_task‖"),
                                               Q(k.outerDelta, "L_outer(θ′) − L_outer(θ)")]),
            ])
    }()
}

/// `method.metaGradient`.
public enum MetaGradientChoice: String, OptionChoice, Sendable {
    case exact
    case finiteDifference = "finite-difference"
}

/// `method.outerNormalization`.
public enum OuterNormalizationChoice: String, OptionChoice, Sendable {
    case none
    case fixedRatio = "fixed-ratio"
    case minimumRatio = "minimum-ratio"
}

/// `method.outerUpdates`.
public enum OuterUpdatesChoice: String, OptionChoice, Sendable {
    case embedder
    case embedderAndHead = "embedder+head"
}

extension MoNAOptions: AlignmentStageSettings {
    public static let methodSummary = "MoNA: warm-up, meta-learned knowledge alignment of the embedder (exact meta-gradient), fine-tuning"
    public static var report: MethodReport { MoNAStage.report }
    public func makeStage() -> AlignmentStage { MoNAStage(options: self) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case alpha, lambda, innerSteps, t, outerSteps, sourceBatchSize, targetBatchSize, metaGradient, fdEpsilon,
             outerNormalization, outerRatio, outerUpdates, outerLearningRate, sourcePerClass, sourceImageSize,
             warmupEpochs, warmupLearningRate
    }

    /// The `method.<key>` options (docs/mona.md; defaults are `MoNAOptions()`'s).
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        meta.alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? meta.alpha
        meta.lambda = try c.decodeIfPresent(Float.self, forKey: .lambda) ?? meta.lambda
        meta.innerSteps = try c.decodeIfPresent(Int.self, forKey: .innerSteps) ?? meta.innerSteps
        uniformityT = try c.decodeIfPresent(Float.self, forKey: .t) ?? uniformityT
        outerSteps = try c.decodeIfPresent(Int.self, forKey: .outerSteps) ?? outerSteps
        sourceBatchSize = try c.decodeIfPresent(Int.self, forKey: .sourceBatchSize) ?? sourceBatchSize
        targetBatchSize = try c.decodeIfPresent(Int.self, forKey: .targetBatchSize) ?? targetBatchSize
        let mode = try c.decodeIfPresent(MetaGradientChoice.self, forKey: .metaGradient) ?? .exact
        let epsilon = try c.decodeIfPresent(Float.self, forKey: .fdEpsilon) ?? 0.01
        let normalization = try c.decodeIfPresent(OuterNormalizationChoice.self, forKey: .outerNormalization) ?? .fixedRatio
        let ratio = try c.decodeIfPresent(Float.self, forKey: .outerRatio) ?? 1
        updatesHead = try (c.decodeIfPresent(OuterUpdatesChoice.self, forKey: .outerUpdates) ?? .embedder) == .embedderAndHead
        outerLearningRate = try c.decodeIfPresent(Float.self, forKey: .outerLearningRate) ?? outerLearningRate
        source.alignmentPerClass = try c.decodeIfPresent(Int.self, forKey: .sourcePerClass) ?? source.alignmentPerClass
        source.imageSize = try c.decodeIfPresent(Int.self, forKey: .sourceImageSize) ?? source.imageSize
        warmupEpochs = try c.decodeIfPresent(Int.self, forKey: .warmupEpochs) ?? warmupEpochs
        warmupLearningRate = try c.decodeIfPresent(Float.self, forKey: .warmupLearningRate) ?? warmupLearningRate

        try requireOption(meta.alpha > 0, "alpha", "a finite number > 0", got: meta.alpha)
        try requireOption(meta.lambda >= 0, "lambda", "a finite number ≥ 0", got: meta.lambda)
        try requireOption(meta.innerSteps >= 1, "innerSteps", "an integer ≥ 1", got: meta.innerSteps)
        try requireOption(uniformityT > 0, "t", "a finite number > 0", got: uniformityT)
        try requireOption(outerSteps >= 0, "outerSteps", "an integer ≥ 0", got: outerSteps)
        try requireOption(sourceBatchSize >= 2, "sourceBatchSize", "an integer ≥ 2", got: sourceBatchSize)
        if let b = targetBatchSize { try requireOption(b >= 1, "targetBatchSize", "an integer ≥ 1", got: b) }
        try requireOption(epsilon > 0, "fdEpsilon", "a finite number > 0", got: epsilon)
        try requireOption(ratio > 0, "outerRatio", "a finite number > 0", got: ratio)
        if let r = outerLearningRate { try requireOption(r > 0, "outerLearningRate", "a finite number > 0", got: r) }
        try requireOption(source.alignmentPerClass >= 1, "sourcePerClass", "an integer ≥ 1", got: source.alignmentPerClass)
        if let s = source.imageSize { try requireOption(s >= 1, "sourceImageSize", "an integer ≥ 1", got: s) }
        try requireOption(warmupEpochs >= 0, "warmupEpochs", "an integer ≥ 0", got: warmupEpochs)
        if let r = warmupLearningRate { try requireOption(r > 0, "warmupLearningRate", "a finite number > 0", got: r) }

        meta.mode = mode == .exact ? .exact : .finiteDifference(epsilon: epsilon)
        switch normalization {
        case .none: meta.outerGradientNormalization = .none
        case .fixedRatio: meta.outerGradientNormalization = .fixedRatio(ratio)
        case .minimumRatio: meta.outerGradientNormalization = .minimumRatio(ratio)
        }
    }
}
