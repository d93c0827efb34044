import Foundation

/// ORCA: the embedder is trained to minimise the OTDD (or, preset `orca-mmd`, the MMD) between embedded target
/// features and the body's own features of labelled source data, then everything is fine-tuned.
public typealias ORCAMethod = AligningMethod<ORCAOptions>

extension ORCAStage {
    /// Record keys: phase `orca`, the distance under its own name (`otdd` or `mmd`).
    public static let phase = "orca"

    public static let report = MethodReport(
        phase: phase, stepLabel: "step",
        table: [.init(ORCAOptions.Distance.otdd.rawValue, "ORCA OTDD"), .init(ORCAOptions.Distance.mmd.rawValue, "ORCA MMD²")],
        plots: [MethodReport.Plot(file: "orca.svg", title: "ORCA embedder alignment",
                                  caption: "ORCA: distance to the source features per step", yLabel: "distance",
                                  quantities: [.init(ORCAOptions.Distance.otdd.rawValue, "OTDD"),
                                               .init(ORCAOptions.Distance.mmd.rawValue, "MMD")])])
}

extension ORCAOptions: AlignmentStageSettings {
    public static let methodSummary = "ORCA: embedder trained to minimise OTDD to the source features, then fine-tuning"
    public static var report: MethodReport { ORCAStage.report }
    public func makeStage() -> AlignmentStage { ORCAStage(options: self) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case distance, orcaSteps, orcaBatchSize, orcaLearningRate, pseudoLabels, sourcePerClass, sourceImageSize
    }

    /// The `method.<key>` options (defaults are `ORCAOptions()`'s).
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        distance = try c.decodeIfPresent(Distance.self, forKey: .distance) ?? distance
        steps = try c.decodeIfPresent(Int.self, forKey: .orcaSteps) ?? steps
        batchSize = try c.decodeIfPresent(Int.self, forKey: .orcaBatchSize) ?? batchSize
        learningRate = try c.decodeIfPresent(Float.self, forKey: .orcaLearningRate) ?? learningRate
        pseudoLabelClusters = try c.decodeIfPresent(Int.self, forKey: .pseudoLabels) ?? pseudoLabelClusters
        source.alignmentPerClass = try c.decodeIfPresent(Int.self, forKey: .sourcePerClass) ?? source.alignmentPerClass
        source.imageSize = try c.decodeIfPresent(Int.self, forKey: .sourceImageSize) ?? source.imageSize
        try requireOption(steps >= 0, "orcaSteps", "an integer ≥ 0", got: steps)
        try requireOption(batchSize >= 2, "orcaBatchSize", "an integer ≥ 2", got: batchSize)
        if let r = learningRate { try requireOption(r > 0, "orcaLearningRate", "a finite number > 0", got: r) }
        try requireOption(pseudoLabelClusters >= 1, "pseudoLabels", "an integer ≥ 1", got: pseudoLabelClusters)
        try requireOption(source.alignmentPerClass >= 1, "sourcePerClass", "an integer ≥ 1", got: source.alignmentPerClass)
        if let s = source.imageSize { try requireOption(s >= 1, "sourceImageSize", "an integer ≥ 1", got: s) }
    }
}
