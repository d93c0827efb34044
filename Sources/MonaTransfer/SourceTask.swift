import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor

/// Labelled source data in the form the body's own (frozen) source embedder takes, with a disjoint held-out part
/// for the source-knowledge analysis.
///
/// * BERT bodies: WordNet noun glosses (the `classes` largest lexicographer categories), tokenised with the
///   body's WordPiece vocabulary (`[CLS] … [SEP]`, at most `maxLength` tokens). A body without a tokenizer (the
///   built-in random bodies) gets a deterministic word-hash tokenisation into its vocabulary, so smoke runs work.
/// * DINOv2 bodies: Fashion-MNIST, resized to `imageSize` and replicated to 3 channels, then normalised with the
///   ImageNet mean/std DINOv2 was trained with.
///
/// The prepared set is cached under `cacheDirectory` (keyed by body vocabulary/size, counts and seed), so
/// repeated runs skip parsing and tokenising.
public struct SourceTask: Sendable {
    /// Samples used by alignment (MoNA's source batches, ORCA's source features).
    public var alignment: LabeledDataset
    /// Held-out samples for the source-knowledge analysis (never used for alignment).
    public var analysis: LabeledDataset
    public var classNames: [String]

    public init(alignment: LabeledDataset, analysis: LabeledDataset) {
        self.alignment = alignment
        self.analysis = analysis
        classNames = alignment.classNames ?? []
    }

    /// Settings of `load`.
    public struct Options: Sendable, Equatable {
        /// Alignment samples per class. Default 40.
        public var alignmentPerClass = 40
        /// Held-out analysis samples per class. Default 20.
        public var analysisPerClass = 20
        /// Source classes. Default 10.
        public var classes = 10
        /// Token cap of source texts. Default 64 (WordNet definitions are short; 64 keeps > 99 % whole).
        public var maxLength = 64
        /// Side of source images (nil: the body's image size, capped at 112 so that a DINOv2 source batch stays
        /// at 64 patches). Default nil.
        public var imageSize: Int? = nil
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Loads (or reads from the cache) the source task for `body`.
    public static func load(for body: TransformerBody, assets: AssetRegistry, options: Options = Options(),
                            cacheDirectory: URL? = nil) throws -> SourceTask {
        let cache = cacheDirectory ?? assets.root.appendingPathComponent("cache", isDirectory: true)
        let data = assets.root.appendingPathComponent("data", isDirectory: true)
        let perClass = options.alignmentPerClass + options.analysisPerClass
        let full: LabeledDataset
        switch body.sourceModality {
        case .tokens:
            let vocab = body.tokenizer.map { "wp\($0.vocabularySize)" } ?? "hash\(body.config.vocabularySize)"
            let key = "source-wordnet-\(vocab)-c\(options.classes)-n\(perClass)-t\(options.maxLength)-s\(options.seed).json"
            let file = cache.appendingPathComponent(key)
            if let cached = try? JSONDecoder().decode(CachedTokens.self, from: Data(contentsOf: file)) {
                full = try LabeledDataset(name: "wordnet", inputs: .tokens(cached.ids),
                                          targets: .classes(cached.labels, names: cached.classNames))
            } else {
                let texts = try SourceData.wordNetGlosses(directory: data.appendingPathComponent("wordnet"),
                                                          classes: options.classes, perClass: perClass, seed: options.seed)
                let ids: [[Int]]
                if let tok = body.tokenizer {
                    ids = texts.texts.map { tok.encode($0, maxLength: options.maxLength) }
                } else {
                    ids = texts.texts.map { hashTokens($0, vocabularySize: body.config.vocabularySize, maxLength: options.maxLength) }
                }
                try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
                if let bytes = try? JSONEncoder().encode(CachedTokens(ids: ids, labels: texts.labels, classNames: texts.classNames)) {
                    try? bytes.write(to: file, options: .atomic)
                }
                full = try LabeledDataset(name: "wordnet", inputs: .tokens(ids),
                                          targets: .classes(texts.labels, names: texts.classNames))
            }
        case .pixels:
            let side = options.imageSize ?? min(body.config.imageSize, 112)
            let key = "source-fashion-mnist-i\(side)-n\(perClass)-s\(options.seed).safetensors"
            let file = cache.appendingPathComponent(key)
            let names = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
            if let t = try? SafeTensors.load(contentsOf: file), let x = t["images"], let y = t["labels"] {
                full = try LabeledDataset(name: "fashion-mnist", inputs: .fields(x),
                                          targets: .classes(y.scalars.map { Int($0) }, names: names))
            } else {
                let raw = try SourceData.fashionMNIST(directory: data.appendingPathComponent("fashion-mnist"), split: .train,
                                                      perClass: perClass, seed: options.seed, imageSize: side, channels: 3)
                guard let x = raw.inputTensor, let labels = raw.labels else {
                    throw TransferError.badTask("Fashion-MNIST source: expected labelled images")
                }
                let normalized = imageNetNormalized(x)
                try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
                try? SafeTensors.save(["images": normalized, "labels": Tensor(labels.map(Float.init), shape: [labels.count])],
                                      to: file)
                full = try LabeledDataset(name: "fashion-mnist", inputs: .fields(normalized),
                                          targets: .classes(labels, names: raw.classNames ?? names))
            }
        }
        return split(full, alignmentPerClass: options.alignmentPerClass)
    }

