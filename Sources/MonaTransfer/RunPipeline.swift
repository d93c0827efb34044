import Foundation
import MonaFormats
import MonaRunKit

/// What `fit` and `align` both run on: the resolved configuration, the run directory, the assets and how
/// progress is shown.
public class RunPipeline {
    public let config: FitConfig
    public let run: RunDirectory
    public let assets: AssetRegistry
    public let mode: OutputMode

    public init(config: FitConfig, runDirectory: URL, assets: AssetRegistry = AssetRegistry(), mode: OutputMode = .quiet) throws {
        self.config = config
        run = try RunDirectory(runDirectory)
        self.assets = assets
        self.mode = mode
    }

    var store: CheckpointStore { CheckpointStore(directory: run.checkpoints) }
}
