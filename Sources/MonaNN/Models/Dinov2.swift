import MonaTensor

// ViT / DINOv2 encoder (pre-LN, layer scale, CLS token) with Hugging Face `Dinov2Model` parameter names.

/// `embeddings.*`: patchifier, CLS token, position embeddings (interpolated to other grids).
public final class Dinov2Embeddings: Module {
    override public class var childKeys: [String: String] {
        ["clsToken": "cls_token", "maskToken": "mask_token", "positionEmbeddings": "position_embeddings",
         "patchEmbeddings": "patch_embeddings"]
    }
    override public class var positionalParameters: [String] { ["clsToken", "maskToken", "positionEmbeddings"] }
    /// `patch_embeddings.projection`
    public final class PatchEmbeddings: Module {
        public let projection: Conv2d
        init(_ c: TransformerConfig, generator: inout SeededGenerator) {
            projection = Conv2d(c.channels, c.hiddenSize, kernel: (c.patchSize, c.patchSize),
                                stride: (c.patchSize, c.patchSize), generator: &generator)
            super.init()
        }
    }
    @Parameter public var clsToken: Tensor             // [1, 1, D]
    @Parameter public var maskToken: Tensor            // [1, D]
    @Parameter public var positionEmbeddings: Tensor   // [1, 1 + G·G, D]
    public let patchEmbeddings: PatchEmbeddings
    public let patchSize: Int

    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        let grid = c.imageSize / c.patchSize
        _clsToken = Parameter(wrappedValue: Tensor.randomNormal([1, 1, c.hiddenSize], std: 0.02, generator: &generator))
        _maskToken = Parameter(wrappedValue: .zeros([1, c.hiddenSize]))
        _positionEmbeddings = Parameter(wrappedValue: Tensor.randomNormal([1, 1 + grid * grid, c.hiddenSize], std: 0.02,
                                                                          generator: &generator))
        patchEmbeddings = PatchEmbeddings(c, generator: &generator)
        patchSize = c.patchSize
        super.init()
    }

    /// Position embeddings for a `rows × cols` patch grid: [1, 1 + rows·cols, D]. The stored grid is resized
    /// bicubically when it differs (as DINOv2 does).
    public func positions(rows: Int, cols: Int) -> Tensor {
        let n = positionEmbeddings.shape[1] - 1, d = positionEmbeddings.shape[2]
        let side = Int(Double(n).squareRoot().rounded())
        precondition(side * side == n, "Dinov2Embeddings: \(n) position embeddings do not form a square grid")
        if rows == side && cols == side { return positionEmbeddings }
        let cls = positionEmbeddings.slice(axis: 1, start: 0, end: 1)                          // [1, 1, D]
        let grid = positionEmbeddings.slice(axis: 1, start: 1, end: 1 + n)
            .reshaped(to: [1, side, side, d]).permuted([0, 3, 1, 2])                          // [1, D, G, G]
        let resized = grid.resizedBicubic(to: (rows, cols))                                    // [1, D, rows, cols]
            .permuted([0, 2, 3, 1]).reshaped(to: [1, rows * cols, d])
        return Tensor.concat([cls, resized], axis: 1)
    }

    /// pixels [B, C, H, W] → tokens [B, 1 + N, D]
    public func callAsFunction(_ pixels: Tensor) -> Tensor {
        let p = patchEmbeddings.projection(pixels)                                             // [B, D, gh, gw]
        let (b, d, gh, gw) = (p.shape[0], p.shape[1], p.shape[2], p.shape[3])
        let patches = p.reshaped(to: [b, d, gh * gw]).permuted([0, 2, 1])                      // [B, N, D]
        let cls = clsToken.expanded(to: [b, 1, d])
        return Tensor.concat([cls, patches], axis: 1) + positions(rows: gh, cols: gw)
    }
}

