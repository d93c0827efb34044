import MonaFormats
import MonaNN
import MonaTensor

/// The pretrained transformer layers g_θ of a cross-modal model, plus a frozen handle on the body's own input
/// embedding (the *source embedder* f^s) that MoNA and ORCA use to embed source data.
///
/// Parameter names follow the checkpoint: `encoder.layer.3.attention.self.query.weight` (BERT) or
/// `encoder.layer.3.mlp.fc1.weight` and `layernorm.weight` (DINOv2). The source embedder is *not* a child module:
/// it is frozen, not trained, and not saved with the model (it is rebuilt from the body's checkpoint).
///
/// The body reads its weights only through its `@Parameter`s, so `Module.withParameters` (θ′ in MoNA's inner
/// loop) substitutes them.
public final class TransformerBody: Module {
    /// The architecture family.
    public enum Family: String, Codable, Sendable {
        /// BERT-style post-LN text encoder; source inputs are token ids.
        case bert
        /// DINOv2-style pre-LN ViT (final LayerNorm included in the body); source inputs are pixels.
        case dinov2
    }

    /// What the source embedder takes.
    public enum SourceInput {
        /// Row-major token ids [B, T] (BERT bodies).
        case tokens(ids: [Int], batch: Int, length: Int)
        /// [B, 3, H, W] pixels (DINOv2 bodies).
        case pixels(Tensor)
    }

    override public class var childKeys: [String: String] { ["bertEncoder": "encoder", "vitEncoder": "encoder"] }

    public let family: Family
    public let config: TransformerConfig
    let bertEncoder: BertEncoder?
    let vitEncoder: Dinov2Encoder?
    /// DINOv2's final LayerNorm (nil for BERT, whose post-LN blocks already end in one).
    public let layernorm: LayerNorm?
    /// Not a child module (see the type's documentation); reflection skips this box.
    private let source: SourceEmbedderBox
    /// The WordPiece tokenizer of a text body (for source text), when it ships one.
    public let tokenizer: WordPieceTokenizer?

    /// Wraps a BERT model's encoder; its embeddings become the frozen source embedder, the pooler is dropped.
    public init(bert: BertModel, tokenizer: WordPieceTokenizer? = nil) {
        self.tokenizer = tokenizer
        family = .bert
        config = bert.config
        bertEncoder = bert.encoder
        vitEncoder = nil
        layernorm = nil
        source = SourceEmbedderBox(bert: bert.embeddings, vit: nil)
        super.init()
        bert.embeddings.freeze()
        bert.embeddings.eval()
    }

    /// Wraps a DINOv2 model's encoder and final LayerNorm; its patch embedding becomes the source embedder.
    public init(dinov2: Dinov2Model) {
        tokenizer = nil
        family = .dinov2
        config = dinov2.config
        bertEncoder = nil
        vitEncoder = dinov2.encoder
        layernorm = dinov2.layernorm
        source = SourceEmbedderBox(bert: nil, vit: dinov2.embeddings)
        super.init()
        dinov2.embeddings.freeze()
        dinov2.embeddings.eval()
    }

    /// Token width D.
    public var width: Int { config.hiddenSize }

    /// Number of transformer blocks.
    public var layerCount: Int { bertEncoder?.layer.count ?? vitEncoder?.layer.count ?? 0 }

    /// tokens [B, T, D] and an optional 0/1 mask [B, T] → hidden states [B, T, D]. `hook` sees the output of
    /// every block (index, [B, T, D]).
    public func callAsFunction(_ tokens: Tensor, mask: Tensor? = nil, hook: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        precondition(tokens.rank == 3 && tokens.shape[2] == width,
                     "TransformerBody: tokens must be [batch, tokens, \(width)], got \(tokens.shape)")
        let additive = mask.map(SelfAttention.additiveMask(fromAttentionMask:))
        if let enc = bertEncoder { return enc(tokens, additiveMask: additive, hook: hook) }
        let h = vitEncoder!(tokens, additiveMask: additive, hook: hook)
        return layernorm!(h)
    }

    // MARK: Source embedder

    /// The body's own (frozen) input embedding: token ids → [B, T, D] for BERT, pixels → [B, 1 + N, D] for DINOv2.
    public func sourceEmbed(_ input: SourceInput) -> Tensor {
        switch (input, source.bert, source.vit) {
        case (.tokens(let ids, let b, let t), let emb?, _):
            return emb(ids: ids, batch: b, tokens: t)
        case (.pixels(let x), _, let emb?):
            return emb(x)
        case (.tokens, _, _):
            preconditionFailure("sourceEmbed: a \(family.rawValue) body embeds pixels, not token ids")
        case (.pixels, _, _):
            preconditionFailure("sourceEmbed: a \(family.rawValue) body embeds token ids, not pixels")
        }
    }

