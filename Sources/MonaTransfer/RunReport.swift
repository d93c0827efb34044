import Foundation
import MonaData
import MonaRunKit

/// The plots and the Markdown report of a fit run.
public enum RunReport {
    /// `plots/loss.svg` (training loss per step, validation loss per epoch) and `plots/metric.svg` (the
    /// validation metric per epoch), drawn from the metrics records.
    public static func writePlots(records: [[(String, RunValue)]], task: TaskSpec, run: RunDirectory) throws {
        func number(_ r: [(String, RunValue)], _ k: String) -> Double? { r.first { $0.0 == k }?.1.doubleValue }
        func text(_ r: [(String, RunValue)], _ k: String) -> String? { r.first { $0.0 == k }?.1.stringValue }
        var lossSeries: [SVGPlot.Series] = []
        var metricSeries: [SVGPlot.Series] = []
        var stages: [String] = []
        for r in records { if let s = text(r, "stage"), !stages.contains(s) { stages.append(s) } }
        let metricKey = "val_" + task.metric.key
        for stage in stages {
            let rs = records.filter { text($0, "stage") == stage }
            let train = rs.filter { text($0, "split") == "train" }.compactMap { r -> (x: Double, y: Double)? in
                guard let s = number(r, "step"), let l = number(r, "loss") else { return nil }
                return (s, l)
            }
            let val = rs.filter { text($0, "split") == "validation" }
            let valLoss = val.compactMap { r -> (x: Double, y: Double)? in
                guard let s = number(r, "step"), let l = number(r, "val_loss") else { return nil }
                return (s, l)
            }
            let valMetric = val.compactMap { r -> (x: Double, y: Double)? in
                guard let e = number(r, "epoch"), let m = number(r, metricKey) else { return nil }
                return (e, m)
            }
            if !train.isEmpty { lossSeries.append(SVGPlot.Series(name: "\(stage) train", points: train)) }
            if !valLoss.isEmpty { lossSeries.append(SVGPlot.Series(name: "\(stage) validation", points: valLoss)) }
            if !valMetric.isEmpty { metricSeries.append(SVGPlot.Series(name: "\(stage) validation", points: valMetric)) }
        }
        try AtomicFile.write(SVGPlot.lineChart(title: "Loss (\(task.loss.rawValue))", xLabel: "optimizer step",
                                               yLabel: "loss", series: lossSeries), to: run.plot("loss.svg"))
        try AtomicFile.write(SVGPlot.lineChart(title: "Validation \(task.metric.key)", xLabel: "epoch",
                                               yLabel: task.metric.key, series: metricSeries), to: run.plot("metric.svg"))
    }

    /// The model table of the report: one row per part (part, what, parameters, trainable), and whether the
    /// inputs were normalised.
    public struct ModelSummary {
        public var rows: [[String]]
        public var normalized: Bool
        public init(rows: [[String]], normalized: Bool) {
            self.rows = rows
            self.normalized = normalized
        }
    }

    /// The parts of a cross-modal model.
    public static func summary(of model: CrossModalModel, spec: ModelSpec) -> ModelSummary {
        let rows = ["embedder", "body", "head"].map { part -> [String] in
            let params = model.namedParameters().filter { $0.name.hasPrefix(part + ".") }
            let n = params.reduce(0) { $0 + $1.parameter.value.count }
            let t = params.filter { $0.parameter.isTrainable }.reduce(0) { $0 + $1.parameter.value.count }
            return [part, describe(part, model: model), String(n), String(t)]
        }
        return ModelSummary(rows: rows, normalized: spec.inputMean != nil)
    }

