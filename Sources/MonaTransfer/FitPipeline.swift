import Foundation
import MonaData
import MonaDistributed
import MonaFormats
import MonaNN
import MonaRunKit
import MonaTensor

/// What a finished `fit` produced.
public struct FitResult: Sendable {
    public var runDirectory: URL
    public var task: TaskSpec
    /// Test metrics of the selected model (best validation epoch), and the test loss.
    public var testMetrics: [MetricKind: Double]
    public var testLoss: Double
    /// Test metrics of the final epoch's model (the same as `testMetrics` when the final epoch was selected).
    public var finalTestMetrics: [MetricKind: Double]
    /// The fine-tuning stage's final state (best validation value, epochs, early stopping).
    public var state: TrainingState
    /// Parameter counts of the model, and of what fine-tuning trained.
    public var parameterCount: Int
    public var trainableCount: Int
    /// Seconds per phase, in order.
    public var timings: [(String, Double)]

    /// The selection metric on the test split.
    public var testMetric: Double? { testMetrics[task.metric] }
}

/// Seconds per phase of a run, in order.
struct PhaseClock {
    private(set) var timings: [(String, Double)] = []
    private var clock = Date()
    let started = Date()

    mutating func lap(_ name: String) {
        timings.append((name, Date().timeIntervalSince(clock)))
        clock = Date()
    }

    /// The laps and the total so far.
    var withTotal: [(String, Double)] { timings + [("total", Date().timeIntervalSince(started))] }
}

/// `mona fit` as a library call: data → splits → model (embedder + body + head) → alignment stages →
/// fine-tuning with validation-based selection → one evaluation on the test split → run directory (resolved
/// config, metrics.jsonl, checkpoints, predictions, SVG plots, report.md). A method with a `Learner` replaces
/// the model: the learner is fitted on the same split and evaluated and reported the same way.
public final class FitPipeline: RunPipeline {
    /// Test hook passed to the fine-tuning trainer (see `Trainer.interruptAfter`).
    public var interruptAfter: ((TrainingState) -> Bool)?
    /// Fine-tuning writes its resume checkpoint at most this often, in seconds, and no final `best`/`last`
    /// (see `Trainer.lastCheckpointInterval`; nil, the default: every epoch, and the best weights for the user).
    public var lastCheckpointInterval: Double?

    /// Runs (or, with `resume`, continues) the fit. A run directory that already holds checkpoints is only
    /// reused with `resume`; resuming checks that the configuration is the one the run was started with.
    ///
    /// The phases (FitPipeline+Phases.swift): prepare (data, model, plan, log) → align → fine-tune → test →
    /// report. A NaN/Inf stop in alignment or fine-tuning still leaves a report (and a `stopped` record) in the
    /// run directory before the error goes up.
    public func fit(resume: Bool = false) throws -> FitResult {
        try config.validate()
        if writes { try run.lock() }
        defer { if writes { run.unlock() } }
        var clock = PhaseClock()
        var plan = try RunPlan.make(store: store, resume: resume)
        // Every rank decides where to start before rank 0 writes anything.
        try communicator.barrier()
        if resume { try checkSavedConfig() }
        if writes { try ConfigFile.write(try config.pairs(), to: run.config) }

        let method = try MethodCatalog.make(config.method)
        let (spec, splits, normalizer, preprocessing) = try FitPipeline.prepareDataAndInputs(config, assets: assets)
        // Beside config.yaml, before any checkpoint: `mona predict` reads new files with it.
        try preprocessing?.write(to: run.url)
        clock.lap("data")
        if let learner = try method.plugin.makeLearner(
            task: spec, context: LearnerContext(training: config.training, seed: config.seed, recorder: SilentRecorder())) {
            if communicator.isDistributed {
                throw TransferError.badConfig("method \(config.method.name) fits its own model, which is not trained "
                                              + "data-parallel; run it without mpirun")
            }
            return try fitLearner(learner, method: method, spec: spec, splits: splits, normalized: normalizer != nil,
                                  clock: &clock)
        }
        let (model, modelSpec) = try FitPipeline.makeModel(config: config, method: method, task: spec,
                                                           normalizer: normalizer, assets: assets)
        clock.lap("model")
        if case .fresh = plan, let from = config.fromAligned {
            let (checkpoint, url) = try FitPipeline.alignedCheckpoint(from, expecting: modelSpec)
            plan = .fromAligned(checkpoint, run: url)
        }
        let phases = try openRun(plan: plan, resume: resume, method: method, task: spec, splits: splits,
                                 model: model, modelSpec: modelSpec)

        var running = "alignment"
        let fineTuned: FineTuned
        do {
            try align(phases, running: &running)
            clock.lap("alignment")
            running = "finetune"
            fineTuned = try fineTune(phases)
        } catch TransferError.nonFinite(let message) where writes {
            try? writeStopReport(stage: running, message: message, method: method, spec: modelSpec,
                                 recorder: phases.recorder)
            throw TransferError.nonFinite(message)
        }
        clock.lap("finetune")
        try phases.probe("after-finetune", step: fineTuned.state.step)

        let (test, final) = try evaluateTest(phases, fineTuned)
        let outcome = TestOutcome(test: test, final: final, state: fineTuned.state)
        return try finish(outcome, task: spec, splits: splits, method: method, recorder: phases.recorder,
                          model: RunReport.summary(of: model, spec: modelSpec),
                          counts: (fineTuned.total, fineTuned.trainable), clock: &clock, timer: phases.timer) { report, records in
            let reports = method.report.map { [$0] } ?? []
            let alignmentPlots = try AlignmentReport.writePlots(records: records, reports: reports, run: self.run)
            report += AlignmentReport.section(records: records, reports: reports, plots: alignmentPlots)
            if let knowledge = phases.knowledge {
                try knowledge.writePlot(run: self.run)
                report += knowledge.reportSection()
            }
        }
    }

