import Foundation
import MonaData
import MonaFormats
import MonaTensor

/// Reads the inputs of `mona predict` in any format `mona fit` takes, the way the model's training data was read:
/// tables, FASTA, WAV clips and IDX images through the run's `preprocessing.json` (table layout, vocabulary,
/// log-mel settings); `.ts`, `.arff`, UCR text, `.npy`, `.npz` and `.pt` as arrays (`SavedModel.readInputs`).
/// Targets are optional: a table without the label column, FASTA headers the label rule does not match, WAV
/// clips outside class folders and IDX images without their labels file are read as unlabelled.
public enum PredictionInputs {
    /// The kind of data a path holds, from its name (a folder holds WAV clips).
    enum Kind: Equatable { case table, fasta, wav, idx, arrays }

    static func kind(of url: URL, trainedOn format: TaskFileSpec.Format?) -> Kind {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { return .wav }
        let ext = url.pathExtension.lowercased()
        switch ext {
        case "csv": return .table
        // A .tsv is a UCR file unless the model learnt from a table.
        case "tsv": return format == .csv || format == .tsv ? .table : .arrays
        case "fasta", "fa", "fna", "faa": return .fasta
        case "wav": return .wav
        default: return TaskFileSpec.format(ofPath: url.path) == .idx ? .idx : .arrays
        }
    }

    /// The inputs (and targets, when the file has them) of `url` for `model`, before `SavedModel.prepared`
    /// (which normalises and checks them). `runPath` is the run or checkpoint folder `model` was loaded from.
    /// A token sequence longer than the model reads is an error unless `truncate` (then the model keeps its
    /// first tokens, as training and evaluation did).
    public static func read(_ url: URL, model: SavedModel, runPath: URL, truncate: Bool = false) throws -> LabeledDataset {
        guard FileManager.default.fileExists(atPath: url.path) else { throw TransferError.badTask("\(url.path): no such file or folder") }
        return try read(url, saved: try InputPreprocessing.saved(runPath: runPath, model: model), model: model, runPath: runPath,
                        truncate: truncate)
    }

    static func read(_ url: URL, saved: (InputPreprocessing, URL)?, model: SavedModel, runPath: URL, truncate: Bool,
                     hasHeader: Bool? = nil, labels: URL? = nil) throws -> LabeledDataset {
        let kind = Self.kind(of: url, trainedOn: saved?.0.spec.format)
        if kind == .arrays {
            var d = try SavedModel.readInputs(url)
            // An npy task whose spec reshaped the samples: the same reshape.
            if let p = saved?.0, p.spec.format == .npy, let shape = p.spec.input.shape, let x = d.inputTensor,
               Array(x.shape.dropFirst()).reduce(1, *) == shape.reduce(1, *) {
                let r = x.reshaped(to: [x.shape[0]] + shape)
                d = try d.replacingInputs(shape.count == 3 ? .fields(r) : .series(r))
            }
            return d
        }
        guard let found = saved else {
            throw TransferError.badCheckpoint("\(runPath.path): no \(InputPreprocessing.fileName) (runs trained before mona saved "
                                              + "their input settings cannot read \(describe(kind)) as input; "
                                              + "train again, or give .ts, .arff, .txt, .npy, .npz or .pt inputs)")
        }
        let (p, file) = found
        let trained = p.spec.format
        let expected = Self.kind(of: trained)
        guard kind == expected || (kind == .table && p.table != nil) else {
            throw TransferError.badTask("\(url.path): \(describe(kind)) input, but the model was trained on \(trained.rawValue) data "
                                        + "(\(file.lastPathComponent): spec.format); give \(expected.map(describe) ?? "an array file")")
        }
        let name = url.deletingPathExtension().lastPathComponent
        switch kind {
        case .table, .arrays: return try table(url, p, model: model, name: name, truncate: truncate, hasHeader: hasHeader)
        case .fasta: return try fasta(url, p, model: model, name: name, truncate: truncate)
        case .wav: return try audio(url, p, model: model, name: name)
        case .idx: return try images(url, p, model: model, name: name, labels: labels)
        }
    }

