import Foundation
import MonaData
import MonaRunKit

/// What `mona data` reports about a task without training: samples per split and class, the input's shape or
/// length distribution, vocabulary size, missing values and the task type.
public struct DataSummary: Sendable {
    public var task: LoadedTask
    /// The spec the data was read through (nil for catalogue tasks and paths `TaskCatalog` reads itself).
    public var spec: TaskFileSpec?
    public var missingValues: Int
    public var truncatedSequences: Int
    public var unknownTokens: (train: Int, test: Int)
    public var testSource: String

    /// Loads `task` (a known task, data path or spec file) the way `mona fit` would, with `label` the `--label` flag.
    public static func load(_ task: String, label: String?, dataRoot: URL) throws -> DataSummary {
        var config = FitConfig(task: task)
        config = try TaskInference.resolve(config, label: label).config
        if let spec = config.data.spec {
            let d = try spec.load()
            return DataSummary(task: d.task, spec: spec, missingValues: d.missingValues, truncatedSequences: d.truncatedSequences,
                               unknownTokens: d.unknownTokens, testSource: d.testSource)
        }
        let t = try TaskCatalog.load(task, dataRoot: dataRoot)
        let nan = [t.training, t.test].reduce(0) { n, d in n + (d.inputTensor?.scalars.lazy.filter { $0.isNaN }.count ?? 0) }
        return DataSummary(task: t, spec: nil, missingValues: nan, truncatedSequences: 0, unknownTokens: (0, 0),
                           testSource: "the task's own test set")
    }

    /// Per-sample input description: shape, or token length distribution.
    static func inputDescription(_ d: LabeledDataset) -> (text: String, value: RunValue) {
        switch d.inputs {
        case .series(let x):
            let s = Array(x.shape.dropFirst())
            return ("series [C, L] = \(s)", .object([("kind", "series"), ("shape", .array(s.map { RunValue($0) }))]))
        case .fields(let x):
            let s = Array(x.shape.dropFirst())
            return ("fields [C, H, W] = \(s)", .object([("kind", "fields"), ("shape", .array(s.map { RunValue($0) }))]))
        case .tokens(let seqs):
            let lengths = seqs.map(\.count).sorted()
            guard let lo = lengths.first, let hi = lengths.last else { return ("tokens (none)", .object([("kind", "tokens")])) }
            let median = lengths[lengths.count / 2]
            let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
            return (String(format: "tokens, length min %d / median %d / mean %.1f / max %d", lo, median, mean, hi),
                    .object([("kind", "tokens"), ("minLength", RunValue(lo)), ("medianLength", RunValue(median)),
                             ("meanLength", RunValue(mean)), ("maxLength", RunValue(hi))]))
        }
    }

    static func targetDescription(_ d: LabeledDataset) -> String {
        switch d.targets {
        case .classes(_, let names): return "\(names.count) classes"
        case .multiLabel(let y): return "\(y.shape[1]) labels (multi-label)"
        case .regression(let y): return y.rank == 1 ? "1 regression value" : "\(y.shape[1]) regression values"
        case .fields(let y): return "dense target \(Array(y.shape.dropFirst()))"
        case .none: return "no targets"
        }
    }

    /// The report as text lines.
    public var lines: [String] {
        let spec = task.spec
        var out: [String] = []
        out.append("task \(spec.name): \(spec.output.rawValue), loss \(spec.loss.rawValue), metric \(spec.metric.key)"
                   + (self.spec.map { " (\($0.format.rawValue) data)" } ?? ""))
        out.append("samples: train \(task.training.count), test \(task.test.count) (test: \(testSource))")
        if let names = task.training.classNames, let a = task.training.classCounts {
            let b = task.test.classCounts ?? []
            let width = min(24, names.map(\.count).max() ?? 5)
            out.append("classes (train / test):")
            for (k, n) in names.enumerated().prefix(30) {
                out.append("  " + n.padding(toLength: max(width, n.count), withPad: " ", startingAt: 0)
                           + "  \(a[k]) / \(k < b.count ? b[k] : 0)")
            }
            if names.count > 30 { out.append("  … \(names.count - 30) more classes") }
        }
        out.append("input: " + DataSummary.inputDescription(task.training).text)
        if let v = spec.vocabularySize { out.append("vocabulary: \(v) tokens (including <pad> and <unk>)") }
        if unknownTokens.train + unknownTokens.test > 0 {
            out.append("unknown tokens (<unk>): train \(unknownTokens.train), test \(unknownTokens.test)")
        }
        if truncatedSequences > 0 { out.append("sequences cut to input.maxLength: \(truncatedSequences)") }
        out.append("target: " + DataSummary.targetDescription(task.training))
        out.append("missing values: \(missingValues)" + (missingValues > 0 ? " (filled by linear interpolation)" : ""))
        return out
    }

    /// The report as one JSON object.
    public var value: RunValue {
        let spec = task.spec
        var o: [(String, RunValue)] = [("task", .string(spec.name)), ("type", .string(spec.output.rawValue)),
                                       ("loss", .string(spec.loss.rawValue)), ("metric", .string(spec.metric.key)),
                                       ("train", RunValue(task.training.count)), ("test", RunValue(task.test.count)),
                                       ("testSource", .string(testSource)),
                                       ("input", DataSummary.inputDescription(task.training).value),
                                       ("target", .string(DataSummary.targetDescription(task.training))),
                                       ("missingValues", RunValue(missingValues))]
        if let names = task.training.classNames, let a = task.training.classCounts {
            let b = task.test.classCounts ?? []
            o.append(("classes", .array(names.enumerated().map { k, n in
                .object([("name", .string(n)), ("train", RunValue(a[k])), ("test", RunValue(k < b.count ? b[k] : 0))])
            })))
        }
        if let v = spec.vocabularySize { o.append(("vocabularySize", RunValue(v))) }
        if let s = self.spec { o.append(("spec", s.value)) }
        return .object(o)
    }
}
