import Foundation

/// Settings of a stage that aligns the model to labelled source data (MoNA, ORCA).
public protocol SourceAlignmentOptions: Sendable {
    init()
    /// Which source samples are set aside for alignment.
    var source: SourceTask.Options { get }
}

/// What the stages that align to source data share: their settings and the source data (given, or loaded for
/// the model's body). A subclass adds its name and `run`, conforming to `AlignmentStage`.
public class SourceAlignmentStage<Options: SourceAlignmentOptions> {
    public let options: Options
    /// Source data to use (nil: `SourceTask.load` for the model's body).
    public var source: SourceTask?

    public init(options: Options = Options(), source: SourceTask? = nil) {
        self.options = options
        self.source = source
    }

    /// The given source data, else the model's body's source set drawn with the run's seed.
    func sourceTask(for model: CrossModalModel, context: AlignmentContext) throws -> SourceTask {
        if let source { return source }
        var sourceOptions = options.source
        sourceOptions.seed = context.seed
        return try SourceTask.load(for: model.body, assets: context.assets, options: sourceOptions)
    }
}
