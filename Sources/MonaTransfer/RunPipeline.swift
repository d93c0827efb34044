import Foundation
import MonaDistributed
import MonaFormats
import MonaRunKit

/// What `fit` and `align` both run on: the resolved configuration, the run directory, the assets, how progress
/// is shown, and the ranks the run is spread over.
public class RunPipeline {
    public let config: FitConfig
    public let run: RunDirectory
    public let assets: AssetRegistry
    public let mode: OutputMode
    /// The ranks of a data-parallel run (`mpirun -np N mona fit`): all of them compute; only rank 0 writes the run
    /// directory (config, metrics, checkpoints, predictions, report) and reports progress. The others only read
    /// it (to resume), so it must be on a file system every rank sees.
    public let communicator: any Communicator

    /// Rank 0 (or a single process) creates the run directory; every other rank needs it to exist already.
    public init(config: FitConfig, runDirectory: URL, assets: AssetRegistry = AssetRegistry(), mode: OutputMode = .quiet,
                communicator: any Communicator = LocalCommunicator()) throws {
        self.config = config
        self.communicator = communicator
        run = try RunDirectory(runDirectory, create: communicator.isRoot)
        self.assets = assets
        self.mode = communicator.isRoot ? mode : .quiet
    }

    /// Whether this process writes the run directory.
    var writes: Bool { communicator.isRoot }

    var store: CheckpointStore { CheckpointStore(directory: run.checkpoints) }
}
