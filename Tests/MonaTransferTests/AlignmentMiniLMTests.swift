import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// MoNA's meta-gradient on the real setup the issue describes: pretrained all-MiniLM-L6-v2 body, WordNet glosses as
/// labelled source text (through the body's own, frozen token embedding), GunPoint series as the target through
/// a patch embedder φ (ORCA/MoNA-style: Conv1d with kernel = stride, the body's positions and embedding
/// LayerNorm). Skipped, with a SKIPPED line, when the assets are missing.
///
/// The regular suite measures one meta-gradient (exact and finite-difference) at α = 1e-3. With
/// `MONA_EXPERIMENTS=1` it also sweeps α and runs short stage-1 trajectories (see docs/mona.md).
final class MiniLMMoNASetup: @unchecked Sendable {
    let model: BertModel
    let names: [String]
    let theta: [Tensor]
    let sourceTokens: Tensor          // [S, T, 384], frozen source embedder output
    let sourceMask: Tensor            // [S, T]
    let sourceLabels: [Int]
    let targetSeries: Tensor          // [B, 1, 150]
    let targetLabels: [Int]
    let head: Tensor                  // [384, 2]
    let phi: [Tensor]                 // patch weight [384, 1, 10], bias [384]

    static func root() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init?(test: String, sourcePerClass: Int = 4, targetBatch: Int = 16) throws {
        let root = Self.root()
        let weights = root.appendingPathComponent(".assets/minilm-l6/model.safetensors")
        let vocab = root.appendingPathComponent(".assets/minilm-l6/vocab.txt")
        let wordnet = root.appendingPathComponent(".assets/data/wordnet")
        let ucr = root.appendingPathComponent(".assets/data/ucr/GunPoint")
        for url in [weights, vocab, wordnet.appendingPathComponent("data.noun"), ucr.appendingPathComponent("GunPoint_TRAIN.ts")]
        where !FileManager.default.fileExists(atPath: url.path) {
            print("SKIPPED: \(test) needs \(url.path) — run scripts/fetch-assets.sh bodies and scripts/fetch-data.sh")
            return nil
        }
        var config = TransformerConfig(hiddenSize: 384, layers: 6, heads: 12, intermediateSize: 1536)
        config.vocabularySize = 30522
        let model = BertModel(config: config, pooler: false)
        let report = try model.load(stateDict: SafeTensors.load(contentsOf: weights), strict: false)
        precondition(report.missing.isEmpty, "MiniLM: missing \(report.missing)")
        model.eval()
        self.model = model
        let encoder = model.encoder
        names = encoder.namedParameters().map(\.name)
        theta = encoder.namedParameters().map { $0.parameter.value.detached() }

        let texts = try SourceData.wordNetGlosses(directory: wordnet, perClass: sourcePerClass, seed: 1)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: vocab)
        let batch = tokenizer.encodeBatch(texts.texts, maxLength: 24)
        let s = texts.count, t = batch.length
        sourceTokens = withoutGradients {
            model.embeddings(ids: batch.ids.flatMap { $0 }, batch: s, tokens: t).detached()
        }
        sourceMask = Tensor(batch.attentionMask.flatMap { $0.map(Float.init) }, shape: [s, t])
        sourceLabels = texts.labels

        let (train, _) = try UCRArchive.load(name: "GunPoint", directory: ucr)
        let x = train.inputTensor!.slice(axis: 0, start: 0, end: targetBatch)                   // [B, 1, 150]
        targetSeries = (x - x.mean()) / x.standardDeviation()
        targetLabels = Array(train.labels!.prefix(targetBatch))
        var g = SeededGenerator(seed: 5)
        head = Tensor.randomNormal([384, 2], std: 0.05, generator: &g)
        phi = [Tensor.randomNormal([384, 1, 10], std: 0.3, generator: &g), Tensor.zeros([384])]
    }

    func encode(_ t: [Tensor], _ x: Tensor, additiveMask: Tensor? = nil) -> Tensor {
        let encoder = model.encoder
        return encoder.withParameters(Dictionary(uniqueKeysWithValues: zip(names, t))) {
            encoder(x, additiveMask: additiveMask)
        }
    }

    /// φ: patchify (kernel = stride = 10) → + positions → the body's embedding LayerNorm (constants).
    func embed(_ p: [Tensor]) -> Tensor {
        let tokens = Tensor.patchEmbedding1d(targetSeries, p[0], bias: p[1])                   // [B, 15, 384]
        let e = model.embeddings
        let ln = e.layerNorm
        return (tokens + e.positions(tokens.shape[1]).detached())
            .layerNorm(weight: ln.weight.detached(), bias: ln.bias.detached(), epsilon: 1e-12)
    }

    func task(_ p: [Tensor], _ t: [Tensor]) -> Tensor {
        let h = encode(t, embed(p)).mean(alongAxis: 1)                                          // [B, 384]
        return Tensor.crossEntropy(logits: Tensor.matmul(h, head), labels: targetLabels)
    }

    func sourceFeatures(_ t: [Tensor]) -> Tensor {
        let h = encode(t, sourceTokens, additiveMask: SelfAttention.additiveMask(fromAttentionMask: sourceMask))
        return BertModel.meanPool(h, attentionMask: sourceMask).l2NormalizedRows()              // [S, 384]
    }

    func outerParts(_ t: [Tensor]) -> (align: Tensor, uniform: Tensor) {
        let z = sourceFeatures(t)
        return (alignLoss(z, labels: sourceLabels), uniformLoss(z, t: 2))
    }

    func outer(_ t: [Tensor]) -> Tensor {
        let (a, u) = outerParts(t)
        return a + u
    }

    func meta(_ options: MetaGradientOptions, phi: [Tensor]? = nil) -> MetaGradientResult {
        monaMetaGradient(phi: phi ?? self.phi, theta: theta, options: options, innerLoss: task, outerLoss: outer)
    }
}

