import Foundation
import MonaData
import MonaFormats
import MonaTensor

/// A task read through a `TaskFileSpec`, with what `mona data` reports beyond the datasets themselves.
public struct TaskFileData: Sendable {
    public var task: LoadedTask
    /// Missing numeric values found (and filled by interpolation; with `missing: error` the load fails instead).
    public var missingValues = 0
    /// Sequences cut to `input.maxLength`.
    public var truncatedSequences = 0
    /// Tokens mapped to `<unk>`, per split (train, test).
    public var unknownTokens: (train: Int, test: Int) = (0, 0)
    /// How the test set came about.
    public var testSource = ""
    /// What prediction needs to read new files the same way (saved by `mona fit` as preprocessing.json).
    public var preprocessing: InputPreprocessing?
}

extension TaskFileSpec {
    /// Loads the task's training and test sets. Errors name the spec field or the data file (with its line).
    public func load() throws -> TaskFileData {
        let paths: [(String, String?)] = [("train", train.inputs), ("train.targets", train.targets), ("test", test?.inputs),
                                          ("test.targets", test?.targets), ("input.vocabulary", input.vocabulary)]
        for (field, path) in paths {
            guard let path else { continue }
            guard FileManager.default.fileExists(atPath: path) else {
                throw TransferError.badTask("\(origin): \(field): no such file or folder: \(path)")
            }
        }
        do {
            var data: TaskFileData
            switch format {
            case .csv, .tsv: data = try loadTable()
            case .fasta: data = try loadFASTA()
            case .wav: data = try loadAudio()
            case .npy: data = try loadArrays()
            case .idx: data = try loadImages()
            case .npz:
                data = TaskFileData(task: try TaskCatalog.npz(URL(fileURLWithPath: train.inputs), taskName: taskName))
                data.testSource = "x_test, y_test of the same file"
            case .pt:
                data = TaskFileData(task: try TaskCatalog.torchPair(train: URL(fileURLWithPath: train.inputs),
                                                                     test: URL(fileURLWithPath: test?.inputs ?? ""),
                                                                     taskName: taskName))
                data.testSource = "test file"
            case .ucr:
                data = TaskFileData(task: try ucrTask())
                data.testSource = "_TEST file"
            }
            data.task.spec = try finishedSpec(data.task)
            var p = data.preprocessing ?? InputPreprocessing(spec: self)
            p.spec = self
            data.preprocessing = p
            // The same checks as every other task source: no empty split or zero-length dimension, no NaN or
            // infinity, a test split laid out like the training split.
            data.task = try data.task.checked(trainFile: train.inputs, testFile: test?.inputs ?? train.inputs)
            return data
        } catch let e as TransferError {
            throw e
        } catch {
            throw TransferError.badTask("\(error)")
        }
    }

    /// Where the spec came from, for messages.
    var origin: String { "task '\(from ?? taskName)'" }

    func fail(_ field: String, _ message: String) -> TransferError { .badTask("\(origin): \(field): \(message)") }

    /// The inferred task spec with the chosen metric first.
    func finishedSpec(_ task: LoadedTask) throws -> TaskSpec {
        guard task.training.count >= 2 else {
            throw fail("train", "\(task.training.count) training sample(s); at least 2 are needed")
        }
        guard task.test.count >= 1 else { throw fail("test", "the test set is empty") }
        var spec = try TaskSpec.inferred(name: taskName, training: task.training, vocabularySize: task.spec.vocabularySize)
        spec.metric = task.spec.metric
        spec.reportedMetrics = task.spec.reportedMetrics
        if let metric {
            let fits: Bool
            switch spec.output {
            case .classification: fits = [.accuracy, .errorRate, .macroF1, .auroc].contains(metric)
            case .multiLabel: fits = metric == .meanAveragePrecision
            case .regression, .dense1D, .dense2D: fits = [.mse, .rmse, .nrmse, .relativeL2].contains(metric)
            }
            guard fits else { throw fail("metric", "\(metric.key) does not score a \(spec.output.rawValue) task") }
            spec.metric = metric
            spec.reportedMetrics = [metric] + spec.reportedMetrics.filter { $0 != metric }
        }
        return spec
    }

