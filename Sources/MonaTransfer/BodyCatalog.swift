import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// Where bodies come from: the pretrained bodies of `AssetRegistry`, a checkpoint directory, or small built-in
/// random bodies for tests and smoke runs.
public enum BodyCatalog {
    /// A body known by name, with a one-line summary.
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        /// Whether its files are on disk (always true for built-in random bodies).
        public let isPresent: Bool
        /// What to run when it is not.
        public let fetchHint: String?
    }

    /// Built-in random bodies (no assets): a 2-layer, 64-wide BERT and a 2-layer, 64-wide ViT with 4×4 patches.
    public static let builtInNames = ["tiny-bert", "tiny-vit"]

    /// Every known body and whether it can be used now.
    public static func entries(assets: AssetRegistry = AssetRegistry()) -> [Entry] {
        var out = assets.allBodies().map {
            Entry(name: $0.name, summary: $0.summary, isPresent: $0.isPresent,
                  fetchHint: $0.isPresent ? nil : "scripts/fetch-assets.sh \($0.group)")
        }
        out.append(Entry(name: "tiny-bert", summary: "built-in random BERT: 2 layers, 64 wide, 4 heads (tests, smoke runs)",
                         isPresent: true, fetchHint: nil))
        out.append(Entry(name: "tiny-vit", summary: "built-in random ViT: 2 layers, 64 wide, 4 heads, 4×4 patches",
                         isPresent: true, fetchHint: nil))
        return out
    }

    /// The configuration of a built-in body.
    public static func builtInConfig(_ name: String) -> (TransformerBody.Family, TransformerConfig)? {
        var c = TransformerConfig(hiddenSize: 64, layers: 2, heads: 4, intermediateSize: 128)
        switch name {
        case "tiny-bert":
            c.vocabularySize = 128
            c.maxPositions = 512
            return (.bert, c)
        case "tiny-vit":
            c.imageSize = 32
            c.patchSize = 4
            c.layerNormEpsilon = 1e-6
            c.activation = .gelu
            return (.dinov2, c)
        default:
            return nil
        }
    }

    /// Loads body `name` (a known body, a built-in random body, or a directory with `config.json` and
    /// `model.safetensors` of a Hugging Face BERT). With `pretrained` false the same architecture is
    /// re-initialised at random (BERT-style: weights N(0, 0.02), biases 0, norms 1) from `seed` — the
    /// "scratch" baseline. Built-in bodies are random either way.
    public static func load(_ name: String, pretrained: Bool = true, seed: UInt64 = 0,
                            assets: AssetRegistry = AssetRegistry()) throws -> TransformerBody {
        if let (family, config) = builtInConfig(name) {
            return randomBody(family: family, config: config, seed: seed)
        }
        let body = try loadPretrained(name, assets: assets)
        if !pretrained { reinitialize(body, seed: seed) }
        return body
    }

    /// A randomly initialised body of the given architecture (BERT-style initialisation).
    public static func randomBody(family: TransformerBody.Family, config: TransformerConfig, seed: UInt64) -> TransformerBody {
        let body: TransformerBody
        switch family {
        case .bert: body = TransformerBody(bert: BertModel(config: config, pooler: false, seed: seed))
        case .dinov2: body = TransformerBody(dinov2: Dinov2Model(config: config, seed: seed))
        }
        reinitialize(body, seed: seed)
        return body
    }

    /// Re-draws every body weight (and the source embedder's) BERT-style: matrices, embeddings, CLS and position
    /// tokens N(0, 0.02); biases 0; LayerNorm weights 1; layer-scale factors keep the configured value.
    public static func reinitialize(_ body: TransformerBody, seed: UInt64) {
        var g = SeededGenerator(seed: seed).forked(0x7363_7261_7463_68)
        var modules: [Module] = [body]
        if let e = body.sourceTextEmbeddings { modules.append(e) }
        if let e = body.sourceImageEmbeddings { modules.append(e) }
        for m in modules {
            for (name, p) in m.namedParameters() {
                let shape = p.value.shape
                let leaf = name.split(separator: ".").last.map(String.init) ?? name
                let isNorm = name.lowercased().contains("norm")
                if leaf == "lambda1" { p.assign(.full(shape, body.config.layerScaleInit)) }
                else if leaf == "bias" { p.assign(.zeros(shape)) }
                else if isNorm && leaf == "weight" { p.assign(.ones(shape)) }
                else if name.hasSuffix("mask_token") { p.assign(.zeros(shape)) }
                else { p.assign(Tensor.randomNormal(shape, std: 0.02, generator: &g)) }
            }
        }
    }

    // MARK: Pretrained weights

    static func loadPretrained(_ name: String, assets: AssetRegistry) throws -> TransformerBody {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue {
            let dir = URL(fileURLWithPath: name, isDirectory: true)
            return try loadBertDirectory(config: dir.appendingPathComponent("config.json"),
                                         weights: dir.appendingPathComponent("model.safetensors"), label: name)
        }
        let entry: AssetRegistry.Body
        do { entry = try assets.body(name) } catch {
            let known = (AssetRegistry.bodyNames + builtInNames).joined(separator: ", ")
            throw TransferError.badBody("unknown body '\(name)'; known bodies: \(known), or a directory holding "
                                        + "config.json and model.safetensors")
        }
        guard entry.isPresent else { throw TransferError.badBody(entry.missingMessage) }
        switch (entry.architecture, entry.format) {
        case (.bert, .safetensors):
            guard let config = entry.config else { throw TransferError.badBody("body '\(name)' has no config.json") }
            return try loadBertDirectory(config: config, weights: entry.weights, label: name)
        default:
            throw TransferError.badBody("body '\(name)' (\(entry.format.rawValue)) cannot be loaded by this build yet; "
                                        + "use minilm-l6 or a safetensors directory")
        }
    }

    /// A Hugging Face BERT from `config.json` + `model.safetensors` (names with or without a `bert.` prefix).
    static func loadBertDirectory(config: URL, weights: URL, label: String) throws -> TransformerBody {
        for url in [config, weights] where !FileManager.default.fileExists(atPath: url.path) {
            throw TransferError.badBody("body '\(label)': missing \(url.path)")
        }
        let hf = try HFConfig(contentsOf: config)
        try hf.validate()
        var c = TransformerConfig(hiddenSize: try hf.require(\.hiddenSize, "hidden_size"),
                                  layers: try hf.require(\.numHiddenLayers, "num_hidden_layers"),
                                  heads: try hf.require(\.numAttentionHeads, "num_attention_heads"),
                                  intermediateSize: try hf.require(\.intermediateSize, "intermediate_size"))
        c.vocabularySize = try hf.require(\.vocabSize, "vocab_size")
        c.maxPositions = hf.maxPositionEmbeddings ?? 512
        c.typeVocabularySize = hf.typeVocabSize ?? 2
        c.padTokenID = hf.padTokenId ?? 0
        c.layerNormEpsilon = Float(hf.layerNormEps ?? 1e-12)
        c.hiddenDropout = Float(hf.hiddenDropoutProb ?? 0.1)
        c.attentionDropout = Float(hf.attentionProbsDropoutProb ?? 0.1)
        switch hf.hiddenAct ?? "gelu" {
        case "gelu": c.activation = .gelu
        case "gelu_new", "gelu_pytorch_tanh": c.activation = .geluTanh
        case "relu": c.activation = .relu
        case let other: throw TransferError.badBody("body '\(label)': unsupported hidden_act '\(other)'")
        }
        if hf.modelType == "roberta" { c.positionOffset = c.padTokenID + 1 }
        let model = BertModel(config: c, pooler: false)
        var tensors = try SafeTensors.load(contentsOf: weights)
        if tensors.keys.contains(where: { $0.hasPrefix("bert.") }) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.compactMap { k, v in
                k.hasPrefix("bert.") ? (String(k.dropFirst(5)), v) : nil
            })
        }
        let own = Set(model.namedParameters().map(\.name))
        try model.load(stateDict: tensors.filter { own.contains($0.key) }, strict: true, source: weights.path)
        return TransformerBody(bert: model)
    }
}