    /// The source embedder's BERT embeddings (nil for DINOv2).
    public var sourceTextEmbeddings: BertEmbeddings? { source.bert }

    /// The source embedder's DINOv2 embeddings (nil for BERT).
    public var sourceImageEmbeddings: Dinov2Embeddings? { source.vit }

    // MARK: What embedders initialise from

    /// Number of 1-D positions the body knows (BERT: max positions minus offset; DINOv2: patches in its grid).
    public var positionCount: Int {
        if let b = source.bert { return b.positionEmbeddings.weight.shape[0] - config.positionOffset }
        let n = source.vit!.positionEmbeddings.shape[1] - 1
        return n
    }

    /// Position embeddings for `count` tokens in a row, [count, D]: the body's first `count` rows, or all of
    /// them linearly interpolated to `count` when the body has fewer. (For DINOv2 the rows are its patch-grid
    /// positions in row-major order, without the CLS position.)
    public func sequencePositions(_ count: Int) -> Tensor {
        withoutGradients {
            let table: Tensor
            if let b = source.bert {
                table = b.positions(positionCount)                                       // [P, D]
            } else {
                let p = source.vit!.positionEmbeddings                                   // [1, 1 + P, D]
                table = p.slice(axis: 1, start: 1, end: p.shape[1]).reshaped(to: [positionCount, width])
            }
            return interpolateRows(table, to: count).detached()
        }
    }

    /// DINOv2 position embeddings for a `rows × cols` grid, CLS first: [1 + rows·cols, D] (bicubic resize of
    /// the body's grid, as DINOv2 does). nil for BERT.
    public func gridPositions(rows: Int, cols: Int) -> Tensor? {
        guard let v = source.vit else { return nil }
        return withoutGradients { v.positions(rows: rows, cols: cols).reshaped(to: [1 + rows * cols, width]).detached() }
    }

    /// DINOv2's CLS token [1, 1, D]; nil for BERT.
    public var clsToken: Tensor? { source.vit.map { $0.clsToken.detached() } }

    /// DINOv2's patch-embedding kernel [D, 3, p, p] and bias [D]; nil for BERT.
    public var patchKernel: (weight: Tensor, bias: Tensor)? {
        guard let v = source.vit else { return nil }
        let conv = v.patchEmbeddings.projection
        return (conv.weight.detached(), conv.bias.detached())
    }

    /// Root mean square of BERT's token-embedding table (the scale of the content the body's embedding
    /// LayerNorm mixes with positions); nil for DINOv2.
    public var tokenEmbeddingRMS: Float? {
        guard let b = source.bert else { return nil }
        return withoutGradients { b.wordEmbeddings.weight.squared().mean().sqrt().item }
    }

    /// The LayerNorm that follows BERT's input embeddings (weight, bias); nil for DINOv2.
    public var embeddingNorm: (weight: Tensor, bias: Tensor, epsilon: Float)? {
        guard let b = source.bert else { return nil }
        return (b.layerNorm.weight.detached(), b.layerNorm.bias.detached(), b.layerNorm.epsilon)
    }

    /// A new LayerNorm initialised from `embeddingNorm` (what a target embedder normalises with, so its tokens
    /// enter the body on the scale the body was trained on); nil when the body has none (DINOv2).
    public func makeEmbeddingNorm() -> LayerNorm? {
        guard let n = embeddingNorm else { return nil }
        let ln = LayerNorm(width, epsilon: n.epsilon)
        ln.weight = n.weight
        ln.bias = n.bias
        return ln
    }
}

/// Holds the source embedder outside the module tree (reflection only descends into `Module`s, arrays of them
/// and optionals).
private struct SourceEmbedderBox {
    let bert: BertEmbeddings?
    let vit: Dinov2Embeddings?
}

/// Rows 0..<count of `table` [P, D] when P ≥ count, else the rows linearly interpolated to `count` (PyTorch
/// `interpolate(mode="linear", align_corners=False)` along the row axis).
func interpolateRows(_ table: Tensor, to count: Int) -> Tensor {
    let p = table.shape[0], d = table.shape[1]
    if count <= p { return table.slice(axis: 0, start: 0, end: count) }
    let columns = table.transposed().reshaped(to: [1, d, p])                 // [1, D, P]
    return columns.resizedLinear(to: count).reshaped(to: [d, count]).transposed()   // [count, D]
}