    // MARK: Tables

    var separatorCharacter: Character { separator?.first ?? (format == .tsv ? "\t" : ",") }

    func loadTable() throws -> TaskFileData {
        let hasHeader = header ?? true
        let skip = skipLines ?? 0
        let trainTable = try CSVTable.read(URL(fileURLWithPath: train.inputs), separator: separatorCharacter,
                                           hasHeader: hasHeader, skipLines: skip)
        let testTable = try test.map {
            try CSVTable.read(URL(fileURLWithPath: $0.inputs), separator: separatorCharacter, hasHeader: hasHeader, skipLines: skip)
        }
        guard trainTable.rows.count >= 2 else { throw fail("train", "\(train.inputs) has \(trainTable.rows.count) data row(s)") }
        if let t = testTable {
            guard t.columnCount == trainTable.columnCount, t.header == trainTable.header else {
                throw fail("test", "\(t.file) must have the training file's columns (\(trainTable.header ?? ["\(trainTable.columnCount) columns"]))")
            }
        }
        let type = target.type ?? .classification
        let targetColumns: [Int]
        if type == .regression {
            targetColumns = try (target.columns ?? [target.column ?? defaultLabelColumn(trainTable)]).enumerated().map {
                try position($1, in: trainTable, field: "target.columns[\($0)]")
            }
        } else {
            targetColumns = [try position(target.column ?? defaultLabelColumn(trainTable), in: trainTable, field: "target.column")]
        }
        let others = (0..<trainTable.columnCount).filter { !targetColumns.contains($0) }
        var data: TaskFileData
        var sequenceColumn: Int?, featureColumns: [Int] = []
        if inputType == .tokens {
            let column: Int
            if let c = input.column {
                column = try position(c, in: trainTable, field: "input.column")
            } else {
                guard others.count == 1 else {
                    throw fail("input.column", "missing; the table has \(others.count) columns besides the target, name the sequence column")
                }
                column = others[0]
            }
            if targetColumns.contains(column) { throw fail("input.column", "is also the target column") }
            sequenceColumn = column
            func sequences(_ t: CSVTable) throws -> [String] {
                try zip(t.rows, t.rowLines).map { row, line -> String in
                    guard !row[column].isEmpty else { throw DataError(file: t.file, line: line, "empty sequence") }
                    return row[column]
                }
            }
            let trainTargets = try targets(trainTable, columns: targetColumns, type: type, names: nil)
            let testTargets = try testTable.map { try targets($0, columns: targetColumns, type: type, names: trainTargets.names) }
            data = try tokenTask(train: (try sequences(trainTable), trainTargets.targets, trainTable.rowLines, trainTable.file),
                                 test: try testTable.map { t -> SequencePart in (try sequences(t), testTargets!.targets, t.rowLines, t.file) })
        } else {
            let features = try input.columns.map { cols in
                try cols.enumerated().map { try position($1, in: trainTable, field: "input.columns[\($0)]") }
            } ?? others
            guard !features.isEmpty else { throw fail("input.columns", "no feature columns left besides the target") }
            if let c = features.first(where: { targetColumns.contains($0) }) {
                throw fail("input.columns", "column \(c) is also a target column")
            }
            featureColumns = features
            let shape = try sampleShape(featureCount: features.count)
            var missing = 0
            let trainTargets = try targets(trainTable, columns: targetColumns, type: type, names: nil)
            let trainSet = try LabeledDataset(name: taskName, inputs: try numericInputs(trainTable, features, shape, &missing),
                                              targets: trainTargets.targets)
            var testSet: LabeledDataset?
            if let t = testTable {
                testSet = try LabeledDataset(name: taskName, inputs: try numericInputs(t, features, shape, &missing),
                                             targets: try targets(t, columns: targetColumns, type: type, names: trainTargets.names).targets)
            }
            data = try splitTask(trainSet, testSet)
            data.missingValues = missing
        }
        var p = data.preprocessing ?? InputPreprocessing(spec: self)
        p.table = .init(header: trainTable.header, columnCount: trainTable.columnCount,
                        features: featureColumns, sequence: sequenceColumn, targets: targetColumns)
        data.preprocessing = p
        return data
    }