    /// `--resume` continues the same run: the saved configuration must be this one, and of this protocol.
    func checkSavedConfig() throws {
        guard FileManager.default.fileExists(atPath: run.config.path) else { return }
        let saved = try FitConfig.saved(pairs: try ConfigFile.load(run.config))
        var mine = config, theirs = saved
        mine.output = nil
        theirs.output = nil
        if theirs.protocolVersion != mine.protocolVersion {
            throw TransferError.badConfig("--resume: \(run.config.path) is of protocol \(theirs.protocolVersion), which this "
                                          + "build does not run (accepted: \(mine.protocolVersion)); start a new run")
        }
        if mine != theirs {
            throw TransferError.badConfig("--resume: the configuration differs from the one saved in \(run.config.path); "
                                          + "resume continues the same run (use the same flags, or a new --output)")
        }
    }

    /// The run's metrics records so far (none when the log does not exist yet).
    func readRecords() throws -> [[(String, RunValue)]] {
        FileManager.default.fileExists(atPath: run.metrics.path) ? try MetricsLog.readOrdered(run.metrics) : []
    }

    /// Wall-clock seconds of this process's phases, apart from metrics.jsonl so that a resumed run's log stays
    /// identical to an uninterrupted one's. `finetune_elapsed` counts fine-tuning across resumes. The breakdown
    /// overlaps the phases: `finetune_steps` (optimizer steps), `finetune_epoch_end` (validation and checkpoints
    /// at each epoch end), `checkpoints` (fine-tuning checkpoint writes), `analysis` (source-knowledge probes, in
    /// whichever phase they ran).
    func writeTimings(_ result: FitResult, breakdown timer: PhaseTimer? = nil) throws {
        var fields = result.timings.map { ($0.0, RunValue.number($0.1)) }
            + [("finetune_elapsed", .number(result.state.elapsedSeconds))]
        if let timer {
            fields += [("finetune_steps", .number(timer.stepSeconds)), ("finetune_epoch_end", .number(timer[.epochEnd])),
                       ("checkpoints", .number(timer.extra["checkpoints"] ?? 0)),
                       ("analysis", .number(timer.extra["analysis"] ?? 0))]
            if communicator.isDistributed {
                fields += [("allreduce", .number(timer.extra["allreduce"] ?? 0)), ("ranks", .number(Double(communicator.size)))]
            }
        }
        try AtomicFile.write(RunValue.object(fields).jsonText(pretty: true) + "\n",
                             to: run.url.appendingPathComponent("timings.json"))
    }

    /// The lifecycle of a method that replaces the model: fit on train/validation, one test evaluation, the same
    /// test record, predictions and report. Such a run has no checkpoint, so `resume` simply runs it again.
    func fitLearner(_ learner: any Learner, method: MethodSpec, spec: TaskSpec, splits: DataSplits, normalized: Bool,
                    clock: inout PhaseClock) throws -> FitResult {
        let recorder = try RunDirectoryRecorder(metricsURL: run.metrics, append: false, mode: mode)
        let context = LearnerContext(training: config.training, seed: config.seed, recorder: recorder)
        let state = try learner.fit(task: spec, data: splits, context: context)
        clock.lap("finetune")
        let test = try Evaluation(predictions: learner.predict(splits.test), task: spec, data: splits.test)
        let summary = RunReport.ModelSummary(
            rows: [["model", learner.summary, String(learner.parameterCount), String(learner.parameterCount)]],
            normalized: normalized)
        return try finish(TestOutcome(test: test, final: test, state: state), task: spec, splits: splits, method: method,
                          recorder: recorder, model: summary, counts: (learner.parameterCount, learner.parameterCount),
                          clock: &clock, timer: nil, extendReport: nil)
    }

