import Foundation
import Testing
@testable import MonaFormats
import MonaJSON

@Suite struct HFConfigTests {
    // all-MiniLM-L6-v2's config.json (trimmed of unused keys).
    static let miniLM = """
    {"_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
     "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false, "hidden_act": "gelu",
     "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
     "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
     "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute", "type_vocab_size": 2,
     "use_cache": true, "vocab_size": 30522}
    """

    static let dinov2 = """
    {"architectures": ["Dinov2Model"], "hidden_act": "gelu", "hidden_size": 384, "image_size": 518,
     "initializer_range": 0.02, "layer_norm_eps": 1e-06, "layerscale_value": 1.0, "mlp_ratio": 4,
     "model_type": "dinov2", "num_attention_heads": 6, "num_channels": 3, "num_hidden_layers": 12,
     "patch_size": 14, "qkv_bias": true, "torch_dtype": "float32", "use_swiglu_ffn": false, "drop_path_rate": 0.0}
    """

    @Test func parsesBertConfig() throws {
        let c = try HFConfig(json: Data(Self.miniLM.utf8))
        #expect(c.modelType == "bert" && c.architectures == ["BertModel"])
        #expect(c.hiddenSize == 384 && c.numHiddenLayers == 6 && c.numAttentionHeads == 12 && c.intermediateSize == 1536)
        #expect(c.hiddenAct == "gelu" && c.layerNormEps == 1e-12 && c.maxPositionEmbeddings == 512)
        #expect(c.typeVocabSize == 2 && c.vocabSize == 30522 && c.padTokenId == 0)
        #expect(c.positionEmbeddingType == "absolute" && c.hiddenDropoutProb == 0.1 && c.imageSize == nil)
        #expect(c.raw["use_cache"] == .bool(true))
        try c.validate()
        #expect(try c.require(\.hiddenSize, "hidden_size") == 384)
        expectFormatError("missing required key 'patch_size'") { _ = try c.require(\.patchSize, "patch_size") }
    }

    @Test func parsesDinov2Config() throws {
        let c = try HFConfig(json: Data(Self.dinov2.utf8))
        #expect(c.modelType == "dinov2" && c.imageSize == 518 && c.patchSize == 14 && c.numChannels == 3)
        #expect(c.layerscaleValue == 1.0 && c.mlpRatio == 4 && c.qkvBias == true && c.useSwiGLUFFN == false)
        #expect(c.layerNormEps == 1e-6 && c.torchDtype == "float32" && c.dropPathRate == 0)
        try c.validate()
    }

    @Test func reportsWrongTypesAndBadGeometry() throws {
        expectFormatError("'hidden_size' must be an integer, got a string") {
            _ = try HFConfig(json: Data(#"{"hidden_size": "384"}"#.utf8))
        }
        expectFormatError("'hidden_size' must be an integer, got a number") { _ = try HFConfig(json: Data(#"{"hidden_size": 3.5}"#.utf8)) }
        #expect(try HFConfig(json: Data(#"{"hidden_size": 768.0}"#.utf8)).hiddenSize == 768)
        expectFormatError("'qkv_bias' must be true or false") { _ = try HFConfig(json: Data(#"{"qkv_bias": 1}"#.utf8)) }
        expectFormatError("'architectures'") { _ = try HFConfig(json: Data(#"{"architectures": "BertModel"}"#.utf8)) }
        expectFormatError("top level must be a JSON object") { _ = try HFConfig(json: Data("[1]".utf8)) }
        expectFormatError("malformed JSON") { _ = try HFConfig(json: Data(#"{"hidden_size": 384,}"#.utf8)) }
        expectFormatError("not divisible by 'num_attention_heads'") {
            try HFConfig(json: Data(#"{"hidden_size": 384, "num_attention_heads": 5}"#.utf8)).validate()
        }
        expectFormatError("'num_hidden_layers' must be positive") {
            try HFConfig(json: Data(#"{"num_hidden_layers": 0}"#.utf8)).validate()
        }
        expectFormatError("'image_size' 225 is not divisible by 'patch_size' 14") {
            try HFConfig(json: Data(#"{"image_size": 225, "patch_size": 14}"#.utf8)).validate()
        }
        expectFormatError("'pad_token_id' 9 is outside") {
            try HFConfig(json: Data(#"{"vocab_size": 5, "pad_token_id": 9}"#.utf8)).validate()
        }
        expectFormatError("cannot read") { _ = try HFConfig(contentsOf: URL(fileURLWithPath: "/no/such/config.json")) }
    }

    @Test func nullMeansAbsent() throws {
        #expect(try HFConfig(json: Data(#"{"pad_token_id": null}"#.utf8)).padTokenId == nil)
    }
}

@Suite struct JSONTests {
    @Test func parsesValuesAndKeepsOrder() throws {
        let v = try JSONValue.parse(Array(#" {"b": [1, -2.5e3, true, null], "a": "x\u00e9\ud83d\ude00\n", "big": 9007199254740993} "#.utf8), file: "t")
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["b", "a", "big"])
        #expect(v["b"] == .array([.number(1), .number(-2500), .bool(true), .null]))
        #expect(v["a"] == .string("xé😀\n"))
        // Beyond 2^53 an integer is read as the nearest double and is no longer an exact integer.
        #expect(v["big"] == .number(9_007_199_254_740_992))
        #expect(v["big"]?.intValue == nil)
        #expect(try JSONValue.parse(Array(v.compactJSON.utf8), file: "t") == v)
    }

    @Test func rejectsMalformedInput() {
        let bad = ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "\"\\ud800\"", "tru", "{\"a\":1} x", "\"\u{01}\"", "-", "1e",
                   "{\"a\":1,\"a\":2}", "1e400"]
        for text in bad {
            expectFormatError("malformed JSON") { _ = try JSONValue.parse(Array(text.utf8), file: "t") }
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        expectFormatError("nesting deeper") { _ = try JSONValue.parse(Array(deep.utf8), file: "t") }
    }
}
