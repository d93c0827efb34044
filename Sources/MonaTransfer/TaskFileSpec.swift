import Foundation
import MonaData
import MonaJSON
import MonaRunKit

/// A task described by the user's own files: which files, how to read them, what is predicted and how it is
/// scored. Read from a YAML file (`mona fit --task my-task.yaml`), from the `data.spec` section of a config, or
/// made by `TaskInference` from a bare data path (and then saved in the run's config.yaml).
///
/// ```yaml
/// name: peptides                 # default: the training file's stem
/// format: csv                    # csv | tsv | fasta | wav | npy | idx | npz | pt | ucr (default: from the extension)
/// train: peptides.csv            # a file or folder, or {inputs: X.npy, targets: y.npy} for npy and idx pairs
/// test: peptides-test.csv        # optional; without it `split` carves the test set from `train`
/// split: {testFraction: 0.25, seed: 7}
/// header: true                   # csv/tsv: whether the first row names the columns
/// input: {type: tokens, column: sequence, tokenizer: kmers, k: 3, stride: 3, maxLength: 512}
/// target: {type: classification, column: label}
/// metric: macro_f1
/// ```
///
/// Relative paths are taken from the spec file's folder (or the working directory for a config section); `..`
/// is allowed — a spec names data anywhere the user can read, like a command-line path.
public struct TaskFileSpec: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case csv, tsv, fasta, wav, npy, idx, npz, pt, ucr
    }

    /// A data file, or an inputs file with its targets file (npy and idx pairs).
    public struct Files: Sendable, Equatable {
        public var inputs: String
        public var targets: String?
        public init(_ inputs: String, targets: String? = nil) {
            self.inputs = inputs
            self.targets = targets
        }
    }

    public enum InputType: String, Sendable, CaseIterable {
        case series, fields, tokens, logMel = "log-mel", images
    }

    public enum TokenUnit: String, Sendable, CaseIterable { case characters, kmers }

    public enum MissingPolicy: String, Sendable, CaseIterable { case error, interpolate }

    /// What the model reads, and the options of its type (each option belongs to one or two types).
    public struct Input: Sendable, Equatable {
        public var type: InputType?
        /// series/fields from a table: the feature columns (names or 0-based indices; default: all but the targets).
        public var columns: [String]?
        /// series/fields: per-sample shape [C, L] or [C, H, W] of the feature values (default [1, F]).
        public var shape: [Int]?
        /// Numeric tables: what a missing value (empty, `?`, `NA`, `NaN`) does. Default `interpolate`, as the
        /// series loaders do.
        public var missing: MissingPolicy?
        /// tokens from a table: the sequence column (default: the only column that is not a target).
        public var column: String?
        public var tokenizer: TokenUnit?
        public var k: Int?
        public var stride: Int?
        /// A vocabulary file, one token per line (default: the tokens of the training split).
        public var vocabulary: String?
        /// Tokens kept per sequence (the first ones).
        public var maxLength: Int?
        public var uppercase: Bool?
        /// log-mel options (see `LogMelSpectrogram`).
        public var bands: Int?
        public var fftSize: Int?
        public var windowLength: Int?
        public var hopLength: Int?
        public var minFrequency: Double?
        public var maxFrequency: Double?
        /// log-mel frames per clip (cut or padded with silence; default: the longest training clip).
        public var frames: Int?
        /// images: factor applied to the stored values (default 1/255).
        public var scale: Double?
        public init(type: InputType? = nil) { self.type = type }
    }

    public enum TargetType: String, Sendable, CaseIterable { case classification, regression, dense }

    public struct Target: Sendable, Equatable {
        public var type: TargetType?
        /// Table: the class label column (default: the column named `label`, else the last one).
        public var column: String?
        /// Table: regression target columns.
        public var columns: [String]?
        /// FASTA: how a header gives the label (`field:N[:SEP]`, `regex:PATTERN`, `lineage:RANK`).
        public var rule: String?
        /// Class names in index order (default: the distinct labels sorted).
        public var classes: [String]?
        public init(type: TargetType? = nil) { self.type = type }
    }

    /// The test set drawn from `train` when there is no test file: per class `testFraction` of the samples
    /// (random for regression), seeded.
    public struct SplitRule: Sendable, Equatable {
        public var testFraction: Double
        public var seed: UInt64
        public init(testFraction: Double = 0.25, seed: UInt64 = TaskCatalog.splitSeed) {
            self.testFraction = testFraction
            self.seed = seed
        }
    }

    public var name: String?
    public var format: Format
    public var train: Files
    public var test: Files?
    public var split: SplitRule?
    public var separator: String?
    public var header: Bool?
    /// csv/tsv: lines dropped before the header (e.g. a `count,features,names…` line).
    public var skipLines: Int?
    public var input: Input
    public var target: Target
    public var metric: MetricKind?
    /// The `--task` text this spec was made from (set by mona when it infers or reads a spec for a run).
    public var from: String?

    public init(format: Format, train: Files, test: Files? = nil) {
        self.format = format
        self.train = train
        self.test = test
        input = Input()
        target = Target()
    }

    /// The task's name: `name`, else the training file's stem (lower case).
    public var taskName: String {
        if let name { return name }
        let url = URL(fileURLWithPath: train.inputs)
        let stem = url.hasDirectoryPath || format == .wav ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        return stem.lowercased()
    }

    /// The split rule in force (the default when neither a test file nor a rule is given).
    public var effectiveSplit: SplitRule? { test == nil ? (split ?? SplitRule()) : nil }

    // MARK: Reading

    /// Reads a spec file; relative paths in it are taken from its folder.
    public static func load(_ url: URL) throws -> TaskFileSpec {
        let pairs: [(String, RunValue)]
        do { pairs = try ConfigFile.load(url) } catch {
            throw TransferError.badTask("\(error)")
        }
        var tree = ConfigTree()
        do {
            for (key, value) in pairs { try tree.set(value, at: key) }
        } catch {
            throw TransferError.badTask("\(url.path): \(error)")
        }
        return try TaskFileSpec(value: tree.value, source: url.path, base: url.deletingLastPathComponent())
    }

    /// Reads a spec from a YAML/JSON value; `source` names it in errors, `base` anchors relative paths.
    public init(value: RunValue, source: String, base: URL) throws {
        let r = SpecReader(source: source)
        let top = try r.object(value, "")
        try r.known(top, ["name", "format", "train", "test", "split", "separator", "header", "skipLines", "input",
                          "target", "metric", "from"], in: "")
        func files(_ key: String) throws -> Files? {
            guard let v = top[key], !v.isNull else { return nil }
            if let s = v.stringValue { return Files(try r.path(s, key, base: base)) }
            let o = try r.object(v, key, expected: "a path, or {inputs: path, targets: path}")
            try r.known(o, ["inputs", "targets"], in: key)
            guard let inputs = try r.string(o["inputs"], key + ".inputs") else {
                throw r.error(key + ".inputs", "missing; expected the inputs file's path")
            }
            return Files(try r.path(inputs, key + ".inputs", base: base),
                         targets: try r.string(o["targets"], key + ".targets").map { try r.path($0, key + ".targets", base: base) })
        }
        guard let train = try files("train") else {
            throw r.error("train", "missing; expected the training data's path (a file or folder)")
        }
        let test = try files("test")
        let format: Format
        if let f = try r.choice(top["format"], "format", Format.self) {
            format = f
        } else if let f = TaskFileSpec.format(ofPath: train.inputs) {
            format = f
        } else {
            throw r.error("format", "cannot tell the format of '\(train.inputs)' from its name; expected one of "
                          + Format.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.init(format: format, train: train, test: test)
        name = try r.string(top["name"], "name")
        if let n = name, n.isEmpty || n.count > 100 || n.contains("/") {
            throw r.error("name", "expected a short name without '/', got '\(n.prefix(40))'")
        }
        from = try r.string(top["from"], "from")
        if let s = top["split"], !s.isNull {
            let o = try r.object(s, "split", expected: "{testFraction: 0.25, seed: 0}")
            try r.known(o, ["testFraction", "seed"], in: "split")
            var rule = SplitRule()
            if let f = try r.number(o["testFraction"], "split.testFraction") {
                guard f > 0, f < 1 else { throw r.error("split.testFraction", "must be in (0, 1), got \(f)") }
                rule.testFraction = f
            }
            if let seed = try r.integer(o["seed"], "split.seed", 0...(1 << 53)) { rule.seed = UInt64(seed) }
            if test != nil { throw r.error("split", "not used when a test file is given; remove one of them") }
            split = rule
        }
        separator = try r.string(top["separator"], "separator")
        if let s = separator {
            guard s.count == 1, s != "\"", s != "\n", s != "\r" else {
                throw r.error("separator", "expected one character such as ',' or ';', got '\(s.prefix(10))'")
            }
        }
        header = try r.bool(top["header"], "header")
        skipLines = try r.integer(top["skipLines"], "skipLines", 0...1_000_000)
        if format != .csv && format != .tsv {
            for key in ["separator", "header", "skipLines"] where top[key] != nil {
                throw r.error(key, "only used by csv and tsv files, not \(format.rawValue)")
            }
        }
        if let m = try r.string(top["metric"], "metric") {
            guard let kind = MetricKind.allCases.first(where: { $0.key == m || $0.rawValue == m }) else {
                throw r.error("metric", "unknown metric '\(m.prefix(40))'; expected one of "
                              + MetricKind.allCases.map(\.key).joined(separator: ", "))
            }
            metric = kind
        }
        if let v = top["input"], !v.isNull { input = try TaskFileSpec.readInput(v, r, base: base) }
        if let v = top["target"], !v.isNull { target = try TaskFileSpec.readTarget(v, r) }
        try check(r)
    }

    static func readInput(_ v: RunValue, _ r: SpecReader, base: URL) throws -> Input {
        let o = try r.object(v, "input")
        try r.known(o, ["type", "columns", "shape", "missing", "column", "tokenizer", "k", "stride", "vocabulary",
                        "maxLength", "uppercase", "bands", "fftSize", "windowLength", "hopLength", "minFrequency",
                        "maxFrequency", "frames", "scale"], in: "input")
        var i = Input(type: try r.choice(o["type"], "input.type", InputType.self))
        i.columns = try r.columns(o["columns"], "input.columns")
        if let shape = try r.list(o["shape"], "input.shape") {
            guard shape.count == 2 || shape.count == 3 else {
                throw r.error("input.shape", "expected [C, L] or [C, H, W], got \(shape.count) numbers")
            }
            i.shape = try shape.enumerated().map { try r.required(r.integer($1, "input.shape[\($0)]", 1...(1 << 24)), "input.shape[\($0)]") }
        }
        i.missing = try r.choice(o["missing"], "input.missing", MissingPolicy.self)
        i.column = try r.column(o["column"], "input.column")
        i.tokenizer = try r.choice(o["tokenizer"], "input.tokenizer", TokenUnit.self)
        i.k = try r.integer(o["k"], "input.k", 1...32)
        i.stride = try r.integer(o["stride"], "input.stride", 1...1024)
        i.vocabulary = try r.string(o["vocabulary"], "input.vocabulary").map { try r.path($0, "input.vocabulary", base: base) }
        i.maxLength = try r.integer(o["maxLength"], "input.maxLength", 1...1_000_000)
        i.uppercase = try r.bool(o["uppercase"], "input.uppercase")
        i.bands = try r.integer(o["bands"], "input.bands", 1...512)
        i.fftSize = try r.integer(o["fftSize"], "input.fftSize", 16...65536)
        if let n = i.fftSize, n & (n - 1) != 0 { throw r.error("input.fftSize", "must be a power of two, got \(n)") }
        i.windowLength = try r.integer(o["windowLength"], "input.windowLength", 2...65536)
        i.hopLength = try r.integer(o["hopLength"], "input.hopLength", 1...(1 << 20))
        i.minFrequency = try r.number(o["minFrequency"], "input.minFrequency", 0...1e6)
        i.maxFrequency = try r.number(o["maxFrequency"], "input.maxFrequency", 1...1e6)
        i.frames = try r.integer(o["frames"], "input.frames", 1...10_000)
        i.scale = try r.number(o["scale"], "input.scale", -1e6...1e6)
        if i.scale == 0 { throw r.error("input.scale", "must not be 0") }
        return i
    }

    static func readTarget(_ v: RunValue, _ r: SpecReader) throws -> Target {
        let o = try r.object(v, "target")
        try r.known(o, ["type", "column", "columns", "rule", "classes"], in: "target")
        var t = Target(type: try r.choice(o["type"], "target.type", TargetType.self))
        t.column = try r.column(o["column"], "target.column")
        t.columns = try r.columns(o["columns"], "target.columns")
        t.rule = try r.string(o["rule"], "target.rule")
        if let rule = t.rule { _ = try TaskFileSpec.labelRule(rule, field: "target.rule", source: r.source) }
        if let names = try r.list(o["classes"], "target.classes") {
            let strings = try names.enumerated().map { k, v -> String in
                if let s = v.stringValue, !s.isEmpty { return s }
                if let n = v.intValue { return String(n) }
                throw r.error("target.classes[\(k)]", "expected a class name")
            }
            guard strings.count >= 2, Set(strings).count == strings.count else {
                throw r.error("target.classes", "expected at least 2 distinct class names")
            }
            t.classes = strings
        }
        return t
    }

    /// Cross-field rules: which options belong to which format, input type and target type.
    func check(_ r: SpecReader) throws {
        let table = format == .csv || format == .tsv
        let paired = format == .npy || format == .idx
        if paired {
            guard train.targets != nil else {
                throw r.error("train", "\(format.rawValue) data needs {inputs: path, targets: path}")
            }
            if let test, test.targets == nil { throw r.error("test", "\(format.rawValue) data needs {inputs: path, targets: path}") }
        } else {
            if train.targets != nil { throw r.error("train.targets", "only npy and idx data come as inputs + targets files") }
            if test?.targets != nil { throw r.error("test.targets", "only npy and idx data come as inputs + targets files") }
        }
        if [.npz, .pt, .ucr].contains(format) {
            if input != Input() { throw r.error("input", "\(format.rawValue) files say their inputs themselves; remove this section") }
            if target != Target() { throw r.error("target", "\(format.rawValue) files say their targets themselves; remove this section") }
            if split != nil { throw r.error("split", "\(format.rawValue) files hold their own train/test split") }
            if format == .npz, test != nil { throw r.error("test", "an .npz holds x_test and y_test itself") }
            if format == .pt, test == nil { throw r.error("test", "missing; torch data needs a test file") }
        }
        let type = inputType
        let allowed: [InputType]
        switch format {
        case .csv, .tsv: allowed = [.series, .fields, .tokens]
        case .fasta: allowed = [.tokens]
        case .wav: allowed = [.logMel]
        case .idx: allowed = [.images]
        case .npy: allowed = [.series, .fields]
        case .npz, .pt, .ucr: allowed = [type]
        }
        guard allowed.contains(type) else {
            throw r.error("input.type", "\(format.rawValue) data can be read as " + allowed.map(\.rawValue).joined(separator: " or ")
                          + ", not \(type.rawValue)")
        }
        func only(_ present: Bool, _ field: String, _ types: [InputType]) throws {
            if present && !types.contains(type) {
                throw r.error("input.\(field)", "only used with input type " + types.map(\.rawValue).joined(separator: " or ")
                              + " (this input is \(type.rawValue))")
            }
        }
        for (present, field) in [(input.columns != nil, "columns"), (input.missing != nil, "missing"),
                                 (input.column != nil, "column")] where present && !table {
            throw r.error("input.\(field)", "only used by csv and tsv data")
        }
        try only(input.columns != nil, "columns", [.series, .fields])
        try only(input.shape != nil, "shape", [.series, .fields])
        try only(input.missing != nil, "missing", [.series, .fields])
        try only(input.column != nil, "column", [.tokens])
        for (present, field) in [(input.tokenizer != nil, "tokenizer"), (input.k != nil, "k"), (input.stride != nil, "stride"),
                                 (input.vocabulary != nil, "vocabulary"), (input.maxLength != nil, "maxLength"),
                                 (input.uppercase != nil, "uppercase")] {
            try only(present, field, [.tokens])
        }
        for (present, field) in [(input.bands != nil, "bands"), (input.fftSize != nil, "fftSize"),
                                 (input.windowLength != nil, "windowLength"), (input.hopLength != nil, "hopLength"),
                                 (input.minFrequency != nil, "minFrequency"), (input.maxFrequency != nil, "maxFrequency"),
                                 (input.frames != nil, "frames")] {
            try only(present, field, [.logMel])
        }
        try only(input.scale != nil, "scale", [.images])
        if input.tokenizer == .kmers && input.k == nil { throw r.error("input.k", "missing; k-mer tokens need k (and optionally stride)") }
        if input.tokenizer != .kmers && (input.k != nil || input.stride != nil) {
            throw r.error(input.k != nil ? "input.k" : "input.stride", "only used with tokenizer: kmers")
        }
        if (input.bands ?? 40) * (input.frames ?? 1) > 1 << 20 {
            throw r.error("input.frames", "bands × frames must stay within \(1 << 20) values per clip")
        }
        if let w = input.windowLength, let n = input.fftSize, w > n {
            throw r.error("input.windowLength", "must not exceed fftSize (\(n)), got \(w)")
        }
        if let lo = input.minFrequency, let hi = input.maxFrequency, lo >= hi {
            throw r.error("input.minFrequency", "must be below maxFrequency (\(hi)), got \(lo)")
        }
        // Targets.
        if target.rule != nil && format != .fasta { throw r.error("target.rule", "only used by fasta data") }
        if format == .fasta && target.rule == nil {
            throw r.error("target.rule", "missing; FASTA labels come from the headers: field:N[:SEP], regex:PATTERN or lineage:RANK")
        }
        if (target.column != nil || target.columns != nil) && !table {
            throw r.error(target.column != nil ? "target.column" : "target.columns", "only used by csv and tsv data")
        }
        if target.column != nil && target.columns != nil {
            throw r.error("target.columns", "give target.column (one class or value column) or target.columns, not both")
        }
        switch target.type {
        case .classification?:
            if target.columns != nil { throw r.error("target.columns", "classification reads one label column: target.column") }
        case .regression?:
            if target.classes != nil { throw r.error("target.classes", "only used by classification") }
            if format == .fasta || format == .wav || format == .idx {
                throw r.error("target.type", "\(format.rawValue) data has class labels; regression needs csv, tsv or npy")
            }
        case .dense?:
            if format != .npy { throw r.error("target.type", "dense targets come from npy arrays (y shaped like a series or field)") }
            if target.classes != nil { throw r.error("target.classes", "only used by classification") }
        case nil:
            if target.columns != nil { throw r.error("target.type", "missing; target.columns needs type: regression") }
        }
        if let metric, let t = target.type {
            let ok: [MetricKind]
            switch t {
            case .classification: ok = [.accuracy, .errorRate, .macroF1, .auroc]
            case .regression, .dense: ok = [.mse, .rmse, .nrmse, .relativeL2]
            }
            guard ok.contains(metric) else {
                throw r.error("metric", "\(metric.key) does not score \(t.rawValue); expected " + ok.map(\.key).joined(separator: ", "))
            }
        }
    }

    /// The input type in force (the format's default when not given).
    public var inputType: InputType {
        if let t = input.type { return t }
        switch format {
        case .csv, .tsv: return input.column != nil || input.tokenizer != nil ? .tokens : (input.shape?.count == 3 ? .fields : .series)
        case .fasta: return .tokens
        case .wav: return .logMel
        case .idx: return .images
        case .npy, .npz, .pt, .ucr: return input.shape?.count == 3 ? .fields : .series
        }
    }

    /// The format a path's name implies, when unambiguous.
    public static func format(ofPath path: String) -> Format? {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent.lowercased()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return .wav }
        if name.contains("-ubyte") || name.hasSuffix(".idx") || name.hasSuffix(".idx.gz") { return .idx }
        switch url.pathExtension.lowercased() {
        case "csv": return .csv
        case "tsv": return .tsv
        case "fasta", "fa", "fna", "faa": return .fasta
        case "npy": return .npy
        case "npz": return .npz
        case "pt", "pth": return .pt
        case "ts", "arff", "txt": return .ucr
        default: return nil
        }
    }

    /// A FASTA label rule from its text form: `field:N[:SEP]` (N-th field, 0-based, split on SEP, default `|`),
    /// `regex:PATTERN` (capture group 1), `lineage:RANK` (domain … species of a `;` lineage in the last tab field).
    public static func labelRule(_ text: String, field: String, source: String) throws -> FASTALabelRule {
        let fail = { (why: String) in
            TransferError.badTask("\(source): \(field): \(why); expected field:N[:SEP], regex:PATTERN or lineage:RANK")
        }
        guard let colon = text.firstIndex(of: ":") else { throw fail("'\(text.prefix(40))' has no kind") }
        let kind = text[..<colon], rest = String(text[text.index(after: colon)...])
        switch kind {
        case "field":
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let n = Int(parts[0]), n >= 0, n <= 1000 else { throw fail("field index '\(parts[0].prefix(20))' is not in 0...1000") }
            var sep: Character = "|"
            if parts.count == 2 {
                let s = parts[1] == "\\t" || parts[1] == "tab" ? "\t" : (parts[1] == "space" ? " " : String(parts[1]))
                guard s.count == 1 else { throw fail("separator '\(parts[1].prefix(10))' is not one character") }
                sep = s.first!
            }
            return .field(n, separator: sep)
        case "regex":
            guard !rest.isEmpty else { throw fail("empty pattern") }
            do { _ = try Regex(rest) } catch { throw fail("invalid regular expression '\(rest.prefix(40))'") }
            return .regex(rest, group: 1)
        case "lineage":
            guard let rank = TaxonomicRank.allCases.first(where: { "\($0)" == rest.lowercased() }) else {
                throw fail("unknown rank '\(rest.prefix(20))' (domain, phylum, class, order, family, genus, species)")
            }
            return .lineage(rank)
        default:
            throw fail("unknown kind '\(kind.prefix(20))'")
        }
    }
}

