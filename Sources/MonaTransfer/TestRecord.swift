import Foundation
import MonaData
import MonaRunKit

/// Keys every metrics record shares (`metrics.jsonl`).
public enum RecordKey {
    public static let stage = "stage"
    public static let split = "split"
    public static let epoch = "epoch"
    public static let step = "step"
}

/// The test record of a run (split `test`): metrics at the selected epoch (`test_<metric>`), at the final epoch
/// (`test_final_<metric>`), and what was selected on what. `FitPipeline` writes it through `fields`; readers
/// (`BenchRunRecord`) parse it back with `init?(fields:)`, so the keys are written down once.
public struct TestRecord: Equatable {
    public static let split = "test"
    static let prefix = "test_", finalPrefix = "test_final_"
    static let lossKey = "test_loss", finalLossKey = "test_final_loss"
    static let selectedEpochKey = "selected_epoch", selectedOnKey = "selected_on"

    public var epoch: Int
    public var step: Int
    public var loss: Double
    /// Metric key (`accuracy`, `relative_l2`, …) → value, in the task's reporting order; the first is the
    /// selection metric.
    public var metrics: [(key: String, value: Double)]
    public var selectedEpoch: Int?
    public var selectedOn: String?
    public var finalLoss: Double?
    public var finalMetrics: [(key: String, value: Double)]

    public static func == (a: TestRecord, b: TestRecord) -> Bool {
        a.epoch == b.epoch && a.step == b.step && a.loss == b.loss && a.selectedEpoch == b.selectedEpoch
            && a.selectedOn == b.selectedOn && a.finalLoss == b.finalLoss
            && a.metrics.elementsEqual(b.metrics, by: ==) && a.finalMetrics.elementsEqual(b.finalMetrics, by: ==)
    }

    init(_ outcome: TestOutcome, task: TaskSpec) {
        func values(_ e: Evaluation) -> [(key: String, value: Double)] {
            task.reportedMetrics.compactMap { m in e.metrics[m].map { (key: m.key, value: $0) } }
        }
        epoch = outcome.state.epoch
        step = outcome.state.step
        loss = outcome.test.loss
        metrics = values(outcome.test)
        selectedEpoch = outcome.state.bestEpoch
        selectedOn = outcome.state.selectedOn
        finalLoss = outcome.final.loss
        finalMetrics = values(outcome.final)
    }

    /// The record's fields in the order they are written.
    public var fields: [(String, RecordValue)] {
        var out: [(String, RecordValue)] = [(RecordKey.stage, .text("finetune")), (RecordKey.epoch, .number(Double(epoch))),
                                            (RecordKey.step, .number(Double(step))), (RecordKey.split, .text(Self.split)),
                                            (Self.lossKey, .number(loss))]
        out += metrics.map { (Self.prefix + $0.key, RecordValue.number($0.value)) }
        if let e = selectedEpoch { out.append((Self.selectedEpochKey, .number(Double(e)))) }
        if let rule = selectedOn { out.append((Self.selectedOnKey, .text(rule))) }
        if let l = finalLoss { out.append((Self.finalLossKey, .number(l))) }
        out += finalMetrics.map { (Self.finalPrefix + $0.key, RecordValue.number($0.value)) }
        return out
    }

    /// Whether a record of metrics.jsonl is a test record.
    public static func isTest(_ record: [(String, RunValue)]) -> Bool {
        record.contains { $0.0 == RecordKey.split && $0.1.stringValue == split }
    }

    /// Parses a test record; nil when `record` is not one or has no metric.
    public init?(fields record: [(String, RunValue)]) {
        guard Self.isTest(record) else { return nil }
        func value(_ key: String) -> RunValue? { record.first { $0.0 == key }?.1 }
        var metrics: [(key: String, value: Double)] = [], finals: [(key: String, value: Double)] = []
        for (key, v) in record where key != Self.lossKey && key != Self.finalLossKey {
            let x = v.doubleValue ?? .nan
            if key.hasPrefix(Self.finalPrefix) {
                finals.append((String(key.dropFirst(Self.finalPrefix.count)), x))
            } else if key.hasPrefix(Self.prefix) {
                metrics.append((String(key.dropFirst(Self.prefix.count)), x))
            }
        }
        guard !metrics.isEmpty else { return nil }
        epoch = value(RecordKey.epoch)?.intValue ?? 0
        step = value(RecordKey.step)?.intValue ?? 0
        loss = value(Self.lossKey)?.doubleValue ?? .nan
        self.metrics = metrics
        selectedEpoch = value(Self.selectedEpochKey)?.intValue
        selectedOn = value(Self.selectedOnKey)?.stringValue
        finalLoss = value(Self.finalLossKey)?.doubleValue
        finalMetrics = finals
    }
}
