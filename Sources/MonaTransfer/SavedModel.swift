import Foundation
import MonaData
import MonaFormats
import MonaTensor

/// A trained model read back from a run directory or a checkpoint folder, with what it needs to preprocess new
/// inputs the way its training data was.
public struct SavedModel {
    public let model: CrossModalModel
    public let spec: ModelSpec
    /// Where the weights came from.
    public let source: URL

    /// Loads `path`: a run directory (checkpoint `checkpoint`, default `best`) or a checkpoint folder holding
    /// `model.safetensors` and `model.json`. The body is rebuilt from the saved architecture and every weight is
    /// loaded strictly, so no pretrained asset is needed.
    public static func load(_ path: URL, checkpoint: String = "best") throws -> SavedModel {
        let fm = FileManager.default
        var folder = path
        if !fm.fileExists(atPath: path.appendingPathComponent("model.json").path) {
            let store = CheckpointStore(directory: path.appendingPathComponent("checkpoints", isDirectory: true))
            guard let f = store.resolved(checkpoint) else {
                throw TransferError.badCheckpoint("\(path.path): neither a checkpoint folder (model.json, model.safetensors) "
                                                  + "nor a run directory with checkpoints/\(checkpoint)")
            }
            folder = f
        }
        let weightsURL = folder.appendingPathComponent("model.safetensors")
        guard fm.fileExists(atPath: weightsURL.path) else {
            throw TransferError.badCheckpoint("\(weightsURL.path): no such file (the checkpoint's weights)")
        }
        let spec = try ModelSpec.read(folder.appendingPathComponent("model.json"), weights: weightsURL)
        // `read` checked that the family is registered.
        guard let family = BodyRegistry.family(modelType: spec.bodyFamily) else {
            throw TransferError.badCheckpoint("\(folder.path): unknown body family '\(spec.bodyFamily)'")
        }
        let body = BodyCatalog.randomBody(family: family, config: spec.bodyConfig, seed: 0)
        let model = CrossModalModel(spec: spec, body: body, seed: 0)
        do {
            try model.load(stateDict: try SafeTensors.load(contentsOf: weightsURL), strict: true, source: weightsURL.path)
        } catch {
            throw TransferError.badCheckpoint("\(error)")
        }
        model.eval()
        return SavedModel(model: model, spec: spec, source: folder)
    }

    /// `dataset` with the training normalisation applied to its inputs (unchanged when there was none). Checks
    /// that it has samples, finite values, the input kind, channels and sample layout the model was trained on,
    /// and — when present, or required with `requireTargets` — targets of the model's kind and width; errors
    /// name `source` (default: the dataset's name).
    public func prepared(_ dataset: LabeledDataset, source: String? = nil, requireTargets: Bool = false) throws -> LabeledDataset {
        let task = spec.task
        let file = source ?? dataset.name
        var dataset = dataset
        if task.output == .regression, let values = try dataset.classLabelsAsValues() { dataset = values }
        guard dataset.count > 0 else { throw DataError(file: file, "no samples") }
        try dataset.checkSampleShape(file: file)
        try dataset.checkFinite(file: file)
        switch (task.input, dataset.inputs) {
        case (.series, .series(let x)):
            guard x.shape[1] == task.sampleShape[0] else {
                throw TransferError.badTask("\(file): inputs have \(x.shape[1]) channels, the model was trained on "
                                            + "\(task.sampleShape[0])")
            }
        case (.fields, .fields(let x)):
            guard Array(x.shape.dropFirst()) == task.sampleShape else {
                throw TransferError.badTask("\(file): inputs are \(Array(x.shape.dropFirst())) per sample, the model was "
                                            + "trained on \(task.sampleShape)")
            }
        case (.tokens, .tokens):
            break
        default:
            throw TransferError.badTask("\(file): the model takes \(task.input.rawValue) inputs, the file holds \(layoutName(dataset.inputs))")
        }
        try checkTargets(dataset.targets, file: file, required: requireTargets)
        var data = dataset
        if let names = task.classNames, data.classNames != nil {
            data = try data.remappingClasses(to: names)
        }
        guard let mean = spec.inputMean, let std = spec.inputStd else { return data }
        return try ChannelNormalizer(mean: mean, std: std).apply(to: data)
    }

