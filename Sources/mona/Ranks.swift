import Foundation
import MonaDistributed
import MonaTensor

/// The communicator of this `mona` process: Open MPI when started by `mpirun` (one rank of a data-parallel
/// job), else the single-process one. Under mpirun the kernel threads per rank default to the host's cores
/// shared by its ranks (`MONA_THREADS` overrides).
func startRanks() throws -> any Communicator {
    let launch = LaunchEnvironment()
    guard launch.isMPI else { return LocalCommunicator() }
    let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    if let threads = launch.threadsPerRank(cores: cores) { Engine.setThreadCount(threads) }
    return try launch.makeCommunicator()
}

/// Ends a data-parallel job after an error on this rank: prints it (naming the rank, except on rank 0) and
/// aborts every rank, since the others would otherwise wait for this one in their next collective.
func abortRanks(_ communicator: any Communicator, command: String, message: String, code: Int32) -> Never {
    let who = communicator.isRoot ? "" : "rank \(communicator.rank) of \(communicator.size): "
    FileHandle.standardError.write(Data("mona \(command): error: \(who)\(message)\n".utf8))
    communicator.abort(code: code)
}

/// The communicator once started (read by the error handler, which must abort every rank after a failure).
final class StartedRanks {
    var communicator: (any Communicator)?
}