    /// The column named `label` (any case), else the last one.
    func defaultLabelColumn(_ t: CSVTable) -> String {
        if let h = t.header, let i = h.firstIndex(where: { $0.lowercased() == "label" }) { return h[i] }
        return String(t.columnCount - 1)
    }

    /// A column by header name, else by 0-based index.
    func position(_ column: String, in t: CSVTable, field: String) throws -> Int {
        if let h = t.header, let i = h.firstIndex(of: column) { return i }
        if let i = Int(column), i >= 0, i < t.columnCount { return i }
        let known = t.header.map { "columns: " + $0.joined(separator: ", ") } ?? "the file has \(t.columnCount) columns (0-based indices)"
        throw fail(field, "no column '\(column.prefix(40))' in \(t.file); \(known)")
    }

    func sampleShape(featureCount f: Int) throws -> [Int] {
        guard let shape = input.shape else { return inputType == .fields ? [1, 1, f] : [1, f] }
        var product = 1
        for d in shape {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("input.shape", "\(shape) is too large") }
            product = p
        }
        guard product == f else { throw fail("input.shape", "\(shape) holds \(product) values but there are \(f) feature columns") }
        if inputType == .fields && shape.count != 3 { throw fail("input.shape", "fields need [C, H, W], got \(shape)") }
        if inputType == .series && shape.count != 2 { throw fail("input.shape", "series need [C, L], got \(shape)") }
        return shape
    }

    static let missingMarkers: Set<String> = ["", "?", "na", "n/a", "nan", "null"]

    /// Feature columns as series [N, C, L] or fields [N, C, H, W]; missing values filled along each row of the
    /// last axis when `input.missing` is `interpolate`.
    func numericInputs(_ t: CSVTable, _ features: [Int], _ shape: [Int], _ missing: inout Int) throws -> LabeledDataset.Inputs {
        let f = features.count, n = t.rows.count
        var flat = [Float](repeating: 0, count: n * f)
        let interpolate = input.missing != .error
        for (i, row) in t.rows.enumerated() {
            for (j, p) in features.enumerated() {
                let cell = row[p]
                if TaskFileSpec.missingMarkers.contains(cell.lowercased()) {
                    guard interpolate else {
                        throw DataError(file: t.file, line: t.rowLines[i],
                                        "missing value in column \(t.header?[p] ?? String(p)) (input.missing: error)")
                    }
                    missing += 1
                    flat[i * f + j] = .nan
                    continue
                }
                guard let v = Float(cell), v.isFinite else {
                    throw DataError(file: t.file, line: t.rowLines[i],
                                    "column \(t.header?[p] ?? String(p)): '\(cell.prefix(40))' is not a finite number")
                }
                flat[i * f + j] = v
            }
        }
        if missing > 0 {
            let run = shape.last!
            for (r, start) in stride(from: 0, to: flat.count, by: run).enumerated() {
                guard fillMissing(&flat, start, run) else {
                    throw DataError(file: t.file, line: t.rowLines[r * run / f], "a channel has only missing values")
                }
            }
        }
        let x = Tensor(flat, shape: [n] + shape)
        return shape.count == 3 ? .fields(x) : .series(x)
    }

    /// Linear interpolation of NaNs in `v[start..<start+count]`; edges take the nearest observed value.
    /// False when every value is missing.
    func fillMissing(_ v: inout [Float], _ start: Int, _ count: Int) -> Bool {
        let observed = (start..<(start + count)).filter { !v[$0].isNaN }
        guard let first = observed.first, let last = observed.last else { return false }
        for i in start..<first { v[i] = v[first] }
        for i in (last + 1)..<(start + count) { v[i] = v[last] }
        for (a, b) in zip(observed, observed.dropFirst()) where b > a + 1 {
            for i in (a + 1)..<b { v[i] = v[a] + (v[b] - v[a]) * Float(i - a) / Float(b - a) }
        }
        return true
    }

    /// Targets of a table: class labels (in `names` when given — a test file — else the training classes) or
    /// regression values.
    func targets(_ t: CSVTable, columns: [Int], type: TargetType, names: [String]?) throws
        -> (targets: LabeledDataset.Targets, names: [String]?) {
        if type == .regression {
            var values: [Float] = []
            for (i, row) in t.rows.enumerated() {
                for c in columns {
                    guard let v = Float(row[c]), v.isFinite else {
                        throw DataError(file: t.file, line: t.rowLines[i],
                                        "target column \(t.header?[c] ?? String(c)): '\(row[c].prefix(40))' is not a finite number")
                    }
                    values.append(v)
                }
            }
            let y = columns.count == 1 ? Tensor(values) : Tensor(values, shape: [t.rows.count, columns.count])
            return (.regression(y), nil)
        }
        let raw = t.rows.map { TaskFileSpec.canonicalLabel($0[columns[0]]) }
        let lines = t.rowLines
        return try classTargets(raw, names: names, file: t.file, lines: lines)
    }

    /// Class labels as indices of `names` (given), or of `target.classes`, or of the sorted distinct labels.
    func classTargets(_ raw: [String], names given: [String]?, file: String, lines: [Int]) throws
        -> (targets: LabeledDataset.Targets, names: [String]?) {
        let names = given ?? target.classes ?? TaskFileSpec.sortedNames(Set(raw))
        var index: [String: Int] = [:]
        for (k, s) in names.enumerated() where index[s] == nil { index[s] = k }
        let y = try raw.enumerated().map { i, s -> Int in
            guard !s.isEmpty else { throw DataError(file: file, line: lines[i], "empty class label") }
            guard let k = index[s] else {
                throw DataError(file: file, line: lines[i], "class '\(s.prefix(40))' is not among the training classes \(names.prefix(20))")
            }
            return k
        }
        return (.classes(y, names: names), names)
    }

    static func canonicalLabel(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return t
    }

    /// Numerically when every name is a number, else lexicographically.
    static func sortedNames(_ names: Set<String>) -> [String] {
        let numeric = names.compactMap { s in Double(s).map { ($0, s) } }
        if numeric.count == names.count { return numeric.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1) }
        return names.sorted()
    }

    // MARK: Splits

    /// Training set and test set: the test file's, or a seeded split of the training file.
    func splitTask(_ all: LabeledDataset, _ testFile: LabeledDataset?) throws -> TaskFileData {
        if let testFile {
            var data = TaskFileData(task: LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: all),
                                                     training: all, test: try TaskCatalog.alignClasses(testFile, to: all, file: test?.inputs ?? "the test file")))
            data.testSource = "test file"
            return data
        }
        let (trainRows, testRows) = try splitRows(all)
        var train = all.subset(trainRows), test = all.subset(testRows)
        train.name = taskName
        test.name = taskName
        var data = TaskFileData(task: LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: train),
                                                 training: train, test: test))
        data.testSource = splitDescription
        return data
    }

    var splitDescription: String {
        let rule = effectiveSplit ?? SplitRule()
        let how = target.type == .regression || target.type == .dense ? "random" : "stratified by class"
        let seed = rule.seed == TaskCatalog.splitSeed ? "the fixed split seed" : "seed \(rule.seed)"
        return String(format: "%.0f%% of train", rule.testFraction * 100) + ", \(how), \(seed)"
    }

    func splitRows(_ all: LabeledDataset) throws -> (train: [Int], test: [Int]) {
        let rule = effectiveSplit ?? SplitRule()
        let parts = try all.labels.map { try Split.stratified(labels: $0, validationFraction: rule.testFraction, seed: rule.seed) }
            ?? (try Split.random(count: all.count, validationFraction: rule.testFraction, seed: rule.seed))
        guard !parts.validation.isEmpty, !parts.train.isEmpty else {
            throw fail("split", "\(all.count) samples are too few to split off a test set; give a test file")
        }
        return (parts.train, parts.validation)
    }

    // MARK: Tokens (tables and FASTA)

    var tokenizer: SequenceTokenizer {
        let unit: SequenceTokenizer.Unit = input.tokenizer == .kmers
            ? .kmer(k: input.k ?? 3, stride: input.stride ?? input.k ?? 3) : .character
        return SequenceTokenizer(unit, uppercase: input.uppercase ?? true)
    }

    typealias SequencePart = (sequences: [String], targets: LabeledDataset.Targets, lines: [Int], file: String)

    /// Tokenises both parts, splits when there is no test part, builds the vocabulary (from the vocabulary
    /// file, or from the training split only) and encodes.
    func tokenTask(train: SequencePart, test: SequencePart?) throws -> TaskFileData {
        let tok = tokenizer
        func tokens(_ p: SequencePart) throws -> [[String]] {
            try zip(p.sequences, p.lines).map { s, line in
                let t = tok.tokens(s)
                guard !t.isEmpty else {
                    throw DataError(file: p.file, line: line, "sequence of \(s.count) letters gives no \(input.k ?? 1)-mer")
                }
                return t
            }
        }
        let trainTokens = try tokens(train)
        // Row indices stand in for the tokens until the split is known.
        let all = try LabeledDataset(name: taskName, inputs: .tokens((0..<trainTokens.count).map { [$0] }), targets: train.targets)
        var trainSet = all, testSet: LabeledDataset, testTokens: [[String]], trainRows = Array(0..<trainTokens.count)
        var testSource = "test file"
        if let test {
            testTokens = try tokens(test)
            testSet = try LabeledDataset(name: taskName, inputs: .tokens((0..<testTokens.count).map { [$0] }), targets: test.targets)
        } else {
            let (a, b) = try splitRows(all)
            trainRows = a
            trainSet = all.subset(a)
            testSet = all.subset(b)
            testTokens = b.map { trainTokens[$0] }
            testSource = splitDescription
        }
        let usedTrain = trainRows.map { trainTokens[$0] }
        let vocabulary: Vocabulary
        if let file = input.vocabulary {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw fail("input.vocabulary", "cannot read \(file) as UTF-8 text")
            }
            let words = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !words.isEmpty, words.count <= 10_000_000 else { throw fail("input.vocabulary", "\(file) holds no tokens (one per line)") }
            vocabulary = Vocabulary(words)
        } else {
            vocabulary = Vocabulary.built(from: usedTrain)
        }
        var truncated = 0
        var unknown = (train: 0, test: 0)
        func encode(_ seqs: [[String]], unknownCount: inout Int) -> [[Int]] {
            seqs.map { s in
                var ids = vocabulary.encode(s)
                unknownCount += ids.lazy.filter { $0 == Vocabulary.unknownID }.count
                if let m = input.maxLength, ids.count > m { ids = Array(ids.prefix(m)); truncated += 1 }
                return ids
            }
        }
        let trainIDs = encode(usedTrain, unknownCount: &unknown.train)
        let testIDs = encode(testTokens, unknownCount: &unknown.test)
        var training = try trainSet.replacingInputs(.tokens(trainIDs))
        var testing = try TaskCatalog.alignClasses(try testSet.replacingInputs(.tokens(testIDs)), to: training, file: test?.file ?? "the test file")
        training.name = taskName
        testing.name = taskName
        var data = TaskFileData(task: LoadedTask(spec: try TaskSpec.inferred(name: taskName, training: training,
                                                                            vocabularySize: vocabulary.count),
                                                 training: training, test: testing))
        data.truncatedSequences = truncated
        data.unknownTokens = unknown
        data.testSource = testSource
        var p = InputPreprocessing(spec: self)
        p.vocabulary = vocabulary.tokens
        data.preprocessing = p
        return data
    }

    // MARK: FASTA

    func loadFASTA() throws -> TaskFileData {
        let rule = try TaskFileSpec.labelRule(target.rule ?? "", field: "target.rule", source: origin)
        func part(_ path: String, names: [String]?) throws -> (SequencePart, [String]?) {
            let records = try FASTAFile.read(URL(fileURLWithPath: path))
            let labels = try FASTAFile.labels(of: records, rule: rule, file: path)
            let t = try classTargets(labels, names: names, file: path, lines: records.map(\.line))
            let p: SequencePart = (records.map(\.sequence), t.targets, records.map(\.line), path)
            return (p, t.names)
        }
        let (trainPart, names) = try part(train.inputs, names: nil)
        let testPart = try test.map { try part($0.inputs, names: names).0 }
        return try tokenTask(train: trainPart, test: testPart)
    }

    // MARK: WAV folders

    /// `<folder>/<class>/*.wav`, or `<folder>/train/<class>/*.wav` with `<folder>/test/<class>/*.wav`.
    static func audioFiles(in folder: URL) throws -> [(url: URL, label: String)] {
        let fm = FileManager.default
        let classes = try fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        var out: [(url: URL, label: String)] = []
        for c in classes {
            let files = try fm.contentsOfDirectory(at: c, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension.lowercased() == "wav" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            out += files.map { (url: $0, label: c.lastPathComponent) }
        }
        return out
    }

    func loadAudio() throws -> TaskFileData {
        let trainFiles = try TaskFileSpec.audioFiles(in: URL(fileURLWithPath: train.inputs))
        guard !trainFiles.isEmpty else {
            throw fail("train", "\(train.inputs) holds no class sub-folders with .wav files (<folder>/<class>/*.wav)")
        }
        let testFiles = try test.map { try TaskFileSpec.audioFiles(in: URL(fileURLWithPath: $0.inputs)) }
        if let t = testFiles, t.isEmpty { throw fail("test", "\(test!.inputs) holds no class sub-folders with .wav files") }
        let rate = try WAVFile.read(trainFiles[0].url).sampleRate
        let fft = input.fftSize ?? TaskFileSpec.defaultFFTSize(sampleRate: rate)
        let features: LogMelSpectrogram
        do {
            features = try LogMelSpectrogram(sampleRate: rate, fftSize: fft, windowLength: input.windowLength ?? min(fft, max(2, rate / 40)),
                                             hopLength: input.hopLength ?? max(1, rate / 100), melBands: input.bands ?? 40,
                                             minFrequency: input.minFrequency ?? 0, maxFrequency: input.maxFrequency)
        } catch {
            throw fail("input", "log-mel options for \(rate) Hz audio: \(error)")
        }
        let names = target.classes ?? TaskFileSpec.sortedNames(Set(trainFiles.map(\.label)))
        func dataset(_ files: [(url: URL, label: String)], frames: Int?) throws -> LabeledDataset {
            try TaskFileSpec.logMelSeries(name: taskName, files: files, classNames: names, features: features, frames: frames)
        }
        let all = try dataset(trainFiles, frames: input.frames)
        let frames = all.inputTensor!.shape[2]
        var data = try splitTask(all, try testFiles.map { try dataset($0, frames: frames) })
        var p = InputPreprocessing(spec: self)
        p.audio = .init(sampleRate: rate, fftSize: features.fftSize, windowLength: features.windowLength,
                        hopLength: features.hopLength, bands: features.melBands, minFrequency: features.minFrequency,
                        maxFrequency: features.maxFrequency, frames: frames)
        data.preprocessing = p
        return data
    }

    /// Log-mel series [N, bands, frames] of `files` (labels among `classNames`); a clip whose features are not
    /// finite is an error naming its file.
    static func logMelSeries(name: String, files: [(url: URL, label: String)], classNames: [String],
                             features: LogMelSpectrogram, frames: Int?) throws -> LabeledDataset {
        let d = try WAVFile.logMelDataset(name: name, files: files.map(\.url), labels: files.map(\.label),
                                          classNames: classNames, features: features, frames: frames)
        let x = d.inputTensor!
        // Checked here, per clip, so that the error names the file (after the split a sample index would
        // point into the split, not the folder).
        let values = x.scalars
        let perClip = values.count / max(1, files.count)
        if perClip > 0, let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError(file: files[bad / perClip].url.path,
                            "the clip gives non-finite log-mel features (NaN or infinite samples in the file)")
        }
        return try d.replacingInputs(.series(x.reshaped(to: [x.shape[0], x.shape[2], x.shape[3]])))
    }

    /// The smallest power of two holding a 25 ms window.
    static func defaultFFTSize(sampleRate: Int) -> Int {
        var n = 16
        while n < sampleRate / 40 && n < 65536 { n *= 2 }
        return n
    }

    // MARK: Arrays and images

    func loadArrays() throws -> TaskFileData {
        func part(_ f: Files) throws -> LabeledDataset {
            let x = try NumPyArray.load(contentsOf: URL(fileURLWithPath: f.inputs))
            let y = try NumPyArray.load(contentsOf: URL(fileURLWithPath: f.targets ?? ""))
            let name = "\(f.inputs) + \(f.targets ?? "")"
            var d = try TaskCatalog.arrays(x: x, y: y, file: name, name: taskName)
            // Before any split, so that a sample index in the error is the file's own.
            try d.checkFinite(file: name)
            if let s = input.shape, let t = d.inputTensor {
                guard Array(t.shape.dropFirst()).reduce(1, *) == s.reduce(1, *) else {
                    throw fail("input.shape", "\(s) does not hold the \(Array(t.shape.dropFirst())) values per sample of \(f.inputs)")
                }
                let r = t.reshaped(to: [t.shape[0]] + s)
                d = try d.replacingInputs(s.count == 3 ? .fields(r) : .series(r))
            }
            switch (target.type, d.targets) {
            case (.classification?, .classes), (.regression?, .regression), (.dense?, .fields), (nil, _): break
            case (.regression?, .classes):
                d = try LabeledDataset(name: taskName, inputs: d.inputs, targets: .regression(y.reshaped(to: [y.shape[0]])))
            case (.classification?, _):
                throw fail("target.type", "\(f.targets ?? "") does not hold integer class labels [N]")
            default:
                throw fail("target.type", "\(f.targets ?? "") \(y.shape) does not give \(target.type!.rawValue) targets")
            }
            return d
        }
        let all = try part(train)
        if let names = target.classes, let own = all.classNames {
            guard Set(own).isSubset(of: Set(names)) else { throw fail("target.classes", "the labels \(own.prefix(20)) are not all listed") }
        }
        return try splitTask(all, try test.map(part))
    }

    func loadImages() throws -> TaskFileData {
        func part(_ f: Files) throws -> LabeledDataset {
            try IDXFile.imageClassification(images: URL(fileURLWithPath: f.inputs), labels: URL(fileURLWithPath: f.targets ?? ""),
                                            classNames: target.classes, scale: Float(input.scale ?? 1.0 / 255), name: taskName)
        }
        let all = try part(train)
        return try splitTask(all, try test.map(part))
    }

    func ucrTask() throws -> LoadedTask {
        let url = URL(fileURLWithPath: train.inputs)
        let stem = url.deletingPathExtension().lastPathComponent
        guard stem.uppercased().hasSuffix("_TRAIN") else {
            throw fail("train", "a UCR/UEA file must be named <Name>_TRAIN.<ext> (its _TEST sibling is the test set)")
        }
        let name = String(stem.dropLast(6))
        return try TaskCatalog.ucr(name: name, directory: url.deletingLastPathComponent(), taskName: taskName)
    }
}
