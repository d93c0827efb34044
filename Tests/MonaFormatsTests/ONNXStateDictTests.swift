import Foundation
import MonaTensor
import Testing
@testable import MonaFormats

/// How a synthetic linear layer stores its weight.
private enum WeightStorage { case plain, castMul, dequantizeLinear, matMulInteger }

/// Collects nodes and initializers of a hand-built graph.
private struct GraphBuilder {
    var nodes: [ProtobufWriter] = []
    var initializers: [(name: String, proto: ProtobufWriter)] = []
    /// Values of the float initializers made by `named`.
    var values: [String: [Float]] = [:]
    /// Expected Hugging Face tensors: name → (shape, values).
    var expected: [String: ([Int], [Float])] = [:]
    var counter = 0

    mutating func fresh(_ stem: String) -> String { counter += 1; return "\(stem)_\(counter)" }

    mutating func named(_ name: String, _ shape: [Int], expect key: String? = nil) -> String {
        let n = shape.reduce(1, *)
        let values = (0..<n).map { Float(($0 * 7 + counter * 3) % 11) / 8 - 0.5 }
        counter += 1
        add(name, ONNXBuilder.floatTensor(name, shape.map(Int64.init), values))
        self.values[name] = values
        if let key { expected[key] = (shape, values) }
        return name
    }

    mutating func add(_ name: String, _ proto: ProtobufWriter) { initializers.append((name, proto)) }

    /// y = x·W + b with W stored [in, out] as `storage` says; records W as [out, in] under `key`.
    mutating func linear(_ x: String, _ inDim: Int, _ outDim: Int, bias: String, key: String,
                         storage: WeightStorage, scope: String) -> String {
        let q = (0..<(inDim * outDim)).map { Int8(truncatingIfNeeded: ($0 * 37 + counter * 11) % 255 - 127) }
        let scale = (0..<outDim).map { Float($0 + 1) / 64 }
        let zeroPoint = (0..<outDim).map { Int8($0 % 3 - 1) }
        var weight = [Float](repeating: 0, count: inDim * outDim)   // [in, out]
        for i in 0..<inDim { for o in 0..<outDim {
            let zp = storage == .castMul ? 0 : Float(zeroPoint[o])
            weight[i * outDim + o] = storage == .plain ? Float(q[i * outDim + o]) / 100
                                                       : (Float(q[i * outDim + o]) - zp) * scale[o]
        } }
        var hf = [Float](repeating: 0, count: inDim * outDim)       // [out, in]
        for i in 0..<inDim { for o in 0..<outDim { hf[o * inDim + i] = weight[i * outDim + o] } }
        expected[key] = ([outDim, inDim], hf)

        let qName = fresh("q"), sName = fresh("scale"), zName = fresh("zp"), w = fresh("w")
        let dims: [Int64] = [Int64(inDim), Int64(outDim)]
        let product = fresh("mm")
        switch storage {
        case .plain:
            add(w, ONNXBuilder.floatTensor(w, dims, weight))
            nodes.append(ONNXBuilder.node("MatMul", scope + "/MatMul", [x, w], [product]))
        case .castMul:
            add(qName, ONNXBuilder.tensor(qName, dims, type: 3, raw: ONNXBuilder.rawBytes(q)))
            add(sName, ONNXBuilder.floatTensor(sName, [1, Int64(outDim)], scale))
            let f = fresh("f")
            nodes.append(ONNXBuilder.node("Cast", fresh("cast"), [qName], [f], [ONNXBuilder.attribute("to", int: 1)]))
            nodes.append(ONNXBuilder.node("Mul", fresh("mul"), [f, sName], [w]))
            nodes.append(ONNXBuilder.node("MatMul", scope + "/MatMul", [x, w], [product]))
        case .dequantizeLinear:
            add(qName, ONNXBuilder.tensor(qName, dims, type: 3, raw: ONNXBuilder.rawBytes(q)))
            add(sName, ONNXBuilder.floatTensor(sName, [Int64(outDim)], scale))
            add(zName, ONNXBuilder.tensor(zName, [Int64(outDim)], type: 3, raw: ONNXBuilder.rawBytes(zeroPoint)))
            nodes.append(ONNXBuilder.node("DequantizeLinear", fresh("dq"), [qName, sName, zName], [w],
                                          [ONNXBuilder.attribute("axis", int: 1)]))
            nodes.append(ONNXBuilder.node("MatMul", scope + "/MatMul", [x, w], [product]))
        case .matMulInteger:
            add(qName, ONNXBuilder.tensor(qName, dims, type: 3, raw: ONNXBuilder.rawBytes(q)))
            add(sName, ONNXBuilder.floatTensor(sName, [Int64(outDim)], scale))
            add(zName, ONNXBuilder.tensor(zName, [Int64(outDim)], type: 3, raw: ONNXBuilder.rawBytes(zeroPoint)))
            let xq = fresh("xq"), xs = fresh("xs"), xz = fresh("xz")
            let mi = fresh("mi"), mc = fresh("mc"), ms = fresh("ms")
            nodes.append(ONNXBuilder.node("DynamicQuantizeLinear", fresh("dql"), [x], [xq, xs, xz]))
            nodes.append(ONNXBuilder.node("MatMulInteger", scope + "/MatMulInteger", [xq, qName, xz, zName], [mi]))
            nodes.append(ONNXBuilder.node("Cast", fresh("cast"), [mi], [mc], [ONNXBuilder.attribute("to", int: 1)]))
            nodes.append(ONNXBuilder.node("Mul", fresh("mul"), [xs, sName], [ms]))
            nodes.append(ONNXBuilder.node("Mul", fresh("mul"), [mc, ms], [product]))
        }
        let out = fresh("lin")
        nodes.append(ONNXBuilder.node("Add", scope + "/Add", [bias, product], [out]))
        return out
    }

