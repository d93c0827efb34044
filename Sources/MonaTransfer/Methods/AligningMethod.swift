import Foundation

/// The options of a method with one alignment stage: the stage's keys and the analysis keys, side by side
/// under `method.*`.
public struct StageOptions<Stage: Decodable & Sendable & Equatable>: Decodable, Sendable, Equatable {
    public var stage: Stage
    public var analysis: AnalysisOptions

    public init(from decoder: Decoder) throws {
        stage = try Stage(from: decoder)
        analysis = try AnalysisOptions(from: decoder)
    }
}

/// The settings of an alignment stage that names the method running it (MoNA, ORCA): the method's summary,
/// the stage built from the settings and the stage's report.
public protocol AlignmentStageSettings: Decodable & Sendable & Equatable {
    static var methodSummary: String { get }
    static var report: MethodReport { get }
    func makeStage() -> AlignmentStage
}

/// A method that aligns the model with one stage before fine-tuning and runs the source-knowledge analysis by
/// default: everything follows from its stage's settings (`MoNAMethod`, `ORCAMethod`).
public struct AligningMethod<Settings: AlignmentStageSettings>: TransferMethod {
    public static var summary: String { Settings.methodSummary }
    public let options: StageOptions<Settings>
    public init(options: StageOptions<Settings>) { self.options = options }
    public var stages: [AlignmentStage] { [options.stage.makeStage()] }
    public var analysisByDefault: Bool { true }
    public var analysis: AnalysisOptions? { options.analysis }
    public var report: MethodReport? { Settings.report }
}
