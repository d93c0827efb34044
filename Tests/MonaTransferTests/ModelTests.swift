import Foundation
import MonaData
import MonaNN
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

@Suite struct PatchRuleTests {
    @Test func smallestPatchWithinTheCap() {
        #expect(SeriesEmbedder.patchSize(length: 150, maxTokens: 512) == 1)
        #expect(SeriesEmbedder.patchSize(length: 150, maxTokens: 64) == 3)
        #expect(SeriesEmbedder.patchSize(length: 512, maxTokens: 512) == 1)
        #expect(SeriesEmbedder.patchSize(length: 513, maxTokens: 512) == 2)
        #expect(SeriesEmbedder.patchSize(length: 2000, maxTokens: 512) == 4)
        // Against the definition: the smallest p with ⌈L/p⌉ ≤ cap.
        for l in 1...300 {
            for cap in [1, 2, 3, 7, 16, 64, 512] {
                let p = SeriesEmbedder.patchSize(length: l, maxTokens: cap)
                #expect((l + p - 1) / p <= cap)
                if p > 1 { #expect((l + p - 2) / (p - 1) > cap) }
            }
        }
    }

    @Test func fieldPatchShrinksForSmallFieldsAndRespectsTheCap() {
        #expect(FieldEmbedder.patchSize(height: 16, width: 16, bodyPatch: 14, maxTokens: 512) == 2)
        #expect(FieldEmbedder.patchSize(height: 224, width: 224, bodyPatch: 14, maxTokens: 512) == 14)
        #expect(FieldEmbedder.patchSize(height: 16, width: 16, bodyPatch: 14, maxTokens: 16) == 4)
        #expect(FieldEmbedder.patchSize(height: 16, width: 16, bodyPatch: 14, maxTokens: 512, requested: 5) == 5)
    }
}

@Suite struct EmbedderTests {
    @Test func seriesEmbedderShapesAndPadding() {
        let body = microBertBody()
        var g = SeededGenerator(seed: 1)
        let e = SeriesEmbedder(channels: 3, length: 10, maxTokens: 4, body: body, generator: &g)
        #expect(e.patchSize == 3)
        #expect(e.tokenCount(forSampleShape: [3, 10]) == 4)
        let out = e(.series(rand([2, 3, 10])))
        #expect(out.tokens.shape == [2, 4, 8])
        #expect(out.mask == nil)
        // Another length: positions are resampled, token count follows ⌈L/p⌉.
        #expect(e(.series(rand([1, 3, 7]))).tokens.shape == [1, 3, 8])
    }

    @Test func seriesPositionsComeFromTheBody() throws {
        let body = microBertBody(positions: 32)
        var g = SeededGenerator(seed: 1)
        let e = SeriesEmbedder(channels: 1, length: 20, maxTokens: 512, body: body, generator: &g)
        let rows = body.sourceEmbeddings.positions(20)
        #expect(maxAbsDiff(e.positionEmbeddings, rows) == 0)
        // LayerNorm starts from the body's embedding LayerNorm.
        #expect(maxAbsDiff(e.norm.weight, body.embeddingNorm!.weight) == 0)
    }

    @Test func positionsAreInterpolatedWhenTheBodyHasTooFew() {
        let body = microBertBody(positions: 4)
        let table = body.sourceEmbeddings.positions(4)           // [4, D]
        let p = body.sequencePositions(8)                              // [8, D]
        #expect(p.shape == [8, 8])
        // align_corners=False linear resize by 2: out[j] samples source (j + 0.5)/2 − 0.5, clamped at the ends.
        for j in 0..<8 {
            let s = max(0, min(3, (Double(j) + 0.5) / 2 - 0.5))
            let i0 = Int(s.rounded(.down)), i1 = min(i0 + 1, 3), w = Float(s - Double(i0))
            for d in 0..<8 {
                let expected = table[i0, d] * (1 - w) + table[i1, d] * w
                #expect(abs(p[j, d] - expected) < 1e-6)
            }
        }
    }

