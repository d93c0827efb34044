import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// A DINOv2-style pre-LN ViT as a body: the encoder blocks and the final LayerNorm train, the patch embedding
/// (with CLS token and position grid) is the frozen source embedder (source inputs are pixels).
public final class Dinov2Body: Module, TransformerBody {
    public static let modelTypes = ["dinov2"]
    public static let sourceModality = SourceModality.pixels

    public let config: TransformerConfig
    /// `encoder.layer.*`
    public let encoder: Dinov2Encoder
    /// The final LayerNorm (`layernorm.*`).
    public let layernorm: LayerNorm
    public var tokenizer: WordPieceTokenizer? { nil }
    /// Not a child module (see `TransformerBody`); reflection skips this box.
    private let source: SourceEmbedderBox<Dinov2Embeddings>

    /// Wraps a DINOv2 model's encoder and final LayerNorm; its patch embedding becomes the source embedder.
    public init(_ dinov2: Dinov2Model) {
        config = dinov2.config
        encoder = dinov2.encoder
        layernorm = dinov2.layernorm
        source = SourceEmbedderBox(embedder: dinov2.embeddings)
        super.init()
        dinov2.embeddings.freeze()
        dinov2.embeddings.eval()
    }

    public static func random(config: TransformerConfig, seed: UInt64) -> Dinov2Body {
        Dinov2Body(Dinov2Model(config: config, seed: seed))
    }

    public static func pretrained(asset: AssetRegistry.Body) throws -> Dinov2Body {
        Dinov2Body(try Dinov2Model.load(asset: asset))
    }

    public static func pretrained(directory: URL, config: HFConfig) throws -> Dinov2Body {
        Dinov2Body(try Dinov2Model.load(safetensors: directory.appendingPathComponent("model.safetensors"), config: config))
    }

    /// The position grid (with CLS) and the patch kernel's input rows.
    public static func embeddingTableRows(_ c: TransformerConfig) -> Int {
        let side = c.patchSize > 0 ? c.imageSize / c.patchSize : 0
        return side * side + 1 + c.channels * c.patchSize * c.patchSize
    }

    public var layerCount: Int { encoder.layer.count }

    public func encode(_ tokens: Tensor, additiveMask: Tensor?, hook: ((Int, Tensor) -> Void)?) -> Tensor {
        layernorm(encoder(tokens, additiveMask: additiveMask, hook: hook))
    }

    /// The frozen DINOv2 embeddings.
    public var sourceEmbeddings: Dinov2Embeddings { source.embedder }
    public var sourceModules: [Module] { [source.embedder] }

    public func sourceEmbedding(_ input: SourceInput) -> Tensor? {
        guard case .pixels(let x) = input else { return nil }
        return source.embedder(x)
    }

    /// Patches in the body's grid.
    public var positionCount: Int { source.embedder.positionEmbeddings.shape[1] - 1 }

    public var positionTable: Tensor {
        let p = source.embedder.positionEmbeddings                                   // [1, 1 + P, D]
        return p.slice(axis: 1, start: 1, end: p.shape[1]).reshaped(to: [positionCount, width])
    }

    /// Bicubic resize of the body's grid, as DINOv2 does.
    public func gridPositions(rows: Int, cols: Int) -> Tensor? {
        withoutGradients {
            source.embedder.positions(rows: rows, cols: cols).reshaped(to: [1 + rows * cols, width]).detached()
        }
    }

    public var clsToken: Tensor? { source.embedder.clsToken.detached() }

    public var patchKernel: (weight: Tensor, bias: Tensor)? {
        let conv = source.embedder.patchEmbeddings.projection
        return (conv.weight.detached(), conv.bias.detached())
    }

    public var tokenEmbeddingRMS: Float? { nil }
    /// DINOv2 feeds raw patch tokens to pre-LN blocks: no embedding LayerNorm.
    public var embeddingNorm: (weight: Tensor, bias: Tensor, epsilon: Float)? { nil }
}