/// `encoder.layer.N.*`: pre-LN block with layer scale.
public final class Dinov2Layer: Module, EncoderBlock {
    override public class var childKeys: [String: String] { ["layerScale1": "layer_scale1", "layerScale2": "layer_scale2"] }
    /// `attention.attention.{query,key,value}` and `attention.output.dense`
    public final class Attention: Module {
        public final class Output: Module {
            public let dense: Linear
            init(_ d: Int, generator: inout SeededGenerator) { dense = Linear(d, d, generator: &generator); super.init() }
        }
        public let attention: SelfAttention
        public let output: Output
        init(_ c: TransformerConfig, generator: inout SeededGenerator) {
            attention = SelfAttention(dimension: c.hiddenSize, heads: c.heads, generator: &generator)
            output = Output(c.hiddenSize, generator: &generator)
            super.init()
        }
    }
    /// `layer_scaleN.lambda1`
    public final class LayerScale: Module {
        @Parameter public var lambda1: Tensor   // [D]
        init(_ d: Int, value: Float) { _lambda1 = Parameter(wrappedValue: .full([d], value)); super.init() }
    }
    /// `mlp.fc1`, `mlp.fc2`
    public final class MLP: Module {
        public let fc1: Linear
        public let fc2: Linear
        init(_ c: TransformerConfig, generator: inout SeededGenerator) {
            fc1 = Linear(c.hiddenSize, c.intermediateSize, generator: &generator)
            fc2 = Linear(c.intermediateSize, c.hiddenSize, generator: &generator)
            super.init()
        }
    }

    public let norm1: LayerNorm
    public let attention: Attention
    public let layerScale1: LayerScale
    public let norm2: LayerNorm
    public let mlp: MLP
    public let layerScale2: LayerScale
    let activation: TransformerConfig.Activation

    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        norm1 = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        attention = Attention(c, generator: &generator)
        layerScale1 = LayerScale(c.hiddenSize, value: c.layerScaleInit)
        norm2 = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        mlp = MLP(c, generator: &generator)
        layerScale2 = LayerScale(c.hiddenSize, value: c.layerScaleInit)
        activation = c.activation
        super.init()
    }

    /// x: [B, T, D] → [B, T, D]
    public func callAsFunction(_ x: Tensor, additiveMask: Tensor? = nil) -> Tensor {
        let a = attention.attention(norm1(x), additiveMask: additiveMask)                  // [B, T, D]
        let h = Self.scaledResidual(attention.output.dense, a, scale: layerScale1.lambda1, residual: x)
        return Self.scaledResidual(mlp.fc2, activation(mlp.fc1(norm2(h))), scale: layerScale2.lambda1, residual: h)
    }

    /// residual + (x·Wᵀ + b)·scale with the layer scale folded into W and b: products the size of the weight
    /// replace two passes over [B, T, D], and the residual goes into the GEMM.
    static func scaledResidual(_ l: Linear, _ x: Tensor, scale: Tensor, residual: Tensor) -> Tensor {
        let w = l.weight * scale.reshaped(to: [scale.count, 1])                             // [out, in]
        return Tensor.linear(x, weight: w, bias: l.bias.map { $0 * scale }, adding: residual)
    }
}

/// `encoder.layer.*`
public final class Dinov2Encoder: Module {
    public let layer: [Dinov2Layer]
    init(_ c: TransformerConfig, generator: inout SeededGenerator) {
        layer = (0..<c.layers).map { _ in Dinov2Layer(c, generator: &generator) }
        super.init()
    }

    /// Runs the blocks; `hook` sees the hidden state after each block (index, [B, T, D]).
    public func callAsFunction(_ x: Tensor, additiveMask: Tensor? = nil, hook: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        layer.run(x, additiveMask: additiveMask, hook: hook)
    }
}

/// A DINOv2 / ViT image encoder: the patch embedding is the *source embedder*, `encoder` is the *body*.
public final class Dinov2Model: Module {
    public let config: TransformerConfig
    public let embeddings: Dinov2Embeddings
    public let encoder: Dinov2Encoder
    public let layernorm: LayerNorm

    public init(config: TransformerConfig, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        self.config = config
        embeddings = Dinov2Embeddings(config, generator: &g)
        encoder = Dinov2Encoder(config, generator: &g)
        layernorm = LayerNorm(config.hiddenSize, epsilon: config.layerNormEpsilon)
        super.init()
    }

    /// pixels [B, C, H, W] → last hidden state after the final LayerNorm [B, 1 + N, D]
    public func callAsFunction(_ pixels: Tensor) -> Tensor {
        layernorm(encoder(embeddings(pixels)))
    }
}
