import Foundation
import Testing
import MonaFormats
import MonaTensor
@testable import MonaNN

/// Golden values from independent implementations: PyTorch/Hugging Face (MiniLM-L6), onnxruntime runs of
/// the shipped ONNX files (scripts/golden_minilm_onnx.py, scripts/golden_dinov2.py → Tests/Fixtures/*.json).
enum Golden {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Whether a body's files are installed; prints a visible SKIPPED line when not.
    static func available(_ body: String, for test: String) -> Bool {
        guard let b = try? AssetRegistry().body(body) else { return false }
        if !b.isPresent { print("SKIPPED \(test): asset missing — \(b.missingMessage)") }
        return b.isPresent
    }

    /// A non-empty list of golden numbers (an empty list would make a comparison vacuous).
    static func floats(_ any: Any?, sourceLocation: SourceLocation = #_sourceLocation) -> [Float] {
        let values = (any as? [NSNumber])?.map { Float($0.doubleValue) } ?? (any as? [Double])?.map(Float.init) ?? []
        #expect(!values.isEmpty, "golden value list missing", sourceLocation: sourceLocation)
        return values
    }
}

/// Mean-pooled, L2-normalised sentence embedding (sentence-transformers' recipe) of an unpadded sentence.
func sentenceEmbedding(_ model: BertModel, ids: [Int]) -> (hidden: Tensor, embedding: Tensor) {
    let h = withoutGradients { model(ids: ids, batch: 1, tokens: ids.count) }          // [1, T, D]
    let pooled = h.mean(alongAxis: 1)                                                     // [1, D]
    let norm = (pooled * pooled).sum(alongAxis: 1, keepingDims: true).sqrt()
    return (h, pooled / norm)
}

@Suite struct PretrainedGoldenTests {
    static let heart = "The heart rate increased sharply."
    static let series = "A time series of sensor readings."

    @Test(.enabled(if: Golden.available("minilm-l6", for: "miniLML6MatchesReference")))
    func miniLML6MatchesReference() throws {
        let entry = try AssetRegistry().body("minilm-l6")
        let model = try BertModel.load(asset: entry)
        guard let vocabulary = entry.vocabulary else { Issue.record("minilm-l6 should ship a vocabulary"); return }
        let tok = try WordPieceTokenizer(vocabularyFile: vocabulary)
        let ids1 = tok.encode(Self.heart), ids2 = tok.encode(Self.series)
        #expect(ids1 == [101, 1996, 2540, 3446, 3445, 9249, 1012, 102])
        #expect(ids2 == [101, 1037, 2051, 2186, 1997, 13617, 15324, 1012, 102])
        let (h1, e1) = sentenceEmbedding(model, ids: ids1)
        let (_, e2) = sentenceEmbedding(model, ids: ids2)
        let hidden0 = Array(h1.scalars.prefix(4))
        for (a, b) in zip(hidden0, [0.00022, 0.15303, 0.04028, 0.38036] as [Float]) { #expect(abs(a - b) <= 1e-4 + 5e-6) }
        for (a, b) in zip(e1.scalars.prefix(6), [0.019956, -0.009828, 0.008562, 0.09422, 0.041577, -0.041116] as [Float]) {
            #expect(abs(a - b) <= 1e-4)
        }
        for (a, b) in zip(e2.scalars.prefix(6), [-0.04975, 0.00291, 0.017166, 0.025373, 0.020022, -0.036993] as [Float]) {
            #expect(abs(a - b) <= 1e-4)
        }
        let cosine = (e1 * e2).sum().item
        #expect(abs(cosine - 0.19568) <= 1e-4)
    }

    @Test(.enabled(if: Golden.available("minilm-l3", for: "onnxMiniLMsMatchOnnxRuntime")
                  && Golden.available("minilm-l6-int8", for: "onnxMiniLMsMatchOnnxRuntime")))
    func onnxMiniLMsMatchOnnxRuntime() throws {
        let golden = try Golden.json("minilm_onnx_golden.json")["models"] as! [String: Any]
        for name in ["minilm-l3", "minilm-l6-int8"] {
            let model = try BertModel.pretrained(name)
            for case let c as [String: Any] in (golden[name] as! [String: Any])["cases"] as! [Any] {
                let ids = (c["ids"] as! [NSNumber]).map(\.intValue)
                let (h, e) = sentenceEmbedding(model, ids: ids)
                let d = model.config.hiddenSize
                let expectHidden = Golden.floats(c["last_hidden_token0_first8"])
                let lastTokenLast4 = Array(h.scalars[(h.count - 4)...])
                for (a, b) in zip(h.scalars.prefix(8), expectHidden) { #expect(abs(a - b) <= 1e-4, "\(name) hidden") }
                for (a, b) in zip(lastTokenLast4, Golden.floats(c["last_hidden_last_token_last4"])) {
                    #expect(abs(a - b) <= 1e-4, "\(name) last token")
                }
                for (a, b) in zip(e.scalars.prefix(8), Golden.floats(c["embedding_first8"])) {
                    #expect(abs(a - b) <= 1e-5, "\(name) embedding")
                }
                #expect(h.shape == [1, ids.count, d])
            }
        }
    }

    @Test(.enabled(if: Golden.available("dinov2-s14", for: "dinov2MatchesOnnxRuntime")))
    func dinov2MatchesOnnxRuntime() throws {
        let model = try Dinov2Model.pretrained("dinov2-s14")
        let runs = try Golden.json("dinov2_golden.json")["runs"] as! [String: Any]
        for (key, value) in runs {
            let run = value as! [String: Any]
            let shape = (run["input_shape"] as! [NSNumber]).map(\.intValue)
            // x[0, c, i, j] = (((7i + 13j + 29c) mod 97) − 48) / 64
            let pixels = Tensor.build(shape) { p in
                var n = 0
                for c in 0..<shape[1] { for i in 0..<shape[2] { for j in 0..<shape[3] {
                    p[n] = Float(((7 * i + 13 * j + 29 * c) % 97) - 48) / 64; n += 1
                } } }
            }
            let out = withoutGradients { model(pixels) }                                   // [1, 1 + N, D]
            let g = run["last_hidden_state"] as! [String: Any]
            #expect(out.shape == (g["shape"] as! [NSNumber]).map(\.intValue), "run \(key)")
            let d = out.shape[2]
            let token1 = Array(out.scalars[d..<(d + 8)])
            let checks: [([Float], [Float])] = [(Array(out.scalars.prefix(8)), Golden.floats(g["token0_first8"])),
                                                (token1, Golden.floats(g["token1_first8"])),
                                                (Array(out.scalars.suffix(4)), Golden.floats(g["last_token_last4"]))]
            for (ours, theirs) in checks {
                for (a, b) in zip(ours, theirs) { #expect(abs(a - b) <= 1e-3 * max(1, abs(b)), "run \(key): \(a) vs \(b)") }
            }
            let mean = out.mean().item, expected = Float((g["mean"] as! NSNumber).doubleValue)
            #expect(abs(mean - expected) <= 1e-3 * max(1, abs(expected)))
        }
    }
}