    @Test func fieldEmbedderFromAViTBody() {
        let body = microVitBody()
        var g = SeededGenerator(seed: 1)
        let e = FieldEmbedder(channels: 2, height: 16, width: 16, maxTokens: 512, body: body, generator: &g)
        #expect(e.patchSize == 2)                                       // 16 / 8 per side, below the body's 4
        #expect(e.grid.rows == 8 && e.grid.cols == 8)
        #expect(e.prefixTokens == 1)
        #expect(e.norm == nil)
        let out = e(.fields(rand([3, 2, 16, 16])))
        #expect(out.tokens.shape == [3, 65, 8])
        #expect(e.tokenCount(forSampleShape: [2, 16, 16]) == 65)
        // CLS and grid positions from the body.
        #expect(maxAbsDiff(e.clsToken!, body.clsToken!) == 0)
        #expect(maxAbsDiff(e.positionEmbeddings, body.gridPositions(rows: 8, cols: 8)!) == 0)
        // A field that is not a multiple of the patch is resized up to one.
        #expect(e(.fields(rand([1, 2, 15, 13]))).tokens.shape == [1, 1 + 8 * 7, 8])
    }

    @Test func kernelAdaptation() {
        let w = rand([4, 3, 4, 4], seed: 2)
        // Same patch and 3 channels: the body's kernel unchanged.
        #expect(maxAbsDiff(FieldEmbedder.adaptKernel(w, channels: 3, patch: 4), w) == 0)
        // One channel: the first input channel, scaled by 3/1 (same response to a constant input summed over channels).
        let one = FieldEmbedder.adaptKernel(w, channels: 1, patch: 4)
        #expect(maxAbsDiff(one, w.slice(axis: 1, start: 0, end: 1) * 3) < 1e-6)
        // Five channels repeat 0,1,2,0,1 scaled by 3/5.
        let five = FieldEmbedder.adaptKernel(w, channels: 5, patch: 4)
        #expect(maxAbsDiff(five.slice(axis: 1, start: 3, end: 4), w.slice(axis: 1, start: 0, end: 1) * 0.6) < 1e-6)
        // Half the patch: 2×2 averages, scaled by 4 so a constant input gives the same response.
        let half = FieldEmbedder.adaptKernel(w, channels: 3, patch: 2)
        let constant = Tensor.ones([1, 3, 4, 4])
        let a = Tensor.conv2d(constant, w, stride: 4)
        let b = Tensor.conv2d(Tensor.ones([1, 3, 2, 2]), half, stride: 2)
        #expect(maxAbsDiff(a, b) < 1e-4)
    }

    @Test func tokenEmbedderMasksPadding() throws {
        let body = microBertBody()
        var g = SeededGenerator(seed: 1)
        let e = TokenEmbedder(vocabularySize: 6, maxLength: 10, body: body, generator: &g)
        let data = try LabeledDatasetFixtures.tokens([[2, 3, 4], [5, 2]])
        let input = ModelInput(data)
        let out = e(input)
        #expect(out.tokens.shape == [2, 3, 8])
        #expect(out.mask!.scalars == [1, 1, 1, 1, 1, 0])
    }
}

enum LabeledDatasetFixtures {
    static func tokens(_ seqs: [[Int]]) throws -> LabeledDataset {
        try LabeledDataset(name: "tokens", inputs: .tokens(seqs),
                                    targets: .classes(seqs.indices.map { $0 % 2 }, names: ["a", "b"]))
    }
}

@Suite struct ModelTests {
    func model(_ task: TaskSpec, body: TransformerBody, maxTokens: Int = 512, patch: Int? = nil) -> CrossModalModel {
        let spec = ModelSpec(bodyName: "micro", bodyFamily: body.family, bodyConfig: body.config, task: task,
                             maxTokens: maxTokens, patchSize: patch)
        let m = CrossModalModel(spec: spec, body: body, seed: 5)
        m.eval()
        return m
    }

