import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// The pretrained transformer layers g_θ of a cross-modal model, plus a frozen handle on the body's own input
/// embedding (the *source embedder* f^s) that MoNA and ORCA use to embed source data.
///
/// One conforming class per architecture family (`BertBody`, `Dinov2Body`), registered once in `BodyRegistry` under
/// the Hugging Face `model_type` values it loads. The transformer layers are child modules named as in the
/// checkpoint (`encoder.layer.3.attention.self.query.weight`, `layernorm.weight`), so `Module.withParameters` (θ′ in
/// MoNA's inner loop) substitutes them. The source embedder is *not* a child module: it is frozen, not trained,
/// and not saved with the model (it is rebuilt from the body's checkpoint).
public protocol TransformerBody: Module {
    /// Hugging Face `model_type` values this family loads; the first one names the family in `model.json`.
    static var modelTypes: [String] { get }
    /// What the source embedder takes, which decides the source data (text or images).
    static var sourceModality: SourceModality { get }
    /// A body of this architecture with the model's own random initialisation.
    static func random(config: TransformerConfig, seed: UInt64) -> Self
    /// The pretrained body of a registered asset (`AssetRegistry.Body`, files checked present).
    static func pretrained(asset: AssetRegistry.Body) throws -> Self
    /// The pretrained body of a Hugging Face model directory whose `config.json` is `config`.
    static func pretrained(directory: URL, config: HFConfig) throws -> Self
    /// Rows of the embedding tables a body of `config` allocates (bounds a saved model's config before building it).
    static func embeddingTableRows(_ config: TransformerConfig) -> Int

    var config: TransformerConfig { get }
    /// Number of transformer blocks.
    var layerCount: Int { get }
    /// The WordPiece tokenizer of a text body (for source text), when it ships one.
    var tokenizer: WordPieceTokenizer? { get }
    /// tokens [B, T, D] and an optional additive mask → hidden states [B, T, D]; `hook` sees every block's output.
    func encode(_ tokens: Tensor, additiveMask: Tensor?, hook: ((Int, Tensor) -> Void)?) -> Tensor

    // MARK: Source embedder

    /// The source embedder's modules (re-drawn with the body for the scratch baseline).
    var sourceModules: [Module] { get }
    /// Token ids → [B, T, D] (text bodies) or pixels → [B, 1 + N, D] (image bodies); nil for the other input.
    func sourceEmbedding(_ input: SourceInput) -> Tensor?

    // MARK: What target embedders initialise from

    /// Number of 1-D positions the body knows.
    var positionCount: Int { get }
    /// The body's position table as rows [positionCount, D] (image bodies: the patch grid in row-major order,
    /// without the CLS position).
    var positionTable: Tensor { get }
    /// Position embeddings for a `rows × cols` grid, CLS first: [1 + rows·cols, D]; nil for bodies without a grid.
    func gridPositions(rows: Int, cols: Int) -> Tensor?
    /// The CLS token [1, 1, D] of an image body; nil otherwise.
    var clsToken: Tensor? { get }
    /// The patch-embedding kernel [D, 3, p, p] and bias [D] of an image body; nil otherwise.
    var patchKernel: (weight: Tensor, bias: Tensor)? { get }
    /// Root mean square of a text body's token-embedding table (the scale target embedders draw at); nil otherwise.
    var tokenEmbeddingRMS: Float? { get }
    /// The LayerNorm that follows a text body's input embeddings (weight, bias); nil when there is none.
    var embeddingNorm: (weight: Tensor, bias: Tensor, epsilon: Float)? { get }
}

/// What a body's source embedder takes.
public enum SourceModality: String, Sendable {
    case tokens
    case pixels
}

/// Input to the source embedder.
public enum SourceInput {
    /// Row-major token ids [B, T] (text bodies).
    case tokens(ids: [Int], batch: Int, length: Int)
    /// [B, 3, H, W] pixels (image bodies).
    case pixels(Tensor)
}

extension TransformerBody {
    /// The family's name in `model.json` (its first `model_type`).
    public static var family: String { modelTypes[0] }
    /// The family's name in `model.json`.
    public var family: String { Self.family }
    public var sourceModality: SourceModality { Self.sourceModality }

    /// Token width D.
    public var width: Int { config.hiddenSize }

    /// tokens [B, T, D] and an optional 0/1 mask [B, T] → hidden states [B, T, D]. `hook` sees the output of
    /// every block (index, [B, T, D]).
    public func callAsFunction(_ tokens: Tensor, mask: Tensor? = nil, hook: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        precondition(tokens.rank == 3 && tokens.shape[2] == width,
                     "TransformerBody: tokens must be [batch, tokens, \(width)], got \(tokens.shape)")
        return encode(tokens, additiveMask: mask.map(SelfAttention.additiveMask(fromAttentionMask:)), hook: hook)
    }

    /// The body's own (frozen) input embedding. Source data is chosen by `sourceModality`, so the other input
    /// is a programming error.
    public func sourceEmbed(_ input: SourceInput) -> Tensor {
        guard let e = sourceEmbedding(input) else {
            preconditionFailure("sourceEmbed: a \(family) body embeds \(sourceModality.rawValue), not this input")
        }
        return e
    }

    /// Position embeddings for `count` tokens in a row, [count, D]: the body's first `count` rows, or all of
    /// them linearly interpolated to `count` when the body has fewer.
    public func sequencePositions(_ count: Int) -> Tensor {
        withoutGradients { interpolateRows(positionTable, to: count).detached() }
    }

    /// A new LayerNorm initialised from `embeddingNorm` (what a target embedder normalises with, so its tokens
    /// enter the body on the scale the body was trained on); nil when the body has none.
    public func makeEmbeddingNorm() -> LayerNorm? {
        guard let n = embeddingNorm else { return nil }
        let ln = LayerNorm(width, epsilon: n.epsilon)
        ln.weight = n.weight
        ln.bias = n.bias
        return ln
    }
}

/// Holds a source embedder outside the module tree (reflection only descends into `Module`s, arrays of them
/// and optionals).
struct SourceEmbedderBox<Embedder: Module> {
    let embedder: Embedder
}

/// Rows 0..<count of `table` [P, D] when P ≥ count, else the rows linearly interpolated to `count` (PyTorch
/// `interpolate(mode="linear", align_corners=False)` along the row axis).
func interpolateRows(_ table: Tensor, to count: Int) -> Tensor {
    let p = table.shape[0], d = table.shape[1]
    if count <= p { return table.slice(axis: 0, start: 0, end: count) }
    let columns = table.transposed().reshaped(to: [1, d, p])                 // [1, D, P]
    return columns.resizedLinear(to: count).reshaped(to: [d, count]).transposed()   // [count, D]
}
