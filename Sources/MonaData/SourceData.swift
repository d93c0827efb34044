import Foundation
import MonaFormats
import MonaTensor

// Labelled *source* data for knowledge alignment (MoNA) and the source-knowledge analysis: data of the body's own
// modality with class labels, passed through the body's pretrained embedder. Text bodies get WordNet glosses
// labelled by lexicographer category; image bodies get Fashion-MNIST.

/// Texts with class labels, before tokenisation (the caller tokenises with the body's own vocabulary).
public struct LabeledTexts: Sendable, Equatable {
    public var texts: [String]
    /// Class index per text, in `0..<classNames.count`.
    public var labels: [Int]
    public var classNames: [String]

    public init(texts: [String], labels: [Int], classNames: [String]) {
        precondition(texts.count == labels.count, "LabeledTexts: \(texts.count) texts, \(labels.count) labels")
        self.texts = texts
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { texts.count }

    /// Samples per class, in class order.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for c in labels { counts[c] += 1 }
        return counts
    }

    /// Token ids with `tokenizer` (`[CLS] … [SEP]`, truncated to `maxLength`) as a `.tokens` dataset.
    public func tokenized(with tokenizer: WordPieceTokenizer, maxLength: Int? = nil,
                          name: String = "source-text") throws -> LabeledDataset {
        try LabeledDataset(name: name, inputs: .tokens(texts.map { tokenizer.encode($0, maxLength: maxLength) }),
                           targets: .classes(labels, names: classNames))
    }
}

/// Reader for the WordNet 3.0 database files (`data.noun`, `data.verb`, …; format wndb(5WN)).
public enum WordNet {
    /// One synset line of a `data.*` file.
    public struct Synset: Sendable, Equatable {
        /// Byte offset of the line in its file (the synset's id).
        public let offset: Int
        /// Lexicographer file number (`lex_filenum`), an index into `lexicographerFiles`.
        public let lexicographerFile: Int
        /// `n`, `v`, `a`, `s` (adjective satellite) or `r`.
        public let synsetType: Character
        /// The synset's words, underscores replaced by spaces (adjective markers such as `(a)` kept).
        public let words: [String]
        /// Everything after `|`: the definition, optionally followed by `; "example"` sentences.
        public let gloss: String