    @Test func parameterNamesFollowTheCheckpoint() {
        let task = TaskSpec(name: "t", input: .series, output: .classification, sampleShape: [1, 12], outputs: 3,
                            loss: .crossEntropy, metric: .accuracy)
        let m = model(task, body: microBertBody())
        let names = Set(m.namedParameters().map(\.name))
        #expect(names.contains("body.encoder.layer.0.attention.self.query.weight"))
        #expect(names.contains("body.encoder.layer.0.output.LayerNorm.weight"))
        #expect(names.contains("embedder.projection.weight"))
        #expect(names.contains("embedder.positionEmbeddings"))
        #expect(names.contains("head.linear.weight"))
        // The source embedder is not part of the model.
        #expect(!names.contains { $0.contains("word_embeddings") })
        let vit = model(TaskSpec(name: "f", input: .fields, output: .dense2D, sampleShape: [1, 8, 8], outputs: 1,
                                 targetShape: [1, 8, 8], loss: .relativeL2, metric: .relativeL2), body: microVitBody())
        let vnames = Set(vit.namedParameters().map(\.name))
        #expect(vnames.contains("body.encoder.layer.0.mlp.fc1.weight"))
        #expect(vnames.contains("body.layernorm.weight"))
        #expect(vnames.contains("embedder.cls_token"))
    }

