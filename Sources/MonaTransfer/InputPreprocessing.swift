import Foundation
import MonaData
import MonaRunKit

/// What `mona predict` needs, beyond the weights and `model.json`, to read new files the way the training data
/// was read: the task spec's reading options, the table layout, the token vocabulary and the log-mel settings
/// learnt from (or fixed by) the training files. Written by `mona fit` as `preprocessing.json` in the run
/// directory and in each checkpoint folder (so that a copied checkpoint is self-contained), for tasks read through
/// a task spec (a spec file, a `data:` section, or a data path it inferred one for) and for the catalogue tasks
/// read by their own loaders (`TaskCatalog.preprocessing`). Class names, the input shape and the normalisation
/// statistics are in the checkpoint's `model.json`.
public struct InputPreprocessing: Sendable, Equatable {
    public static let fileName = "preprocessing.json"
    public static let formatTag = "mona-preprocessing"
    /// Bumped when a field changes meaning; a newer file is refused rather than half-understood.
    /// Version 2 added `table.labelsAreIndices` (the catalogue's peptides file).
    public static let currentVersion = 2

    /// The training data's task spec (format, table options, tokenizer, log-mel options, target, label rule).
    public var spec: TaskFileSpec

    /// The columns of a csv/tsv training file.
    public struct Table: Sendable, Equatable {
        /// The header's names (nil: the file had no header row).
        public var header: [String]?
        public var columnCount: Int
        /// Numeric feature columns (series/fields), in the order they fill a sample.
        public var features: [Int]
        /// The sequence column (tokens).
        public var sequence: Int?
        /// The target columns (one class column, or the regression columns).
        public var targets: [Int]
        /// The class column holds class indices 0…K−1 (named by the model's classes), not class names.
        public var labelsAreIndices = false
    }
    public var table: Table?

    /// Tokens by id, `<pad>` and `<unk>` first (tables of sequences and FASTA).
    public var vocabulary: [String]?

    /// The log-mel features of a WAV task, resolved (defaults filled in from the training clips).
    public struct Audio: Sendable, Equatable {
        public var sampleRate: Int
        public var fftSize: Int
        public var windowLength: Int
        public var hopLength: Int
        public var bands: Int
        public var minFrequency: Double
        public var maxFrequency: Double
        /// Frames per clip (cut, or padded with silence).
        public var frames: Int
    }
    public var audio: Audio?

    public init(spec: TaskFileSpec) { self.spec = spec }

    // MARK: Writing

    public var value: RunValue {
        var o: [(String, RunValue)] = [("format", .string(InputPreprocessing.formatTag)),
                                       ("version", .number(Double(InputPreprocessing.currentVersion))),
                                       ("spec", spec.value)]
        func ints(_ a: [Int]) -> RunValue { .array(a.map { .number(Double($0)) }) }
        if let t = table {
            var f: [(String, RunValue)] = []
            if let h = t.header { f.append(("header", .array(h.map { .string($0) }))) }
            f.append(("columnCount", .number(Double(t.columnCount))))
            if !t.features.isEmpty { f.append(("features", ints(t.features))) }
            f.append(("targets", ints(t.targets)))
            if let s = t.sequence { f.append(("sequence", .number(Double(s)))) }
            if t.labelsAreIndices { f.append(("labelsAreIndices", .bool(true))) }
            o.append(("table", .object(f)))
        }
        if let v = vocabulary { o.append(("vocabulary", .array(v.map { .string($0) }))) }
        if let a = audio {
            o.append(("audio", .object([
                ("sampleRate", .number(Double(a.sampleRate))), ("fftSize", .number(Double(a.fftSize))),
                ("windowLength", .number(Double(a.windowLength))), ("hopLength", .number(Double(a.hopLength))),
                ("bands", .number(Double(a.bands))), ("minFrequency", .number(a.minFrequency)),
                ("maxFrequency", .number(a.maxFrequency)), ("frames", .number(Double(a.frames))),
            ])))
        }
        return .object(o)
    }

    /// Writes `preprocessing.json` into `directory` atomically.
    public func write(to directory: URL) throws {
        try AtomicFile.write(value.jsonText(pretty: true) + "\n", to: directory.appendingPathComponent(InputPreprocessing.fileName))
    }

    // MARK: Reading

    /// Files larger than this are not preprocessing records (a vocabulary of a million 8-mers is about 12 MB).
    static let maximumFileSize = 256 << 20

