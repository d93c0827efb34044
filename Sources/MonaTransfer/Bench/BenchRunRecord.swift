import Foundation
import MonaData
import MonaRunKit

/// What the bench reads back from one finished run: from its record (`<run>/record/`, see
/// `BenchRecordManifest`) when there is one, else from the run directory's own `metrics.jsonl`.
public struct BenchRunRecord: Sendable {
    public var directory: URL
    /// The complete record the values were read from (nil: read from the run directory itself).
    public var manifest: BenchRecordManifest?
    /// The selection metric's key (`accuracy`, `relative_l2`, …: the first `test_<metric>` of the test record).
    public var metric: String
    public var higherIsBetter: Bool
    /// Test value of `metric` with the selected (best-validation) weights.
    public var testValue: Double
    /// Test value of `metric` with the final epoch's weights (`test_final_<metric>`; nil for runs without one,
    /// e.g. learners with no epochs or records made before it was written).
    public var testFinalValue: Double?
    public var testLoss: Double?
    /// Mean training loss of the last fine-tuning epoch (the last `train_loss` of a fine-tuning epoch record).
    public var finalTrainLoss: Double?
    /// Fine-tuning epochs run (early stopping can end before the budget).
    public var epochs: Int?
    /// The epoch whose weights were selected (the test record's `selected_epoch`).
    public var selectedEpoch: Int?
    /// Source linear-probe accuracy (held-out source data through the body) before alignment and after
    /// fine-tuning: the source-knowledge tracker's `before-alignment` and `after-finetune` points.
    public var sourceProbeBefore: Double?
    public var sourceProbeAfter: Double?
    /// Source linear-probe accuracy over fine-tuning steps: the start of fine-tuning (after alignment when the
    /// method aligns), every tracked step, and the end.
    public var reuseCurve: [(step: Int, accuracy: Double)]
    /// Wall-clock seconds of the process that finished the run (`timings.json` → `total`; nil when absent).
    public var seconds: Double?

    /// The test record (`split: test`) of a run directory, if the run finished.
    public static func testRecord(in directory: URL) -> [(String, RunValue)]? {
        let url = directory.appendingPathComponent("metrics.jsonl")
        guard let records = try? MetricsLog.readOrdered(url) else { return nil }
        return records.last(where: TestRecord.isTest)
    }

    /// Reads a finished run (nil when it has no test record). With `readingRecord`, a complete record folder
    /// is read instead of the run directory's files (a record with missing or altered files reads as nil).
    public init?(directory: URL, readingRecord: Bool = true) {
        var source = directory
        if readingRecord {
            let folder = BenchRecordManifest.folder(in: directory)
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(BenchRecordManifest.fileName).path) {
                guard let m = BenchRecordManifest.read(runDirectory: directory) else { return nil }
                manifest = m
                source = folder
            }
        }
        let url = source.appendingPathComponent("metrics.jsonl")
        guard let records = try? MetricsLog.readOrdered(url),
              let test = records.last(where: TestRecord.isTest).flatMap(TestRecord.init(fields:)),
              let primary = test.metrics.first
        else { return nil }
        func value(_ r: [(String, RunValue)], _ key: String) -> RunValue? { r.first { $0.0 == key }?.1 }
        self.directory = directory
        metric = primary.key
        higherIsBetter = MetricKind.allCases.first { $0.key == primary.key }?.higherIsBetter ?? true
        testValue = primary.value
        testFinalValue = test.finalMetrics.first { $0.key == primary.key }?.value
        testLoss = test.loss.isNaN ? nil : test.loss
        selectedEpoch = test.selectedEpoch
        let epochRecords = records.filter {
            value($0, "stage")?.stringValue == "finetune" && value($0, "split")?.stringValue == "validation"
        }
        finalTrainLoss = epochRecords.last.flatMap { value($0, "train_loss")?.doubleValue }
        epochs = epochRecords.last.flatMap { value($0, "epoch")?.intValue }
        var before: Double?, after: Double?, start: Double?
        var curve: [(step: Int, accuracy: Double)] = []
        for r in records where value(r, "stage")?.stringValue == "analysis" {
            guard let acc = value(r, "linear_probe_accuracy")?.doubleValue else { continue }
            let step = value(r, "step")?.intValue ?? 0
            switch value(r, "point")?.stringValue ?? "" {
            case "before-alignment": before = acc; if start == nil { start = acc }
            case "after-alignment": start = acc
            case "after-finetune": after = acc; curve.append((step, acc))
            default: curve.append((step, acc))
            }
        }
        if let start { curve.insert((0, start), at: 0) }
        // One point per step (the end of fine-tuning may repeat the last tracked step).
        var deduplicated: [(step: Int, accuracy: Double)] = []
        for p in curve {
            if let last = deduplicated.last, last.step == p.step { deduplicated[deduplicated.count - 1] = p } else { deduplicated.append(p) }
        }
        sourceProbeBefore = before
        sourceProbeAfter = after
        reuseCurve = deduplicated
        if let data = try? Data(contentsOf: source.appendingPathComponent("timings.json")),
           case .object(let t)? = try? RunValue.parse(json: data) {
            seconds = t.first { $0.0 == "total" }?.1.doubleValue
        }
    }
}