    mutating func layerNorm(_ x: String, _ prefix: String, _ key: String, width: Int) -> String {
        let w = named(prefix + key + ".weight", [width], expect: key + ".weight")
        let b = named(prefix + key + ".bias", [width], expect: key + ".bias")
        let out = fresh("ln")
        nodes.append(ONNXBuilder.node("LayerNormalization", fresh("lnn"), [x, w, b], [out]))
        return out
    }

    func model() -> Data {
        ONNXBuilder.model(nodes: nodes, initializers: initializers.map(\.proto),
                          inputs: [ONNXBuilder.valueInfo("input_ids", elementType: 7, dims: ["b", "s"])],
                          outputs: [ONNXBuilder.valueInfo("out", dims: ["b", "s", 4])])
    }
}

/// A one-layer BERT (H = 4, I = 8) whose six linear layers use every weight storage.
private func syntheticBERT(prefix: String = "inner.") -> GraphBuilder {
    var g = GraphBuilder()
    let h = 4, inter = 8
    var x = "x0"
    for (key, shape) in [("embeddings.word_embeddings.weight", [6, h]),
                         ("embeddings.position_embeddings.weight", [5, h]),
                         ("embeddings.token_type_embeddings.weight", [2, h])] {
        let t = g.named(prefix + key, shape, expect: key)
        let y = g.fresh("emb")
        g.nodes.append(ONNXBuilder.node("Gather", g.fresh("gather"), [t, "input_ids"], [y]))
        x = y
    }
    x = g.layerNorm(x, prefix, "embeddings.LayerNorm", width: h)
    let p = "encoder.layer.0."
    let storages: [WeightStorage] = [.plain, .castMul, .dequantizeLinear, .matMulInteger, .castMul, .plain]
    var outputs: [String] = []
    for (i, role) in ["attention.self.query", "attention.self.key", "attention.self.value"].enumerated() {
        let bias = g.named(prefix + p + role + ".bias", [h], expect: p + role + ".bias")
        outputs.append(g.linear(x, h, h, bias: bias, key: p + role + ".weight", storage: storages[i],
                                scope: "/" + (prefix + p + role).replacingOccurrences(of: ".", with: "/")))
    }
    var y = outputs[2]
    for (i, (role, inD, outD)) in [("attention.output.dense", h, h), ("intermediate.dense", h, inter),
                                   ("output.dense", inter, h)].enumerated() {
        let bias = g.named(prefix + p + role + ".bias", [outD], expect: p + role + ".bias")
        y = g.linear(y, inD, outD, bias: bias, key: p + role + ".weight", storage: storages[3 + i], scope: "/s\(i)")
        if role == "attention.output.dense" { y = g.layerNorm(y, prefix, p + "attention.output.LayerNorm", width: h) }
    }
    y = g.layerNorm(y, prefix, p + "output.LayerNorm", width: h)
    g.nodes.append(ONNXBuilder.node("Identity", "final", [y], ["out"]))
    return g
}

