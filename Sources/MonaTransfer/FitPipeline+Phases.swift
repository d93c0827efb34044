import Foundation
import MonaData
import MonaRunKit

/// What the phases of one `fit` share once the run is prepared.
struct FitPhases {
    let plan: RunPlan, method: MethodSpec
    let task: TaskSpec, splits: DataSplits
    let model: CrossModalModel, modelSpec: ModelSpec
    /// The run's log on the writing rank; silent on the others.
    let recorder: any RunRecorder
    /// Where the time goes besides the phases (timings.json): checkpoint writes and source-knowledge probes.
    let timer: PhaseTimer
    /// The source-knowledge analysis (KnowledgeTracker.swift), when the method asks for it.
    let knowledge: SourceKnowledgeTracker?

    /// Measures source knowledge at `point` (when the analysis is on), timed as `analysis`.
    func probe(_ point: String, step: Int) throws {
        guard let knowledge else { return }
        let start = timer.now()
        defer { timer.add("analysis", since: start) }
        _ = try knowledge.measure(model, point: point, step: step)
    }
}

/// The fine-tuning phase's outcome.
struct FineTuned {
    let trainer: Trainer
    let state: TrainingState
    /// Parameters fine-tuning trained, and all of the model's.
    let trainable: Int
    let total: Int
}

/// The test phase's outcome: the selected weights' and the final epoch's evaluations.
struct TestOutcome {
    let test: Evaluation
    let final: Evaluation
    let state: TrainingState
}

extension FitPipeline {
    /// Prepare, last part: the metrics log (a resumed run keeps what it will not redo; `--from-aligned` opens with
    /// the aligned run's stages), the knowledge tracker and the first source-knowledge point. Only the writing
    /// rank keeps the log and measures source knowledge (the probes only read the model).
    func openRun(plan: RunPlan, resume: Bool, method: MethodSpec, task: TaskSpec, splits: DataSplits,
                 model: CrossModalModel, modelSpec: ModelSpec) throws -> FitPhases {
        guard writes else {
            return FitPhases(plan: plan, method: method, task: task, splits: splits, model: model, modelSpec: modelSpec,
                             recorder: SilentRecorder(), timer: PhaseTimer(), knowledge: nil)
        }
        if resume {
            // Before the log is opened: the rewrite replaces the file.
            try FitPipeline.truncateMetrics(run.metrics, stages: method.stages.map(\.name),
                                            keepAlignment: plan.keepsAlignmentRecords,
                                            finetuneStep: plan.fineTuningCheckpoint?.state.step)
        } else if case .fromAligned(_, let from) = plan {
            let theirs = (try? MetricsLog.readOrdered(from.appendingPathComponent("metrics.jsonl"))) ?? []
            let kept = theirs.filter { r in
                let stage = r.first { $0.0 == RecordKey.stage }?.1.stringValue ?? ""
                return stage != "analysis" && stage != "aligned" && stage != "finetune"
            }
            try AtomicFile.write(kept.map { RunValue.object($0).json + "\n" }.joined(), to: run.metrics)
        }
        let appends: Bool
        if case .fromAligned = plan { appends = true } else { appends = resume }
        let recorder = try RunDirectoryRecorder(metricsURL: run.metrics, append: appends, mode: mode)
        let knowledge = try SourceKnowledgeTracker.make(analysis: method.analysis, seed: config.seed, body: model.body,
                                                        assets: assets, recorder: recorder)
        if resume, let knowledge { knowledge.restore(from: try readRecords()) }
        let phases = FitPhases(plan: plan, method: method, task: task, splits: splits, model: model, modelSpec: modelSpec,
                               recorder: recorder, timer: PhaseTimer(), knowledge: knowledge)
        switch plan {
        case .fresh, .fromAligned: try phases.probe("before-alignment", step: 0)
        default: break
        }
        return phases
    }

