import MonaTensor

/// Recovering named parameters from an exported graph.
///
/// PyTorch's exporter keeps a module's parameter names for tensors the graph reads as they are (biases, norms,
/// embeddings, conv weights), but a `Linear` weight is usually stored transposed ([in, out]) under an anonymous
/// name (`onnx::MatMul_1966`, `val_49`) and quantisation adds more anonymous tensors. Names are recovered from the
/// graph itself:
/// * constants are folded (`ONNXConstantFolder`), so a quantised weight is read already dequantised;
/// * a parameter is a constant that a runtime node reads (the "frontier" between constant and runtime parts);
/// * the weight of `MatMul(x, W)` / `Gemm` / `MatMulInteger` takes the name of the bias added to its output
///   (`…query.bias` → `…query.weight`) or, failing that, of the node's scope
///   (`/encoder/layer.0/…/query/MatMul`), and is transposed to PyTorch's [out, in].
extension ONNXModel {
    /// A constant read by a runtime node, whose name says nothing about its role.
    struct AnonymousConstant {
        let value: String
        let tensor: Tensor
        let consumers: [ONNXNode]
    }

    /// Every parameter the graph uses, under its PyTorch name (prefix as exported, e.g. `backbone.` or
    /// `model.0.auto_model.`), Float32, with linear weights as [out, in]. Quantised weights are dequantised.
    public func namedParameters() throws -> [String: Tensor] { try collectParameters().named }

    func collectParameters() throws -> (named: [String: Tensor], anonymous: [AnonymousConstant]) {
        let folder = ONNXConstantFolder(self)

        // Which values are constant: a forward pass in graph (topological) order.
        var constant = Set(initializers.map(\.name))
        var runtimeNodes: [ONNXNode] = []
        for node in nodes {
            let foldable = ONNXConstantFolder.foldableOps.contains(node.opType)
                && (node.domain.isEmpty || node.domain == "ai.onnx")
            if foldable && node.inputs.allSatisfy({ $0.isEmpty || constant.contains($0) }) {
                for o in node.outputs where !o.isEmpty { constant.insert(o) }
            } else {
                runtimeNodes.append(node)
            }
        }
        var frontier: [String] = []
        var seen = Set<String>()
        for node in runtimeNodes {
            for v in node.inputs where !v.isEmpty && constant.contains(v) && seen.insert(v).inserted {
                frontier.append(v)
            }
        }

        var named: [String: Tensor] = [:]
        var anonymous: [String: ONNXConstantFolder.Folded] = [:]
        for v in frontier {
            guard let folded = try folder.value(v), !folded.isInteger else { continue }
            if Self.isParameterName(v) { named[v] = named[v] ?? folded.tensor } else { anonymous[v] = folded }
        }

        // Linear layers: name (and transpose) their anonymous weights.
        var used = Set<String>()
        func assign(_ name: String, _ t: Tensor, from value: String?) {
            if named[name] == nil { named[name] = t }
            if let value { used.insert(value) }
        }
        for node in runtimeNodes where node.domain.isEmpty || node.domain == "ai.onnx" {
            switch node.opType {
            case "MatMul":
                guard node.inputs.count == 2, let w = anonymous[node.inputs[1]], w.tensor.rank == 2,
                      let out = node.outputs.first else { continue }
                guard let (base, bias) = linearName(output: out, node: node, named: named, anonymous: anonymous)
                else { continue }
                assign(base + ".weight", ONNXArrayOps.transposed(w.tensor), from: node.inputs[1])
                if let (value, b) = bias { assign(base + ".bias", b, from: value) }
            case "Gemm":
                guard node.inputs.count >= 2, let w = anonymous[node.inputs[1]], w.tensor.rank == 2,
                      let out = node.outputs.first else { continue }
                let transB = node.attributes["transB"]?.intValue == 1
                let weight = transB ? w.tensor : ONNXArrayOps.transposed(w.tensor)
                var base: String?
                if node.inputs.count > 2, Self.isParameterName(node.inputs[2]), node.inputs[2].hasSuffix(".bias") {
                    base = String(node.inputs[2].dropLast(".bias".count))
                } else if let b = linearName(output: out, node: node, named: named, anonymous: anonymous) {
                    base = b.base
                }
                guard let base else { continue }
                assign(base + ".weight", weight, from: node.inputs[1])
                if node.inputs.count > 2, let c = anonymous[node.inputs[2]], c.tensor.rank == 1 {
                    assign(base + ".bias", c.tensor, from: node.inputs[2])
                }
            case "MatMulInteger":
                guard let (weight, out) = try dequantizedMatMulInteger(node, folder: folder),
                      let (base, bias) = linearName(output: out, node: node, named: named, anonymous: anonymous)
                else { continue }
                assign(base + ".weight", ONNXArrayOps.transposed(weight), from: nil)
                if let (value, b) = bias { assign(base + ".bias", b, from: value) }
            default:
                continue
            }
        }

        let rest = frontier.compactMap { v -> AnonymousConstant? in
            guard let f = anonymous[v], !used.contains(v) else { return nil }
            return AnonymousConstant(value: v, tensor: f.tensor, consumers: consumers(of: v))
        }
        return (named, rest)
    }