private func expectMatches(_ dict: [String: Tensor], _ expected: [String: ([Int], [Float])]) {
    #expect(Set(dict.keys) == Set(expected.keys), "keys differ: \(Set(dict.keys).symmetricDifference(expected.keys))")
    for (key, (shape, values)) in expected {
        guard let t = dict[key] else { continue }
        #expect(t.shape == shape, "\(key)")
        let diff = zip(t.scalars, values).map { abs($0 - $1) }.max() ?? 0
        #expect(diff <= 1e-6, "\(key): max difference \(diff)")
    }
}

@Suite("ONNX state dicts")
struct ONNXStateDictTests {
    @Test func bertFromEveryQuantisationScheme() throws {
        let g = syntheticBERT()
        let m = try ONNXModel(data: g.model(), file: "bert.onnx")
        let dict = try m.bertStateDict()
        #expect(dict.count == 5 + 16)
        expectMatches(dict, g.expected)
    }

    @Test func missingBERTTensorsAreNamed() throws {
        var g = syntheticBERT()
        // Drop the query bias: the query weight can then only be named from its scope, and the bias is missing.
        g.initializers.removeAll { $0.name == "inner.encoder.layer.0.attention.self.query.bias" }
        let m = try ONNXModel(data: g.model(), file: "bert.onnx")
        #expect(throws: FormatError.self) { try m.bertStateDict() }
        do { _ = try m.bertStateDict() } catch {
            #expect("\(error)".contains("missing encoder.layer.0.attention.self.query.bias"), "\(error)")
        }
        let empty = try ONNXModel(data: ONNXBuilder.model(), file: "empty.onnx")
        do { _ = try empty.bertStateDict(); Issue.record("no error") } catch {
            #expect("\(error)".contains("no BERT word embeddings"))
        }
    }

    @Test func timmViTWithFusedQKVAndFoldedPositions() throws {
        var g = GraphBuilder()
        let d = 4, pre = "model."
        func read(_ name: String, _ op: String = "Mul") -> String {
            let y = g.fresh("y")
            g.nodes.append(ONNXBuilder.node(op, g.fresh(op), ["pixels", name], [y]))
            return y
        }
        let cls = g.named(pre + "cls_token", [1, 1, d], expect: "embeddings.cls_token")
        _ = read(cls, "Expand")
        let pw = g.named(pre + "patch_embed.proj.weight", [d, 3, 2, 2],
                         expect: "embeddings.patch_embeddings.projection.weight")
        let pb = g.named(pre + "patch_embed.proj.bias", [d], expect: "embeddings.patch_embeddings.projection.bias")
        g.nodes.append(ONNXBuilder.node("Conv", "/patch_embed/proj/Conv", ["pixels", pw, pb], ["patches"]))
        // Position embeddings folded into a class part and a 2×2 grid that the graph resizes.
        let classPos = g.named("onnx::Concat_9", [1, 1, d])
        let gridPos = g.named("onnx::Reshape_10", [1, 4, d])
        let grid = read(gridPos, "Reshape")
        g.nodes.append(ONNXBuilder.node("Concat", "/pos/Concat", [classPos, grid], ["pos"],
                                        [ONNXBuilder.attribute("axis", int: 1)]))
        g.expected["embeddings.position_embeddings"] = ([1, 5, d], g.values[classPos]! + g.values[gridPos]!)

        var x = g.layerNorm("tokens", pre, "blocks.0.norm1", width: d)
        g.expected["encoder.layer.0.norm1.weight"] = g.expected.removeValue(forKey: "blocks.0.norm1.weight")
        g.expected["encoder.layer.0.norm1.bias"] = g.expected.removeValue(forKey: "blocks.0.norm1.bias")
        let qkvBias = g.named(pre + "blocks.0.attn.qkv.bias", [3 * d])
        let qkvBiasValues = g.values[qkvBias]!
        x = g.linear(x, d, 3 * d, bias: qkvBias, key: "qkv", storage: .plain, scope: "/blocks.0/attn/qkv")
        let (qkvShape, qkv) = g.expected.removeValue(forKey: "qkv")!
        #expect(qkvShape == [3 * d, d])
        for (i, role) in ["query", "key", "value"].enumerated() {
            let p = "encoder.layer.0.attention.attention.\(role)"
            g.expected[p + ".weight"] = ([d, d], Array(qkv[(i * d * d)..<((i + 1) * d * d)]))
            g.expected[p + ".bias"] = ([d], Array(qkvBiasValues[(i * d)..<((i + 1) * d)]))
        }
        let projBias = g.named(pre + "blocks.0.attn.proj.bias", [d],
                               expect: "encoder.layer.0.attention.output.dense.bias")
        x = g.linear(x, d, d, bias: projBias, key: "encoder.layer.0.attention.output.dense.weight", storage: .plain,
                     scope: "/blocks.0/attn/proj")
        _ = read(g.named(pre + "blocks.0.ls1.gamma", [d], expect: "encoder.layer.0.layer_scale1.lambda1"))
        x = g.layerNorm(x, pre, "blocks.0.norm2", width: d)
        g.expected["encoder.layer.0.norm2.weight"] = g.expected.removeValue(forKey: "blocks.0.norm2.weight")
        g.expected["encoder.layer.0.norm2.bias"] = g.expected.removeValue(forKey: "blocks.0.norm2.bias")
        let fc1b = g.named(pre + "blocks.0.mlp.fc1.bias", [4 * d], expect: "encoder.layer.0.mlp.fc1.bias")
        x = g.linear(x, d, 4 * d, bias: fc1b, key: "encoder.layer.0.mlp.fc1.weight", storage: .castMul,
                     scope: "/blocks.0/mlp/fc1")
        let fc2b = g.named(pre + "blocks.0.mlp.fc2.bias", [d], expect: "encoder.layer.0.mlp.fc2.bias")
        x = g.linear(x, 4 * d, d, bias: fc2b, key: "encoder.layer.0.mlp.fc2.weight", storage: .plain,
                     scope: "/blocks.0/mlp/fc2")
        _ = read(g.named(pre + "blocks.0.ls2.gamma", [d], expect: "encoder.layer.0.layer_scale2.lambda1"))
        x = g.layerNorm(x, pre, "norm", width: d)
        g.expected["layernorm.weight"] = g.expected.removeValue(forKey: "norm.weight")
        g.expected["layernorm.bias"] = g.expected.removeValue(forKey: "norm.bias")
        _ = read(g.named("head.weight", [2, d]))   // not part of the backbone

        let m = try ONNXModel(data: g.model(), file: "vit.onnx")
        let dict = try m.dinov2StateDict()
        expectMatches(dict, g.expected)
    }
}

