import ArgumentParser
import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTransfer

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with a trained model (run directory or checkpoint folder) for new inputs; write a CSV.",
        discussion: """
        Inputs: every format `mona fit` reads — a csv/tsv table (with or without the label column), a FASTA file, \
        a .wav file or a folder of clips (or of class folders of clips), an IDX images file, .ts, .arff, UCR \
        .txt/.tsv, .npy (an x array), .npz (x or x_test) or torch .pt (x). Tables, FASTA, WAV and IDX are read \
        with the settings the run saved in preprocessing.json (columns, vocabulary, log-mel parameters); \
        characters or k-mers the training vocabulary lacks map to <unk>, as in training. --input may also be a \
        task spec (.yaml/.yml, the format of `mona fit --task`): its test file (else its train file) is read, \
        laid out as the spec says (separator, header, skipLines, label rule); settings the model's inputs depend \
        on must be left out or equal the training ones. The training \
        normalisation is applied. A token sequence longer than the model reads is refused unless --truncate. \
        Classification rows hold the predicted class and every class probability; regression rows the \
        predicted values; dense tasks the per-sample relative L2 error (when targets are present) and the \
        predicted fields in <output>.npy. Details: docs/own-data.md.

        Example:
          mona predict runs/gunpoint --input new_series.ts --output predictions.csv
          mona predict runs/peptides --input new_peptides.csv --output predictions.csv
        """)

    @Argument(help: "Run directory or checkpoint folder.")
    var path: String

    @Option(help: "Input file, folder of WAV clips, or task spec (.yaml).")
    var input: String

    @Option(name: .shortAndLong, help: "Predictions CSV to write (default: standard output).")
    var output: String?

    @Option(help: "Which checkpoint of a run directory: best or last.")
    var checkpoint = "best"

    @Option(name: .customLong("batch-size"), help: "Batch size.")
    var batchSize = 64

    @Flag(help: "Keep the first tokens of a sequence longer than the model reads (as training and evaluation do) instead of refusing it.")
    var truncate = false

    func run() throws {
        try reportingErrors(command: "predict", mode: .auto) {
            guard (1...(1 << 20)).contains(batchSize) else {
                throw CommandError("--batch-size \(batchSize): accepted: an integer from 1 to \(1 << 20)")
            }
            try checkCheckpointName(checkpoint)
            try checkExists(path, "run or checkpoint folder")
            try checkExists(input, "--input")
            let saved = try SavedModel.load(URL(fileURLWithPath: path), checkpoint: checkpoint)
            let inputURL = URL(fileURLWithPath: input), runURL = URL(fileURLWithPath: path)
            let inputs: LabeledDataset, source: String
            if ["yaml", "yml"].contains(inputURL.pathExtension.lowercased()) {
                (inputs, source) = try PredictionInputs.read(specFile: inputURL, model: saved, runPath: runURL, truncate: truncate)
            } else {
                (inputs, source) = (try PredictionInputs.read(inputURL, model: saved, runPath: runURL, truncate: truncate), input)
            }
            let data = try saved.prepared(inputs, source: source)
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
