import Foundation
import MonaData
import MonaDistributed
import MonaFormats
import MonaNN
import MonaRunKit
import MonaTensor

/// What a finished `align` produced.
public struct AlignResult: Sendable {
    public var runDirectory: URL
    public var task: TaskSpec
    public var method: String
    /// The alignment stages that ran, in order (`warmup`, `mona`, `orca`).
    public var stages: [String]
    /// Source-knowledge analysis before and after the stages (nil when the analysis is off).
    public var knowledgeBefore: SourceKnowledgeReport?
    public var knowledgeAfter: SourceKnowledgeReport?
    /// Loss and selection metric of the aligned model on the validation split (the head is the warm-up's, or
    /// untrained for methods without a warm-up).
    public var validationLoss: Double
    public var validationMetric: Double?
    /// Seconds per phase, in order.
    public var timings: [(String, Double)]
}

/// `mona align` as a library call: the data and model of `FitPipeline`, then only the method's alignment stages
/// (warm-up, MoNA stage 1, ORCA), with the source-knowledge analysis before and after; writes config.yaml,
/// metrics.jsonl, `checkpoints/aligned/`, plots and report.md. `FitConfig.fromAligned` (`mona fit --from-aligned`)
/// fine-tunes from the result. The test split is not touched. Under `mpirun` the stages and the validation run
/// data-parallel and only rank 0 writes (as in `FitPipeline`).
public final class AlignPipeline: RunPipeline {
    public func align() throws -> AlignResult {
        try config.validate()
        if config.fromAligned != nil { throw TransferError.badConfig("align: fromAligned makes no sense here (it is a fit option)") }
        let method = try MethodCatalog.make(config.method)
        guard !method.stages.isEmpty else {
            let names = MethodCatalog.entries.filter { (try? $0.build([:]).stages.isEmpty) == false }.map(\.name)
            throw TransferError.badConfig("method '\(method.name)' has no alignment stage; use one of \(names.joined(separator: ", "))")
        }
        if writes { try run.lock() }
        defer { if writes { run.unlock() } }
        if store.exists("aligned") || store.exists("last") || store.exists("best") {
            throw TransferError.badConfig("run directory \(run.url.path) already holds a run; choose another --output")
        }
        // Every rank has checked the directory before rank 0 writes to it.
        try communicator.barrier()
        var clock = PhaseClock()
        if writes {
            try ConfigFile.write(try config.pairs(), to: run.config)
            if FileManager.default.fileExists(atPath: run.metrics.path) { try FileManager.default.removeItem(at: run.metrics) }
        }

        let (spec, splits, normalizer) = try FitPipeline.prepareData(config, assets: assets)
        clock.lap("data")
        let (model, modelSpec) = try FitPipeline.makeModel(config: config, method: method, task: spec,
                                                           normalizer: normalizer, assets: assets)
        clock.lap("model")

        let recorder: any RunRecorder = writes ? try RunDirectoryRecorder(metricsURL: run.metrics, append: false, mode: mode)
                                               : SilentRecorder()
        // The analysis is what `align` is for: on unless `method.analysis=false` (measured by the writing rank).
        let knowledge = !writes ? nil : try SourceKnowledgeTracker.make(analysis: method.analysisForcedOn, seed: config.seed,
                                                                        body: model.body, assets: assets, recorder: recorder)
        let before = try knowledge?.measure(model, point: "before-alignment", step: 0)
        clock.lap("analysis")

        var running = ""
        try FitPipeline.runAlignment(method.stages, model: model, splits: splits, task: spec, config: config,
                                     recorder: recorder, store: writes ? store : nil, modelSpec: modelSpec, assets: assets,
                                     communicator: communicator, running: &running)
        clock.lap("alignment")

        let after = try knowledge?.measure(model, point: "after-alignment", step: 0)
        let validation = try Trainer.evaluate(model: model, task: spec, data: splits.validation,
                                              batchSize: config.training.batchSize, communicator: communicator)
        var fields: [(String, RecordValue)] = [("stage", .text("aligned")), ("split", .text("validation")),
                                              ("val_loss", .number(validation.loss))]
        for m in spec.reportedMetrics { if let x = validation.metrics[m] { fields.append(("val_\(m.key)", .number(x))) } }
        try recorder.record(fields)
        clock.lap("evaluation")

        let result = AlignResult(runDirectory: run.url, task: spec, method: method.name, stages: method.stages.map(\.name),
                                 knowledgeBefore: before, knowledgeAfter: after, validationLoss: validation.loss,
                                 validationMetric: validation.metrics[spec.metric],
                                 timings: clock.withTotal)
        guard writes else { return result }
        try writeReport(result: result, method: method, modelSpec: modelSpec, model: model, splits: splits, knowledge: knowledge)
        return result
    }

