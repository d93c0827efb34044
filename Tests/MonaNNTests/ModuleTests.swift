import Testing
import MonaTensor
@testable import MonaNN

@Suite struct ModuleTests {
    static func tinyBertConfig() -> TransformerConfig {
        var c = TransformerConfig(hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 16)
        c.vocabularySize = 20
        c.maxPositions = 12
        c.hiddenDropout = 0
        c.attentionDropout = 0
        return c
    }

    @Test func bertParameterNamesFollowHuggingFace() {
        let names = BertModel(config: Self.tinyBertConfig()).namedParameters().map(\.name)
        for expected in ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                         "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
                         "embeddings.LayerNorm.bias", "encoder.layer.0.attention.self.query.weight",
                         "encoder.layer.0.attention.self.value.bias", "encoder.layer.1.attention.output.dense.weight",
                         "encoder.layer.1.attention.output.LayerNorm.bias", "encoder.layer.1.intermediate.dense.weight",
                         "encoder.layer.1.output.dense.bias", "encoder.layer.1.output.LayerNorm.weight",
                         "pooler.dense.weight"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(names.count == 5 + 2 * 16 + 2)
        #expect(Set(names).count == names.count)
    }

    @Test func freezeByPatternAndGroups() {
        let m = BertModel(config: Self.tinyBertConfig())
        m.freeze()
        #expect(m.parameterCount(trainableOnly: true) == 0)
        m.unfreeze(matching: ["*LayerNorm*"])
        let trainable = m.trainableParameters().map(\.name)
        #expect(trainable.allSatisfy { $0.contains("LayerNorm") } && trainable.count == 2 + 2 * 4)  // embeddings.LayerNorm + 2 per layer × 2 layers
        // frozen parameters build no graph
        #expect(!m.embeddings.wordEmbeddings.weight.requiresGrad)
        #expect(m.embeddings.layerNorm.weight.requiresGrad)
        m.unfreeze()
        let groups = ParameterGroup.decayGroups(m, weightDecay: 0.01)
        #expect(groups[1].parameters.allSatisfy { $0.name.hasSuffix("bias") || $0.name.contains("LayerNorm") || $0.name.contains("position_embeddings") })
        #expect(groups[0].parameters.contains { $0.name == "encoder.layer.0.attention.self.query.weight" })
    }

    @Test func globMatching() {
        #expect(globMatch("encoder.layer.*.attention.*", "encoder.layer.11.attention.self.query.weight"))
        #expect(!globMatch("encoder.layer.?.output*", "encoder.layer.11.output.dense.weight"))
        #expect(globMatch("*bias", "pooler.dense.bias"))
    }

    @Test func functionalCallLeavesModuleUnchanged() {
        var g = SeededGenerator(seed: 3)
        let lin = Linear(3, 2, generator: &g)
        let x = Tensor.ones([1, 3])
        let before = lin(x).scalars
        let sub = Tensor.zeros([2, 3])
        let y = lin.withParameters(["weight": sub]) { lin(x) }
        #expect(y.scalars == lin.bias!.scalars)
        #expect(lin(x).scalars == before)
    }

    @Test func functionalCallCarriesGradientsToTheSubstitute() {
        var g = SeededGenerator(seed: 4)
        let lin = Linear(3, 2, bias: false, generator: &g)
        let w0 = lin.weight
        let phi = Tensor.full([2, 3], 0.5).requiringGradient()
        let x = Tensor([1, 2, 3], shape: [1, 3])
        // θ' = θ + φ: the loss through the substituted weight reaches φ.
        let loss = lin.withParameters(["weight": w0 + phi]) { lin(x).sum() }
        let grad = gradients(of: loss, wrt: [phi])[0]
        #expect(grad.scalars == [1, 2, 3, 1, 2, 3])
    }

    @Test func strictLoadReportsEveryProblem() throws {
        let m = BertModel(config: Self.tinyBertConfig())
        var sd = m.stateDict()
        sd["embeddings.LayerNorm.weight"] = nil
        sd["encoder.layer.0.attention.self.query.weight"] = Tensor.zeros([3, 3])
        sd["bert.extra"] = Tensor.zeros([1])
        do {
            try m.load(stateDict: sd, source: "x.safetensors")
            Issue.record("strict load should fail")
        } catch let e as LoadError {
            #expect(e.report.missing == ["embeddings.LayerNorm.weight"])
            #expect(e.report.unexpected == ["bert.extra"])
            #expect(e.report.mismatched.count == 1 && e.report.mismatched[0].contains("[8, 8]"))
            #expect(e.description.hasPrefix("x.safetensors"))
        }
        let report = try m.load(stateDict: sd, strict: false)
        #expect(report.loaded == m.namedParameters().count - 2)
    }

    @Test func saveLoadGivesIdenticalOutputs() throws {
        let a = BertModel(config: Self.tinyBertConfig(), seed: 1), b = BertModel(config: Self.tinyBertConfig(), seed: 2)
        a.eval(); b.eval()
        let ids = [1, 5, 7, 2, 3, 4]
        #expect(a(ids: ids, batch: 2, tokens: 3).scalars != b(ids: ids, batch: 2, tokens: 3).scalars)
        try b.load(stateDict: a.stateDict())
        #expect(a(ids: ids, batch: 2, tokens: 3).scalars == b(ids: ids, batch: 2, tokens: 3).scalars)
    }
}