    /// `a.b.3.weight`: dotted components of letters, digits and underscores (what `state_dict()` produces).
    static func isParameterName(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && p.utf8.allSatisfy { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
            }
        }
    }

    /// The module name of a linear layer whose matrix product is `output`: from the named bias added to it, else
    /// from the node's scope. Also returns an anonymous 1-D bias constant added to it, if any.
    private func linearName(output: String, node: ONNXNode, named: [String: Tensor],
                            anonymous: [String: ONNXConstantFolder.Folded])
        -> (base: String, bias: (String, Tensor)?)? {
        var anonymousBias: (String, Tensor)?
        for add in consumers(of: output) where add.opType == "Add" && add.inputs.count == 2 {
            let other = add.inputs[0] == output ? add.inputs[1] : add.inputs[0]
            if Self.isParameterName(other), other.hasSuffix(".bias"), named[other] != nil {
                return (String(other.dropLast(".bias".count)), nil)
            }
            if let b = anonymous[other]?.tensor, b.rank == 1 { anonymousBias = (other, b) }
        }
        // Scope path, e.g. "/backbone/encoder/layer.0/mlp/fc1/MatMul" → "backbone.encoder.layer.0.mlp.fc1".
        var parts = node.name.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        parts.removeLast()
        let base = parts.joined(separator: ".")
        guard Self.isParameterName(base + ".weight") else { return nil }
        return (base, anonymousBias)
    }

    /// Dynamic quantisation (ONNX Runtime's `quantize_dynamic`): `MatMulInteger(x_q, W_q, x_zp, W_zp)` →
    /// `Cast` → `Mul(·, x_scale × W_scale)`. Returns W = (W_q − W_zp) × W_scale as [in, out] and the value where
    /// the float result appears (where a bias would be added).
    private func dequantizedMatMulInteger(_ node: ONNXNode, folder: ONNXConstantFolder) throws -> (Tensor, String)? {
        guard node.inputs.count >= 2, let wq = try folder.value(node.inputs[1])?.tensor, wq.rank == 2,
              let out = node.outputs.first else { return nil }
        var w = wq
        if node.inputs.count > 3, !node.inputs[3].isEmpty {
            guard let zp = try folder.value(node.inputs[3])?.tensor else { return nil }
            guard zp.count == 1 || zp.shape == [wq.shape[1]] else {
                throw FormatError(file: file, "node '\(node.name)' (MatMulInteger): weight zero point of shape "
                                  + "\(zp.shape) does not match weight \(wq.shape)")
            }
            w = wq - (zp.count == 1 ? zp.reshaped(to: []) : zp)
        }
        // Follow Cast → Mul and find the constant weight scale in the multiplier.
        guard let cast = consumers(of: out).first(where: { $0.opType == "Cast" }), let castOut = cast.outputs.first,
              let mul = consumers(of: castOut).first(where: { $0.opType == "Mul" && $0.inputs.count == 2 }),
              let mulOut = mul.outputs.first else { return nil }
        let multiplier = mul.inputs[0] == castOut ? mul.inputs[1] : mul.inputs[0]
        var scale = try folder.value(multiplier)?.tensor
        if scale == nil, let scaleMul = producer(of: multiplier), scaleMul.opType == "Mul" {
            for input in scaleMul.inputs {
                if let s = try folder.value(input)?.tensor { scale = s; break }
            }
        }
        guard let s = scale else { return nil }
        guard s.count == 1 || s.shape == [wq.shape[1]] else {
            throw FormatError(file: file, "node '\(node.name)' (MatMulInteger): weight scale of shape \(s.shape) "
                              + "does not match weight \(wq.shape)")
        }
        return (w * (s.count == 1 ? s.reshaped(to: []) : s), mulOut)
    }
}