    /// Phase "align": runs `stages` in order and saves the aligned model as `checkpoints/aligned/`. `running`
    /// names the stage in progress (for the stop report).
    /// With several ranks every stage runs data-parallel; `store` is nil on the ranks that do not write.
    static func runAlignment(_ stages: [AlignmentStage], model: CrossModalModel, splits: DataSplits, task: TaskSpec,
                             config: FitConfig, recorder: RunRecorder, store: CheckpointStore?, modelSpec: ModelSpec,
                             assets: AssetRegistry, communicator: any Communicator = LocalCommunicator(),
                             running: inout String) throws {
        let context = AlignmentContext(task: task, training: config.training, method: config.method,
                                       seed: config.seed, recorder: recorder, checkpoints: store, assets: assets)
        context.communicator = communicator
        for stage in stages {
            running = stage.name
            try stage.run(model: model, data: splits, context: context)
            // A stage that does not shard its work would let the ranks drift apart: caught here, not epochs later.
            try communicator.checkIdentical(model.namedParameters(), context: "after the \(stage.name) stage")
        }
        var s = TrainingState(stage: "aligned", metric: task.metric.key, higherIsBetter: task.higherIsBetter, seed: config.seed)
        s.finished = true
        try store?.save("aligned", model: model.stateDict(), state: s, modelSpec: modelSpec)
    }

    // MARK: Data

    /// Loads the task, applies the limits, carves the validation split (seeded, stratified for classes) and
    /// fits the input normalisation on the training split only.
    public static func prepareData(_ config: FitConfig, assets: AssetRegistry) throws
        -> (spec: TaskSpec, splits: DataSplits, normalizer: ChannelNormalizer?) {
        let d = try prepareDataAndInputs(config, assets: assets)
        return (d.spec, d.splits, d.normalizer)
    }

    /// `prepareData`, and for a task read through a spec or a catalogue loader of files what prediction needs to
    /// read new files alike.
    static func prepareDataAndInputs(_ config: FitConfig, assets: AssetRegistry) throws
        -> (spec: TaskSpec, splits: DataSplits, normalizer: ChannelNormalizer?, preprocessing: InputPreprocessing?) {
        let fromSpec = try config.data.spec.map { try $0.load() }
        let dataRoot = assets.root.appendingPathComponent("data", isDirectory: true)
        let loaded = try fromSpec?.task ?? TaskCatalog.load(config.task, dataRoot: dataRoot)
        var training = loaded.training, test = loaded.test
        if let n = config.data.trainLimit, n < training.count { training = training.subset(Array(0..<n)) }
        if let n = config.data.testLimit, n < test.count { test = test.subset(Array(0..<n)) }
        var splits: DataSplits
        do {
            splits = try DataSplits.make(training: training, test: test,
                                         validationFraction: config.training.validationFraction, seed: config.seed)
        } catch {
            throw TransferError.badTask("task '\(config.task)': \(error)")
        }
        var normalizer: ChannelNormalizer?
        if config.data.normalize {
            let n = try splits.normalized()
            splits = n.splits
            normalizer = n.normalizer
        }
        var spec = try TaskSpec.inferred(name: loaded.spec.name, training: splits.train,
                                         vocabularySize: loaded.spec.vocabularySize)
        // Keep a catalogue task's own metric choice (e.g. nRMSE for the generated 1-D PDE tasks and Burgers).
        if spec.output == loaded.spec.output && spec.loss == loaded.spec.loss {
            spec.metric = loaded.spec.metric
            spec.reportedMetrics = loaded.spec.reportedMetrics
        }
        let preprocessing = try fromSpec.map { $0.preprocessing }
            ?? TaskCatalog.preprocessing(of: config.task, loaded: loaded, dataRoot: dataRoot)
        return (spec, splits, normalizer, preprocessing)
    }

