import Foundation

/// What happened to one run of a bench invocation (the runner lives in MonaBench; results and reports read this).
public struct BenchRunOutcome: Sendable {
    public enum Status: String, Sendable {
        /// Already finished with the same configuration (a complete record): not run again.
        case skipped
        /// Ran to completion now (fresh, or resumed from its checkpoints).
        case finished
        case failed
    }

    public var run: BenchRun
    public var directory: URL
    public var status: Status
    /// Whether this invocation continued an interrupted run from its checkpoints.
    public var resumed = false
    public var seconds: Double = 0
    /// Why it failed (one line).
    public var error: String?

    public init(run: BenchRun, directory: URL, status: Status, resumed: Bool = false, seconds: Double = 0,
                error: String? = nil) {
        self.run = run
        self.directory = directory
        self.status = status
        self.resumed = resumed
        self.seconds = seconds
        self.error = error
    }
}
