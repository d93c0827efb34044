import ArgumentParser
import Foundation
import MonaFormats
import MonaRunKit
import MonaTransfer

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with a trained model (run directory or checkpoint folder) for new inputs; write a CSV.",
        discussion: """
        Inputs: .ts, .arff, UCR .txt/.tsv, .npy (an x array), .npz (x or x_test) or torch .pt (x). The \
        training normalisation is applied. Classification rows hold the predicted class and every class \
        probability; regression rows the predicted values; dense tasks the per-sample relative L2 error (when \
        targets are present) and the predicted fields in <output>.npy.

        Example:
          mona predict runs/gunpoint --input new_series.ts --output predictions.csv
        """)

    @Argument(help: "Run directory or checkpoint folder.")
    var path: String

    @Option(help: "Input file.")
    var input: String

    @Option(name: .shortAndLong, help: "Predictions CSV to write (default: standard output).")
    var output: String?

    @Option(help: "Which checkpoint of a run directory: best or last.")
    var checkpoint = "best"

    @Option(name: .customLong("batch-size"), help: "Batch size.")
    var batchSize = 64

    func run() throws {
        try reportingErrors(command: "predict", mode: .auto) {
            guard (1...(1 << 20)).contains(batchSize) else {
                throw CommandError("--batch-size \(batchSize): accepted: an integer from 1 to \(1 << 20)")
            }
            try checkCheckpointName(checkpoint)
            try checkExists(path, "run or checkpoint folder")
            try checkExists(input, "--input")
            let saved = try SavedModel.load(URL(fileURLWithPath: path), checkpoint: checkpoint)
            let data = try saved.prepared(try SavedModel.readInputs(URL(fileURLWithPath: input)), source: input)
            let predictions = saved.predict(data, batchSize: batchSize)
            let table = FitPipeline.predictionTable(predictions, data: data, task: saved.spec.task)
            guard let output else {
                print(TerminalText.escaped(table, keepingNewlines: true), terminator: "")
                return
            }
            let url = URL(fileURLWithPath: output)
            try AtomicFile.write(table, to: url)
            if saved.spec.task.output == .dense1D || saved.spec.task.output == .dense2D {
                try NumPyArray.save(predictions, to: url.deletingPathExtension().appendingPathExtension("npy"))
            }
            FileHandle.standardError.write(Data("wrote \(data.count) predictions to \(output)\n".utf8))
        }
    }
}
