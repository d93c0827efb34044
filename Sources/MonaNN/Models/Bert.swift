import MonaTensor

// BERT / RoBERTa encoder (post-LN) with Hugging Face `BertModel` parameter names.

/// `embeddings.*`: word + position + token-type embeddings, LayerNorm, dropout.
public final class BertEmbeddings: Module {
    override public class var childKeys: [String: String] {
        ["wordEmbeddings": "word_embeddings", "positionEmbeddings": "position_embeddings",
         "tokenTypeEmbeddings": "token_type_embeddings", "layerNorm": "LayerNorm"]
    }
    override public class var positionalParameters: [String] { ["positionEmbeddings"] }
    public let wordEmbeddings: Embedding
    public let positionEmbeddings: Embedding
    public let tokenTypeEmbeddings: Embedding
    public let layerNorm: LayerNorm
    public let dropout: Dropout
    let positionOffset: Int

    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        wordEmbeddings = Embedding(c.vocabularySize, c.hiddenSize, generator: &generator)
        positionEmbeddings = Embedding(c.maxPositions, c.hiddenSize, generator: &generator)
        tokenTypeEmbeddings = Embedding(c.typeVocabularySize, c.hiddenSize, generator: &generator)
        layerNorm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        dropout = Dropout(c.hiddenDropout, seed: generator.next())
        positionOffset = c.positionOffset
        super.init()
    }

    /// Position embeddings for `tokens` positions: [tokens, D].
    public func positions(_ tokens: Int) -> Tensor {
        precondition(positionOffset + tokens <= positionEmbeddings.weight.shape[0],
                     "BertEmbeddings: \(tokens) tokens exceed \(positionEmbeddings.weight.shape[0] - positionOffset) positions")
        return positionEmbeddings.weight.slice(axis: 0, start: positionOffset, end: positionOffset + tokens)
    }

    /// ids [B, T] (row-major), token types (default 0) → [B, T, D]
    public func callAsFunction(ids: [Int], batch: Int, tokens: Int, tokenTypes: [Int]? = nil) -> Tensor {
        let words = wordEmbeddings(ids, shape: [batch, tokens])                               // [B, T, D]
        let types = tokenTypeEmbeddings(tokenTypes ?? [Int](repeating: 0, count: ids.count), shape: [batch, tokens])
        return dropout(layerNorm(words + positions(tokens) + types))
    }
}

/// `encoder.layer.N.*`: post-LN transformer block.
public final class BertLayer: Module, EncoderBlock {
    /// `attention.*`
    public final class Attention: Module {
        override public class var childKeys: [String: String] { ["selfAttention": "self"] }
        public let selfAttention: SelfAttention
        public let output: Output
        init(_ c: TransformerConfig, generator: inout SeededGenerator) {
            selfAttention = SelfAttention(dimension: c.hiddenSize, heads: c.heads, generator: &generator)
            output = Output(c, inputWidth: c.hiddenSize, generator: &generator)
            super.init()
        }
    }
    /// `intermediate.dense`
    public final class Intermediate: Module {
        public let dense: Linear
        init(_ c: TransformerConfig, generator: inout SeededGenerator) {
            dense = Linear(c.hiddenSize, c.intermediateSize, generator: &generator)
            super.init()
        }
    }
    /// `attention.output.*` and `output.*`: dense, dropout, residual, LayerNorm.
    public final class Output: Module {
        override public class var childKeys: [String: String] { ["layerNorm": "LayerNorm"] }
        public let dense: Linear
        public let layerNorm: LayerNorm
        public let dropout: Dropout
        init(_ c: TransformerConfig, inputWidth: Int, generator: inout SeededGenerator) {
            dense = Linear(inputWidth, c.hiddenSize, generator: &generator)
            layerNorm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
            dropout = Dropout(c.hiddenDropout, seed: generator.next())
            super.init()
        }

        /// LayerNorm(residual + dropout(dense(x))); x: [B, T, in], residual: [B, T, D] → [B, T, D]
        public func callAsFunction(_ x: Tensor, residual: Tensor) -> Tensor {
            // Without dropout the residual goes into the product's GEMM (no separate pass over [B, T, D]).
            layerNorm(dropout.isIdentity ? dense(x, adding: residual) : residual + dropout(dense(x)))
        }
    }

    public let attention: Attention
    public let intermediate: Intermediate
    public let output: Output
    let activation: TransformerConfig.Activation

    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        attention = Attention(c, generator: &generator)
        intermediate = Intermediate(c, generator: &generator)
        output = Output(c, inputWidth: c.intermediateSize, generator: &generator)
        activation = c.activation
        super.init()
    }

    /// x: [B, T, D] → [B, T, D]
    public func callAsFunction(_ x: Tensor, additiveMask: Tensor? = nil) -> Tensor {
        let h = attention.output(attention.selfAttention(x, additiveMask: additiveMask), residual: x)
        return output(activation(intermediate.dense(h)), residual: h)                    // [B, T, F] inside
    }
}

/// `encoder.layer.*`
public final class BertEncoder: Module {
    public let layer: [BertLayer]
    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        layer = (0..<c.layers).map { _ in BertLayer(c, generator: &generator) }
        super.init()
    }

    /// Runs the blocks; `hook` sees the hidden state after each block (index, [B, T, D]).
    public func callAsFunction(_ x: Tensor, additiveMask: Tensor? = nil, hook: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        layer.run(x, additiveMask: additiveMask, hook: hook)
    }
}

/// `pooler.dense`: tanh(W·h_CLS + b).
public final class BertPooler: Module {
    public let dense: Linear
    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        dense = Linear(c.hiddenSize, c.hiddenSize, generator: &generator)
        super.init()
    }
}

/// A BERT-family text encoder: the token embedding is the *source embedder*, `encoder` is the *body*.
public final class BertModel: Module {
    public let config: TransformerConfig
    public let embeddings: BertEmbeddings
    public let encoder: BertEncoder
    public let pooler: BertPooler?

    public init(config: TransformerConfig, pooler: Bool = true, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        self.config = config
        embeddings = BertEmbeddings(config, generator: &g)
        encoder = BertEncoder(config, generator: &g)
        self.pooler = pooler ? BertPooler(config, generator: &g) : nil
        super.init()
    }

    /// Token ids [B, T] and optional 0/1 attention mask [B, T] → last hidden state [B, T, D].
    public func callAsFunction(ids: [Int], batch: Int, tokens: Int, attentionMask: Tensor? = nil,
                               tokenTypes: [Int]? = nil) -> Tensor {
        precondition(ids.count == batch * tokens, "BertModel: \(ids.count) ids for batch \(batch) × \(tokens) tokens")
        let x = embeddings(ids: ids, batch: batch, tokens: tokens, tokenTypes: tokenTypes)
        return encoder(x, additiveMask: attentionMask.map(SelfAttention.additiveMask(fromAttentionMask:)))
    }

    /// Mean over tokens where the mask is 1: [B, T, D], [B, T] → [B, D].
    public static func meanPool(_ hidden: Tensor, attentionMask: Tensor? = nil) -> Tensor {
        guard let m = attentionMask else { return hidden.mean(alongAxis: 1) }
        let w = m.reshaped(to: [m.shape[0], m.shape[1], 1])                              // [B, T, 1]
        return (hidden * w).sum(alongAxis: 1) / w.sum(alongAxis: 1)
    }
}
