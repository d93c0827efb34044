import Foundation
import MonaRunKit

/// Records into a run directory's `metrics.jsonl` and reports progress on the terminal (or as JSON lines).
public final class RunDirectoryRecorder: RunRecorder {
    public let log: MetricsLog
    public let mode: OutputMode
    private var reporter: ProgressReporter?
    private var stageName = ""

    /// - Parameter append: continue an existing metrics log (a resumed run).
    public init(metricsURL: URL, append: Bool, mode: OutputMode) throws {
        log = try MetricsLog(url: metricsURL, append: append)
        self.mode = mode
    }

    public func record(_ fields: [(String, RecordValue)]) throws {
        try log.log(fields.map { ($0.0, $0.1.runValue) })
    }

    public func beginStage(_ name: String, totalSteps: Int?) {
        reporter?.finish(summary: [])
        stageName = name
        reporter = ProgressReporter(label: name, total: totalSteps, unit: "step", mode: mode)
    }

    public func progress(step: Int, metrics: [(String, Double)]) {
        reporter?.update(completed: step, metrics: metrics)
    }

    public func endStage(summary: [(String, Double)]) {
        reporter?.finish(summary: summary)
        reporter = nil
    }

    public func message(_ text: String) {
        if let reporter { reporter.message(text) }
        else if mode != .quiet { ProgressReporter(label: "mona", total: nil, mode: mode).message(text) }
    }
}

extension RecordValue {
    /// The RunKit form.
    public var runValue: RunValue {
        switch self {
        case .number(let x): return .number(x)
        case .text(let s): return .string(s)
        }
    }

    /// From a RunKit value (numbers and strings; anything else as JSON text).
    public init(_ v: RunValue) {
        if let x = v.doubleValue, case .number = v { self = .number(x) }
        else if let s = v.stringValue { self = .text(s) }
        else { self = .text(v.json) }
    }
}
