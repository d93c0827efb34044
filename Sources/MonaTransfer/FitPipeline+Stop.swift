import Foundation
import MonaRunKit

extension FitPipeline {
    /// After a NaN/Inf stop in stage `stage`: makes sure metrics.jsonl ends with a `stopped` record (the trainer
    /// writes one with the step; alignment stages do not), draws the loss plots of what ran, and writes a
    /// report.md that says where and why the run stopped and which checkpoints it left. Checkpoints are only read.
    func writeStopReport(stage: String, message: String, method: MethodSpec, spec: ModelSpec,
                         recorder: RunRecorder) throws {
        var records = (try? MetricsLog.readOrdered(run.metrics)) ?? []
        func text(_ r: [(String, RunValue)], _ k: String) -> String? { r.first { $0.0 == k }?.1.stringValue }
        func number(_ r: [(String, RunValue)], _ k: String) -> Double? { r.first { $0.0 == k }?.1.doubleValue }
        if records.last.map({ text($0, "split") != "stopped" }) ?? true {
            try recorder.record([("stage", .text(stage)), ("split", .text("stopped")), ("reason", .text(message))])
            records = (try? MetricsLog.readOrdered(run.metrics)) ?? records
        }
        let stop = records.last { text($0, "split") == "stopped" }
        try? FileManager.default.createDirectory(at: run.plots, withIntermediateDirectories: true)
        try RunReport.writePlots(records: records, task: spec.task, run: run)

        var r = MarkdownReport(title: "\(spec.task.name) · \(config.body) · \(method.name) — stopped")
        var location = "stage `\(stage)`"
        if let s = stop.flatMap({ number($0, "step") }) { location += ", step \(Int(s))" }
        if let e = stop.flatMap({ number($0, "epoch") }) { location += " (epoch \(Int(e)))" }
        r.paragraph("**The run stopped** in \(location): \(stop.flatMap { text($0, "reason") } ?? "non-finite values"). "
                    + "No test evaluation was made.")
        r.heading("Cause")
        r.paragraph(message)
        r.heading("Checkpoints")
        let store = CheckpointStore(directory: run.checkpoints)
        var rows: [[String]] = []
        for name in ["best", "last", "aligned"] where store.exists(name) {
            let state = (try? store.load(name))?.state
            var what = state.map { "stage \($0.stage), epoch \($0.epoch), step \($0.step)" } ?? "unreadable"
            if name == "best", let s = state, let m = s.bestMetric { what += ", validation \(s.metric) \(formatMetric(m))" }
            rows.append(["checkpoints/\(name)/", what])
        }
        if rows.isEmpty {
            r.paragraph("No checkpoint was written before the stop.")
        } else {
            r.paragraph("Checkpoints are written only from finite weights, so these are from before the stop and were "
                        + "left as they were:")
            r.table(headers: ["checkpoint", "state"], rows: rows)
        }
        r.heading("What to try")
        r.bullets(["a lower learning rate (`--lr`)", "gradient clipping (`--set training.clipNorm=1`)",
                   "`mona evaluate` on `checkpoints/best/` to use the last good model"])
        r.image("plots/loss.svg", alt: "loss curves up to the stop")
        r.paragraph("Files: `config.yaml`, `metrics.jsonl` (the last record, split `stopped`, gives the stage, step and "
                    + "reason), `checkpoints/`, `plots/`.")
        try r.write(to: run.report)
    }
}