// MARK: - Real files (fetched by scripts/fetch-assets.sh bodies)

/// Reads one F32 tensor from a safetensors file (enough for cross-checking; the real reader lives elsewhere).
private func safetensor(_ url: URL, _ name: String) throws -> Tensor {
    let data = try Data(contentsOf: url, options: .mappedIfSafe)
    let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
    let entry = header[name] as! [String: Any]
    let shape = entry["shape"] as! [Int]
    let offsets = entry["data_offsets"] as! [Int]
    let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
    let values = bytes.withUnsafeBytes { raw in
        (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    }
    return Tensor(values, shape: shape)
}

private func close(_ a: [Float], _ b: [Float], _ tol: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol }
}

@Suite("ONNX real bodies")
struct ONNXRealBodyTests {
    @Test(.enabled(if: TestAssets.available("dinov2-s14", for: "dinov2StateDictFromImgFocus")))
    func dinov2StateDictFromImgFocus() throws {
        let m = try ONNXModel(contentsOf: TestAssets.body("dinov2-s14").weights)
        #expect(m.initializers.count == 243)
        #expect(m.opset == 14)
        #expect(m.inputs.map(\.name) == ["input_image"])
        #expect(m.inputs.first?.shape == [.symbolic("batch_size"), .value(3), .value(224), .value(224)])
        let dict = try m.dinov2StateDict()
        #expect(dict.count == 4 + 12 * 18 + 2)
        #expect(dict["embeddings.cls_token"]?.shape == [1, 1, 384])
        #expect(dict["embeddings.position_embeddings"]?.shape == [1, 1 + 37 * 37, 384])
        #expect(dict["embeddings.patch_embeddings.projection.weight"]?.shape == [384, 3, 14, 14])
        #expect(dict["embeddings.mask_token"] == nil)
        #expect(!dict.keys.contains { $0.hasPrefix("decoder") })
        for l in 0..<12 {
            let p = "encoder.layer.\(l)."
            #expect(dict[p + "attention.attention.query.weight"]?.shape == [384, 384])
            #expect(dict[p + "mlp.fc1.weight"]?.shape == [1536, 384])
            #expect(dict[p + "mlp.fc2.weight"]?.shape == [384, 1536])
            #expect(dict[p + "layer_scale2.lambda1"]?.shape == [384])
        }
        // Values cross-checked with the onnx Python package: class position, first and last grid position.
        let pos = dict["embeddings.position_embeddings"]!
        #expect(close(Array(pos.scalars[0..<3]), [-0.0060063, 0.00014217, 0.01435325], 1e-7))
        #expect(close(Array(pos.scalars[384..<387]), [-0.00399079, -0.05620574, -0.01043185], 1e-7))
        #expect(abs(pos.scalars.last! - -0.09616552) < 1e-7)
        // Linear weights are [out, in]: query row 0 is column 0 of the stored [in, out] matrix.
        let q = dict["encoder.layer.0.attention.attention.query.weight"]!
        #expect(close(Array(q.scalars[0..<3]), [0.00417558, -0.01074923, -0.02186501], 1e-7))
        #expect(abs(q[5, 7] - 0.008996161) < 1e-8)
        #expect(abs(dict["encoder.layer.11.mlp.fc1.weight"]![1535, 383] - -0.0133317495) < 1e-8)
        #expect(abs(dict["encoder.layer.11.mlp.fc2.weight"]![383, 1535] - -0.011547193) < 1e-8)
    }