    /// Rewrites metrics.jsonl for a resumed run: keeps the alignment stages' records when their result is
    /// reused, and fine-tuning records up to the checkpoint's step; drops everything else (it will be redone).
    /// Source-knowledge records (stage `analysis`) follow what `fit` measures again: `before-alignment` is kept
    /// with the alignment, `after-alignment` and the fine-tuning points up to the checkpoint's step only when
    /// fine-tuning resumes, `after-finetune` never.
    static func truncateMetrics(_ url: URL, stages: [String], keepAlignment: Bool, finetuneStep: Int?) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let records = try MetricsLog.readOrdered(url)
        let kept = records.filter { r in
            let stage = r.first { $0.0 == "stage" }?.1.stringValue ?? ""
            let split = r.first { $0.0 == "split" }?.1.stringValue ?? ""
            let step = r.first { $0.0 == "step" }?.1.doubleValue.flatMap { $0.isFinite && abs($0) < 1e15 ? $0 : nil }
            if split == "test" { return false }
            if stage == "finetune" {
                guard let limit = finetuneStep, let step else { return false }
                return Int(step) <= limit
            }
            if stage == "analysis" {
                // Measured again unless the resumed part comes after them.
                switch r.first(where: { $0.0 == "point" })?.1.stringValue ?? "" {
                case "before-alignment": return keepAlignment
                case "after-alignment": return finetuneStep != nil
                case "finetune":
                    guard let limit = finetuneStep, let step else { return false }
                    return Int(step) <= limit
                default: return false
                }
            }
            // Alignment stages, including the warm-up a MoNA stage runs under its own name.
            return keepAlignment && (stages.contains(stage) || stage == "warmup")
        }
        try AtomicFile.write(kept.map { RunValue.object($0).json + "\n" }.joined(), to: url)
    }

    // MARK: Predictions

    /// Writes the test predictions: `predictions.csv` (per sample: label and predicted class with class
    /// probabilities; targets and predicted values; or, for dense tasks, the per-sample relative L2 error) and,
    /// for dense tasks, the fields themselves as `predictions.npy`.
    public static func writePredictions(_ predictions: Tensor, data: LabeledDataset, task: TaskSpec, run: RunDirectory) throws {
        let csv = predictionTable(predictions, data: data, task: task)
        try AtomicFile.write(csv, to: run.predictions)
        if task.output == .dense1D || task.output == .dense2D {
            try NumPyArray.save(predictions, to: run.url.appendingPathComponent("predictions.npy"))
        }
    }

    /// The CSV text of `writePredictions` (targets columns left empty when `data` has none).
    public static func predictionTable(_ predictions: Tensor, data: LabeledDataset, task: TaskSpec) -> String {
        let n = predictions.rank == 0 ? 0 : predictions.shape[0]
        var lines: [String] = []
        func f(_ x: Float) -> String { x.description }
        switch task.output {
        case .classification:
            let names = task.classNames ?? (0..<task.outputs).map(String.init)
            lines.append((["index", "label", "prediction"] + names.map { "p_" + csvField($0) }).joined(separator: ","))
            let probs = withoutGradients { predictions.softmax(alongAxis: -1) }.scalars
            let k = task.outputs
            let pred = n == 0 ? [] : Metrics.argmax(predictions)
            let labels = data.labels
            for i in 0..<n {
                let label = labels.map { csvField(names[$0[i]]) } ?? ""
                let row = [String(i), label, csvField(names[pred[i]])] + (0..<k).map { f(probs[i * k + $0]) }
                lines.append(row.joined(separator: ","))
            }
        case .multiLabel, .regression:
            let k = task.outputs
            let p = predictions.scalars
            var targets: [Float]?
            if case .multiLabel(let t) = data.targets { targets = t.scalars }
            if case .regression(let t) = data.targets { targets = t.scalars }
            lines.append((["index"] + (0..<k).map { "target_\($0)" } + (0..<k).map { "prediction_\($0)" })
                .joined(separator: ","))
            for i in 0..<n {
                let t = (0..<k).map { j in targets.map { f($0[i * k + j]) } ?? "" }
                lines.append(([String(i)] + t + (0..<k).map { f(p[i * k + $0]) }).joined(separator: ","))
            }
        case .dense1D, .dense2D:
            lines.append("index,relative_l2")
            if case .fields(let y) = data.targets, y.shape == predictions.shape, n > 0 {
                for (i, e) in Metrics.relativeL2PerSample(predictions: predictions, targets: y).enumerated() {
                    lines.append("\(i),\(e)")
                }
            } else {
                for i in 0..<n { lines.append("\(i),") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Times a training observer's work (the source-knowledge probes during fine-tuning) into `timings.json`.
final class ProbeTiming: TrainingObserver {
    let inner: TrainingObserver
    let timer: PhaseTimer
    init(_ inner: TrainingObserver, timer: PhaseTimer) {
        self.inner = inner
        self.timer = timer
    }
    func afterStep(_ model: CrossModalModel, _ state: TrainingState) throws {
        let start = timer.now()
        defer { timer.add("analysis", since: start) }
        try inner.afterStep(model, state)
    }
    func afterEpoch(_ model: CrossModalModel, _ state: TrainingState) throws {
        let start = timer.now()
        defer { timer.add("analysis", since: start) }
        try inner.afterEpoch(model, state)
    }
}
