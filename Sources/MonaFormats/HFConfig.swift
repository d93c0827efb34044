import Foundation
import MonaJSON

/// The fields of a Hugging Face `config.json` that MoNA's encoders use (BERT-family text models, ViT/DINOv2
/// image models). Every field is optional because model families differ; `require*` and `validate()` turn a
/// missing or inconsistent field into a `FormatError` naming the key. All members stay available in `raw`.
public struct HFConfig: Sendable {
    public var modelType: String?
    public var architectures: [String]
    public var hiddenSize: Int?
    public var numHiddenLayers: Int?
    public var numAttentionHeads: Int?
    public var intermediateSize: Int?
    public var hiddenAct: String?
    public var layerNormEps: Double?
    public var maxPositionEmbeddings: Int?
    public var typeVocabSize: Int?
    public var vocabSize: Int?
    public var padTokenId: Int?
    public var positionEmbeddingType: String?
    public var hiddenDropoutProb: Double?
    public var attentionProbsDropoutProb: Double?
    public var initializerRange: Double?
    public var imageSize: Int?
    public var patchSize: Int?
    public var numChannels: Int?
    public var qkvBias: Bool?
    public var layerscaleValue: Double?
    public var mlpRatio: Double?
    public var useSwiGLUFFN: Bool?
    public var dropPathRate: Double?
    public var torchDtype: String?
    /// Every member of the file, in file order.
    public var raw: JSONValue
    /// The file the config came from (for error messages).
    public var file: String

    /// Reads and parses `config.json`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(file: url.path, "cannot read the file (\(FileIO.describe(error)))")
        }
        guard data.count <= 16 << 20 else { throw FormatError(file: url.path, "config is \(data.count) bytes, larger than 16 MiB") }
        try self.init(json: data, file: url.path)
    }

    /// Parses config JSON held in memory.
    public init(json data: Data, file: String = "config.json") throws {
        let root = try JSONValue.parse(data, file: file)
        guard case .object = root else { throw FormatError(file: file, "top level must be a JSON object, got \(root.kindName)") }
        self = try HFConfig(from: JSONValueDecoder(root, rules: HFConfig.rules(file: file)))
        self.file = file
    }

    /// Errors name the file and the key, as `'hidden_size' must be an integer, got a string`.
    static func rules(file: String) -> JSONValueDecoder.Rules {
        JSONValueDecoder.Rules(mode: .file) { path, expected, found in
            let key = path.first?.stringValue ?? ""
            guard let found else { return FormatError(file: file, "missing required key '\(key)'") }
            let wanted = key == CodingKeys.architectures.stringValue ? "an array of strings" : expected
            return FormatError(file: file, "'\(key)' must be \(wanted), got \(found.kindName)")
        }
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", architectures, hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps", maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size", vocabSize = "vocab_size", padTokenId = "pad_token_id"
        case positionEmbeddingType = "position_embedding_type", hiddenDropoutProb = "hidden_dropout_prob"
        case attentionProbsDropoutProb = "attention_probs_dropout_prob", initializerRange = "initializer_range"
        case imageSize = "image_size", patchSize = "patch_size", numChannels = "num_channels", qkvBias = "qkv_bias"
        case layerscaleValue = "layerscale_value", mlpRatio = "mlp_ratio", useSwiGLUFFN = "use_swiglu_ffn"
        case dropPathRate = "drop_path_rate", torchDtype = "torch_dtype"
    }
    /// An integer field that must be present, e.g. `try config.require(\.hiddenSize, "hidden_size")`.
    public func require<T>(_ field: KeyPath<HFConfig, T?>, _ key: String) throws -> T {
        guard let v = self[keyPath: field] else { throw FormatError(file: file, "missing required key '\(key)'") }
        return v
    }

    /// Checks the transformer geometry: positive sizes where present, `hidden_size` divisible by
    /// `num_attention_heads`, `patch_size` dividing `image_size`, and a non-negative `layer_norm_eps`.
    public func validate() throws {
        let positive: [(String, Int?)] = [
            ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositionEmbeddings),
            ("vocab_size", vocabSize), ("image_size", imageSize), ("patch_size", patchSize), ("num_channels", numChannels),
        ]
        for (key, value) in positive {
            if let v = value, v <= 0 { throw FormatError(file: file, "'\(key)' must be positive, got \(v)") }
        }
        if let t = typeVocabSize, t < 0 { throw FormatError(file: file, "'type_vocab_size' must be ≥ 0, got \(t)") }
        if let h = hiddenSize, let n = numAttentionHeads, h % n != 0 {
            throw FormatError(file: file, "'hidden_size' \(h) is not divisible by 'num_attention_heads' \(n)")
        }
        if let i = imageSize, let p = patchSize, i % p != 0 {
            throw FormatError(file: file, "'image_size' \(i) is not divisible by 'patch_size' \(p)")
        }
        if let e = layerNormEps, !(e >= 0) || !e.isFinite {
            throw FormatError(file: file, "'layer_norm_eps' must be a finite number ≥ 0, got \(e)")
        }
        if let p = padTokenId, let v = vocabSize, p < 0 || p >= v {
            throw FormatError(file: file, "'pad_token_id' \(p) is outside the vocabulary of \(v) tokens")
        }
    }
}

extension HFConfig: Decodable {
    /// Every field optional (null counts as absent); `raw` keeps the whole object when decoded by `JSONValueDecoder`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        raw = (decoder as? JSONValueDecoder)?.value ?? .object([])
        file = "config.json"
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures) ?? []
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings)
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize)
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType)
        hiddenDropoutProb = try c.decodeIfPresent(Double.self, forKey: .hiddenDropoutProb)
        attentionProbsDropoutProb = try c.decodeIfPresent(Double.self, forKey: .attentionProbsDropoutProb)
        initializerRange = try c.decodeIfPresent(Double.self, forKey: .initializerRange)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize)
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels)
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias)
        layerscaleValue = try c.decodeIfPresent(Double.self, forKey: .layerscaleValue)
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio)
        useSwiGLUFFN = try c.decodeIfPresent(Bool.self, forKey: .useSwiGLUFFN)
        dropPathRate = try c.decodeIfPresent(Double.self, forKey: .dropPathRate)
        torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype)
    }
}