    @Test func headsGiveTheTaskShapes() {
        let body = microBertBody()
        let cls = model(TaskSpec(name: "c", input: .series, output: .classification, sampleShape: [2, 10], outputs: 3,
                                 loss: .crossEntropy, metric: .accuracy), body: body, maxTokens: 4)
        #expect(cls(.series(rand([5, 2, 10]))).shape == [5, 3])
        let reg = model(TaskSpec(name: "r", input: .series, output: .regression, sampleShape: [2, 10], outputs: 2,
                                 loss: .mse, metric: .mse), body: microBertBody(), maxTokens: 4)
        #expect(reg(.series(rand([5, 2, 10]))).shape == [5, 2])
        // Dense 1-D: patch 3 over L = 10 → 4 tokens → 12 positions, cropped to 10.
        let seq = model(TaskSpec(name: "s", input: .series, output: .dense1D, sampleShape: [2, 10], outputs: 3,
                                 targetShape: [3, 10], loss: .relativeL2, metric: .relativeL2), body: microBertBody(),
                        maxTokens: 4)
        #expect(seq(.series(rand([2, 2, 10]))).shape == [2, 3, 10])
        // Dense 2-D on a ViT body (CLS skipped), with and without the resize back.
        let field = model(TaskSpec(name: "d", input: .fields, output: .dense2D, sampleShape: [1, 16, 16], outputs: 2,
                                   targetShape: [2, 16, 16], loss: .relativeL2, metric: .relativeL2), body: microVitBody())
        #expect(field(.fields(rand([2, 1, 16, 16]))).shape == [2, 2, 16, 16])
        #expect(field(.fields(rand([1, 1, 15, 15]))).shape == [1, 2, 15, 15])
        // Tokens with a mask.
        let tok = model(TaskSpec(name: "k", input: .tokens, output: .multiLabel, sampleShape: [5], vocabularySize: 7,
                                 outputs: 4, loss: .binaryCrossEntropy, metric: .meanAveragePrecision), body: microBertBody())
        let ids = ModelInput.tokens(ids: [1, 2, 3, 0, 0, 4, 5, 6, 1, 2], batch: 2, length: 5,
                                    mask: Tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], shape: [2, 5]))
        #expect(tok(ids).shape == [2, 4])
    }

    @Test func paddedTokensDoNotChangeThePrediction() {
        let m = model(TaskSpec(name: "k", input: .tokens, output: .classification, sampleShape: [6], vocabularySize: 7,
                               outputs: 2, loss: .crossEntropy, metric: .accuracy), body: microBertBody())
        let short = m(.tokens(ids: [3, 4, 5], batch: 1, length: 3, mask: Tensor([1, 1, 1], shape: [1, 3])))
        let padded = m(.tokens(ids: [3, 4, 5, 0, 0, 0], batch: 1, length: 6, mask: Tensor([1, 1, 1, 0, 0, 0], shape: [1, 6])))
        #expect(maxAbsDiff(short, padded) < 1e-5)
    }

    /// Gradient of a nonlinear loss of the model's output with respect to an embedder, a body and a head weight.
    /// Every weight is first redrawn uniformly in ±0.5 (LayerNorm gains near 1): BERT-style N(0, 0.02) weights
    /// in a 4-wide model make LayerNorm inputs so small that finite differences stop being accurate.
    func checkGradients(_ m: CrossModalModel, input: ModelInput, names: [String]) {
        for (i, (name, p)) in m.namedParameters().enumerated() {
            let r = rand(p.value.shape, seed: UInt64(100 + i), low: -0.5, high: 0.5)
            p.assign(name.lowercased().contains("norm") && name.hasSuffix("weight") ? r * 0.2 + 1 : r)
        }
        let params = Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.name, $0.parameter.value) })
        let values = names.map { params[$0]!.detached() }
        let r = gradientCheck(values, step: 1e-2, atol: 3e-3, rtol: 3e-2) { xs in
            m.withParameters(Dictionary(uniqueKeysWithValues: zip(names, xs).map { ($0, $1) })) {
                m(input).mul2().sum()
            }
        }
        #expect(r.passed, "\(r.detail)")
    }

    @Test func seriesModelGradients() {
        let m = model(TaskSpec(name: "c", input: .series, output: .classification, sampleShape: [1, 6], outputs: 2,
                               loss: .crossEntropy, metric: .accuracy), body: microBertBody(width: 4), maxTokens: 3)
        checkGradients(m, input: .series(rand([2, 1, 6], seed: 7)),
                       names: ["embedder.projection.weight", "embedder.norm.bias", "head.linear.weight",
                               "body.encoder.layer.0.attention.self.value.bias"])
    }

    @Test func denseSequenceGradients() {
        let m = model(TaskSpec(name: "s", input: .series, output: .dense1D, sampleShape: [1, 5], outputs: 1,
                               targetShape: [1, 5], loss: .relativeL2, metric: .relativeL2),
                      body: microBertBody(width: 4), maxTokens: 3)
        checkGradients(m, input: .series(rand([1, 1, 5], seed: 8)),
                       names: ["embedder.projection.bias", "head.linear.weight", "body.encoder.layer.0.output.dense.bias"])
    }

    @Test func denseFieldGradients() {
        var c = TransformerConfig(hiddenSize: 4, layers: 1, heads: 2, intermediateSize: 8)
        c.imageSize = 8
        c.patchSize = 2
        c.layerNormEpsilon = 1e-6
        let body = BodyCatalog.randomBody(family: Dinov2Body.self, config: c, seed: 2)
        let m = model(TaskSpec(name: "d", input: .fields, output: .dense2D, sampleShape: [1, 4, 4], outputs: 1,
                               targetShape: [1, 4, 4], loss: .relativeL2, metric: .relativeL2), body: body, patch: 2)
        checkGradients(m, input: .fields(rand([1, 1, 4, 4], seed: 9)),
                       names: ["embedder.projection.bias", "embedder.cls_token", "head.linear.bias",
                               "body.encoder.layer.0.mlp.fc2.bias"])
    }

    @Test func tokenModelGradients() {
        let m = model(TaskSpec(name: "k", input: .tokens, output: .regression, sampleShape: [3], vocabularySize: 5,
                               outputs: 1, loss: .mse, metric: .mse), body: microBertBody(width: 4))
        checkGradients(m, input: .tokens(ids: [1, 2, 3, 4, 0, 0], batch: 2, length: 3,
                                         mask: Tensor([1, 1, 1, 1, 0, 0], shape: [2, 3])),
                       names: ["embedder.tokenEmbeddings.weight", "embedder.positionEmbeddings", "head.linear.bias"])
    }

    @Test func substitutedBodyParametersChangeTheOutput() {
        let m = model(TaskSpec(name: "c", input: .series, output: .classification, sampleShape: [1, 6], outputs: 2,
                               loss: .crossEntropy, metric: .accuracy), body: microBertBody(), maxTokens: 3)
        let x = ModelInput.series(rand([2, 1, 6]))
        let before = m(x)
        let name = "body.encoder.layer.0.intermediate.dense.weight"
        let w = m.stateDict()[name]!
        let shifted = m.withParameters([name: w * 3]) { m(x) }
        #expect(maxAbsDiff(before, shifted) > 1e-4)
        #expect(maxAbsDiff(before, m(x)) == 0)                        // restored afterwards
    }
}