    /// Phase "align": the method's stages (or the saved / `--from-aligned` aligned model), then the
    /// after-alignment source-knowledge point. `running` names the stage in progress (for the stop report).
    func align(_ p: FitPhases, running: inout String) throws {
        switch p.plan {
        case .afterAlignment(let aligned):
            try p.model.load(stateDict: aligned.model, strict: true, source: store.folder("aligned").path)
            p.recorder.message("resuming after the saved alignment stages")
        case .fromAligned(let aligned, let from):
            try p.model.load(stateDict: aligned.model, strict: true,
                             source: from.appendingPathComponent("checkpoints/aligned").path)
            if writes { try store.save("aligned", model: p.model.stateDict(), state: aligned.state, modelSpec: p.modelSpec) }
            p.recorder.message("starting from the aligned model of \(from.path)")
        case .fresh:
            if !p.method.stages.isEmpty {
                try FitPipeline.runAlignment(p.method.stages, model: p.model, splits: p.splits, task: p.task,
                                             config: config, recorder: p.recorder, store: writes ? store : nil,
                                             modelSpec: p.modelSpec, assets: assets, communicator: communicator,
                                             running: &running)
            }
        case .midFineTuning, .finished:
            break
        }
        if p.plan.fineTuningCheckpoint == nil && (!p.method.stages.isEmpty || config.fromAligned != nil) {
            try p.probe("after-alignment", step: 0)
        }
    }

    /// Phase "fine-tune": the method's trainable set, then the trainer (continued from the plan's checkpoint;
    /// a finished run only reloads its selected weights).
    func fineTune(_ p: FitPhases) throws -> FineTuned {
        p.method.trainability.apply(to: p.model)
        let trainable = p.model.parameterCount(trainableOnly: true), total = p.model.parameterCount()
        let trainer = try Trainer(model: p.model, task: p.task, splits: p.splits, config: config.training,
                                  seed: config.seed, stage: "finetune", checkpoints: store, recorder: p.recorder)
        trainer.modelSpec = p.modelSpec
        trainer.phaseTimer = p.timer
        trainer.lastCheckpointInterval = lastCheckpointInterval
        if let knowledge = p.knowledge { trainer.observers.append(ProbeTiming(knowledge, timer: p.timer)) }
        trainer.interruptAfter = interruptAfter
        trainer.communicator = communicator
        trainer.writesCheckpoints = writes
        let state: TrainingState
        if case .finished(let checkpoint) = p.plan {
            state = checkpoint.state
            try trainer.loadBestWeights()
        } else {
            state = try trainer.run(resumingFrom: p.plan.fineTuningCheckpoint)
        }
        return FineTuned(trainer: trainer, state: state, trainable: trainable, total: total)
    }

    /// Phase "test": the test split once with the selected weights, and once with the final epoch's (sharded
    /// over the ranks of a data-parallel run).
    func evaluateTest(_ p: FitPhases, _ f: FineTuned) throws -> (test: Evaluation, final: Evaluation) {
        let test = try f.trainer.evaluate(p.splits.test)
        guard f.state.bestEpoch != f.state.epoch else { return (test, test) }
        if let weights = f.trainer.finalWeights {
            try p.model.load(stateDict: weights, strict: true, source: "final weights")
        } else if let last = try store.load("last") {
            try p.model.load(stateDict: last.model, strict: true, source: store.folder("last").path)
        } else {
            return (test, test)
        }
        return (test, try f.trainer.evaluate(p.splits.test))
    }

    /// Test record, predictions, timings and report — shared by the cross-modal model and a method's learner.
    /// `extendReport` appends the method's sections to report.md (given the run's records). A rank that does not
    /// write only returns the result.
    func finish(_ outcome: TestOutcome, task: TaskSpec, splits: DataSplits, method: MethodSpec, recorder: RunRecorder,
                model: RunReport.ModelSummary, counts: (total: Int, trainable: Int), clock: inout PhaseClock,
                timer: PhaseTimer?, extendReport: ((inout String, [[(String, RunValue)]]) throws -> Void)?) throws -> FitResult {
        if writes {
            try recorder.record(TestRecord(outcome, task: task).fields)
            try FitPipeline.writePredictions(outcome.test.predictions, data: splits.test, task: task, run: run)
        }
        clock.lap("test")
        let result = FitResult(runDirectory: run.url, task: task, testMetrics: outcome.test.metrics,
                               testLoss: outcome.test.loss, finalTestMetrics: outcome.final.metrics, state: outcome.state,
                               parameterCount: counts.total, trainableCount: counts.trainable, timings: clock.withTotal)
        guard writes else { return result }
        try writeTimings(result, breakdown: timer)
        let records = try readRecords()
        try RunReport.writePlots(records: records, task: task, run: run)
        try RunReport.write(config: config, method: method, model: model, splits: splits, result: result,
                            records: records, run: run)
        if let extendReport {
            var report = try String(contentsOf: run.report, encoding: .utf8)
            try extendReport(&report, records)
            try AtomicFile.write(report, to: run.report)
        }
        return result
    }
}
