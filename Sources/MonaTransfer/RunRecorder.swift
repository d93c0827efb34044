import Foundation

/// One field of a metrics record.
public enum RecordValue: Sendable, Equatable {
    case number(Double)
    case text(String)
}

/// Where training reports what it does: metric records (one JSON line each in a run directory), progress for
/// the terminal, and free-form messages. The trainer and the alignment stages only talk to this protocol.
public protocol RunRecorder: AnyObject {
    /// Appends one record (ordered fields) to the run's metrics log.
    func record(_ fields: [(String, RecordValue)]) throws
    /// A stage started: `total` optimizer steps (nil if unknown).
    func beginStage(_ name: String, totalSteps: Int?)
    /// Progress within the current stage: steps done and the latest numbers to show.
    func progress(step: Int, metrics: [(String, Double)])
    /// The current stage ended.
    func endStage(summary: [(String, Double)])
    /// A line for the user.
    func message(_ text: String)
}

/// Records nothing (library use without a run directory).
public final class SilentRecorder: RunRecorder {
    public init() {}
    public func record(_ fields: [(String, RecordValue)]) throws {}
    public func beginStage(_ name: String, totalSteps: Int?) {}
    public func progress(step: Int, metrics: [(String, Double)]) {}
    public func endStage(summary: [(String, Double)]) {}
    public func message(_ text: String) {}
}

/// Keeps every record in memory (tests, and the report's plots).
public final class MemoryRecorder: RunRecorder {
    public private(set) var records: [[(String, RecordValue)]] = []
    public private(set) var messages: [String] = []
    public init() {}
    public func record(_ fields: [(String, RecordValue)]) throws { records.append(fields) }
    public func beginStage(_ name: String, totalSteps: Int?) {}
    public func progress(step: Int, metrics: [(String, Double)]) {}
    public func endStage(summary: [(String, Double)]) {}
    public func message(_ text: String) { messages.append(text) }
}

extension Array where Element == (String, RecordValue) {
    /// The numeric field `key`, if present.
    public func number(_ key: String) -> Double? {
        for (k, v) in self where k == key { if case .number(let x) = v { return x } }
        return nil
    }

    /// The text field `key`, if present.
    public func text(_ key: String) -> String? {
        for (k, v) in self where k == key { if case .text(let s) = v { return s } }
        return nil
    }
}