    func writeReport(result: AlignResult, method: MethodSpec, modelSpec: ModelSpec, model: CrossModalModel,
                     splits: DataSplits, knowledge: SourceKnowledgeTracker?) throws {
        let records = (try? MetricsLog.readOrdered(run.metrics)) ?? []
        let task = result.task
        var r = MarkdownReport(title: "\(task.name) · \(config.body) · \(method.name) (alignment only)")
        r.paragraph("Alignment stages \(result.stages.joined(separator: ", ")) of method `\(method.name)` "
                    + "(\(method.summary)); no fine-tuning. The aligned model is in `checkpoints/aligned/`; fine-tune it with "
                    + "`mona fit --from-aligned \(run.url.path) --output <run>` (task, body, model and data options are "
                    + "taken from this run's config.yaml).")
        r.bullets([
            "task: `\(config.task)` — \(task.input.rawValue) input \(task.sampleShape), \(task.output.rawValue) output; "
                + "\(splits.train.count) train, \(splits.validation.count) validation samples (seed \(config.seed))",
            "body: \(RunReport.describe("body", model: model))",
            "embedder: \(RunReport.describe("embedder", model: model))",
            "aligned model on the validation split: loss \(formatMetric(result.validationLoss))"
                + (result.validationMetric.map { ", \(task.metric.key) \(formatMetric($0))" } ?? ""),
        ])
        try RunReport.writePlots(records: records, task: task, run: run)
        let reports = method.report.map { [$0] } ?? []
        let plots = try AlignmentReport.writePlots(records: records, reports: reports, run: run)
        var text = r.text + AlignmentReport.section(records: records, reports: reports, plots: plots)
        if records.contains(where: { AlignmentReport.text($0, "split") == "train" }) {
            text += "\n![warm-up loss](plots/loss.svg)\n"
        }
        if let knowledge {
            try knowledge.writePlot(run: run)
            text += knowledge.reportSection()
        }
        var t = MarkdownReport(title: "")
        t.heading("Timings")
        t.table(headers: ["phase", "seconds"], rows: result.timings.map { [$0.0, String(format: "%.1f", $0.1)] })
        text += "\n" + t.text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
        try AtomicFile.write(text, to: run.report)
    }
}

extension FitPipeline {
    /// The cross-modal model of a fit configuration: the body (pretrained or, for `scratch`, random; for a method
    /// whose body is `.identity` the pretrained body only initialises the embedder), the embedder and head for
    /// `task`, and the input normalisation recorded in the model spec.
    public static func makeModel(config: FitConfig, method: MethodSpec, task: TaskSpec, normalizer: ChannelNormalizer?,
                                 assets: AssetRegistry) throws -> (model: CrossModalModel, spec: ModelSpec) {
        let body = try BodyCatalog.load(config.body, pretrained: method.pretrainedBody, seed: config.seed, assets: assets)
        var spec = ModelSpec(bodyName: config.body, bodyFamily: body.family, bodyConfig: body.config, task: task,
                             maxTokens: config.model.maxTokens, patchSize: config.model.patchSize)
        if method.body == .identity { spec.bodyIsIdentity = true }
        spec.taskSource = config.task
        spec.inputMean = normalizer?.mean
        spec.inputStd = normalizer?.std
        let model = CrossModalModel(spec: spec, body: body, seed: config.seed)
        if let rate = config.model.dropout, rate >= 0 && rate < 1 {
            for case let d as Dropout in model.namedModules().map(\.module) { d.probability = rate }
        }
        return (model, spec)
    }

    /// The aligned checkpoint of the `mona align` run in `directory`, checked against the model being built.
    static func alignedCheckpoint(_ directory: String, expecting spec: ModelSpec) throws -> (Checkpoint, URL) {
        let url = URL(fileURLWithPath: directory)
        let store = CheckpointStore(directory: url.appendingPathComponent("checkpoints", isDirectory: true))
        guard let ckpt = try store.load("aligned") else {
            throw TransferError.badConfig("fromAligned (--from-aligned) \(directory): no checkpoints/aligned/ there (run `mona align` first)")
        }
        if let saved = try store.modelSpec("aligned") {
            var a = saved, b = spec
            // Names may be spelled differently (relative paths); the shapes and the normalisation must agree.
            a.taskSource = nil; b.taskSource = nil
            if a != b {
                throw TransferError.badConfig("--from-aligned \(directory): the aligned model was built for another task, "
                                              + "body, token cap or data split (its model.json differs from this run's); "
                                              + "use the same task, body, seed, model.* and data.* options")
            }
        }
        return (ckpt, url)
    }
}
