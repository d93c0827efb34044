import Foundation

/// The collective operations data-parallel training needs, over the processes ("ranks") of one job.
///
/// Every rank must make the same calls in the same order with buffers of the same length; a collective
/// returns on a rank once all ranks reached it. Errors are thrown (the caller is expected to end the whole
/// job then, `abort`, since the other ranks would wait forever in their next collective).
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< size. Rank 0 writes the run's files.
    var rank: Int { get }
    var size: Int { get }
    /// In place: every rank ends with the element-wise sum over all ranks (the same bits on every rank).
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Every rank ends with `root`'s bytes.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    func barrier() throws
    /// Ends every rank of the job with `code` (does not return).
    func abort(code: Int32) -> Never
    /// Time and volume of the collectives so far (for benchmarks).
    var statistics: CommunicatorStatistics { get }
}

/// Counters kept by a communicator.
public struct CommunicatorStatistics: Sendable, Equatable {
    public var allReduceCalls = 0
    /// Bytes of the buffers passed to all-reduce (per rank).
    public var allReduceBytes = 0
    public var allReduceSeconds = 0.0
    public var broadcastBytes = 0
    public init() {}
}

/// The only rank of a single-process run: every collective leaves the buffer as it is.
public final class LocalCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
    public var statistics: CommunicatorStatistics { CommunicatorStatistics() }
}

/// An MPI call failed (the message names the call and MPI's reason).
public struct CommunicatorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Communicator {
    /// Whether more than one process takes part.
    public var isDistributed: Bool { size > 1 }
    /// Whether this rank writes files and prints progress.
    public var isRoot: Bool { rank == 0 }

    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// The sum over ranks of one number.
    public func sum(_ x: Double) throws -> Double {
        var v = [x]
        try allReduceSum(&v)
        return v[0]
    }

    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    public func broadcast(_ values: inout [Double], root: Int = 0) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    /// This rank's contiguous part of `0..<count` (sizes differ by at most one; ranks beyond `count` get none).
    public func shard(of count: Int) -> Range<Int> {
        shardRange(count: count, rank: rank, size: size)
    }
}

/// Rank `rank`'s contiguous part of `0..<count` split over `size` ranks: [⌊r·n/s⌋, ⌊(r+1)·n/s⌋).
public func shardRange(count: Int, rank: Int, size: Int) -> Range<Int> {
    precondition(size >= 1 && rank >= 0 && rank < size && count >= 0, "shardRange: rank \(rank) of \(size), count \(count)")
    return (count * rank / size)..<(count * (rank + 1) / size)
}