        /// The gloss without its quoted examples (the text before the first `; "`).
        public var definition: String {
            guard let r = gloss.range(of: "; \"") else { return gloss }
            return String(gloss[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// The 45 lexicographer files of WordNet 3.0, indexed by file number (lexnames(5WN)). Debian's `wordnet-base`
    /// does not ship the `lexnames` file itself; the table is fixed by the WordNet 3.0 release.
    public static let lexicographerFiles: [String] = [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
        "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
        "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
        "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
        "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
        "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
        "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
        "verb.weather", "adj.ppl",
    ]

    /// Parses a `lexnames` file (`NN<TAB>name<TAB>category` per line) into names indexed by file number.
    public static func parseLexnames(_ bytes: [UInt8], file: String) throws -> [String] {
        var names: [Int: String] = [:]
        for line in splitLines(bytes) {
            let fields = line.text.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.isEmpty { continue }
            guard fields.count >= 2, let n = Int(fields[0]), (0..<1000).contains(n) else {
                throw DataError(file: file, line: line.number, "expected 'number<TAB>name<TAB>category', got \(quoted(line.text))")
            }
            guard names[n] == nil else { throw DataError(file: file, line: line.number, "file number \(n) listed twice") }
            names[n] = String(fields[1])
        }
        guard let top = names.keys.max() else { throw DataError(file: file, "no lexicographer files listed") }
        return try (0...top).map { n in
            guard let name = names[n] else { throw DataError(file: file, "lexicographer file number \(n) is missing") }
            return name
        }
    }

    /// Parses the synset lines of a `data.*` file. Lines starting with two spaces (the licence header) are
    /// skipped; any other line must be a well-formed synset or it is an error naming the line.
    public static func parseData(_ bytes: [UInt8], file: String) throws -> [Synset] {
        var out: [Synset] = []
        for line in splitLines(bytes) {
            let text = line.text
            if text.isEmpty || text.hasPrefix("  ") { continue }
            out.append(try parseSynset(text, file: file, line: line.number))
        }
        return out
    }

    private static func parseSynset(_ text: Substring, file: String, line: Int) throws -> Synset {
        func fail(_ message: String) -> DataError { DataError(file: file, line: line, message) }
        guard let bar = text.firstIndex(of: "|") else { throw fail("synset line has no '|' before its gloss") }
        let fields = text[..<bar].split(separator: " ")
        guard fields.count >= 6 else { throw fail("synset line has \(fields.count) fields before '|', need at least 6") }
        guard fields[0].count == 8, let offset = Int(fields[0]) else {
            throw fail("synset offset must be 8 digits, got \(quoted(fields[0]))")
        }
        guard fields[1].count == 2, let lex = Int(fields[1]) else {
            throw fail("lex_filenum must be 2 digits, got \(quoted(fields[1]))")
        }
        guard fields[2].count == 1, let type = fields[2].first, "nvasr".contains(type) else {
            throw fail("ss_type must be one of n v a s r, got \(quoted(fields[2]))")
        }
        guard let wordCount = Int(fields[3], radix: 16), wordCount >= 1 else {
            throw fail("w_cnt must be a positive hexadecimal count, got \(quoted(fields[3]))")
        }
        guard fields.count >= 4 + 2 * wordCount else {
            throw fail("w_cnt \(wordCount) needs \(2 * wordCount) word fields, line has \(fields.count - 4)")
        }
        let words = (0..<wordCount).map { fields[4 + 2 * $0].replacingOccurrences(of: "_", with: " ") }
        let gloss = text[text.index(after: bar)...].trimmingCharacters(in: .whitespaces)
        return Synset(offset: offset, lexicographerFile: lex, synsetType: type, words: words, gloss: gloss)
    }
}

/// Loaders for the labelled source data sets.
public enum SourceData {
    /// Which text of a synset becomes the sample.
    public enum GlossText: String, Sendable, Codable {
        /// The definition only (the gloss without its `"example"` sentences): `a member of the genus Canis …`.
        case definition
        /// The full gloss, examples included.
        case gloss
        /// The first word and the definition: `dog: a member of the genus Canis …`.
        case wordAndDefinition
    }

    /// WordNet noun glosses labelled by lexicographer category, `perClass` per class, seeded.
    ///
    /// - Parameters:
    ///   - directory: holds `data.noun` (e.g. `.assets/data/wordnet`, from `scripts/fetch-data.sh wordnet`) and
    ///     optionally `lexnames` (otherwise the WordNet 3.0 table `WordNet.lexicographerFiles` is used).
    ///   - categories: lexicographer file names to use as classes, in class order; nil = the `classes` largest
    ///     noun categories by synset count (ties by file number), largest first. In WordNet 3.0 these are
    ///     artifact, person, plant, animal, act, communication, state, location, attribute, substance.
    ///   - perClass: synsets drawn per class, without replacement (a class with fewer synsets gives all it has).
    ///   - seed: draws each class with its own stream derived from `seed`, then shuffles the union, so that
    ///     any prefix is class-mixed. The same seed always gives the same sample.
    public static func wordNetGlosses(directory: URL, classes: Int = 10, categories: [String]? = nil,
                                      perClass: Int, seed: UInt64, text: GlossText = .definition) throws -> LabeledTexts {
        let dataURL = directory.appendingPathComponent("data.noun")
        let synsets = try WordNet.parseData(readBytes(dataURL), file: dataURL.path)
        let lexURL = directory.appendingPathComponent("lexnames")
        let lexnames = FileManager.default.fileExists(atPath: lexURL.path)
            ? try WordNet.parseLexnames(readBytes(lexURL), file: lexURL.path) : WordNet.lexicographerFiles
        return try wordNetGlosses(synsets: synsets, lexnames: lexnames, file: dataURL.path, classes: classes,
                                  categories: categories, perClass: perClass, seed: seed, text: text)
    }

    /// `wordNetGlosses(directory:…)` over already parsed synsets.
    public static func wordNetGlosses(synsets: [WordNet.Synset], lexnames: [String] = WordNet.lexicographerFiles,
                                      file: String = "data.noun", classes: Int = 10, categories: [String]? = nil,
                                      perClass: Int, seed: UInt64, text: GlossText = .definition) throws -> LabeledTexts {
        guard perClass >= 1 else { throw DataError(file: "perClass", "must be at least 1, got \(perClass)") }
        var byFile: [Int: [Int]] = [:]   // lex file number → synset indices (noun synsets only)
        for (i, s) in synsets.enumerated() where s.synsetType == "n" {
            guard s.lexicographerFile < lexnames.count else {
                throw DataError(file: file, "synset \(s.offset) has lex_filenum \(s.lexicographerFile), outside the \(lexnames.count) lexicographer files")
            }
            byFile[s.lexicographerFile, default: []].append(i)
        }
        let chosen: [Int]
        if let categories {
            chosen = try categories.map { name in
                guard let n = lexnames.firstIndex(of: name) else {
                    throw DataError(file: "categories", "unknown lexicographer file \(quoted(name))")
                }
                guard byFile[n] != nil else { throw DataError(file: file, "no noun synsets in \(name)") }
                return n
            }
            guard Set(chosen).count == chosen.count else { throw DataError(file: "categories", "a category is listed twice") }
        } else {
            guard classes >= 1 else { throw DataError(file: "classes", "must be at least 1, got \(classes)") }
            let ranked = byFile.keys.sorted { (byFile[$0]!.count, -$0) > (byFile[$1]!.count, -$1) }
            guard ranked.count >= classes else {
                throw DataError(file: file, "only \(ranked.count) noun categories, \(classes) requested")
            }
            chosen = Array(ranked.prefix(classes))
        }
        var picked: [(index: Int, label: Int)] = []
        for (label, n) in chosen.enumerated() {
            let members = byFile[n]!
            var g = SeededGenerator(seed: seed).forked(UInt64(n))
            let order = Tensor.randomPermutation(members.count, generator: &g)
            picked += order.prefix(perClass).map { (members[$0], label) }
        }
        var g = SeededGenerator(seed: seed).forked(0x5EED)
        let order = Tensor.randomPermutation(picked.count, generator: &g)
        let texts = order.map { k -> String in
            let s = synsets[picked[k].index]
            switch text {
            case .definition: return s.definition
            case .gloss: return s.gloss
            case .wordAndDefinition: return "\(s.words[0]): \(s.definition)"
            }
        }
        return LabeledTexts(texts: texts, labels: order.map { picked[$0].label }, classNames: chosen.map { lexnames[$0] })
    }

    /// Which Fashion-MNIST file pair to read.
    public enum FashionMNISTSplit: String, Sendable, Codable {
        case train, test
        var prefix: String { self == .train ? "train" : "t10k" }
    }

    /// Fashion-MNIST images as labelled source data: `perClass` images per class (all when nil), seeded and
    /// shuffled like `wordNetGlosses`, scaled to [0, 1], optionally resized (bilinear) to `imageSize` and
    /// replicated to `channels` channels (3 for an RGB vision body). Inputs are `fields` [N, channels, H, W].
    /// Normalisation with the body's mean/std is left to the caller. Sampling happens before resizing, so
    /// large `imageSize` values cost memory only for the kept images.
    public static func fashionMNIST(directory: URL, split: FashionMNISTSplit = .train, perClass: Int? = nil,
                                    seed: UInt64 = 0, imageSize: Int? = nil, channels: Int = 1) throws -> LabeledDataset {
        guard channels >= 1 else { throw DataError(file: "channels", "must be at least 1, got \(channels)") }
        if let s = imageSize, s < 1 { throw DataError(file: "imageSize", "must be at least 1, got \(s)") }
        let images = directory.appendingPathComponent("\(split.prefix)-images-idx3-ubyte.gz")
        let labels = directory.appendingPathComponent("\(split.prefix)-labels-idx1-ubyte.gz")
        var data = try IDXFile.imageClassification(images: images, labels: labels,
                                                   classNames: IDXFile.fashionMNISTClassNames,
                                                   name: "fashion-mnist-\(split.rawValue)")
        if let perClass {
            guard perClass >= 1 else { throw DataError(file: "perClass", "must be at least 1, got \(perClass)") }
            var byClass: [Int: [Int]] = [:]
            for (i, c) in (data.labels ?? []).enumerated() { byClass[c, default: []].append(i) }
            var picked: [Int] = []
            for c in byClass.keys.sorted() {
                var g = SeededGenerator(seed: seed).forked(UInt64(c))
                let members = byClass[c]!
                picked += Tensor.randomPermutation(members.count, generator: &g).prefix(perClass).map { members[$0] }
            }
            var g = SeededGenerator(seed: seed).forked(0x5EED)
            data = data.subset(Tensor.randomPermutation(picked.count, generator: &g).map { picked[$0] })
        }
        guard var x = data.inputTensor else { return data }                              // [N, 1, 28, 28]
        if let s = imageSize, s != x.shape[2] || s != x.shape[3] { x = x.resizedBilinear(to: (s, s)) }
        if channels > 1 { x = x.expanded(to: [x.shape[0], channels, x.shape[2], x.shape[3]]) }
        return try data.replacingInputs(.fields(x))
    }
}
