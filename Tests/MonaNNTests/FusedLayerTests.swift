import Testing
import MonaTensor
import MonaTestSupport
@testable import MonaNN

/// The transformer blocks fold biases, residuals, the score scale and layer scales into their GEMMs; their
/// outputs must equal the plain composition of the same parameters.
@Suite struct FusedLayerTests {
    static func config() -> TransformerConfig {
        var c = TransformerConfig(hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 12)
        c.hiddenDropout = 0; c.layerNormEpsilon = 1e-5
        return c
    }

    /// Unfused multi-head attention with the layer's own weights.
    static func plainAttention(_ a: SelfAttention, _ x: Tensor) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let dh = d / a.heads
        func proj(_ l: Linear) -> Tensor {
            (Tensor.matmul(x, l.weight, transposeB: true) + l.bias!).reshaped(to: [b, t, a.heads, dh]).permuted([0, 2, 1, 3])
        }
        let scores = Tensor.matmul(proj(a.query), proj(a.key), transposeB: true) * (1 / Float(dh).squareRoot())
        return Tensor.matmul(scores.softmax(alongAxis: -1), proj(a.value)).permuted([0, 2, 1, 3]).reshaped(to: [b, t, d])
    }

    static func plainLinear(_ l: Linear, _ x: Tensor) -> Tensor { Tensor.matmul(x, l.weight, transposeB: true) + l.bias! }

    @Test func dinov2LayerMatchesComposition() {
        var c = Self.config()
        c.layerScaleInit = 0.3
        var g = SeededGenerator(seed: 1)
        let layer = Dinov2Layer(c, generator: &g)
        layer.layerScale1.lambda1 = rand([8], seed: 2)
        layer.layerScale2.lambda1 = rand([8], seed: 3)
        let x = rand([2, 3, 8], seed: 4)
        let h = x + Self.plainLinear(layer.attention.output.dense, Self.plainAttention(layer.attention.attention,
                                                                                   layer.norm1(x))) * layer.layerScale1.lambda1
        let want = h + Self.plainLinear(layer.mlp.fc2, Self.plainLinear(layer.mlp.fc1, layer.norm2(h)).gelu())
            * layer.layerScale2.lambda1
        #expect(maxAbsDiff(layer(x), want) < 1e-5)
    }

    @Test func bertLayerMatchesCompositionInBothModes() {
        var g = SeededGenerator(seed: 5)
        let layer = BertLayer(Self.config(), generator: &g)
        let x = rand([2, 3, 8], seed: 6)
        let h = layer.attention.output.layerNorm(x + Self.plainLinear(layer.attention.output.dense,
                                                                      Self.plainAttention(layer.attention.selfAttention, x)))
        let want = layer.output.layerNorm(h + Self.plainLinear(layer.output.dense,
                                                               Self.plainLinear(layer.intermediate.dense, h).gelu()))
        #expect(maxAbsDiff(layer(x), want) < 1e-5)                    // training mode, dropout probability 0
        layer.eval()
        #expect(maxAbsDiff(layer(x), want) < 1e-5)
    }
}