    /// The first `alignmentPerClass` samples of each class go to alignment, the rest to analysis (the loaders'
    /// order is already a seeded shuffle).
    public static func split(_ data: LabeledDataset, alignmentPerClass: Int) -> SourceTask {
        let labels = data.labels ?? []
        var seen: [Int: Int] = [:]
        var a: [Int] = [], b: [Int] = []
        for (i, y) in labels.enumerated() {
            let n = seen[y, default: 0]
            seen[y] = n + 1
            if n < alignmentPerClass { a.append(i) } else { b.append(i) }
        }
        return SourceTask(alignment: data.subset(a), analysis: data.subset(b))
    }

    private struct CachedTokens: Codable {
        var ids: [[Int]]
        var labels: [Int]
        var classNames: [String]
    }
}

/// Words hashed (FNV-1a) into ids 1..<vocabularySize−1 between a 0-free `[CLS]`/`[SEP]` pair: a stand-in
/// tokenisation for bodies that ship no vocabulary (random test bodies).
func hashTokens(_ text: String, vocabularySize: Int, maxLength: Int) -> [Int] {
    let v = max(vocabularySize, 4)
    var ids = [1]
    for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in word.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        ids.append(3 + Int(h % UInt64(v - 3)))
        if ids.count >= maxLength - 1 { break }
    }
    ids.append(2)
    return ids
}

/// [N, 3, H, W] in [0, 1] → ImageNet-normalised pixels (DINOv2's preprocessing).
func imageNetNormalized(_ x: Tensor) -> Tensor {
    let mean = Tensor([0.485, 0.456, 0.406], shape: [1, 3, 1, 1])
    let std = Tensor([0.229, 0.224, 0.225], shape: [1, 3, 1, 1])
    return withoutGradients { ((x - mean) / std).detached() }
}

extension TransformerBody {
    /// Mean-pooled body features [B, D] of source samples (through the frozen source embedder, then the body with
    /// its *current* parameters — substitute θ′ with `withParameters` around the call).
    public func sourceFeatures(_ batch: LabeledDataset) -> Tensor {
        switch batch.inputs {
        case .tokens:
            guard case .tokens(let ids, let b, let t, let mask) = ModelInput(batch) else { fatalError("unreachable") }
            let e = sourceEmbed(.tokens(ids: ids, batch: b, length: t))                 // [B, T, D]
            return BertModel.meanPool(self(e, mask: mask), attentionMask: mask)           // [B, D]
        case .fields(let x):
            return self(sourceEmbed(.pixels(x))).mean(alongAxis: 1)                      // [B, D]
        case .series:
            preconditionFailure("sourceFeatures: source data must be tokens or images")
        }
    }

    /// Mean-pooled outputs of the source embedder alone [B, D] (ORCA's source features).
    public func sourceEmbedderFeatures(_ batch: LabeledDataset) -> Tensor {
        switch batch.inputs {
        case .tokens:
            guard case .tokens(let ids, let b, let t, let mask) = ModelInput(batch) else { fatalError("unreachable") }
            return BertModel.meanPool(sourceEmbed(.tokens(ids: ids, batch: b, length: t)), attentionMask: mask)
        case .fields(let x):
            return sourceEmbed(.pixels(x)).mean(alongAxis: 1)
        case .series:
            preconditionFailure("sourceEmbedderFeatures: source data must be tokens or images")
        }
    }
}
