import CMPIShim
import Foundation

/// MPI_COMM_WORLD of Open MPI, loaded at run time (see `CMPIShim.h`): nothing of Open MPI is needed to build.
/// Collectives use MPI_Allreduce / MPI_Bcast / MPI_Barrier; all calls come from the thread that made the
/// communicator (the engine's worker threads never call MPI).
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public private(set) var statistics = CommunicatorStatistics()

    /// Loads the library (`library`, or `MONA_MPI_LIBRARY`, or libmpi.so.40), and initialises MPI.
    public init(library: String? = nil) throws {
        var reason = [CChar](repeating: 0, count: 512)
        let path = library ?? ProcessInfo.processInfo.environment["MONA_MPI_LIBRARY"]
        let loaded = reason.withUnsafeMutableBufferPointer { buffer in
            mona_mpi_load(path, buffer.baseAddress, buffer.count)
        }
        guard loaded == 0 else {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CommunicatorError("MPI: \(text); install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) "
                                    + "or set MONA_MPI_LIBRARY to its libmpi")
        }
        try MPICommunicator.check(mona_mpi_init(), "MPI_Init")
        var r: Int32 = 0, s: Int32 = 0
        try MPICommunicator.check(mona_mpi_rank(&r), "MPI_Comm_rank")
        try MPICommunicator.check(mona_mpi_size(&s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 1024)
        text.withUnsafeMutableBufferPointer { mona_mpi_error_string(code, $0.baseAddress, $0.count) }
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw CommunicatorError("\(call) failed with code \(code)\(reason.isEmpty ? "" : ": \(reason)")")
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        try MPICommunicator.check(mona_mpi_allreduce_sum_float(base, buffer.count), "MPI_Allreduce")
        count(bytes: buffer.count * 4, since: start)
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        try MPICommunicator.check(mona_mpi_allreduce_sum_double(base, buffer.count), "MPI_Allreduce")
        count(bytes: buffer.count * 8, since: start)
    }

    private func count(bytes: Int, since start: UInt64) {
        statistics.allReduceCalls += 1
        statistics.allReduceBytes += bytes
        statistics.allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard root >= 0 && root < size else { throw CommunicatorError("broadcast: root \(root) is not a rank of \(size)") }
        try MPICommunicator.check(mona_mpi_broadcast_bytes(base, buffer.count, Int32(root)), "MPI_Bcast")
        statistics.broadcastBytes += buffer.count
    }

    public func barrier() throws {
        try MPICommunicator.check(mona_mpi_barrier(), "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        mona_mpi_abort(code)
        exit(code)   // not reached: MPI_Abort ends the process
    }

    /// MPI_Finalize (call once, at a normal end of the job, after the last collective).
    public func finalize() throws {
        try MPICommunicator.check(mona_mpi_finalize(), "MPI_Finalize")
    }
}
