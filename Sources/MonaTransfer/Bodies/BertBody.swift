import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// A BERT-family post-LN text encoder as a body: the encoder blocks train, the token + position embeddings are
/// the frozen source embedder (source inputs are token ids), the pooler is dropped.
public final class BertBody: Module, TransformerBody {
    public static let modelTypes = ["bert", "roberta", "xlm-roberta"]
    public static let sourceModality = SourceModality.tokens

    public let config: TransformerConfig
    /// `encoder.layer.*`
    public let encoder: BertEncoder
    public let tokenizer: WordPieceTokenizer?
    /// Not a child module (see `TransformerBody`); reflection skips this box.
    private let source: SourceEmbedderBox<BertEmbeddings>

    /// Wraps a BERT model's encoder; its embeddings become the frozen source embedder.
    public init(_ bert: BertModel, tokenizer: WordPieceTokenizer? = nil) {
        config = bert.config
        encoder = bert.encoder
        self.tokenizer = tokenizer
        source = SourceEmbedderBox(embedder: bert.embeddings)
        super.init()
        bert.embeddings.freeze()
        bert.embeddings.eval()
    }

    public static func random(config: TransformerConfig, seed: UInt64) -> BertBody {
        BertBody(BertModel(config: config, pooler: false, seed: seed))
    }

    public static func pretrained(asset: AssetRegistry.Body) throws -> BertBody {
        BertBody(try BertModel.load(asset: asset),
                 tokenizer: try asset.vocabulary.map { try WordPieceTokenizer(vocabularyFile: $0) })
    }

    public static func pretrained(directory: URL, config: HFConfig) throws -> BertBody {
        let vocab = directory.appendingPathComponent("vocab.txt")
        let tokenizer = FileManager.default.fileExists(atPath: vocab.path) ? try WordPieceTokenizer(vocabularyFile: vocab) : nil
        return BertBody(try BertModel.load(safetensors: directory.appendingPathComponent("model.safetensors"), config: config),
                        tokenizer: tokenizer)
    }

    public static func embeddingTableRows(_ c: TransformerConfig) -> Int {
        c.vocabularySize + c.maxPositions + c.typeVocabularySize
    }

    public var layerCount: Int { encoder.layer.count }

    public func encode(_ tokens: Tensor, additiveMask: Tensor?, hook: ((Int, Tensor) -> Void)?) -> Tensor {
        encoder(tokens, additiveMask: additiveMask, hook: hook)
    }

    /// The frozen BERT embeddings.
    public var sourceEmbeddings: BertEmbeddings { source.embedder }
    public var sourceModules: [Module] { [source.embedder] }

    public func sourceEmbedding(_ input: SourceInput) -> Tensor? {
        guard case .tokens(let ids, let b, let t) = input else { return nil }
        return source.embedder(ids: ids, batch: b, tokens: t)
    }

    /// Max positions minus RoBERTa's offset.
    public var positionCount: Int { source.embedder.positionEmbeddings.weight.shape[0] - config.positionOffset }
    public var positionTable: Tensor { source.embedder.positions(positionCount) }
    public func gridPositions(rows: Int, cols: Int) -> Tensor? { nil }
    public var clsToken: Tensor? { nil }
    public var patchKernel: (weight: Tensor, bias: Tensor)? { nil }

    /// The scale of the content the embedding LayerNorm mixes with positions.
    public var tokenEmbeddingRMS: Float? {
        withoutGradients { source.embedder.wordEmbeddings.weight.squared().mean().sqrt().item }
    }

    public var embeddingNorm: (weight: Tensor, bias: Tensor, epsilon: Float)? {
        let n = source.embedder.layerNorm
        return (n.weight.detached(), n.bias.detached(), n.epsilon)
    }
}
