/// Hyper-parameters of a BERT- or ViT-style encoder, as read from a Hugging Face `config.json`.
public struct TransformerConfig: Sendable, Equatable, Codable {
    public enum Activation: String, Sendable, Codable { case gelu, geluTanh = "gelu_new", relu }

    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var activation: Activation = .gelu
    public var layerNormEpsilon: Float = 1e-12
    public var hiddenDropout: Float = 0.1
    public var attentionDropout: Float = 0.1
    // Text models
    public var vocabularySize: Int = 0
    public var maxPositions: Int = 512
    public var typeVocabularySize: Int = 2
    public var padTokenID: Int = 0
    /// RoBERTa numbers positions from `padTokenID + 1`; BERT from 0.
    public var positionOffset: Int = 0
    // Vision models
    public var imageSize: Int = 224
    public var patchSize: Int = 16
    public var channels: Int = 3
    public var layerScaleInit: Float = 1.0

    public init(hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int) {
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
    }
}
