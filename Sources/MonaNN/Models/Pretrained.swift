import Foundation
import MonaFormats
import MonaTensor

extension TransformerConfig {
    /// Reads a Hugging Face BERT/RoBERTa/ViT/DINOv2 `config.json`. Errors name the file and the missing key.
    public init(huggingFace hf: HFConfig) throws {
        try hf.validate()
        let hidden = try hf.require(\.hiddenSize, "hidden_size")
        self.init(hiddenSize: hidden, layers: try hf.require(\.numHiddenLayers, "num_hidden_layers"),
                  heads: try hf.require(\.numAttentionHeads, "num_attention_heads"),
                  intermediateSize: hf.intermediateSize ?? Int(Double(hidden) * (hf.mlpRatio ?? 4)))
        switch hf.hiddenAct ?? "gelu" {
        case "gelu": activation = .gelu
        case "gelu_new", "gelu_pytorch_tanh": activation = .geluTanh
        case "relu": activation = .relu
        case let other:
            throw FormatError(file: hf.file, "hidden_act \"\(other)\" is not supported (expected gelu, gelu_new or relu)")
        }
        let type = hf.modelType ?? "bert"
        layerNormEpsilon = Float(hf.layerNormEps ?? (type == "dinov2" || type == "vit" ? 1e-6 : 1e-12))
        hiddenDropout = Float(hf.hiddenDropoutProb ?? 0.1)
        attentionDropout = Float(hf.attentionProbsDropoutProb ?? 0.1)
        vocabularySize = hf.vocabSize ?? 0
        maxPositions = hf.maxPositionEmbeddings ?? 512
        typeVocabularySize = hf.typeVocabSize ?? 2
        padTokenID = hf.padTokenId ?? 0
        positionOffset = type == "roberta" || type == "xlm-roberta" ? padTokenID + 1 : 0
        imageSize = hf.imageSize ?? 224
        patchSize = hf.patchSize ?? 16
        channels = hf.numChannels ?? 3
        layerScaleInit = Float(hf.layerscaleValue ?? 1)
        if let swiglu = hf.useSwiGLUFFN, swiglu {
            throw FormatError(file: hf.file, "use_swiglu_ffn is not supported (only the GELU MLP of ViT-S/B/L)")
        }
    }

    /// all-MiniLM-L6-v2 / paraphrase-MiniLM-L3-v2 (BERT, 384 wide, 12 heads, FFN 1536).
    public static func miniLM(layers: Int) -> TransformerConfig {
        var c = TransformerConfig(hiddenSize: 384, layers: layers, heads: 12, intermediateSize: 1536)
        c.vocabularySize = 30522
        return c
    }

    /// DINOv2 ViT-S/14 (384 wide, 6 heads, 12 layers, 37×37 position grid, LayerNorm ε 1e-6, exact GELU).
    public static var dinov2Small: TransformerConfig {
        var c = TransformerConfig(hiddenSize: 384, layers: 12, heads: 6, intermediateSize: 1536)
        c.layerNormEpsilon = 1e-6
        c.imageSize = 518
        c.patchSize = 14
        c.hiddenDropout = 0
        c.attentionDropout = 0
        return c
    }
}

/// A pretrained transformer with its source embedder, ready to serve as a cross-modal body.
public enum PretrainedBody {
    /// A BERT-family text encoder and (when shipped) its WordPiece tokenizer.
    case bert(BertModel, tokenizer: WordPieceTokenizer?)
    /// A DINOv2 / ViT image encoder.
    case dinov2(Dinov2Model)

    /// Width of the token space.
    public var width: Int {
        switch self {
        case .bert(let m, _): m.config.hiddenSize
        case .dinov2(let m): m.config.hiddenSize
        }
    }

    /// The whole model as a module (for parameter listings and state dicts).
    public var module: Module {
        switch self {
        case .bert(let m, _): m
        case .dinov2(let m): m
        }
    }

