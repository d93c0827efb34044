import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor

/// Measures, at chosen points of a run, how well the *current* body still separates held-out labelled source
/// data (passed through the frozen source embedder): linear-probe and kNN accuracy, Davies–Bouldin, scatter
/// ratio, alignment and uniformity (`analyzeSourceKnowledge`). Each measurement is one `metrics.jsonl` record
/// (stage and phase `analysis`, `point`, fine-tuning `step`); `reportSection` and `writePlot` summarise them.
///
/// Options (`method.<key>`): `analysis` (true/false; default true for the MoNA and ORCA methods, false
/// otherwise), `analysisEvery` (fine-tuning steps between measurements, 0 = only before/after alignment and after
/// fine-tuning; default 0), `analysisPerClass` (held-out source samples per class, default 20).
public final class SourceKnowledgeTracker {
    public struct Point: Sendable {
        public var point: String
        public var step: Int
        public var report: SourceKnowledgeReport
    }

    public let source: LabeledDataset
    public let every: Int
    public let recorder: RunRecorder
    public var options = SourceKnowledgeOptions()
    public private(set) var points: [Point] = []
    private var lastStep = -1

    public init(source: LabeledDataset, every: Int = 0, recorder: RunRecorder) {
        self.source = source
        self.every = every
        self.recorder = recorder
    }

    /// The tracker a fit configuration asks for (nil when analysis is off).
    public static func make(config: FitConfig, body: TransformerBody, assets: AssetRegistry,
                            recorder: RunRecorder) throws -> SourceKnowledgeTracker? {
        let m = config.method
        let name = m.name.lowercased()
        let byDefault = name.hasPrefix("mona") || name.hasPrefix("orca")
        let flag = m.options["analysis"]?.lowercased()
        guard flag.map({ $0 == "true" || $0 == "1" || $0 == "yes" }) ?? byDefault else { return nil }
        var o = SourceTask.Options()
        o.alignmentPerClass = Int(try m.number("sourcePerClass", default: 40))
        o.analysisPerClass = Int(try m.number("analysisPerClass", default: 20))
        o.seed = config.seed
        let src = try SourceTask.load(for: body, assets: assets, options: o)
        guard src.analysis.count >= 4 else { return nil }
        let tracker = SourceKnowledgeTracker(source: src.analysis, every: Int(try m.number("analysisEvery", default: 0)),
                                             recorder: recorder)
        tracker.options.seed = config.seed
        return tracker
    }

    /// Pooled body features [N, D] of the analysis set, in evaluation mode, without gradients.
    public func features(_ model: CrossModalModel) -> Tensor {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        return withoutGradients {
            let parts = BatchSampler.evaluation(count: source.count, batchSize: 32).batches(epoch: 0).map {
                model.body.sourceFeatures(source.subset($0)).detached()
            }
            return Tensor.concat(parts, axis: 0)
        }
    }

    /// Measures now and records it.
    @discardableResult
    public func measure(_ model: CrossModalModel, point: String, step: Int) throws -> SourceKnowledgeReport {
        let r = try analyzeSourceKnowledge(features: features(model), labels: source.labels ?? [], options: options)
        points.append(Point(point: point, step: step, report: r))
        try recorder.record([("stage", .text("analysis")), ("phase", .text("analysis")), ("point", .text(point)),
                             ("step", .number(Double(step))),
                             ("linear_probe_accuracy", .number(Double(r.linearProbeAccuracy))),
                             ("knn_accuracy", .number(Double(r.knnAccuracy))),
                             ("davies_bouldin", .number(Double(r.daviesBouldin))),
                             ("scatter_ratio", .number(Double(r.scatterRatio))),
                             ("silhouette", .number(Double(r.silhouette))),
                             ("alignment", .number(Double(r.alignment))),
                             ("uniformity", .number(Double(r.uniformity)))])
        return r
    }

    /// Takes back the measurements a resumed run kept in its metrics log (stage `analysis` records, in order),
    /// so that the report section and the plot cover the whole run, not only what this process measured.
    public func restore(from records: [[(String, RunValue)]]) {
        for r in records {
            func text(_ k: String) -> String? { r.first { $0.0 == k }?.1.stringValue }
            func number(_ k: String) -> Float { Float(r.first { $0.0 == k }?.1.doubleValue ?? .nan) }
            guard text("stage") == "analysis", let point = text("point"),
                  let step = r.first(where: { $0.0 == "step" })?.1.doubleValue else { continue }
            let report = SourceKnowledgeReport(
                linearProbeAccuracy: number("linear_probe_accuracy"), knnAccuracy: number("knn_accuracy"),
                daviesBouldin: number("davies_bouldin"), scatterRatio: number("scatter_ratio"),
                silhouette: number("silhouette"), alignment: number("alignment"), uniformity: number("uniformity"),
                samples: source.count, classes: source.classNames?.count ?? 0)
            points.append(Point(point: point, step: Int(step), report: report))
        }
    }

    /// For `Trainer.interruptAfter`: measures every `every` fine-tuning steps (once per step).
    public func afterStep(_ model: CrossModalModel, _ state: TrainingState) throws {
        guard every > 0, state.step > 0, state.step % every == 0, state.step != lastStep else { return }
        lastStep = state.step
        try measure(model, point: "finetune", step: state.step)
    }

    /// A Markdown section for report.md.
    public func reportSection() -> String {
        var s = "\n## Source knowledge (held-out source data through the current body)\n\n"
        s += "| point | fine-tuning step | linear probe | kNN | Davies–Bouldin | scatter ratio | alignment | uniformity |\n"
        s += "|---|---|---|---|---|---|---|---|\n"
        func f(_ x: Float) -> String { String(format: "%.4f", Double(x)) }
        for p in points {
            let r = p.report
            s += "| \(p.point) | \(p.step) | \(f(r.linearProbeAccuracy)) | \(f(r.knnAccuracy)) | \(f(r.daviesBouldin)) "
                + "| \(f(r.scatterRatio)) | \(f(r.alignment)) | \(f(r.uniformity)) |\n"
        }
        s += "\nReuse curve: plots/source-knowledge.svg (\(source.count) held-out source samples; "
            + "x = fine-tuning step, −1 = before alignment).\n"
        return s
    }

    /// The reuse curve (linear-probe and kNN accuracy against the fine-tuning step) as `plots/source-knowledge.svg`.
    public func writePlot(run: RunDirectory) throws {
        guard !points.isEmpty else { return }
        let xs = points.map { Double($0.point == "before-alignment" ? -1 : $0.step) }
        let svg = SVGPlot.lineChart(
            title: "Source knowledge during transfer", xLabel: "fine-tuning step (−1: before alignment)",
            yLabel: "accuracy on held-out source data",
            series: [SVGPlot.Series(name: "linear probe", points: zip(xs, points).map { ($0, Double($1.report.linearProbeAccuracy)) }),
                     SVGPlot.Series(name: "kNN (k = 5)", points: zip(xs, points).map { ($0, Double($1.report.knnAccuracy)) })])
        try FileManager.default.createDirectory(at: run.plots, withIntermediateDirectories: true)
        try AtomicFile.write(svg, to: run.plot("source-knowledge.svg"))
    }
}