    /// The kind of file a model trained on `format` reads (nil: arrays).
    static func kind(of format: TaskFileSpec.Format) -> Kind? {
        switch format {
        case .csv, .tsv: return .table
        case .fasta: return .fasta
        case .wav: return .wav
        case .idx: return .idx
        case .npy, .npz, .pt, .ucr: return nil
        }
    }

    // MARK: A task spec as input

    /// The inputs named by the task spec `specFile` (the format `mona fit --task` reads, with the same errors):
    /// its `test` files when it names them, else its `train` files, read whole. The spec describes how the file
    /// is laid out — `separator`, `header`, `skipLines`, the FASTA label rule — while everything the model's inputs
    /// depend on (format, input type, tokenizer, k-mers, vocabulary, log-mel settings, columns, shape, scale)
    /// must be left out or equal the training settings in `preprocessing.json`; a field that differs is refused.
    public static func read(specFile: URL, model: SavedModel, runPath: URL, truncate: Bool = false) throws
        -> (data: LabeledDataset, source: String) {
        let given = try TaskFileSpec.load(specFile)
        let files = given.test ?? given.train
        let field = given.test == nil ? "train" : "test"
        let url = URL(fileURLWithPath: files.inputs)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TransferError.badTask("\(specFile.path): \(field): no such file or folder '\(files.inputs)'")
        }
        if let t = files.targets, !FileManager.default.fileExists(atPath: t) {
            throw TransferError.badTask("\(specFile.path): \(field).targets: no such file '\(t)'")
        }
        let saved = try InputPreprocessing.saved(runPath: runPath, model: model)
        // Without saved settings only array files can be read (read() says so for the others).
        guard let found = saved else {
            return (try read(url, saved: nil, model: model, runPath: runPath, truncate: truncate), url.path)
        }
        var p = found.0
        let file = found.1
        try checkSameInputs(given, trained: p, specFile: specFile.path, settingsFile: file.lastPathComponent)
        if let s = given.separator { p.spec.separator = s }
        if let k = given.skipLines { p.spec.skipLines = k }
        if let rule = given.target.rule { p.spec.target.rule = rule }
        let d = try read(url, saved: (p, file), model: model, runPath: runPath, truncate: truncate, hasHeader: given.header,
                         labels: files.targets.map { URL(fileURLWithPath: $0) })
        return (d, url.path)
    }

    /// Refuses a spec field that would make the inputs differ from the training inputs.
    static func checkSameInputs(_ given: TaskFileSpec, trained p: InputPreprocessing, specFile: String, settingsFile: String) throws {
        let t = p.spec
        func refuse(_ field: String, _ value: String, _ was: String) -> TransferError {
            .badTask("\(specFile): \(field): \(value.prefix(60)), but the model was trained with \(was.prefix(60)) (\(settingsFile)); "
                     + "leave it out or give the training value")
        }
        func same<T: Equatable>(_ field: String, _ a: T?, _ b: T?) throws {
            if let a, a != b { throw refuse(field, "\(a)", b.map { "\($0)" } ?? "none") }
        }
        guard kind(of: given.format) == kind(of: t.format) else { throw refuse("format", given.format.rawValue, t.format.rawValue) }
        try same("input.type", given.input.type.map { _ in given.inputType }, t.inputType)
        if given.input.tokenizer != nil || given.input.k != nil || given.input.stride != nil || given.input.uppercase != nil {
            guard given.tokenizer == t.tokenizer else {
                throw refuse("input.tokenizer", "\(given.tokenizer.unit)", "\(t.tokenizer.unit)")
            }
        }
        try same("input.maxLength", given.input.maxLength, t.input.maxLength)
        try same("input.vocabulary", given.input.vocabulary, t.input.vocabulary)
        try same("input.column", given.input.column, t.input.column)
        try same("input.columns", given.input.columns, t.input.columns)
        try same("input.shape", given.input.shape, t.input.shape)
        try same("input.missing", given.input.missing, t.input.missing)
        try same("input.scale", given.input.scale, t.input.scale ?? (t.format == .idx ? 1.0 / 255 : nil))
        try same("target.type", given.target.type, t.target.type)
        try same("target.column", given.target.column, t.target.column)
        try same("target.columns", given.target.columns, t.target.columns)
        if let a = p.audio {
            try same("input.bands", given.input.bands, a.bands)
            try same("input.fftSize", given.input.fftSize, a.fftSize)
            try same("input.windowLength", given.input.windowLength, a.windowLength)
            try same("input.hopLength", given.input.hopLength, a.hopLength)
            try same("input.minFrequency", given.input.minFrequency, a.minFrequency)
            try same("input.maxFrequency", given.input.maxFrequency, a.maxFrequency)
            try same("input.frames", given.input.frames, a.frames)
        }
    }

    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .table: return "a csv/tsv table"
        case .fasta: return "a FASTA file"
        case .wav: return "WAV clips (a .wav file or a folder)"
        case .idx: return "an IDX images file"
        case .arrays: return "an array file"
        }
    }

    // MARK: Tables

    /// `hasHeader`: whether the file's first row names the columns (default: as the training file).
    static func table(_ url: URL, _ p: InputPreprocessing, model: SavedModel, name: String, truncate: Bool,
                      hasHeader: Bool? = nil) throws -> LabeledDataset {
        let spec = p.spec, file = url.path
        guard let layout = p.table else { throw TransferError.badCheckpoint("\(InputPreprocessing.fileName): table: missing") }
        let separator: Character = spec.separator?.first ?? (url.pathExtension.lowercased() == "tsv" ? "\t" : ",")
        let header = hasHeader ?? (layout.header != nil)
        let t: CSVTable
        do {
            t = try CSVTable.read(url, separator: separator, hasHeader: header, skipLines: spec.skipLines ?? 0)
        } catch let e as DataError where spec.skipLines == nil && e.line == 2 && e.message.contains("fields, expected") {
            // A first line of another width (`5200,1,UniProt,AMP` above `SEQUENCE,label` rows) is metadata, as
            // when the task was inferred from its training file.
            t = try CSVTable.read(url, separator: separator, hasHeader: header, skipLines: 1)
        }
        guard !t.rows.isEmpty else { throw DataError(file: file, "no data rows") }
        func columnName(_ c: Int) -> String { layout.header?[c] ?? String(c) }
        // Where each training column is in this file.
        var position: [Int: Int] = [:]
        let withoutTargets = (0..<layout.columnCount).filter { !layout.targets.contains($0) }
        if let trainedHeader = layout.header, let header = t.header {
            for (i, n) in header.enumerated() {
                guard let k = trainedHeader.firstIndex(of: n) else {
                    throw DataError(file: file, line: 1 + (spec.skipLines ?? 0),
                                    "column \(quotedName(n)) is not a column of the training data (\(trainedHeader.joined(separator: ", ")))")
                }
                guard position[k] == nil else { throw DataError(file: file, line: 1 + (spec.skipLines ?? 0), "column \(quotedName(n)) appears twice") }
                position[k] = i
            }
        } else if t.columnCount == layout.columnCount {
            for c in 0..<layout.columnCount { position[c] = c }
        } else if t.columnCount == withoutTargets.count {
            for (j, c) in withoutTargets.enumerated() { position[c] = j }
        } else {
            throw DataError(file: file, "\(t.columnCount) columns; the training data had \(layout.columnCount) "
                            + "(\(withoutTargets.count) without the target column\(layout.targets.count == 1 ? "" : "s"))")
        }
        let needed = layout.sequence.map { [$0] } ?? layout.features
        if let missing = needed.first(where: { position[$0] == nil }) {
            throw DataError(file: file, "no column \(quotedName(columnName(missing))); the model reads "
                            + needed.map { columnName($0) }.joined(separator: ", "))
        }
        let present = layout.targets.filter { position[$0] != nil }
        var targets: LabeledDataset.Targets = .none
        if !present.isEmpty {
            guard present.count == layout.targets.count else {
                throw DataError(file: file, "only some of the target columns (\(layout.targets.map { columnName($0) }.joined(separator: ", "))) are present")
            }
            let type = spec.target.type ?? .classification
            if layout.labelsAreIndices, let names = model.spec.task.classNames {
                let c = position[layout.targets[0]]!
                targets = .classes(try zip(t.rows, t.rowLines).map { row, line in
                    let s = TaskFileSpec.canonicalLabel(row[c])
                    guard let k = Int(s), names.indices.contains(k) else {
                        throw DataError(file: file, line: line, "class index '\(s.prefix(40))' is not in 0...\(names.count - 1) "
                                        + "(\(names.prefix(20).joined(separator: ", ")))")
                    }
                    return k
                }, names: names)
            } else {
                targets = try spec.targets(t, columns: layout.targets.map { position[$0]! }, type: type,
                                           names: type == .regression ? nil : model.spec.task.classNames).targets
            }
        }
        if let column = layout.sequence {
            let c = position[column]!
            let sequences = try zip(t.rows, t.rowLines).map { row, line -> String in
                guard !row[c].isEmpty else { throw DataError(file: file, line: line, "empty sequence") }
                return row[c]
            }
            let ids = try encode(sequences, lines: t.rowLines, file: file, p, model: model, truncate: truncate)
            return try LabeledDataset(name: name, inputs: .tokens(ids), targets: targets)
        }
        var missing = 0
        let shape = try spec.sampleShape(featureCount: layout.features.count)
        let inputs = try spec.numericInputs(t, layout.features.map { position[$0]! }, shape, &missing)
        return try LabeledDataset(name: name, inputs: inputs, targets: targets)
    }

    static func quotedName(_ s: String) -> String { "'\(s.prefix(60))'" }

    // MARK: Tokens

    /// Token ids of `sequences` with the training tokenizer and vocabulary: a token the vocabulary lacks becomes
    /// `<unk>` (id 1), as in training; `input.maxLength` cuts as in training; a sequence still longer than the
    /// model reads is an error unless `truncate`.
    static func encode(_ sequences: [String], lines: [Int], file: String, _ p: InputPreprocessing, model: SavedModel,
                       truncate: Bool) throws -> [[Int]] {
        guard let words = p.vocabulary else { throw TransferError.badCheckpoint("\(InputPreprocessing.fileName): vocabulary: missing") }
        let vocabulary = Vocabulary(Array(words.dropFirst(2)))
        let tokenizer = p.spec.tokenizer
        let limit = min(model.spec.task.sampleShape.first ?? 1, model.spec.maxTokens)
        return try zip(sequences, lines).map { s, line in
            let tokens = tokenizer.tokens(s)
            guard !tokens.isEmpty else {
                throw DataError(file: file, line: line, "sequence of \(s.count) letters gives no \(p.spec.input.k ?? 1)-mer")
            }
            var ids = vocabulary.encode(tokens)
            if let m = p.spec.input.maxLength, ids.count > m { ids = Array(ids.prefix(m)) }
            if ids.count > limit && !truncate {
                throw DataError(file: file, line: line, "the sequence has \(ids.count) tokens; the model reads at most \(limit) "
                                + "(its longest training sequence, capped by model.maxTokens); pass --truncate to keep the "
                                + "first \(limit), as training and evaluation do")
            }
            return ids
        }
    }

    // MARK: FASTA

    static func fasta(_ url: URL, _ p: InputPreprocessing, model: SavedModel, name: String, truncate: Bool) throws -> LabeledDataset {
        let records = try FASTAFile.read(url)
        let ids = try encode(records.map(\.sequence), lines: records.map(\.line), file: url.path, p, model: model, truncate: truncate)
        // Labels when the training rule gives a training class for every header; otherwise unlabelled.
        var targets: LabeledDataset.Targets = .none
        if let text = p.spec.target.rule, let names = model.spec.task.classNames,
           let rule = try? TaskFileSpec.labelRule(text, field: "target.rule", source: url.path),
           let labels = try? FASTAFile.labels(of: records, rule: rule, file: url.path) {
            var index: [String: Int] = [:]
            for (k, n) in names.enumerated() where index[n] == nil { index[n] = k }
            let ys = labels.compactMap { index[$0] }
            if ys.count == labels.count { targets = .classes(ys, names: names) }
        }
        return try LabeledDataset(name: name, inputs: .tokens(ids), targets: targets)
    }

    // MARK: WAV

    /// A .wav file, a folder of .wav files (unlabelled), or a folder of class folders of .wav files (labelled).
    static func audio(_ url: URL, _ p: InputPreprocessing, model: SavedModel, name: String) throws -> LabeledDataset {
        guard let a = p.audio else { throw TransferError.badCheckpoint("\(InputPreprocessing.fileName): audio: missing") }
        let names = model.spec.task.classNames ?? ["?"]
        var files: [(url: URL, label: String)]
        var labelled = false
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            files = try TaskFileSpec.audioFiles(in: url)
            if files.isEmpty {
                files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                    .filter { $0.pathExtension.lowercased() == "wav" }
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
                    .map { (url: $0, label: names[0]) }
                guard !files.isEmpty else {
                    throw DataError(file: url.path, "no .wav files (expected clips, or class folders of clips)")
                }
            } else {
                labelled = true
                if let unknown = files.first(where: { !names.contains($0.label) }) {
                    throw DataError(file: unknown.url.deletingLastPathComponent().path,
                                    "class folder \(quotedName(unknown.label)) is not a training class (\(names.joined(separator: ", "))); "
                                    + "put unlabelled clips directly in the folder")
                }
            }
        } else {
            files = [(url: url, label: names[0])]
        }
        let features: LogMelSpectrogram
        do {
            features = try LogMelSpectrogram(sampleRate: a.sampleRate, fftSize: a.fftSize, windowLength: a.windowLength,
                                             hopLength: a.hopLength, melBands: a.bands, minFrequency: a.minFrequency,
                                             maxFrequency: a.maxFrequency)
        } catch {
            throw TransferError.badCheckpoint("\(InputPreprocessing.fileName): audio: \(error)")
        }
        let d = try TaskFileSpec.logMelSeries(name: name, files: files, classNames: names, features: features, frames: a.frames)
        return labelled ? d : try LabeledDataset(name: name, inputs: d.inputs, targets: .none)
    }

    // MARK: IDX

    /// An images file, with its labels file (`…-labels-idx1-ubyte` beside it) when there is one.
    /// `labels`: the labels file a task spec names (default: found by name).
    static func images(_ url: URL, _ p: InputPreprocessing, model: SavedModel, name: String, labels given: URL? = nil) throws -> LabeledDataset {
        let scale = Float(p.spec.input.scale ?? 1.0 / 255)
        let fileName = url.lastPathComponent
        guard !fileName.contains("labels") else {
            throw DataError(file: url.path, "a labels file; give the images file (…-images-idx3-ubyte)")
        }
        let labels = given ?? url.deletingLastPathComponent().appendingPathComponent(
            fileName.replacingOccurrences(of: "images", with: "labels").replacingOccurrences(of: "idx3", with: "idx1"))
        if labels != url, FileManager.default.fileExists(atPath: labels.path) {
            return try IDXFile.imageClassification(images: url, labels: labels, classNames: model.spec.task.classNames,
                                                   scale: scale, name: name)
        }
        let x = try IDXFile.read(url)
        guard x.shape.count == 3 || x.shape.count == 4 else {
            throw DataError(file: url.path, "images must be [N, H, W] or [N, C, H, W], got \(x.shape)")
        }
        let shape = x.shape.count == 3 ? [x.shape[0], 1, x.shape[1], x.shape[2]] : x.shape
        return try LabeledDataset(name: name, inputs: .fields(x.values.reshaped(to: shape) * scale), targets: .none)
    }
}