    /// Loads a known body (`minilm-l6`, `minilm-l3`, `minilm-l6-int8`, `dinov2-s14`) from the asset folder, or
    /// throws a message telling the user which fetch command installs it.
    public static func load(_ name: String, assets: AssetRegistry = AssetRegistry()) throws -> PretrainedBody {
        let body = try assets.body(name)
        try body.requirePresent()
        let tokenizer = try body.vocabulary.map { try WordPieceTokenizer(vocabularyFile: $0) }
        switch (body.architecture, body.format) {
        case (.bert, .safetensors):
            return try loadDirectory(weights: body.weights, config: body.config, tokenizer: tokenizer)
        case (.bert, .onnx):
            let onnx = try ONNXModel(contentsOf: body.weights)
            let state = try onnx.bertStateDict()
            var config = try body.config.map { try TransformerConfig(huggingFace: HFConfig(contentsOf: $0)) }
                ?? TransformerConfig.miniLM(layers: countLayers(state))
            config.layers = countLayers(state)
            return .bert(try makeBert(config, state: state, source: body.weights.path), tokenizer: tokenizer)
        case (.dinov2, _):
            let onnx = try ONNXModel(contentsOf: body.weights)
            var state = try onnx.dinov2StateDict()
            var config = TransformerConfig.dinov2Small
            config.layers = countLayers(state)
            let model = Dinov2Model(config: config)
            // The exported graph has no mask token (only used for masked-image pre-training): keep the zero init.
            if state["embeddings.mask_token"] == nil { state["embeddings.mask_token"] = model.embeddings.maskToken }
            try model.load(stateDict: state, source: body.weights.path)
            model.eval()
            return .dinov2(model)
        }
    }

    /// Loads a Hugging Face model directory holding `config.json` and `model.safetensors` (and `vocab.txt`).
    public static func load(directory: URL) throws -> PretrainedBody {
        let vocab = directory.appendingPathComponent("vocab.txt")
        let tokenizer = FileManager.default.fileExists(atPath: vocab.path)
            ? try WordPieceTokenizer(vocabularyFile: vocab) : nil
        let config = directory.appendingPathComponent("config.json")
        let hf = try HFConfig(contentsOf: config)
        let weights = directory.appendingPathComponent("model.safetensors")
        switch hf.modelType ?? "bert" {
        case "bert", "roberta", "xlm-roberta":
            return try loadDirectory(weights: weights, config: config, tokenizer: tokenizer)
        case "dinov2":
            let model = Dinov2Model(config: try TransformerConfig(huggingFace: hf))
            var state = try SafeTensors.load(contentsOf: weights)
            if state["embeddings.mask_token"] == nil { state["embeddings.mask_token"] = model.embeddings.maskToken }
            try model.load(stateDict: state, source: weights.path)
            model.eval()
            return .dinov2(model)
        case let other:
            throw FormatError(file: config.path, "model_type \"\(other)\" is not supported (expected bert, roberta or dinov2)")
        }
    }

    static func loadDirectory(weights: URL, config: URL?, tokenizer: WordPieceTokenizer?) throws -> PretrainedBody {
        guard let config else { throw FormatError(file: weights.path, "no config.json next to the weights") }
        let c = try TransformerConfig(huggingFace: HFConfig(contentsOf: config))
        var state = try SafeTensors.load(contentsOf: weights)
        // Strip a task-model prefix (`bert.`, `roberta.`) and drop non-parameter buffers.
        for prefix in ["bert.", "roberta."] where state.keys.contains(where: { $0.hasPrefix(prefix) }) {
            state = Dictionary(uniqueKeysWithValues: state.compactMap { k, v in
                k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil })
        }
        state = state.filter { !$0.key.hasSuffix("position_ids") }
        return .bert(try makeBert(c, state: state, source: weights.path), tokenizer: tokenizer)
    }

    static func makeBert(_ config: TransformerConfig, state: [String: Tensor], source: String) throws -> BertModel {
        let model = BertModel(config: config, pooler: state["pooler.dense.weight"] != nil)
        try model.load(stateDict: state, source: source)
        model.eval()
        return model
    }

    static func countLayers(_ state: [String: Tensor]) -> Int {
        var n = 0
        while state.keys.contains(where: { $0.hasPrefix("encoder.layer.\(n).") }) { n += 1 }
        return n
    }
}
