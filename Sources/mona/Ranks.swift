import Foundation
import MonaDistributed
import MonaRunKit
import MonaTensor
import MonaTransfer

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

/// The start of `mona fit` and `mona align` on every rank: start the ranks, resolve and check the configuration,
/// then open the run's pipeline — rank 0 first (it creates or checks the run directory), the other ranks after
/// a barrier. `run` uses the pipeline; the ranks are finalised after it, and an error ends them all
/// (`reportingErrors`).
func runOnRanks<Pipeline>(command: String, mode: OutputMode, options: RunOptions, label: String?,
                          config: () throws -> FitConfig,
                          open: (_ config: FitConfig, _ runDirectory: URL, _ ranks: any Communicator) throws -> Pipeline,
                          _ run: (Pipeline, _ ranks: any Communicator) throws -> Void) throws {
    let started = StartedRanks()
    try reportingErrors(command: command, mode: mode, communicator: { started.communicator }) {
        let ranks = try startRanks()
        started.communicator = ranks
        // A data path or spec file becomes data.spec, saved in config.yaml (TaskInference.swift).
        let (resolved, inferred) = try TaskInference.resolve(try config(), label: label)
        if let inferred, ranks.isRoot { announce(inferred, mode: mode) }
        try options.validate(resolved)
        guard let out = resolved.output else {  // flags, then --set output=…
            throw TransferError.badConfig("no run directory given (--output <dir> or `output:` in the config file)")
        }
        let runDirectory = URL(fileURLWithPath: out)
        if options.force && ranks.isRoot { try RunDirectory.adopt(runDirectory) }
        let first = ranks.isRoot ? try open(resolved, runDirectory, ranks) : nil
        try ranks.barrier()
        try run(try first ?? open(resolved, runDirectory, ranks), ranks)
        try (ranks as? MPICommunicator)?.finalize()
    }
}
