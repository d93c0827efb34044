import Foundation

/// How this process was started: alone, or as one rank of an `mpirun` job (recognised by the variables Open
/// MPI's launcher sets for every rank).
public struct LaunchEnvironment: Sendable, Equatable {
    /// World size announced by the launcher (nil: not started by mpirun).
    public var worldSize: Int?
    /// Ranks on this host (for the default thread count).
    public var localSize: Int

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        worldSize = environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        localSize = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 1
    }

    /// Whether the process is a rank of an mpirun job.
    public var isMPI: Bool { worldSize != nil }

    /// Kernel threads per rank: `MONA_THREADS` when set, else the host's cores shared by its ranks (at least 1).
    public func threadsPerRank(cores: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if let s = environment["MONA_THREADS"], let n = Int(s), n > 0 { return nil }   // the engine reads it itself
        return max(1, cores / max(localSize, 1))
    }

    /// The communicator for this process: MPI under mpirun, the single-process one otherwise.
    public func makeCommunicator() throws -> any Communicator {
        guard isMPI else { return LocalCommunicator() }
        let c = try MPICommunicator()
        if let expected = worldSize, expected != c.size {
            throw CommunicatorError("MPI: the launcher announced \(expected) ranks but MPI_COMM_WORLD has \(c.size)")
        }
        return c
    }
}
