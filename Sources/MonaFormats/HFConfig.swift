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
        let r = Reader(root: root, file: file)
        raw = root
        self.file = file
        modelType = try r.string("model_type")
        architectures = try r.strings("architectures") ?? []
        hiddenSize = try r.int("hidden_size")
        numHiddenLayers = try r.int("num_hidden_layers")
        numAttentionHeads = try r.int("num_attention_heads")
        intermediateSize = try r.int("intermediate_size")
        hiddenAct = try r.string("hidden_act")
        layerNormEps = try r.double("layer_norm_eps")
        maxPositionEmbeddings = try r.int("max_position_embeddings")
        typeVocabSize = try r.int("type_vocab_size")
        vocabSize = try r.int("vocab_size")
        padTokenId = try r.int("pad_token_id")
        positionEmbeddingType = try r.string("position_embedding_type")
        hiddenDropoutProb = try r.double("hidden_dropout_prob")
        attentionProbsDropoutProb = try r.double("attention_probs_dropout_prob")
        initializerRange = try r.double("initializer_range")
        imageSize = try r.int("image_size")
        patchSize = try r.int("patch_size")
        numChannels = try r.int("num_channels")
        qkvBias = try r.bool("qkv_bias")
        layerscaleValue = try r.double("layerscale_value")
        mlpRatio = try r.double("mlp_ratio")
        useSwiGLUFFN = try r.bool("use_swiglu_ffn")
        dropPathRate = try r.double("drop_path_rate")
        torchDtype = try r.string("torch_dtype")
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

    /// Typed access to optional members with errors naming the key and the type found.
    private struct Reader {
        let root: JSONValue
        let file: String

        func wrongType(_ key: String, _ expected: String, _ v: JSONValue) -> FormatError {
            FormatError(file: file, "'\(key)' must be \(expected), got \(v.kindName)")
        }

        func value(_ key: String) -> JSONValue? {
            guard let v = root[key], v != .null else { return nil }
            return v
        }

        func string(_ key: String) throws -> String? {
            guard let v = value(key) else { return nil }
            guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
            return s
        }

        func strings(_ key: String) throws -> [String]? {
            guard let v = value(key) else { return nil }
            guard case .array(let items) = v else { throw wrongType(key, "an array of strings", v) }
            return try items.map {
                guard case .string(let s) = $0 else { throw wrongType(key, "an array of strings", $0) }
                return s
            }
        }

        func int(_ key: String) throws -> Int? {
            guard let v = value(key) else { return nil }
            guard let i = v.intValue else { throw wrongType(key, "an integer", v) }   // 768.0 is 768
            return i
        }

        func double(_ key: String) throws -> Double? {
            guard let v = value(key) else { return nil }
            guard case .number(let d) = v else { throw wrongType(key, "a number", v) }
            return d
        }

        func bool(_ key: String) throws -> Bool? {
            guard let v = value(key) else { return nil }
            guard case .bool(let b) = v else { throw wrongType(key, "true or false", v) }
            return b
        }
    }
}