    /// Reads and validates `url`; every error names the file and the field.
    public static func read(_ url: URL) throws -> InputPreprocessing {
        let r = SpecReader(source: url.path)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
        guard let size, size <= maximumFileSize else {
            throw TransferError.badCheckpoint("\(url.path): not a readable file of at most \(maximumFileSize >> 20) MB")
        }
        let root: RunValue
        do {
            root = try RunValue.parse(json: try Data(contentsOf: url))
        } catch {
            throw TransferError.badCheckpoint("\(url.path): not valid JSON (\(error))")
        }
        return try InputPreprocessing(value: root, r, base: url.deletingLastPathComponent())
    }

    init(value: RunValue, _ r: SpecReader, base: URL) throws {
        let o = try r.object(value, "")
        try r.known(o, ["format", "version", "spec", "table", "vocabulary", "audio"], in: "")
        guard o["format"]?.stringValue == InputPreprocessing.formatTag else {
            throw r.error("format", "expected \"\(InputPreprocessing.formatTag)\"")
        }
        guard let version = try r.integer(o["version"], "version", 1...1_000_000) else {
            throw r.error("version", "missing")
        }
        guard version <= InputPreprocessing.currentVersion else {
            throw r.error("version", "\(version) was written by a newer mona; this build reads version \(InputPreprocessing.currentVersion)")
        }
        guard let specValue = o["spec"], !specValue.isNull else { throw r.error("spec", "missing") }
        // The spec's own reader names the file and its fields (`<file>: spec: input.k: …`).
        spec = try TaskFileSpec(value: specValue, source: r.source + ": spec", base: base)
        if let t = o["table"], !t.isNull {
            let to = try r.object(t, "table")
            try r.known(to, ["header", "columnCount", "features", "targets", "sequence", "labelsAreIndices"], in: "table")
            guard let count = try r.integer(to["columnCount"], "table.columnCount", 1...1_000_000) else {
                throw r.error("table.columnCount", "missing")
            }
            func indices(_ key: String, required: Bool) throws -> [Int] {
                guard let list = try r.list(to[key], "table." + key) else {
                    if required { throw r.error("table." + key, "missing") }
                    return []
                }
                return try list.enumerated().map { try r.required(r.integer($1, "table.\(key)[\($0)]", 0...(count - 1)), "table.\(key)[\($0)]") }
            }
            var header: [String]?
            if let h = try r.list(to["header"], "table.header") {
                header = try h.enumerated().map { k, v in
                    guard let s = v.stringValue else { throw r.error("table.header[\(k)]", "expected a column name") }
                    return s
                }
                guard header!.count == count else {
                    throw r.error("table.header", "\(header!.count) names for \(count) columns")
                }
            }
            let features = try indices("features", required: false)
            let targets = try indices("targets", required: true)
            let sequence = try r.integer(to["sequence"], "table.sequence", 0...(count - 1))
            guard (sequence == nil) != features.isEmpty else {
                throw r.error("table", "expected either feature columns or a sequence column")
            }
            let used = features + targets + (sequence.map { [$0] } ?? [])
            guard Set(used).count == used.count else { throw r.error("table", "a column is used twice") }
            table = Table(header: header, columnCount: count, features: features, sequence: sequence, targets: targets)
            if let b = try r.bool(to["labelsAreIndices"], "table.labelsAreIndices") {
                guard !b || targets.count == 1 else { throw r.error("table.labelsAreIndices", "needs exactly one target column") }
                table?.labelsAreIndices = b
            }
        }
        if let v = try r.list(o["vocabulary"], "vocabulary") {
            let words = try v.enumerated().map { k, w -> String in
                guard let s = w.stringValue, !s.isEmpty else { throw r.error("vocabulary[\(k)]", "expected a token") }
                return s
            }
            guard words.count >= 3, words[0] == Vocabulary.paddingToken, words[1] == Vocabulary.unknownToken,
                  Set(words).count == words.count else {
                throw r.error("vocabulary", "expected \(Vocabulary.paddingToken), \(Vocabulary.unknownToken) and distinct tokens")
            }
            vocabulary = words
        }
        if let a = o["audio"], !a.isNull {
            let ao = try r.object(a, "audio")
            let keys = ["sampleRate", "fftSize", "windowLength", "hopLength", "bands", "minFrequency", "maxFrequency", "frames"]
            try r.known(ao, keys, in: "audio")
            func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
                guard let v = try r.integer(ao[key], "audio." + key, range) else { throw r.error("audio." + key, "missing") }
                return v
            }
            func real(_ key: String, _ range: ClosedRange<Double>) throws -> Double {
                guard let v = try r.number(ao[key], "audio." + key, range) else { throw r.error("audio." + key, "missing") }
                return v
            }
            let audio = Audio(sampleRate: try int("sampleRate", 1...1_000_000), fftSize: try int("fftSize", 16...65536),
                              windowLength: try int("windowLength", 2...65536), hopLength: try int("hopLength", 1...(1 << 20)),
                              bands: try int("bands", 1...512), minFrequency: try real("minFrequency", 0...1e6),
                              maxFrequency: try real("maxFrequency", 1...1e6), frames: try int("frames", 1...10_000))
            guard audio.fftSize & (audio.fftSize - 1) == 0, audio.windowLength <= audio.fftSize,
                  audio.minFrequency < audio.maxFrequency, audio.bands * audio.frames <= 1 << 20 else {
                throw r.error("audio", "inconsistent log-mel settings (fftSize a power of two ≥ windowLength, "
                              + "minFrequency < maxFrequency, bands × frames ≤ \(1 << 20))")
            }
            self.audio = audio
        }
        // What each format needs.
        switch spec.format {
        case .csv, .tsv:
            guard table != nil else { throw r.error("table", "missing (the spec reads a \(spec.format.rawValue) table)") }
        case .wav:
            guard audio != nil else { throw r.error("audio", "missing (the spec reads WAV clips)") }
        default:
            break
        }
        if spec.inputType == .tokens && vocabulary == nil {
            throw r.error("vocabulary", "missing (the spec reads token sequences)")
        }
        if let t = table, (t.sequence != nil) != (spec.inputType == .tokens) {
            throw r.error("table.sequence", "a sequence column goes with spec input type tokens, feature columns with the others")
        }
    }

    /// Checks that this record describes the inputs of `model` (read from `file`): the vocabulary size, the
    /// number of features, the log-mel bands and frames.
    func check(against model: ModelSpec, file: String) throws {
        let task = model.task
        func fail(_ field: String, _ message: String) -> TransferError {
            .badCheckpoint("\(file): \(field): \(message) — it does not belong to this checkpoint")
        }
        if task.input == .tokens && vocabulary == nil && (spec.format == .csv || spec.format == .tsv || spec.format == .fasta) {
            throw fail("vocabulary", "missing; the model reads tokens")
        }
        if let v = vocabulary {
            guard task.input == .tokens, task.vocabularySize == v.count else {
                throw fail("vocabulary", "\(v.count) tokens; the model reads \(task.input.rawValue) inputs"
                           + (task.vocabularySize.map { " with a vocabulary of \($0)" } ?? ""))
            }
        }
        if let t = table, !t.features.isEmpty {
            let values = task.sampleShape.reduce(1, *)
            guard task.input != .tokens, values == t.features.count else {
                throw fail("table.features", "\(t.features.count) feature columns; the model reads \(task.sampleShape) per sample")
            }
        }
        if let a = audio {
            guard task.input == .series, task.sampleShape == [a.bands, a.frames] else {
                throw fail("audio", "\(a.bands) bands × \(a.frames) frames; the model reads \(task.input.rawValue) \(task.sampleShape)")
            }
        }
    }

    /// The record saved with `model`: the checkpoint folder's own copy, else the run directory's (`runPath`, or
    /// the run around `checkpoints/<name>`; runs from before checkpoints carried a copy have only that one),
    /// checked against the model; nil when there is none. A checkpoint copy that differs from its run's is
    /// refused: one of them belongs to another run.
    public static func saved(runPath: URL, model: SavedModel) throws -> (InputPreprocessing, URL)? {
        let fm = FileManager.default
        let own = model.source.appendingPathComponent(fileName).standardizedFileURL
        var runCopies = [runPath.appendingPathComponent(fileName)]
        let parent = model.source.deletingLastPathComponent()
        if parent.lastPathComponent == "checkpoints" {
            runCopies.append(parent.deletingLastPathComponent().appendingPathComponent(fileName))
        }
        let runCopy = runCopies.map(\.standardizedFileURL).first { $0 != own && fm.fileExists(atPath: $0.path) }
        let url: URL
        if fm.fileExists(atPath: own.path) {
            if let runCopy, (try? Data(contentsOf: runCopy)) != (try? Data(contentsOf: own)) {
                throw TransferError.badCheckpoint("\(own.path) differs from \(runCopy.path): the checkpoint and the run folder "
                                                  + "record different input settings; remove the copy that does not belong to this checkpoint")
            }
            url = own
        } else if let runCopy {
            url = runCopy
        } else {
            return nil
        }
        let p = try read(url)
        try p.check(against: model.spec, file: url.path)
        return (p, url)
    }
}