@Suite(.serialized) struct AlignmentMiniLMTests {
    static let experiments = ProcessInfo.processInfo.environment["MONA_EXPERIMENTS"] == "1"

    @Test func metaGradientOnMiniLM() throws {
        guard let s = try MiniLMMoNASetup(test: "metaGradientOnMiniLM") else { return }
        let exact = s.meta(MetaGradientOptions(alpha: 1e-3))
        let fd = s.meta(MetaGradientOptions(alpha: 1e-3, mode: .finiteDifference()))
        let e = relativeError(fd.outerGradients, exact.outerGradients)
        print("MEASURED: MiniLM α=1e-3 λ=1 exact: L_task \(exact.taskLoss), L_outer(θ) \(exact.outerLossBeforeStep) → L_outer(θ') \(exact.outerLoss), ‖∇φL_outer‖ \(exact.outerGradientNorm), ‖∇φL_task‖ \(exact.taskGradientNorm), ratio \(exact.gradientRatio); finite-difference vs exact relative error \(e) (ε \(fd.finiteDifferenceSteps))")
        #expect(exact.outerGradientNorm > 0 && exact.outerGradientNorm.isFinite)
        #expect(e < 5e-2)
        #expect(exact.taskLoss == fd.taskLoss)
    }

    @Test func alphaSweep() throws {
        guard Self.experiments else { print("SKIPPED: alphaSweep (set MONA_EXPERIMENTS=1)"); return }
        guard let s = try MiniLMMoNASetup(test: "alphaSweep") else { return }
        for alpha: Float in [1e-4, 1e-3, 1e-2, 3e-2, 1e-1] {
            let r = s.meta(MetaGradientOptions(alpha: alpha))
            print("EXPERIMENT: MiniLM α=\(alpha): ratio λ‖∇φL_outer‖/‖∇φL_task‖ = \(r.gradientRatio), L_outer(θ') − L_outer(θ) = \(r.outerLoss - r.outerLossBeforeStep), ‖v‖ = \(r.outerThetaGradientNorm)")
        }
    }

    /// Short stage-1 runs (Adam on φ) under different weightings; logs the per-step diagnostics.
    @Test func stageOneTrajectories() throws {
        guard Self.experiments else { print("SKIPPED: stageOneTrajectories (set MONA_EXPERIMENTS=1)"); return }
        guard let s = try MiniLMMoNASetup(test: "stageOneTrajectories") else { return }
        let steps = Int(ProcessInfo.processInfo.environment["MONA_EXPERIMENT_STEPS"] ?? "") ?? 20
        let variants: [(String, MetaGradientOptions)] = [
            ("warm-up only (λ=0)", MetaGradientOptions(alpha: 1e-3, lambda: 0, outerGradientNormalization: .none)),
            ("α=1e-3 λ=1 none", MetaGradientOptions(alpha: 1e-3, lambda: 1, outerGradientNormalization: .none)),
            ("warm-up only at α=1e-2 (λ=0)", MetaGradientOptions(alpha: 1e-2, lambda: 0, outerGradientNormalization: .none)),
            ("α=1e-3 fixedRatio(1)", MetaGradientOptions(alpha: 1e-3, outerGradientNormalization: .fixedRatio(1))),
            ("α=1e-2 fixedRatio(1)", MetaGradientOptions(alpha: 1e-2, outerGradientNormalization: .fixedRatio(1))),
            ("α=1e-2 fixedRatio(0.5)", MetaGradientOptions(alpha: 1e-2, outerGradientNormalization: .fixedRatio(0.5))),
            ("α=1e-2 fixedRatio(0.5) finite-difference",
             MetaGradientOptions(alpha: 1e-2, mode: .finiteDifference(), outerGradientNormalization: .fixedRatio(0.5))),
        ]
        // MONA_EXPERIMENT_VARIANTS=substring runs only the matching variants.
        let filter = ProcessInfo.processInfo.environment["MONA_EXPERIMENT_VARIANTS"]
        for (name, options) in variants where filter == nil || name.contains(filter!) {
            var phi = s.phi
            var m = phi.map { Tensor.zeros($0.shape) }, v = m
            var log: [String] = []
            for step in 1...steps {
                let r = s.meta(options, phi: phi)
                let tv = s.theta.map { $0.requiringGradient() }
                let g = gradients(of: s.task(phi, tv), wrt: tv)
                let (a, u) = withoutGradients { () -> (Float, Float) in
                    let p = s.outerParts(zip(s.theta, g).map { $0 - options.alpha * $1 })
                    return (p.align.item, p.uniform.item)
                }
                if step == 1 || step == steps || step % 5 == 0 {
                    log.append("step \(step): L_task \(r.taskLoss) L_align(θ') \(a) L_uniform(θ') \(u) ΔL_outer \(r.outerLoss - r.outerLossBeforeStep) ratio \(r.gradientRatio)")
                }
                // Adam, lr 1e-3.
                let lr: Float = 1e-3, b1: Float = 0.9, b2: Float = 0.999
                let c1 = 1 - Foundation.pow(b1, Float(step)), c2 = 1 - Foundation.pow(b2, Float(step))
                for i in 0..<phi.count {
                    m[i] = m[i] * b1 + r.phiGradients[i] * (1 - b1)
                    v[i] = v[i] * b2 + r.phiGradients[i] * r.phiGradients[i] * (1 - b2)
                    phi[i] = phi[i] - (m[i] * (1 / c1)) / ((v[i] * (1 / c2)).sqrt() + 1e-8) * lr
                }
            }
            print("EXPERIMENT: \(name)\n  " + log.joined(separator: "\n  "))
        }
    }
}
