import Foundation
import MonaData
import MonaFormats

/// Task specs guessed from a bare data path, for the obvious layouts:
///
/// * `.csv` / `.tsv` (not named `*_TRAIN.tsv`): the column named `label` (else the last) holds the class; the
///   other columns all numeric → a series task [1, F]; a single column of letters → a sequence task with
///   character tokens. The header row is recognised by a `label`/`class` cell or by a column that is numeric
///   below it. A first line with a different number of fields (scikit-learn style `n,features,names…`) is skipped.
/// * `.fasta` / `.fa` / `.fna` / `.faa` with a label rule (`--label field:N[:SEP] | regex:PATTERN | lineage:RANK`).
/// * a folder of class sub-folders of `.wav` files (or `train/` and `test/` folders of them) → log-mel series.
/// * `.npy`: the inputs file paired with the targets file whose name swaps the `x`/`X` part for `y`/`Y`
///   (`X_train.npy` + `y_train.npy`); the test pair has `test` in place of `train`, when present.
/// * IDX: `*-images-idx3-ubyte[.gz]` with `*-labels-idx1-ubyte[.gz]`; the test pair has `t10k` or `test` in place of
///   `train`, when present.
/// * `*.yaml` / `*.yml`: a task spec file.
///
/// Without a test file the test set is a seeded stratified 25 % of the training file (`TaskFileSpec.SplitRule`).
/// Other paths (`X_TRAIN.ts`/`.arff`/`.txt`/`.tsv`, UCR folders, `.npz`, `.pt`) stay with `TaskCatalog`.
public enum TaskInference {
    /// The spec for `path`, or nil when the path is one `TaskCatalog` reads itself (or does not exist).
    /// `label` is the `--label` flag: a FASTA label rule, or a table's label column.
    public static func spec(forPath path: String, label: String? = nil) throws -> TaskFileSpec? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return nil }
        let ext = url.pathExtension.lowercased()
        var spec: TaskFileSpec
        if isDirectory.boolValue {
            guard let s = try audioFolder(url) else { return nil }
            spec = s
        } else if ext == "yaml" || ext == "yml" {
            spec = try TaskFileSpec.load(url)
            if label != nil { throw TransferError.badTask("--label: not used with a task spec file (\(path)); set target.rule or target.column in it") }
            return spec
        } else if ext == "csv" || (ext == "tsv" && !url.deletingPathExtension().lastPathComponent.uppercased().hasSuffix("_TRAIN")
                                   && !url.deletingPathExtension().lastPathComponent.uppercased().hasSuffix("_TEST")) {
            spec = try table(url, format: ext == "tsv" ? .tsv : .csv, label: label)
        } else if ["fasta", "fa", "fna", "faa"].contains(ext) {
            guard let label else {
                throw TransferError.badTask("\(path): a FASTA file needs a label rule: --label field:N[:SEP] (N-th header field, "
                                            + "SEP default '|'), regex:PATTERN (group 1) or lineage:RANK")
            }
            spec = TaskFileSpec(format: .fasta, train: .init(url.path), test: sibling(url, "train", ["test"]).map { TaskFileSpec.Files($0.path) })
            spec.input.type = .tokens
            spec.input.tokenizer = .characters
            spec.target.rule = label
            _ = try TaskFileSpec.labelRule(label, field: "--label", source: path)
        } else if ext == "npy" {
            spec = try arrays(url)
        } else if TaskFileSpec.format(ofPath: url.path) == .idx {
            spec = try images(url)
        } else {
            return nil
        }
        if label != nil && spec.format != .fasta && spec.format != .csv && spec.format != .tsv {
            throw TransferError.badTask("--label: only used with FASTA files (label rule) and CSV/TSV tables (label column)")
        }
        if spec.test == nil { spec.split = TaskFileSpec.SplitRule() }
        spec.name = spec.taskName
        spec.from = path
        return spec
    }

    /// The file whose name has one of `replacements` in place of `part` (nil if none exists or no `part`).
    static func sibling(_ url: URL, _ part: String, _ replacements: [String]) -> URL? {
        let name = url.lastPathComponent
        guard let range = name.range(of: part, options: .caseInsensitive) else { return nil }
        for r in replacements {
            let candidate = url.deletingLastPathComponent().appendingPathComponent(name.replacingCharacters(in: range, with: r))
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    // MARK: Tables

    static func table(_ url: URL, format: TaskFileSpec.Format, label: String?) throws -> TaskFileSpec {
        let sep: Character = format == .tsv ? "\t" : ","
        var skip = 0
        var raw: CSVTable
        do {
            raw = try CSVTable.read(url, separator: sep, hasHeader: false)
        } catch let e as DataError where e.line != nil && e.message.contains("fields, expected") {
            // A first line of another width (e.g. `5200,1,UniProt,AMP` above `SEQUENCE,label` rows) is metadata.
            skip = 1
            raw = try CSVTable.read(url, separator: sep, hasHeader: false, skipLines: 1)
        }
        guard raw.rows.count >= 3, raw.columnCount >= 2 else {
            throw TransferError.badTask("\(url.path): a table needs at least 2 columns (inputs and a label) and 2 data rows")
        }
        let rows = raw.rows
        func numeric(_ s: String) -> Bool { Float(s).map { $0.isFinite } ?? false || TaskFileSpec.missingMarkers.contains(s.lowercased()) }
        let sample = Array(rows.dropFirst().prefix(200))
        let names = rows[0].map { $0.lowercased() }
        let named = names.contains("label") || names.contains("class") || (label.map { rows[0].contains($0) } ?? false)
        let numericBelow = (0..<raw.columnCount).contains { c in !numeric(rows[0][c]) && sample.allSatisfy { numeric($0[c]) } }
        let hasHeader = named || numericBelow
        let header = hasHeader ? rows[0] : nil
        let body = hasHeader ? Array(rows.dropFirst()) : rows
        var labelColumn = raw.columnCount - 1
        if let label {
            if let h = header, let i = h.firstIndex(of: label) {
                labelColumn = i
            } else if let i = Int(label), i >= 0, i < raw.columnCount {
                labelColumn = i
            } else {
                throw TransferError.badTask("--label \(label): no such column in \(url.path)"
                                            + (header.map { " (columns: \($0.joined(separator: ", ")))" } ?? " (no header; give a 0-based index)"))
            }
        } else if let h = header, let i = h.firstIndex(where: { ["label", "class"].contains($0.lowercased()) }) {
            labelColumn = i
        }
        let others = (0..<raw.columnCount).filter { $0 != labelColumn }
        func columnName(_ c: Int) -> String { header?[c] ?? String(c) }
        var spec = TaskFileSpec(format: format, train: .init(url.path))
        spec.header = hasHeader
        if skip > 0 { spec.skipLines = skip }
        spec.target.type = .classification
        spec.target.column = columnName(labelColumn)
        if others.allSatisfy({ c in body.allSatisfy { numeric($0[c]) } }) {
            spec.input.type = .series
            if body.contains(where: { row in others.contains { TaskFileSpec.missingMarkers.contains(row[$0].lowercased()) } }) {
                spec.input.missing = .interpolate
            }
        } else if others.count == 1, body.allSatisfy({ isLetterSequence($0[others[0]]) }) {
            spec.input.type = .tokens
            spec.input.column = columnName(others[0])
            spec.input.tokenizer = .characters
        } else {
            let bad = others.first { c in !body.allSatisfy { numeric($0[c]) } } ?? others[0]
            throw TransferError.badTask("\(url.path): cannot infer the task: besides the label column '\(columnName(labelColumn))', "
                                        + "column '\(columnName(bad))' is not numeric and the table is not one sequence column "
                                        + "of letters; write a task spec (docs/own-data.md)")
        }
        let distinct = Set(body.map { TaskFileSpec.canonicalLabel($0[labelColumn]) }).count
        if distinct < 2 {
            throw TransferError.badTask("\(url.path): label column '\(columnName(labelColumn))' has \(distinct) distinct value(s); "
                                        + "classification needs at least 2")
        }
        if distinct > max(20, body.count / 2) {
            throw TransferError.badTask("\(url.path): label column '\(columnName(labelColumn))' has \(distinct) distinct values in "
                                        + "\(body.count) rows — regression? Write a task spec with target: {type: regression} "
                                        + "(docs/own-data.md)")
        }
        return spec
    }

    /// Letters (and gap/stop symbols), as in protein and nucleotide sequences.
    static func isLetterSequence(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ($0.properties.isAlphabetic && $0.isASCII) || $0 == "-" || $0 == "*" || $0 == "." }
            && s.unicodeScalars.contains { $0.properties.isAlphabetic }
    }

    // MARK: Folders, arrays, images

    static func audioFolder(_ url: URL) throws -> TaskFileSpec? {
        let fm = FileManager.default
        let train = url.appendingPathComponent("train"), test = url.appendingPathComponent("test")
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: train.path, isDirectory: &isDir), isDir.boolValue,
           fm.fileExists(atPath: test.path, isDirectory: &isDir), isDir.boolValue,
           !(try TaskFileSpec.audioFiles(in: train)).isEmpty {
            var spec = TaskFileSpec(format: .wav, train: .init(train.path), test: .init(test.path))
            spec.name = url.lastPathComponent.lowercased()
            spec.input.type = .logMel
            return spec
        }
        guard !(try TaskFileSpec.audioFiles(in: url)).isEmpty else {
            let flat = (try? fm.contentsOfDirectory(atPath: url.path))?.contains { $0.lowercased().hasSuffix(".wav") } ?? false
            if flat {
                throw TransferError.badTask("\(url.path): .wav files need one sub-folder per class (<folder>/<class>/*.wav); "
                                            + "this folder holds the clips directly")
            }
            return nil
        }
        var spec = TaskFileSpec(format: .wav, train: .init(url.path))
        spec.input.type = .logMel
        return spec
    }

    /// The position of a standalone `x`/`X` (or `y`/`Y`) in a file name: at the start or after `_`, `-`, `.`,
    /// and followed by one of those or the end.
    static func axisLetter(in name: String, _ letters: Set<Character>) -> String.Index? {
        let chars = Array(name.indices)
        for (k, i) in chars.enumerated() where letters.contains(name[i]) {
            let before = k == 0 || "_-.".contains(name[chars[k - 1]])
            let after = k + 1 == chars.count || "_-.".contains(name[chars[k + 1]])
            if before && after { return i }
        }
        return nil
    }

    static func arrays(_ url: URL) throws -> TaskFileSpec {
        let name = url.lastPathComponent
        func partner(_ u: URL) -> URL? {
            let n = u.lastPathComponent
            guard let i = axisLetter(in: n, ["x", "X", "y", "Y"]) else { return nil }
            let swapped: Character = n[i] == "x" ? "y" : n[i] == "X" ? "Y" : n[i] == "y" ? "x" : "X"
            for letter in [swapped, Character(swapped.isUppercase ? swapped.lowercased() : swapped.uppercased())] {
                var s = n
                s.replaceSubrange(i...i, with: String(letter))
                let p = u.deletingLastPathComponent().appendingPathComponent(s)
                if FileManager.default.fileExists(atPath: p.path) { return p }
            }
            return nil
        }
        guard let i = axisLetter(in: name, ["x", "X", "y", "Y"]), let other = partner(url) else {
            throw TransferError.badTask("\(url.path): an .npy task is a pair of files named with x and y (X_train.npy and "
                                        + "y_train.npy, or x.npy and y.npy); no partner file found")
        }
        let isInputs = name[i] == "x" || name[i] == "X"
        let xs = isInputs ? url : other, ys = isInputs ? other : url
        var spec = TaskFileSpec(format: .npy, train: .init(xs.path, targets: ys.path))
        if let xt = sibling(xs, "train", ["test"]), let yt = sibling(ys, "train", ["test"]) {
            spec.test = .init(xt.path, targets: yt.path)
        }
        spec.name = xs.deletingLastPathComponent().lastPathComponent.lowercased()
        return spec
    }

    static func images(_ url: URL) throws -> TaskFileSpec {
        let name = url.lastPathComponent
        func swap(_ u: URL, _ a: String, _ b: String) -> URL {
            u.deletingLastPathComponent().appendingPathComponent(u.lastPathComponent.replacingOccurrences(of: a, with: b))
        }
        let images: URL, labels: URL
        if name.contains("labels") {
            labels = url
            images = swap(swap(url, "labels", "images"), "idx1", "idx3")
        } else {
            images = url
            labels = swap(swap(url, "images", "labels"), "idx3", "idx1")
        }
        guard FileManager.default.fileExists(atPath: images.path), FileManager.default.fileExists(atPath: labels.path) else {
            throw TransferError.badTask("\(url.path): an IDX task is an images file (…-images-idx3-ubyte) with its labels file "
                                        + "(…-labels-idx1-ubyte) in the same folder; found only one of them")
        }
        var spec = TaskFileSpec(format: .idx, train: .init(images.path, targets: labels.path))
        spec.input.type = .images
        if let ti = sibling(images, "train", ["t10k", "test"]), let tl = sibling(labels, "train", ["t10k", "test"]) {
            spec.test = .init(ti.path, targets: tl.path)
        }
        spec.name = images.lastPathComponent.components(separatedBy: "-images").first?.lowercased()
        if spec.name == "train" || spec.name?.isEmpty == true { spec.name = images.deletingLastPathComponent().lastPathComponent.lowercased() }
        return spec
    }

    // MARK: Summary line

    /// One line saying what was inferred (what `mona fit` prints).
    public static func describe(_ s: TaskFileSpec) -> String {
        var parts: [String] = []
        let file = URL(fileURLWithPath: s.train.inputs).lastPathComponent
        switch s.format {
        case .csv, .tsv:
            let hdr = s.header == false ? "no header" : "header row"
            if s.inputType == .tokens {
                parts.append("\(s.format.rawValue) (\(hdr)): column '\(s.input.column ?? "?")' as character tokens")
            } else {
                parts.append("\(s.format.rawValue) (\(hdr)): the other columns as a 1×F series"
                             + (s.input.missing == .interpolate ? " (missing values interpolated)" : ""))
            }
            parts.append("class label column '\(s.target.column ?? "?")'")
        case .fasta:
            parts.append("FASTA records as character tokens, class from the header by \(s.target.rule ?? "?")")
        case .wav:
            parts.append("WAV clips per class folder as 40-band log-mel series")
        case .npy:
            parts.append("npy inputs \(URL(fileURLWithPath: s.train.inputs).lastPathComponent) with targets "
                         + URL(fileURLWithPath: s.train.targets ?? "").lastPathComponent)
        case .idx:
            parts.append("IDX images with labels \(URL(fileURLWithPath: s.train.targets ?? "").lastPathComponent), scaled to [0, 1]")
        case .npz, .pt, .ucr:
            parts.append(s.format.rawValue)
        }
        if let t = s.test {
            parts.append("test set \(URL(fileURLWithPath: t.inputs).lastPathComponent)")
        } else {
            parts.append("no test file: test set = " + s.splitDescription)
        }
        return "inferred task '\(s.taskName)' from \(file): " + parts.joined(separator: "; ")
    }

    // MARK: Catalog and config glue

    /// A task from a path this type infers (nil when `TaskCatalog` should read the path itself).
    public static func loadInferred(_ url: URL) throws -> LoadedTask? {
        try spec(forPath: url.path).map { try $0.load().task }
    }

    /// Resolves the config's task for a run: a spec file or an inferable data path becomes `data.spec` (absolute
    /// paths, `from` = the task text), so the saved config.yaml reproduces the run. Returns the one-line
    /// description when the spec was guessed rather than read from a file.
    public static func resolve(_ config: FitConfig, label: String?) throws -> (config: FitConfig, inferred: String?) {
        var c = config
        if let spec = c.data.spec {
            if c.task.isEmpty || (c.task == spec.taskName && spec.from == nil) {
                if label != nil { throw TransferError.badConfig("--label: not used with data.spec (set target.rule or target.column there)") }
                c.task = spec.taskName
                return (c, nil)
            }
            if spec.from == c.task && label == nil { return (c, nil) }
            if spec.from == nil {
                throw TransferError.badConfig("task '\(c.task)' and data.spec both describe the data; give one of them")
            }
            c.data.spec = nil  // a new --task replaces the spec saved from an earlier one
        }
        if c.task.isEmpty || TaskCatalog.allNames.contains(c.task.lowercased()) {
            if label != nil { throw TransferError.badConfig("--label: only used with data files, not the known task '\(c.task)'") }
            return (c, nil)
        }
        guard var spec = try spec(forPath: c.task, label: label) else {
            if label != nil { throw TransferError.badConfig("--label: only used with FASTA files and CSV/TSV tables") }
            return (c, nil)
        }
        let ext = URL(fileURLWithPath: c.task).pathExtension.lowercased()
        let fromFile = ext == "yaml" || ext == "yml"
        spec.from = c.task
        c.data.spec = spec
        return (c, fromFile ? nil : describe(spec))
    }
}