    @Test(.enabled(if: TestAssets.available("minilm-l3", for: "bertStateDictFromParaphraseMiniLML3")))
    func bertStateDictFromParaphraseMiniLML3() throws {
        let m = try ONNXModel(contentsOf: TestAssets.body("minilm-l3").weights)
        #expect(m.initializers.count == 53)
        #expect(m.opset == 17)
        #expect(m.inputs.map(\.name) == ["input_ids", "attention_mask"])
        let dict = try m.bertStateDict()
        #expect(dict.count == 5 + 3 * 16)
        #expect(dict["embeddings.word_embeddings.weight"]?.shape == [30522, 384])
        #expect(dict["embeddings.position_embeddings.weight"]?.shape == [512, 384])
        #expect(dict["encoder.layer.2.intermediate.dense.weight"]?.shape == [1536, 384])
        #expect(dict["encoder.layer.2.output.dense.weight"]?.shape == [384, 1536])
        #expect(close(Array(dict["encoder.layer.0.attention.self.query.weight"]!.scalars[0..<3]),
                      [-0.10613316, 0.01591601, 0.03460659], 1e-7))
        #expect(abs(dict["encoder.layer.2.intermediate.dense.weight"]![1535, 383] - 0.027814984) < 1e-8)
        let word = dict["embeddings.word_embeddings.weight"]!
        #expect(close(Array(word.scalars[(2023 * 384)..<(2023 * 384 + 3)]),
                      [0.02955126, 0.03476943, -0.06566473], 1e-7))
    }

    @Test(.enabled(if: TestAssets.available("minilm-l6-int8", for: "bertStateDictFromInt8MiniLM")
                    && TestAssets.available("minilm-l6", for: "bertStateDictFromInt8MiniLM")))
    func bertStateDictFromInt8MiniLM() throws {
        let m = try ONNXModel(contentsOf: TestAssets.body("minilm-l6-int8").weights)
        #expect(m.initializers.count == 160)
        #expect(m.initializers.filter { $0.dataType == .int8 }.count == 38)
        let dict = try m.bertStateDict()
        #expect(dict.count == 5 + 6 * 16)
        let word = dict["embeddings.word_embeddings.weight"]!
        #expect(close(Array(word.scalars[(2023 * 384)..<(2023 * 384 + 3)]),
                      [-0.0023807, -0.0071421, -0.02618769], 1e-7))
        #expect(close(Array(dict["encoder.layer.0.attention.self.query.weight"]!.scalars[0..<3]),
                      [-0.14856602, 0.04380793, 0.08571117], 1e-7))
        // Symmetric int8 with scale = max|w| / 127 per row or output column: within half a step of the fp32 model.
        let fp32 = TestAssets.body("minilm-l6").weights
        for (key, tolerance) in [("embeddings.word_embeddings.weight", Float(0.0042)),
                                 ("encoder.layer.0.attention.self.query.weight", 0.0031),
                                 ("encoder.layer.5.intermediate.dense.weight", 0.01),
                                 ("encoder.layer.5.output.dense.weight", 0.01),
                                 ("embeddings.LayerNorm.weight", 0)] {
            let reference = try safetensor(fp32, key)
            let t = dict[key]!
            #expect(t.shape == reference.shape, "\(key)")
            let diff = zip(t.scalars, reference.scalars).map { abs($0 - $1) }.max()!
            #expect(diff <= tolerance, "\(key): max difference \(diff)")
        }
    }
}
