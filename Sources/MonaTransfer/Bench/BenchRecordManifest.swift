import Foundation
import MonaRunKit

/// The shareable record of one finished bench run: `<run>/record/`, a few small files copied out of the run
/// directory plus `record.json` (this manifest), written last. Checkpoints are never part of it, so a bench
/// folder's records can be committed and another machine can continue the suite from them: a cell whose record
/// is complete and whose `config.yaml` decodes to the configuration the suite asks for counts as finished.
///
/// ```
/// runs/<task>/<method>/seed<k>/record/
///   record.json      this manifest: format, cell, outcome summary, the files below with their sizes and hashes
///   config.yaml      the resolved configuration of the run
///   metrics.jsonl    every record of the run (stages, epochs, test, source-knowledge points)
///   timings.json     wall-clock seconds per phase
///   predictions.csv  test predictions, when at most `predictionsLimit` bytes
/// ```
public struct BenchRecordManifest: Codable, Sendable, Equatable {
    public static let folderName = "record"
    public static let fileName = "record.json"
    public static let formatName = "mona-bench-record"
    public static let currentVersion = 1
    /// Copied when present; a run without config.yaml, metrics.jsonl or timings.json cannot be recorded.
    public static let requiredFiles = ["config.yaml", "metrics.jsonl", "timings.json"]
    /// predictions.csv is kept up to this size (a few hundred test samples of a 10-class task is ≈ 60 KB).
    public static let predictionsLimit = 512 * 1024

    /// One file of the record: its name, size and FNV-1a 64-bit hash (hex), so a partly copied record is seen.
    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var fnv1a64: String
    }

    public var format: String
    public var version: Int
    public var task: String
    /// The method name of the suite cell (`expert` for the expert-baseline column) and the method that ran.
    public var method: String
    public var resolvedMethod: String
    public var seed: UInt64
    /// The selection metric on the test split (selected weights) and the test loss.
    public var metric: String
    public var testValue: Double?
    public var testLoss: Double?
    /// Fine-tuning epochs run, the budget, the epoch whose weights were selected, and whether early stopping
    /// ended the run before the budget (the convergence summary of a suite reads these).
    public var epochs: Int?
    public var epochCap: Int
    public var selectedEpoch: Int?
    public var stoppedEarly: Bool
    /// `timings.json` → `total` of the process that finished the run.
    public var seconds: Double?
    /// Whether the run directory's checkpoints were kept (`--keep-checkpoints`) or deleted after the record.
    public var checkpointsKept: Bool
    /// Hash of config.yaml, for a quick look; whether a cell is finished is decided on the decoded configuration.
    public var configHash: String
    public var files: [File]

    /// `<run>/record/`.
    public static func folder(in runDirectory: URL) -> URL {
        runDirectory.appendingPathComponent(folderName, isDirectory: true)
    }

    /// Copies the run's small files into `<run>/record/` and writes the manifest last. Fails when the run has
    /// no test record or a required file is missing.
    @discardableResult
    public static func write(runDirectory: URL, task: String, method: String, config: FitConfig,
                             checkpointsKept: Bool) throws -> BenchRecordManifest {
        let fm = FileManager.default
        guard let summary = BenchRunRecord(directory: runDirectory, readingRecord: false) else {
            throw TransferError.badConfig("cannot record \(runDirectory.path): metrics.jsonl has no test record")
        }
        let folder = folder(in: runDirectory)
        // A previous record (of an older configuration) goes first; its manifest must never outlive it.
        if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        var names = requiredFiles
        let predictions = runDirectory.appendingPathComponent("predictions.csv")
        if let size = try? fm.attributesOfItem(atPath: predictions.path)[.size] as? Int, size <= predictionsLimit {
            names.append("predictions.csv")
        }
        var files: [File] = []
        var configHash = ""
        for name in names {
            let source = runDirectory.appendingPathComponent(name)
            guard let data = fm.contents(atPath: source.path) else {
                throw TransferError.badConfig("cannot record \(runDirectory.path): \(name) is missing")
            }
            try AtomicFile.write(data, to: folder.appendingPathComponent(name))
            let hash = fnv1a64(data)
            if name == "config.yaml" { configHash = hash }
            files.append(File(name: name, bytes: data.count, fnv1a64: hash))
        }
        let epochs = summary.epochs
        let cap = config.training.epochs
        let manifest = BenchRecordManifest(
            format: formatName, version: currentVersion, task: task, method: method, resolvedMethod: config.method.name,
            seed: config.seed, metric: summary.metric, testValue: summary.testValue.isFinite ? summary.testValue : nil,
            testLoss: summary.testLoss, epochs: epochs, epochCap: cap, selectedEpoch: summary.selectedEpoch,
            stoppedEarly: config.training.maxSteps == nil && (epochs ?? cap) < cap, seconds: summary.seconds,
            checkpointsKept: checkpointsKept, configHash: configHash, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest) + Data("\n".utf8), to: folder.appendingPathComponent(fileName))
        return manifest
    }

    /// The manifest of `<run>/record/` when the record is complete: the manifest decodes, is of this format, and
    /// every listed file is there with its size and hash. Nil otherwise (no record, or a partial copy).
    public static func read(runDirectory: URL) -> BenchRecordManifest? {
        let folder = folder(in: runDirectory)
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(fileName).path),
              let manifest = try? JSONDecoder().decode(BenchRecordManifest.self, from: data),
              manifest.format == formatName, manifest.version <= currentVersion,
              requiredFiles.allSatisfy({ name in manifest.files.contains { $0.name == name } })
        else { return nil }
        for file in manifest.files {
            guard !file.name.contains("/"),
                  let bytes = FileManager.default.contents(atPath: folder.appendingPathComponent(file.name).path),
                  bytes.count == file.bytes, fnv1a64(bytes) == file.fnv1a64
            else { return nil }
        }
        return manifest
    }

    /// Whether the record's `config.yaml` is `config` (the output folder aside). Compared decoded, so a saved
    /// file that differs only in formatting or in keys at their defaults still matches.
    public static func recordedConfig(runDirectory: URL) -> FitConfig? {
        let file = folder(in: runDirectory).appendingPathComponent("config.yaml")
        guard let pairs = try? ConfigFile.load(file), var saved = try? FitConfig.saved(pairs: pairs) else { return nil }
        saved.output = nil
        return saved
    }

    public static func matches(runDirectory: URL, config: FitConfig) -> Bool {
        guard let saved = recordedConfig(runDirectory: runDirectory) else { return false }
        var mine = config
        mine.output = nil
        return saved == mine
    }

    /// FNV-1a, 64 bits, as 16 hex digits: a fingerprint against truncated or edited copies, not a security hash.
    public static func fnv1a64(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            for b in raw { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