    /// Writes `report.md`.
    public static func write(config: FitConfig, method: MethodSpec, model: ModelSummary,
                             splits: DataSplits, result: FitResult, records: [[(String, RunValue)]],
                             run: RunDirectory) throws {
        let task = result.task
        var r = MarkdownReport(title: "\(task.name) · \(config.body) · \(method.name)")
        var summary = "Test \(task.metric.key): **\(result.testMetric.map(formatMetric) ?? "n/a")**"
        if let best = result.state.bestMetric, let e = result.state.bestEpoch {
            summary += " (model selected at epoch \(e) on validation \(task.metric.key) \(formatMetric(best)))"
        }
        r.paragraph(summary + ".")

        r.heading("Data")
        var data = [
            "task: `\(config.task)` — \(task.input.rawValue) input \(task.sampleShape), \(task.output.rawValue) output",
            "samples: \(splits.train.count) train, \(splits.validation.count) validation "
                + "(\(Int(config.training.validationFraction * 100))% of training, seed \(config.seed)), \(splits.test.count) test",
            "loss: \(task.loss.rawValue); selection metric: \(task.metric.key) "
                + "(\(task.higherIsBetter ? "higher" : "lower") is better)",
            "normalisation: " + (model.normalized ? "per-channel z-score fitted on the training split" : "none"),
        ]
        if let names = task.classNames, let counts = splits.train.classCounts {
            data.append("classes (train counts): " + zip(names, counts).map { "\($0) \($1)" }.joined(separator: ", "))
        }
        r.bullets(data)

        r.heading("Model")
        r.table(headers: ["part", "what", "parameters", "trainable in fine-tuning"],
                rows: model.rows + [["total", "", String(result.parameterCount), String(result.trainableCount)]])
        r.paragraph("Method `\(method.name)`: \(method.summary)"
                    + (method.stages.isEmpty ? "." : "; stages before fine-tuning: "
                       + method.stages.map(\.name).joined(separator: ", ") + "."))

        r.heading("Results")
        var rows: [[String]] = []
        for m in task.reportedMetrics {
            let test = result.testMetrics[m].map(formatMetric) ?? "n/a"
            let lastVal = records.last { rec in
                rec.contains { $0.0 == "split" && $0.1.stringValue == "validation" }
                    && rec.contains { $0.0 == "stage" && $0.1.stringValue == "finetune" }
            }
            let val = lastVal?.first { $0.0 == "val_" + m.key }?.1.doubleValue.map(formatMetric) ?? "n/a"
            rows.append([m.key, val, test, result.finalTestMetrics[m].map(formatMetric) ?? "n/a"])
        }
        rows.append(["loss", "", formatMetric(result.testLoss), ""])
        r.table(headers: ["metric", "validation (last epoch)", "test (selected model)", "test (final epoch)"], rows: rows)
        let s = result.state
        let rule = s.selectedOn.map { $0 == SelectionRule.loss.rawValue
            ? " on the validation loss (fewer than \(SelectionSetting.smallValidation) validation samples)"
            : " on the validation \(task.metric.key)" } ?? ""
        r.bullets([
            "fine-tuning: \(s.epoch) epochs, \(s.step) optimizer steps" + (s.stoppedEarly ? ", stopped early" : ""),
            "selected epoch: \(s.bestEpoch.map(String.init) ?? "last")" + rule,
            "optimizer: \(config.training.optimizer.rawValue), learning rate \(config.training.learningRate), "
                + "batch \(config.training.batchSize), schedule \(config.training.schedule.rawValue)",
        ])
        r.image("plots/loss.svg", alt: "loss curves")
        r.image("plots/metric.svg", alt: "validation metric")

        r.heading("Timings")
        r.table(headers: ["phase", "seconds"], rows: result.timings.map { [$0.0, String(format: "%.1f", $0.1)] })
        r.paragraph("Files: `config.yaml` (resolved configuration), `metrics.jsonl`, `checkpoints/best/` and "
                    + "`checkpoints/last/` (model.safetensors, state.json, optimizer.safetensors), `predictions.csv`, "
                    + "`plots/`.")
        try r.write(to: run.report)
    }

    static func describe(_ part: String, model: CrossModalModel) -> String {
        switch part {
        case "embedder":
            switch model.embedder {
            case let e as SeriesEmbedder:
                return "Conv1d patch \(e.patchSize) → \(model.tokenCount) tokens, LayerNorm, positions from the body"
            case let e as FieldEmbedder:
                return "Conv2d patch \(e.patchSize) → \(e.grid.rows)×\(e.grid.cols) grid"
                    + (e.prefixTokens > 0 ? " + CLS" : "") + ", positions from the body"
            case let e as TokenEmbedder:
                return "token table (\(e.vocabularySize) ids), LayerNorm, positions from the body"
            default: return "\(type(of: model.embedder))"
            }
        case "body":
            let b = model.body
            if model.bodyIsIdentity { return "none: identity (\(model.spec.bodyName) only initialised the embedder)" }
            return "\(model.spec.bodyName) (\(b.family)): \(b.layerCount) layers, width \(b.width), "
                + "\(b.config.heads) heads"
        default:
            return "\(type(of: model.head))"
        }
    }
}
