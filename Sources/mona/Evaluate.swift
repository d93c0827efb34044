import ArgumentParser
import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTransfer

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained model (a run directory or a checkpoint folder) on a task's test split.",
        discussion: """
        The task defaults to the one the model was trained on; the training normalisation is applied. Prints \
        one line per metric (or one JSON object with --json).

        Example:
          mona evaluate runs/gunpoint
          mona evaluate runs/gunpoint/checkpoints/last --task path/to/GunPoint_TRAIN.ts
          mona evaluate runs/peptides --predictions test-predictions.csv
        """)

    @Argument(help: "Run directory or checkpoint folder.")
    var path: String

    @Option(help: "Task name or data path (default: the model's own task).")
    var task: String?

    @Option(help: "Which checkpoint of a run directory: best or last.")
    var checkpoint = "best"

    @Option(help: "Which split to evaluate: test or train (the whole training file).")
    var split = "test"

    @Option(name: .customLong("batch-size"), help: "Evaluation batch size.")
    var batchSize = 64

    @Flag(help: "Print the metrics as one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Also write the per-sample predictions of the evaluated split to this CSV (the columns of `mona predict`).",
                               valueName: "file"))
    var predictions: String?

    func run() throws {
        try reportingErrors(command: "evaluate", mode: json ? .json : .auto) {
            guard (1...(1 << 20)).contains(batchSize) else {
                throw CommandError("--batch-size \(batchSize): accepted: an integer from 1 to \(1 << 20)")
            }
            try checkCheckpointName(checkpoint)
            try checkExists(path, "run or checkpoint folder")
            let saved = try SavedModel.load(URL(fileURLWithPath: path), checkpoint: checkpoint)
            guard split == "test" || split == "train" else {
                throw TransferError.badConfig("--split must be test or train, got '\(split)'")
            }
            // Without --task, the run's own data: its saved task spec when it had one (a data path's inferred
            // spec keeps e.g. the --label rule and the split), else the task name or path it was trained on.
            let source: String, loaded: LoadedTask
            if task == nil, let spec = try saved.savedDataSpec(runPath: URL(fileURLWithPath: path)) {
                source = spec.from ?? spec.taskName
                loaded = try spec.load().task
            } else {
                guard let name = task ?? saved.spec.taskSource else {
                    throw TransferError.badConfig("the checkpoint does not name its task; pass --task")
                }
                source = name
                loaded = try TaskCatalog.load(name, dataRoot: AssetRegistry().root.appendingPathComponent("data"))
            }
            let data = try saved.prepared(split == "test" ? loaded.test : loaded.training,
                                          source: "\(source) (\(split) split)", requireTargets: true)
            let spec = saved.spec.task
            let result = Trainer.evaluate(model: saved.model, task: spec, data: data, batchSize: batchSize)
            if let predictions {
                let table = FitPipeline.predictionTable(saved.predict(data, batchSize: batchSize), data: data, task: spec)
                try AtomicFile.write(table, to: URL(fileURLWithPath: predictions))
            }
            var fields: [(String, RunValue)] = [("task", .string(source)), ("split", .string(split)),
                                                ("samples", .number(Double(data.count))),
                                                ("\(split)_loss", .number(result.loss))]
            for m in spec.reportedMetrics {
                if let x = result.metrics[m] { fields.append(("\(split)_\(m.key)", .number(x))) }
            }
            if json {
                print(RunValue.object(fields).json)
            } else {
                for (k, v) in fields.dropFirst(2) {
                    let x = v.doubleValue ?? .nan
                    print("\(k) \(k == "samples" ? String(Int(x)) : String(format: "%.4f", x))")
                }
            }
        }
    }
}