    /// Targets must have the kind the model predicts: class labels for classification, values of the model's
    /// width for regression, fields of its target shape for dense tasks.
    func checkTargets(_ targets: LabeledDataset.Targets, file: String, required: Bool) throws {
        let task = spec.task
        let expected: String
        switch task.output {
        case .classification: expected = "class labels"
        case .multiLabel: expected = "multi-label rows of \(task.outputs) labels"
        case .regression: expected = "regression values (\(task.outputs) per sample)"
        case .dense1D, .dense2D: expected = "dense fields of shape \(task.targetShape ?? [])"
        }
        switch (task.output, targets) {
        case (_, .none):
            if required { throw TransferError.badTask("\(file): the file has no targets; the model needs \(expected)") }
            return
        case (.classification, .classes):
            return
        case (.multiLabel, .multiLabel(let y)) where y.shape[1] == task.outputs:
            return
        case (.regression, .regression(let y)) where (y.rank == 1 ? 1 : y.shape[1]) == task.outputs:
            return
        case (.dense1D, .fields(let y)), (.dense2D, .fields(let y)):
            if let shape = task.targetShape, Array(y.shape.dropFirst()) == shape { return }
        default:
            break
        }
        throw TransferError.badTask("\(file): the targets are \(layoutName(targets)) that do not fit the model, which predicts "
                                    + "\(expected) (a \(task.output.rawValue) run)")
    }

    /// Predictions for every sample of `dataset` (already `prepared`), in order, in evaluation mode.
    public func predict(_ dataset: LabeledDataset, batchSize: Int = 64) -> Tensor {
        model.eval()
        return withoutGradients {
            var outputs: [Tensor] = []
            for indices in BatchSampler.evaluation(count: dataset.count, batchSize: batchSize).batches(epoch: 0) {
                outputs.append(model(model.input(for: dataset.subset(indices))))
            }
            return outputs.isEmpty ? Tensor.zeros([0]) : Tensor.concat(outputs, axis: 0)
        }
    }

    /// Reads inputs for prediction from a file: `.ts`, `.arff`, UCR `.txt`/`.tsv`, `.npy` (x), `.npz` (`x` or
    /// `x_test`, with `y`/`y_test` when present) or torch `.pt` (`x`, `y`). Targets, when the file has them,
    /// are kept (the predictions file then shows them next to the predictions).
    public static func readInputs(_ url: URL) throws -> LabeledDataset {
        let name = url.deletingPathExtension().lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TransferError.badTask("\(url.path): no such file")
        }
        switch url.pathExtension.lowercased() {
        case "ts": return try TSFile.load(url)
        case "arff": return try ARFFFile.load(url)
        case "txt", "tsv": return try UCRTextFile.load(url)
        case "npy":
            return try unlabeled(try NumPyArray.load(contentsOf: url), name: name, file: url.path)
        case "npz", "pt", "pth":
            let t = url.pathExtension.lowercased() == "npz" ? try NumPyArchive.load(contentsOf: url)
                : try TorchCheckpoint.load(contentsOf: url)
            guard let x = t["x"] ?? t["x_test"] else {
                throw TransferError.badTask("\(url.path): no array named x or x_test (found \(t.keys.sorted()))")
            }
            if let y = t["y"] ?? t["y_test"] {
                return try TaskCatalog.arrays(x: x, y: y, file: url.path, name: name)
            }
            return try unlabeled(x, name: name, file: url.path)
        default:
            throw TransferError.badTask("\(url.path): unsupported input file (use .csv, .tsv, .fasta, .wav or a folder of clips, "
                                        + "an IDX images file, .ts, .arff, .txt, .npy, .npz or .pt)")
        }
    }

    static func unlabeled(_ x: Tensor, name: String, file: String) throws -> LabeledDataset {
        let n = x.shape.first ?? 0
        switch x.rank {
        case 2: return try LabeledDataset(name: name, inputs: .series(x.reshaped(to: [n, 1, x.shape[1]])), targets: .none)
        case 3: return try LabeledDataset(name: name, inputs: .series(x), targets: .none)
        case 4: return try LabeledDataset(name: name, inputs: .fields(x), targets: .none)
        default: throw TransferError.badTask("\(file): x must be [N, L], [N, C, L] or [N, C, H, W], got \(x.shape)")
        }
    }
}
