import Testing
import MonaTensor
import MonaTestSupport
@testable import MonaNN

func expectGradients(_ inputs: [Tensor], atol: Float = 2e-3, rtol: Float = 2e-2,
                     sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    let r = gradientCheck(inputs, atol: atol, rtol: rtol, f)
    #expect(r.passed, "\(r.detail)", sourceLocation: sourceLocation)
}

/// Finite-difference checks of each layer w.r.t. its input and, through a functional call, its parameters.
@Suite struct LayerGradientTests {
    /// Checks d loss/d input and d loss/d every parameter of `module` for `forward(x)`.
    func checkLayer(_ module: Module, input x: Tensor, _ forward: @escaping (Tensor) -> Tensor) {
        let named = module.namedParameters()
        let names = named.map(\.name)
        let values = named.map { $0.parameter.value.detached() }
        expectGradients([x] + values) { xs in
            let subs = Dictionary(uniqueKeysWithValues: zip(names, xs.dropFirst()))
            return module.withParameters(subs) { forward(xs[0]) }.mul2().sum()
        }
    }

    @Test func linear() {
        var g = SeededGenerator(seed: 1)
        let l = Linear(3, 2, generator: &g)
        checkLayer(l, input: rand([2, 2, 3], seed: 2)) { l($0) }
    }

    @Test func layerNormLayer() {
        let ln = LayerNorm(5)
        ln.weight = rand([5], seed: 3, low: 0.5, high: 1.5)
        ln.bias = rand([5], seed: 4)
        checkLayer(ln, input: rand([3, 5], seed: 5)) { ln($0) }
    }

    @Test func selfAttentionWithMask() {
        var g = SeededGenerator(seed: 6)
        let att = SelfAttention(dimension: 4, heads: 2, generator: &g)
        let mask = SelfAttention.additiveMask(fromAttentionMask: Tensor([1, 1, 0, 1, 1, 1], shape: [2, 3]))
        checkLayer(att, input: rand([2, 3, 4], seed: 7)) { att($0, additiveMask: mask) }
    }

    @Test func bertAndDinov2Blocks() {
        var c = TransformerConfig(hiddenSize: 4, layers: 1, heads: 2, intermediateSize: 6)
        c.vocabularySize = 5; c.maxPositions = 4; c.hiddenDropout = 0; c.layerNormEpsilon = 1e-5
        var g = SeededGenerator(seed: 8)
        let bert = BertLayer(c, generator: &g)
        checkLayer(bert, input: rand([1, 3, 4], seed: 9)) { bert($0) }
        c.layerScaleInit = 0.7
        let dino = Dinov2Layer(c, generator: &g)
        checkLayer(dino, input: rand([1, 3, 4], seed: 10)) { dino($0) }
    }

    @Test func convolutionLayers() {
        var g = SeededGenerator(seed: 11)
        let c2 = Conv2d(2, 3, kernel: (2, 2), stride: (2, 2), generator: &g)
        checkLayer(c2, input: rand([1, 2, 4, 4], seed: 12)) { c2($0) }
        let c1 = Conv1d(2, 2, kernel: 3, stride: 1, padding: 1, generator: &g)
        checkLayer(c1, input: rand([2, 2, 5], seed: 13)) { c1($0) }
    }
}
