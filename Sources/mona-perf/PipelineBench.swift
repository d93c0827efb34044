import ArgumentParser
import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTransfer

/// `mona-perf pipeline`: a whole fine-tuning epoch as `mona fit` runs it, split into phases.
struct PipelineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Fine-tuning epochs on GunPoint with MiniLM-L6: samples/s and the time per step phase.",
        discussion: """
        Builds the model exactly as `mona fit --task gunpoint --body minilm-l6 --method finetune` does (run \
        directory with metrics.jsonl and checkpoints in a temporary folder), trains one warm-up epoch, then \
        times --epochs epochs with the trainer's phase timer: data (batch subset and input tensors), forward \
        (model and loss), backward (gradients), norm+clip (global gradient norm, clipping), optimizer (AdamW), \
        and the step time outside those (data + bookkeeping) as a share of the step. Target: < 5 %. Validation and \
        checkpoints at the end of each epoch are reported apart (epoch end).
        """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "One timed epoch per token cap (for a smoke run).") var quick = false
    @Option(name: .customLong("max-tokens"), help: "Comma-separated token caps (512 is mona fit's default).")
    var maxTokens = "16,512"
    @Option(name: .customLong("batch-size"), help: "Mini-batch size.") var batchSize = 8
    @Option(help: "Timed epochs per token cap (after one warm-up epoch).") var epochs = 3
    @Option(help: "Engine threads.") var threads = 2

    func run() throws {
        let caps = maxTokens.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !caps.isEmpty else { throw ValidationError("--max-tokens: expected e.g. 16,512") }
        let assets = AssetRegistry()
        guard (try? assets.body("minilm-l6"))?.isPresent == true,
              FileManager.default.fileExists(atPath: assets.root.appendingPathComponent("data/ucr/GunPoint").path) else {
            throw ValidationError("needs .assets/minilm-l6 and .assets/data/ucr/GunPoint "
                                  + "(scripts/fetch-assets.sh bodies; scripts/fetch-data.sh ucr)")
        }
        Engine.setThreadCount(threads)
        defer { Engine.configureFromEnvironment() }
        var table = Table("Fine-tuning GunPoint with MiniLM-L6, batch \(batchSize), \(threads) threads "
                          + "(ms per optimizer step)",
                          columns: ["tokens", "samples/s", "epoch samples/s", "step", "data", "forward", "backward",
                                    "norm+clip", "optimizer", "other", "outside model", "epoch end"])
        var report: [(String, JSON)] = []
        for cap in caps {
            let r = try measure(maxTokens: cap, assets: assets, timedEpochs: quick ? 1 : epochs)
            let ms = { (x: Double) in format3(1000 * x / Double(r.steps)) }
            let other = r.overhead - r.data
            table.rows.append(["\(r.tokens)", format3(Double(r.samples) / r.step),
                               format3(Double(r.samples) / (r.step + r.epochEnd)), ms(r.step), ms(r.data), ms(r.forward),
                               ms(r.backward), ms(r.clipping), ms(r.optimizer), ms(other),
                               format3(100 * r.overhead / r.step) + " %", ms(r.epochEnd)])
            let key = "tokens_\(r.tokens)"
            report += [
                ("\(key)_samples_per_s", .number(Double(r.samples) / r.step)),
                ("\(key)_epoch_samples_per_s", .number(Double(r.samples) / (r.step + r.epochEnd))),
                ("\(key)_step_ms", .number(1000 * r.step / Double(r.steps))),
                ("\(key)_data_ms", .number(1000 * r.data / Double(r.steps))),
                ("\(key)_forward_ms", .number(1000 * r.forward / Double(r.steps))),
                ("\(key)_backward_ms", .number(1000 * r.backward / Double(r.steps))),
                ("\(key)_clipping_ms", .number(1000 * r.clipping / Double(r.steps))),
                ("\(key)_optimizer_ms", .number(1000 * r.optimizer / Double(r.steps))),
                ("\(key)_other_ms", .number(1000 * other / Double(r.steps))),
                ("\(key)_overhead_percent", .number(100 * r.overhead / r.step)),
                ("\(key)_epoch_end_ms_per_step", .number(1000 * r.epochEnd / Double(r.steps))),
                ("\(key)_steps", .number(Double(r.steps))),
            ]
        }
        table.notes.append("outside model = step − forward − backward − norm+clip − optimizer (data + other bookkeeping), "
                           + "as % of the step; target < 5 %")
        table.notes.append("epoch end = validation + checkpoints + epoch record, per training step; not in the step; "
                           + "epoch samples/s includes it")
        if json { print(JSON.object(report).rendered) } else { print(table.rendered) }
    }

    struct Figures {
        var tokens = 0, steps = 0, samples = 0
        var step = 0.0, data = 0.0, forward = 0.0, backward = 0.0, clipping = 0.0, optimizer = 0.0, overhead = 0.0, epochEnd = 0.0
    }

    func measure(maxTokens cap: Int, assets: AssetRegistry, timedEpochs: Int) throws -> Figures {
        var config = FitConfig(task: "gunpoint", body: "minilm-l6", method: "finetune", seed: 0)
        config.model.maxTokens = cap
        config.training.batchSize = batchSize
        config.training.epochs = 1 + timedEpochs
        let (spec, splits, normalizer) = try FitPipeline.prepareData(config, assets: assets)
        let body = try BodyCatalog.load(config.body, pretrained: true, seed: config.seed, assets: assets)
        var modelSpec = ModelSpec(bodyName: config.body, bodyFamily: body.family, bodyConfig: body.config, task: spec,
                                  maxTokens: cap, patchSize: nil)
        modelSpec.inputMean = normalizer?.mean
        modelSpec.inputStd = normalizer?.std
        let model = CrossModalModel(spec: modelSpec, body: body, seed: config.seed)
        try MethodCatalog.make(MethodConfig(name: "finetune")).trainability.apply(to: model)

        // A real run directory, so the bookkeeping (metrics.jsonl, checkpoints) is what `mona fit` pays.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mona-perf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RunDirectory(dir)
        let recorder = try RunDirectoryRecorder(metricsURL: run.metrics, append: false, mode: .quiet)
        let trainer = try Trainer(model: model, task: spec, splits: splits, config: config.training, seed: config.seed,
                              stage: "finetune", checkpoints: CheckpointStore(directory: run.checkpoints),
                              recorder: recorder)
        trainer.modelSpec = modelSpec
        let timer = PhaseTimer()
        trainer.phaseTimer = timer
        // The first epoch warms up allocations and caches; forget it.
        trainer.interruptAfter = { state in
            if state.epoch == 1 && state.batchInEpoch == 0 { timer.reset() }
            return false
        }
        try trainer.run()
        var f = Figures()
        f.tokens = model.tokenCount
        f.steps = timer.steps
        f.samples = timer.samples
        f.step = timer.stepSeconds
        f.data = timer[.data]
        f.forward = timer[.forward]
        f.backward = timer[.backward]
        f.clipping = timer[.clipping]
        f.optimizer = timer[.optimizer]
        f.overhead = timer.overheadSeconds
        f.epochEnd = timer[.epochEnd]
        return f
    }
}
