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

extension AssetRegistry.Body {
    /// The files, checked present and of `modelType` (a message naming the fetch command otherwise).
    func require(modelType expected: String) throws {
        try requirePresent()
        guard modelType == expected else {
            throw FormatError(file: weights.path, "body '\(name)' holds a \(modelType) model, not \(expected)")
        }
    }

    /// The parsed `config.json` that safetensors weights need.
    func huggingFaceConfig() throws -> HFConfig {
        guard let config else { throw FormatError(file: weights.path, "no config.json next to the weights") }
        return try HFConfig(contentsOf: config)
    }
}

/// A MonaNN model whose pretrained weights the asset folder holds (`AssetRegistry`).
public protocol PretrainedModel: Module {
    /// Loads the weights of a registered body of this architecture (files checked present).
    static func load(asset: AssetRegistry.Body) throws -> Self
}

extension PretrainedModel {
    /// Loads the registered body `name` (e.g. `BertModel.pretrained("minilm-l6")`), or throws a message telling
    /// the user which fetch command installs it. A text body's tokenizer is `WordPieceTokenizer(vocabularyFile:)`
    /// of the entry's `vocabulary`.
    public static func pretrained(_ name: String, assets: AssetRegistry = AssetRegistry()) throws -> Self {
        try load(asset: assets.body(name))
    }
}

extension BertModel: PretrainedModel {
    /// Loads the weights of a registered BERT body (safetensors with its `config.json`, or ONNX).
    public static func load(asset body: AssetRegistry.Body) throws -> BertModel {
        try body.require(modelType: "bert")
        guard body.format == .onnx else { return try load(safetensors: body.weights, config: body.huggingFaceConfig()) }
        let state = try ONNXModel(contentsOf: body.weights).bertStateDict()
        // The ONNX packages ship no config.json: MiniLM's geometry, with the layer count of the graph.
        var config = try body.config.map { try TransformerConfig(huggingFace: HFConfig(contentsOf: $0)) }
            ?? TransformerConfig.miniLM(layers: countLayers(state))
        config.layers = countLayers(state)
        return try make(config, state: state, source: body.weights.path)
    }

    /// Loads Hugging Face BERT/RoBERTa weights (`model.safetensors`) described by `config`; a task-model prefix
    /// (`bert.`, `roberta.`) and the `position_ids` buffer are dropped.
    public static func load(safetensors weights: URL, config hf: HFConfig) throws -> BertModel {
        let c = try TransformerConfig(huggingFace: hf)
        var state = try SafeTensors.load(contentsOf: weights)
        for prefix in ["bert.", "roberta."] where state.keys.contains(where: { $0.hasPrefix(prefix) }) {
            state = Dictionary(uniqueKeysWithValues: state.compactMap { k, v in
                k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil })
        }
        state = state.filter { !$0.key.hasSuffix("position_ids") }
        return try make(c, state: state, source: weights.path)
    }

    static func make(_ config: TransformerConfig, state: [String: Tensor], source: String) throws -> BertModel {
        let model = BertModel(config: config, pooler: state["pooler.dense.weight"] != nil)
        try model.load(stateDict: state, source: source)
        model.eval()
        return model
    }
}

extension Dinov2Model: PretrainedModel {
    /// Loads the weights of a registered DINOv2 body (ONNX export of ViT-S/14, or safetensors with `config.json`).
    public static func load(asset body: AssetRegistry.Body) throws -> Dinov2Model {
        try body.require(modelType: "dinov2")
        guard body.format == .onnx else { return try load(safetensors: body.weights, config: body.huggingFaceConfig()) }
        let state = try ONNXModel(contentsOf: body.weights).dinov2StateDict()
        var config = TransformerConfig.dinov2Small
        config.layers = countLayers(state)
        return try make(config, state: state, source: body.weights.path)
    }

    /// Loads Hugging Face DINOv2 weights (`model.safetensors`) described by `config`.
    public static func load(safetensors weights: URL, config hf: HFConfig) throws -> Dinov2Model {
        try make(TransformerConfig(huggingFace: hf), state: SafeTensors.load(contentsOf: weights), source: weights.path)
    }

    static func make(_ config: TransformerConfig, state: [String: Tensor], source: String) throws -> Dinov2Model {
        let model = Dinov2Model(config: config)
        var state = state
        // Exports often drop the mask token (only used for masked-image pre-training): keep the zero init.
        if state["embeddings.mask_token"] == nil { state["embeddings.mask_token"] = model.embeddings.maskToken }
        try model.load(stateDict: state, source: source)
        model.eval()
        return model
    }
}

/// Number of `encoder.layer.<n>.` blocks in a state dict.
func countLayers(_ state: [String: Tensor]) -> Int {
    var n = 0
    while state.keys.contains(where: { $0.hasPrefix("encoder.layer.\(n).") }) { n += 1 }
    return n
}
