import Foundation
import MonaData
import MonaTensor

/// The checks every task passes where its data enters the pipeline (TaskCatalog), so that `fit`, `align`,
/// `evaluate` and `bench` all see usable data: no empty split, no zero-length dimension, no NaN or infinity, and
/// a test split whose inputs and targets have the training split's layout. Errors name the file.
extension LoadedTask {
    func checked(trainFile: String, testFile: String) throws -> LoadedTask {
        var task = self
        for (data, file, split) in [(training, trainFile, "training"), (test, testFile, "test")] {
            guard data.count > 0 else { throw DataError(file: file, "the \(split) split has no samples") }
            try data.checkSampleShape(file: file)
            try data.checkFinite(file: file)
        }
        task.test = try LoadedTask.matching(test, to: training, file: testFile)
        return task
    }

    /// `test` with the training split's input and target layout, or an error naming `file`. Integer-valued
    /// regression targets that a loader read as class labels are turned back into values.
    static func matching(_ test: LabeledDataset, to training: LabeledDataset, file: String) throws -> LabeledDataset {
        switch (training.inputs, test.inputs) {
        case (.series(let a), .series(let b)):
            try same(a.shape[1], b.shape[1], "series", "have", "channels", file: file)
        case (.fields(let a), .fields(let b)):
            try same(Array(a.shape.dropFirst()), Array(b.shape.dropFirst()), "fields", "are", "per sample", file: file)
        case (.tokens, .tokens):
            break
        default:
            throw DataError(file: file, "test inputs are \(layoutName(test.inputs)), the training inputs \(layoutName(training.inputs))")
        }
        var test = test
        if case .regression = training.targets, let values = try test.classLabelsAsValues() { test = values }
        switch (training.targets, test.targets) {
        case (.classes, .classes), (_, .none):
            break
        case (.regression(let a), .regression(let b)):
            try same(a.rank == 1 ? 1 : a.shape[1], b.rank == 1 ? 1 : b.shape[1], "targets", "have", "values per sample",
                     file: file)
        case (.multiLabel(let a), .multiLabel(let b)):
            try same(a.shape[1], b.shape[1], "targets", "have", "labels", file: file)
        case (.fields(let a), .fields(let b)):
            try same(Array(a.shape.dropFirst()), Array(b.shape.dropFirst()), "targets", "are", "per sample", file: file)
        default:
            throw DataError(file: file, "test targets are \(layoutName(test.targets)), the training targets \(layoutName(training.targets))")
        }
        return test
    }

    /// Nothing when the test split's per-sample size `test` equals the training split's; else "test `what`
    /// `verb` `test` `unit`, the training `what` `training`", naming `file`.
    private static func same<T: Equatable>(_ training: T, _ test: T, _ what: String, _ verb: String, _ unit: String,
                                           file: String) throws {
        guard training != test else { return }
        throw DataError(file: file, "test \(what) \(verb) \(test) \(unit), the training \(what) \(training)")
    }
}

extension LabeledDataset {
    /// The dataset with integer class labels turned back into the numbers they name (a loader reads integer-valued
    /// targets as classes), or nil when the targets are not classes or a class name is not a number.
    func classLabelsAsValues() throws -> LabeledDataset? {
        guard case .classes(let y, let names) = targets else { return nil }
        let values = names.compactMap(Float.init)
        guard values.count == names.count else { return nil }
        return try LabeledDataset(name: name, inputs: inputs, targets: .regression(Tensor(y.map { values[$0] })))
    }
}

func layoutName(_ inputs: LabeledDataset.Inputs) -> String {
    switch inputs {
    case .series: return "series"
    case .fields: return "fields"
    case .tokens: return "token sequences"
    }
}

func layoutName(_ targets: LabeledDataset.Targets) -> String {
    switch targets {
    case .classes: return "class labels"
    case .multiLabel: return "multi-label rows"
    case .regression: return "regression values"
    case .fields: return "dense fields"
    case .none: return "absent"
    }
}

extension TaskCatalog {
    /// The training and test files `UCRArchive.load` reads for `name` in `directory` (for error messages).
    static func ucrFiles(name: String, directory: URL) -> (train: String, test: String) {
        for ext in UCRArchive.extensions {
            let train = directory.appendingPathComponent("\(name)_TRAIN.\(ext)")
            if FileManager.default.fileExists(atPath: train.path) {
                return (train.path, directory.appendingPathComponent("\(name)_TEST.\(ext)").path)
            }
        }
        return (directory.path, directory.path)
    }
}
