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

/// A method that aligns the model with one stage before fine-tuning and runs the source-knowledge analysis by
/// default (MoNA, ORCA): it names its stage and the stage's report; the rest follows from here.
public protocol AligningMethod: TransferMethod where Options == StageOptions<StageSettings> {
    associatedtype StageSettings: Decodable & Sendable & Equatable
    var options: Options { get }
    static func stage(_ settings: StageSettings) -> AlignmentStage
    static var stageReport: MethodReport { get }
}

extension AligningMethod {
    public var stages: [AlignmentStage] { [Self.stage(options.stage)] }
    public var analysisByDefault: Bool { true }
    public var analysis: AnalysisOptions? { options.analysis }
    public var report: MethodReport? { Self.stageReport }
}
