import Foundation
import Testing
import MonaFormats
import MonaNN
import MonaTensor
@testable import MonaTransfer

/// A GPT-2-style body whose parameters are named nothing like BERT's (`h.0.ln_1.weight`, `h.0.attn.weight`,
/// `ln_f.bias`): what FPT trains and what weight decay spares must follow the module structure, not the names.
final class GPTStyleBody: Module, TransformerBody {
    final class Block: Module {
        let ln_1: LayerNorm
        let attn: Linear
        let ln_2: LayerNorm
        let mlp: Linear
        init(_ d: Int, generator: inout SeededGenerator) {
            ln_1 = LayerNorm(d, epsilon: 1e-5)
            attn = Linear(d, d, generator: &generator)
            ln_2 = LayerNorm(d, epsilon: 1e-5)
            mlp = Linear(d, d, generator: &generator)
            super.init()
        }
        func callAsFunction(_ x: Tensor) -> Tensor {
            let h = x + attn(ln_1(x))
            return h + mlp(ln_2(h))
        }
    }

    static let modelTypes = ["gpt-style-test"]
    static let sourceModality = SourceModality.tokens
    let config: TransformerConfig
    let h: [Block]
    let ln_f: LayerNorm
    private let wpe: Tensor

    init(config: TransformerConfig, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        self.config = config
        h = (0..<config.layers).map { _ in Block(config.hiddenSize, generator: &g) }
        ln_f = LayerNorm(config.hiddenSize, epsilon: 1e-5)
        wpe = Tensor.randomNormal([config.maxPositions, config.hiddenSize], std: 0.02, generator: &g)
        super.init()
    }

    static func random(config: TransformerConfig, seed: UInt64) -> GPTStyleBody { GPTStyleBody(config: config, seed: seed) }
    static func pretrained(asset: AssetRegistry.Body) throws -> GPTStyleBody { throw FormatError(file: asset.name, "test body") }
    static func pretrained(directory: URL, config: HFConfig) throws -> GPTStyleBody { throw FormatError(file: directory.path, "test body") }
    static func embeddingTableRows(_ c: TransformerConfig) -> Int { c.maxPositions }

    var layerCount: Int { h.count }
    var tokenizer: WordPieceTokenizer? { nil }
    func encode(_ tokens: Tensor, additiveMask: Tensor?, hook: ((Int, Tensor) -> Void)?) -> Tensor {
        var x = tokens
        for (i, block) in h.enumerated() { x = block(x); hook?(i, x) }
        return ln_f(x)
    }
    var sourceModules: [Module] { [] }
    func sourceEmbedding(_ input: SourceInput) -> Tensor? { nil }
    var positionCount: Int { wpe.shape[0] }
    var positionTable: Tensor { wpe }
    func gridPositions(rows: Int, cols: Int) -> Tensor? { nil }
    var clsToken: Tensor? { nil }
    var patchKernel: (weight: Tensor, bias: Tensor)? { nil }
    var tokenEmbeddingRMS: Float? { nil }
    var embeddingNorm: (weight: Tensor, bias: Tensor, epsilon: Float)? { nil }
}

@Suite struct BodyStructureTests {
    func gptModel() -> CrossModalModel {
        var c = TransformerConfig(hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 16)
        c.maxPositions = 16
        let body = GPTStyleBody(config: c, seed: 1)
        let task = TaskSpec(name: "t", input: .series, output: .classification, sampleShape: [1, 12], outputs: 2,
                            loss: .crossEntropy, metric: .accuracy)
        return CrossModalModel(spec: ModelSpec(bodyName: "gpt", bodyFamily: body.family, bodyConfig: c, task: task,
                                               maxTokens: 6), body: body, seed: 2)
    }

    @Test func fptTrainsNormsNamedLn() {
        let m = gptModel()
        Trainability.frozenBody.apply(to: m)
        let body = m.trainableParameters().map(\.name).filter { $0.hasPrefix("body.") }
        #expect(Set(body) == ["body.h.0.ln_1.weight", "body.h.0.ln_1.bias", "body.h.0.ln_2.weight", "body.h.0.ln_2.bias",
                              "body.h.1.ln_1.weight", "body.h.1.ln_1.bias", "body.h.1.ln_2.weight", "body.h.1.ln_2.bias",
                              "body.ln_f.weight", "body.ln_f.bias"])
        #expect(m.trainableParameters().contains { $0.name == "embedder.projection.weight" })
    }

    @Test func weightDecaySparesNormsBiasesAndPositionsByStructure() {
        let m = gptModel()
        let groups = ParameterGroup.decayGroups(m, weightDecay: 0.01)
        let decayed = Set(groups[0].parameters.map(\.name)), exempt = Set(groups[1].parameters.map(\.name))
        #expect(groups[0].weightDecay == 0.01 && groups[1].weightDecay == 0)
        #expect(decayed.union(exempt).count == m.namedParameters().count && decayed.isDisjoint(with: exempt))
        // LayerNorms whatever their name, biases, and the embedder's position table (camelCase) are spared.
        for name in ["body.h.0.ln_1.weight", "body.h.1.ln_2.weight", "body.ln_f.weight", "body.h.0.attn.bias",
                     "embedder.positionEmbeddings", "embedder.norm.weight", "embedder.projection.bias", "head.linear.bias"] {
            #expect(exempt.contains(name), "\(name) should not be decayed")
        }
        for name in ["body.h.0.attn.weight", "body.h.1.mlp.weight", "embedder.projection.weight", "head.linear.weight"] {
            #expect(decayed.contains(name), "\(name) should be decayed")
        }
    }

    @Test func bertAndDinov2ModelsKeepTheirExemptions() {
        let task = TaskSpec(name: "f", input: .fields, output: .classification, sampleShape: [1, 16, 16], outputs: 2,
                            loss: .crossEntropy, metric: .accuracy)
        let vit = microVitBody()
        let m = CrossModalModel(spec: ModelSpec(bodyName: "vit", bodyFamily: vit.family, bodyConfig: vit.config, task: task),
                                body: vit, seed: 3)
        let exempt = Set(ParameterGroup.decayGroups(m, weightDecay: 0.1)[1].parameters.map(\.name))
        for name in ["embedder.cls_token", "embedder.positionEmbeddings", "body.layernorm.weight",
                     "body.encoder.layer.0.layer_scale1.lambda1", "body.encoder.layer.0.norm1.weight"] {
            #expect(exempt.contains(name), "\(name) should not be decayed")
        }
        #expect(!exempt.contains("body.encoder.layer.0.mlp.fc1.weight"))
    }

    @Test func everyRegisteredFamilyIsFoundByItsModelTypes() {
        for family in BodyRegistry.families {
            for type in family.modelTypes {
                #expect(BodyRegistry.family(modelType: type).map(ObjectIdentifier.init) == ObjectIdentifier(family))
            }
        }
        #expect(BodyRegistry.family(modelType: "roberta").map(ObjectIdentifier.init) == ObjectIdentifier(BertBody.self))
        #expect(BodyRegistry.family(modelType: "gpt2") == nil)
    }

    @Test func savedModelWithAnUnknownFamilyIsRefusedNamingTheField() {
        var spec = gptModel().spec
        spec.bodyFamily = "gpt-style-test"
        #expect(throws: TransferError.self) { try spec.validate(file: "model.json") }
        do { try spec.validate(file: "model.json") } catch {
            #expect("\(error)".contains("'bodyFamily'") && "\(error)".contains("bert, dinov2"))
        }
    }
}