// MARK: Writing (config.yaml) and Codable glue for the config's `data.spec`

extension TaskFileSpec: Codable {
    /// The spec as a YAML/JSON value, with only the fields that are set.
    public var value: RunValue {
        var o: [(String, RunValue)] = []
        func files(_ f: Files) -> RunValue {
            guard let t = f.targets else { return .string(f.inputs) }
            return .object([("inputs", .string(f.inputs)), ("targets", .string(t))])
        }
        if let name { o.append(("name", .string(name))) }
        o.append(("format", .string(format.rawValue)))
        o.append(("train", files(train)))
        if let test { o.append(("test", files(test))) }
        if let split {
            // The default seed is left out: it does not fit a YAML number exactly.
            o.append(("split", .object([("testFraction", .number(split.testFraction))]
                                       + (split.seed == TaskCatalog.splitSeed ? [] : [("seed", .number(Double(split.seed)))]))))
        }
        if let separator { o.append(("separator", .string(separator))) }
        if let header { o.append(("header", .bool(header))) }
        if let skipLines { o.append(("skipLines", .number(Double(skipLines)))) }
        var i: [(String, RunValue)] = []
        if let v = input.type { i.append(("type", .string(v.rawValue))) }
        if let v = input.columns { i.append(("columns", .array(v.map { .string($0) }))) }
        if let v = input.shape { i.append(("shape", .array(v.map { .number(Double($0)) }))) }
        if let v = input.missing { i.append(("missing", .string(v.rawValue))) }
        if let v = input.column { i.append(("column", .string(v))) }
        if let v = input.tokenizer { i.append(("tokenizer", .string(v.rawValue))) }
        for (key, v) in [("k", input.k), ("stride", input.stride), ("maxLength", input.maxLength), ("bands", input.bands),
                         ("fftSize", input.fftSize), ("windowLength", input.windowLength), ("hopLength", input.hopLength),
                         ("frames", input.frames)] {
            if let v { i.append((key, .number(Double(v)))) }
        }
        if let v = input.vocabulary { i.append(("vocabulary", .string(v))) }
        if let v = input.uppercase { i.append(("uppercase", .bool(v))) }
        for (key, v) in [("minFrequency", input.minFrequency), ("maxFrequency", input.maxFrequency), ("scale", input.scale)] {
            if let v { i.append((key, .number(v))) }
        }
        if !i.isEmpty { o.append(("input", .object(i))) }
        var t: [(String, RunValue)] = []
        if let v = target.type { t.append(("type", .string(v.rawValue))) }
        if let v = target.column { t.append(("column", .string(v))) }
        if let v = target.columns { t.append(("columns", .array(v.map { .string($0) }))) }
        if let v = target.rule { t.append(("rule", .string(v))) }
        if let v = target.classes { t.append(("classes", .array(v.map { .string($0) }))) }
        if !t.isEmpty { o.append(("target", .object(t))) }
        if let metric { o.append(("metric", .string(metric.key))) }
        if let from { o.append(("from", .string(from))) }
        return .object(o)
    }

