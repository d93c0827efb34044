import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaRunKit
import MonaTensor

/// Measures, at chosen points of a run, how well the *current* body still separates held-out labelled source
/// data (passed through the frozen source embedder): linear-probe and kNN accuracy, Davies–Bouldin, scatter
/// ratio, alignment and uniformity (`analyzeSourceKnowledge`). Each measurement is one `metrics.jsonl` record
/// (stage and phase `analysis`, `point`, fine-tuning `step`); `reportSection` and `writePlot` summarise them.
///
/// Options: `AnalysisOptions` (`method.analysis`, default per method — `TransferMethod.analysisByDefault`;
/// `analysisEvery`, `analysisPerClass`, `sourcePerClass`, `sourceImageSize`).
public final class SourceKnowledgeTracker: TrainingObserver {
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
    private var memo: (fingerprint: [UInt64], report: SourceKnowledgeReport)?
    /// Measurements answered from the previous one because the body's weights had not changed.
    public private(set) var reusedMeasurements = 0

    /// A fingerprint of every parameter of `module` (names, shapes and the exact bits of the values): two equal
    /// fingerprints mean, up to a 64-bit hash collision per parameter, the same weights.
    static func fingerprint(_ module: Module) -> [UInt64] {
        module.namedParameters().map { named in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            func mix(_ x: UInt64) { h = (h ^ x) &* 0x0000_0100_0000_01b3 }
            for byte in named.name.utf8 { mix(UInt64(byte)) }
            let t = named.parameter.value
            for d in t.shape { mix(UInt64(truncatingIfNeeded: d)) }
            // Two 32-bit lanes per step: one pass over the weights, far cheaper than the probe it can save.
            t.withUnsafeBufferPointer { b in
                var i = 0
                while i + 1 < b.count {
                    mix(UInt64(b[i].bitPattern) | UInt64(b[i + 1].bitPattern) << 32)
                    i += 2
                }
                if i < b.count { mix(UInt64(b[i].bitPattern)) }
            }
            return h
        }
    }

    public init(source: LabeledDataset, every: Int = 0, recorder: RunRecorder) {
        self.source = source
        self.every = every
        self.recorder = recorder
    }

    /// The tracker the analysis options ask for (nil when the analysis is off, or the source set is too small).
    public static func make(analysis: AnalysisOptions?, seed: UInt64, body: TransformerBody, assets: AssetRegistry,
                            recorder: RunRecorder) throws -> SourceKnowledgeTracker? {
        guard let analysis else { return nil }
        var o = SourceTask.Options()
        o.alignmentPerClass = analysis.sourcePerClass
        o.analysisPerClass = analysis.perClass
        o.imageSize = analysis.sourceImageSize
        o.seed = seed
        let src = try SourceTask.load(for: body, assets: assets, options: o)
        guard src.analysis.count >= 4 else { return nil }
        let tracker = SourceKnowledgeTracker(source: src.analysis, every: analysis.every, recorder: recorder)
        tracker.options.seed = seed
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
        // The measurement depends only on the body's weights (the analysis set, its seed and the probe are fixed),
        // so a body that has not changed since the last measurement — frozen in a linear probe or a warm-up —
        // gives the same report: reuse it instead of running the probe again (a probe costs ~5 training steps).
        let fingerprint = SourceKnowledgeTracker.fingerprint(model.body)
        let r: SourceKnowledgeReport
        if let memo, memo.fingerprint == fingerprint {
            r = memo.report
            reusedMeasurements += 1
        } else {
            r = try analyzeSourceKnowledge(features: features(model), labels: source.labels ?? [], options: options)
            memo = (fingerprint, r)
        }
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

    /// Takes back the measurements recorded in `records` (a resumed run's kept log), so that the report and the
    /// plot show them.
    public func restore(from records: [[(String, RunValue)]]) {
        for r in records where r.first(where: { $0.0 == "phase" })?.1.stringValue == "analysis" {
            func n(_ k: String) -> Float? { r.first { $0.0 == k }?.1.doubleValue.map(Float.init) }
            guard let point = r.first(where: { $0.0 == "point" })?.1.stringValue, let step = n("step"),
                  step.isFinite, abs(step) < 1e9,
                  let lp = n("linear_probe_accuracy"), let knn = n("knn_accuracy"), let db = n("davies_bouldin"),
                  let sr = n("scatter_ratio"), let sil = n("silhouette"), let a = n("alignment"), let u = n("uniformity")
            else { continue }
            let report = SourceKnowledgeReport(linearProbeAccuracy: lp, knnAccuracy: knn, daviesBouldin: db, scatterRatio: sr,
                                               silhouette: sil, alignment: a, uniformity: u, samples: source.count,
                                               classes: Set(source.labels ?? []).count)
            points.append(Point(point: point, step: Int(step), report: report))
            if point == "finetune" { lastStep = max(lastStep, Int(step)) }
        }
    }

    /// A `TrainingObserver`: measures every `every` fine-tuning steps (once per step).
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
        let cadence = every > 0 ? "every \(every) fine-tuning steps"
            : "at stage boundaries only (method.analysisEvery=N adds points every N fine-tuning steps)"
        s += "\n\(source.count) held-out source samples; x = fine-tuning step (−1: before alignment, 0: after it); "
            + "measured \(cadence).\n\n"
        s += "![source knowledge: probe accuracies](plots/source-knowledge.svg)\n\n"
        s += "![source knowledge: geometry](plots/source-knowledge-geometry.svg)\n"
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
        func curve(_ value: (SourceKnowledgeReport) -> Float) -> [(x: Double, y: Double)] {
            zip(xs, points).map { ($0, Double(value($1.report))) }
        }
        let geometry = SVGPlot.lineChart(
            title: "Source-feature geometry during transfer", xLabel: "fine-tuning step (−1: before alignment)",
            yLabel: "value",
            series: [SVGPlot.Series(name: "Davies–Bouldin (lower: better separated)", points: curve(\.daviesBouldin)),
                     SVGPlot.Series(name: "alignment (same-class distance²)", points: curve(\.alignment)),
                     SVGPlot.Series(name: "uniformity (t = 2)", points: curve(\.uniformity))])
        try FileManager.default.createDirectory(at: run.plots, withIntermediateDirectories: true)
        try AtomicFile.write(svg, to: run.plot("source-knowledge.svg"))
        try AtomicFile.write(geometry, to: run.plot("source-knowledge-geometry.svg"))
    }
}