    public func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }

    /// Decodes the config's `data.spec`; relative paths are taken from the working directory.
    public init(from decoder: Decoder) throws {
        // The config decoder holds the YAML tree itself; other decoders (JSON) go through RunValue.
        let v = try (decoder as? JSONValueDecoder)?.value ?? RunValue(from: decoder)
        try self.init(value: v, source: "config data.spec",
                      base: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
    }
}

// MARK: Field reading with errors that name the field and the file

/// Reads typed fields out of a spec value; every error is `<source>: <field>: <problem>` as `TransferError.badTask`.
struct SpecReader {
    let source: String

    func error(_ field: String, _ message: String) -> TransferError {
        .badTask("\(source): \(field.isEmpty ? "spec" : field): \(message)")
    }

    func describe(_ v: RunValue) -> String {
        switch v {
        case .number(let x): return "the number \(x)"
        case .string(let s): return "the text '\(s.prefix(40))'"
        case .bool(let b): return "\(b)"
        case .null: return "nothing"
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }

    func object(_ v: RunValue, _ field: String, expected: String = "a mapping") throws -> RunValue {
        guard case .object = v else { throw error(field, "expected \(expected), got \(describe(v))") }
        return v
    }

    func known(_ v: RunValue, _ keys: [String], in field: String) throws {
        for (k, _) in v.objectValue ?? [] where !keys.contains(k) {
            throw error(field.isEmpty ? k : field + "." + k, "unknown key; known keys: " + keys.joined(separator: ", "))
        }
    }

    func string(_ v: RunValue?, _ field: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else { throw error(field, "expected text, got \(describe(v))") }
        guard !s.isEmpty, s.count <= 4096, !s.contains("\0") else { throw error(field, "expected non-empty text") }
        return s
    }

    func bool(_ v: RunValue?, _ field: String) throws -> Bool? {
        guard let v, !v.isNull else { return nil }
        guard let b = v.boolValue else { throw error(field, "expected true or false, got \(describe(v))") }
        return b
    }

    func number(_ v: RunValue?, _ field: String, _ range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let v, !v.isNull else { return nil }
        guard case .number(let x) = v, x.isFinite else { throw error(field, "expected a finite number, got \(describe(v))") }
        if let range, !range.contains(x) { throw error(field, "must be in \(range.lowerBound)...\(range.upperBound), got \(x)") }
        return x
    }

    func integer(_ v: RunValue?, _ field: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v, !v.isNull else { return nil }
        guard case .number(let x) = v, x.isFinite, x == x.rounded() else {
            throw error(field, "expected a whole number, got \(describe(v))")
        }
        guard x >= Double(range.lowerBound), x <= Double(range.upperBound) else {
            throw error(field, "must be in \(range.lowerBound)...\(range.upperBound), got \(x)")
        }
        return Int(x)
    }

    /// A list entry that must be there: `null` (`~` in YAML) inside a list is refused, not trapped on.
    func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw error(field, "expected a value, got nothing") }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ v: RunValue?, _ field: String, _ type: T.Type) throws -> T?
        where T.RawValue == String {
        guard let s = try string(v, field) else { return nil }
        guard let c = T(rawValue: s) else {
            throw error(field, "unknown value '\(s.prefix(40))'; expected one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return c
    }

    func list(_ v: RunValue?, _ field: String) throws -> [RunValue]? {
        guard let v, !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw error(field, "expected a list, got \(describe(v))") }
        guard !a.isEmpty, a.count <= 100_000 else { throw error(field, "expected 1 to 100000 entries, got \(a.count)") }
        return a
    }

    /// A column: a header name, or a 0-based index (kept as its decimal text, resolved against the table later).
    func column(_ v: RunValue?, _ field: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        if case .number = v { return String(try integer(v, field, 0...1_000_000)!) }
        return try string(v, field)
    }

    func columns(_ v: RunValue?, _ field: String) throws -> [String]? {
        try list(v, field).map { items in try items.enumerated().map { try required(column($1, "\(field)[\($0)]"), "\(field)[\($0)]") } }
    }

    /// A path from the spec, made absolute against `base`.
    func path(_ text: String, _ field: String, base: URL) throws -> String {
        guard !text.isEmpty else { throw error(field, "empty path") }
        let url = text.hasPrefix("/") ? URL(fileURLWithPath: text) : base.appendingPathComponent(text)
        return url.standardizedFileURL.path
    }
}
