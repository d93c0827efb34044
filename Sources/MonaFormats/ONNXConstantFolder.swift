import MonaTensor

/// Evaluates the constant part of an ONNX graph: initializers, `Constant` nodes, and chains of cheap nodes whose
/// inputs are all constant (Cast, Mul, Add, Sub, Div, DequantizeLinear, Identity, Transpose, Reshape, Squeeze,
/// Unsqueeze). This is how quantised weights are dequantised: exporters store `int8 weight → Cast → Mul(scale)`
/// or `DequantizeLinear(weight, scale, zero_point)` in the graph, and folding that chain yields the Float32
/// weight under the name of its last node's output.
///
/// Results are memoised. Shapes come from an untrusted file, so every op checks them and throws.
final class ONNXConstantFolder {
    let model: ONNXModel
    private var cache: [String: Folded] = [:]
    private var inProgress: Set<String> = []
    /// Chains longer than this are treated as non-constant (also guards against cycles in malformed graphs).
    static let maxChain = 256

    /// A folded value and whether its ONNX type is an integer type (decides Cast semantics).
    struct Folded {
        let tensor: Tensor
        let isInteger: Bool
    }

    static let foldableOps: Set<String> = [
        "Constant", "Identity", "Cast", "Mul", "Add", "Sub", "Div", "DequantizeLinear", "Transpose", "Reshape",
        "Squeeze", "Unsqueeze",
    ]

    init(_ model: ONNXModel) { self.model = model }

    private func fail(_ message: String) -> FormatError { FormatError(file: model.file, message) }

    /// The constant value of `name`, or nil when it depends on a graph input or an op we do not fold.
    func value(_ name: String, depth: Int = 0) throws -> Folded? {
        if let hit = cache[name] { return hit }
        if let info = model.initializer(named: name) {
            let f = Folded(tensor: try info.tensor(), isInteger: info.dataType.isInteger)
            cache[name] = f
            return f
        }
        guard depth < Self.maxChain, !inProgress.contains(name),
              let node = model.producer(of: name), Self.foldableOps.contains(node.opType),
              node.domain.isEmpty || node.domain == "ai.onnx", node.outputs.first == name
        else { return nil }
        inProgress.insert(name)
        defer { inProgress.remove(name) }
        var args: [Folded?] = []
        for input in node.inputs {
            if input.isEmpty { args.append(nil); continue }
            guard let v = try value(input, depth: depth + 1) else { return nil }
            args.append(v)
        }
        guard let result = try evaluate(node, args) else { return nil }
        cache[name] = result
        return result
    }

    // MARK: Ops

    private func evaluate(_ node: ONNXNode, _ args: [Folded?]) throws -> Folded? {
        let label = "node '\(node.name)' (\(node.opType))"
        func arg(_ i: Int) throws -> Folded {
            guard i < args.count, let a = args[i] else { throw fail("\(label): missing input \(i)") }
            return a
        }
        switch node.opType {
        case "Constant":
            if let t = node.attributes["value"]?.tensorValue {
                return Folded(tensor: try t.tensor(), isInteger: t.dataType.isInteger)
            }
            if let f = node.attributes["value_float"]?.floatValue { return Folded(tensor: Tensor(f), isInteger: false) }
            if let i = node.attributes["value_int"]?.intValue {
                return Folded(tensor: Tensor(Float(i)), isInteger: true)
            }
            if case .floats(let v)? = node.attributes["value_floats"] {
                return Folded(tensor: Tensor(v), isInteger: false)
            }
            if let v = node.attributes["value_ints"]?.intsValue {
                return Folded(tensor: Tensor(v.map { Float($0) }), isInteger: true)
            }
            return nil
        case "Identity":
            return try arg(0)
        case "Cast":
            let x = try arg(0)
            let to = ONNXDataType(rawValue: Int32(truncatingIfNeeded: node.attributes["to"]?.intValue ?? 1))
            guard to.rawElementSize != nil else { return nil }
            if !to.isInteger || x.isInteger { return Folded(tensor: x.tensor, isInteger: to.isInteger) }
            let t = to == .bool ? ONNXArrayOps.mapped(x.tensor) { $0 != 0 ? 1 : 0 }
                                : ONNXArrayOps.mapped(x.tensor) { $0.rounded(.towardZero) }
            return Folded(tensor: t, isInteger: true)
        case "Mul", "Add", "Sub", "Div":
            let a = try arg(0), b = try arg(1)
            guard Broadcast.shape(a.tensor.shape, b.tensor.shape) != nil else {
                throw fail("\(label): shapes \(a.tensor.shape) and \(b.tensor.shape) cannot be broadcast together")
            }
            let t: Tensor
            switch node.opType {
            case "Mul": t = a.tensor * b.tensor
            case "Add": t = a.tensor + b.tensor
            case "Sub": t = a.tensor - b.tensor
            default:
                // Integer division truncates in ONNX.
                t = a.isInteger ? ONNXArrayOps.mapped(a.tensor / b.tensor) { $0.rounded(.towardZero) }
                                : a.tensor / b.tensor
            }
            return Folded(tensor: t, isInteger: a.isInteger)
        case "DequantizeLinear":
            return Folded(tensor: try dequantize(node, x: try arg(0).tensor, scale: try arg(1).tensor,
                                                 zeroPoint: args.count > 2 ? args[2]?.tensor : nil), isInteger: false)
        case "Transpose":
            let x = try arg(0).tensor
            let perm = node.attributes["perm"]?.intsValue.map { $0.map(Int.init) } ?? Array((0..<x.rank).reversed())
            guard perm.count == x.rank, Set(perm) == Set(0..<x.rank) else {
                throw fail("\(label): perm \(perm) is not a permutation of the axes of shape \(x.shape)")
            }
            return Folded(tensor: ONNXArrayOps.permuted(x, perm), isInteger: try arg(0).isInteger)
        case "Reshape":
            let x = try arg(0)
            let target = try reshapeTarget(x.tensor.shape, try integers(try arg(1).tensor, label),
                                           allowZero: node.attributes["allowzero"]?.intValue == 1, label)
            return Folded(tensor: x.tensor.reshaped(to: target), isInteger: x.isInteger)
        case "Squeeze", "Unsqueeze":
            let x = try arg(0)
            let axes: [Int]
            if let a = node.attributes["axes"]?.intsValue { axes = a.map(Int.init) }
            else if args.count > 1, let a = args[1] { axes = try integers(a.tensor, label) }
            else if node.opType == "Squeeze" { axes = x.tensor.shape.indices.filter { x.tensor.shape[$0] == 1 } }
            else { throw fail("\(label): no axes given") }
            var shape = x.tensor.shape
            if node.opType == "Squeeze" {
                let r = shape.count
                let norm = axes.map { $0 < 0 ? $0 + r : $0 }
                guard norm.allSatisfy({ $0 >= 0 && $0 < r && shape[$0] == 1 }) else {
                    throw fail("\(label): cannot squeeze axes \(axes) of shape \(shape)")
                }
                shape = shape.indices.filter { !norm.contains($0) }.map { shape[$0] }
            } else {
                let r = shape.count + axes.count
                let norm = axes.map { $0 < 0 ? $0 + r : $0 }.sorted()
                guard norm.allSatisfy({ $0 >= 0 && $0 < r }), Set(norm).count == norm.count else {
                    throw fail("\(label): invalid axes \(axes) for shape \(shape)")
                }
                for a in norm { shape.insert(1, at: a) }
            }
            return Folded(tensor: x.tensor.reshaped(to: shape), isInteger: x.isInteger)
        default:
            return nil
        }
    }

    /// Integer values stored as Float (shape and axis operands); out-of-range values are errors, not traps.
    private func integers(_ t: Tensor, _ label: String) throws -> [Int] {
        try t.scalars.map { v in
            guard v.isFinite, abs(v) < 0x1p62 else { throw fail("\(label): integer operand \(v) out of range") }
            return Int(v)
        }
    }

    /// ONNX Reshape semantics: 0 copies the input dimension (unless `allowzero`), one -1 is inferred.
    private func reshapeTarget(_ shape: [Int], _ spec: [Int], allowZero: Bool, _ label: String) throws -> [Int] {
        var target = spec
        for (i, d) in spec.enumerated() where d == 0 && !allowZero {
            guard i < shape.count else { throw fail("\(label): shape \(spec) copies missing axis \(i) of \(shape)") }
            target[i] = shape[i]
        }
        let count = shape.reduce(1, *)
        let inferred = target.indices.filter { target[$0] == -1 }
        guard inferred.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw fail("\(label): invalid target shape \(spec)")
        }
        if let i = inferred.first {
            let known = target.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else { throw fail("\(label): cannot reshape \(shape) to \(spec)") }
            target[i] = count / known
        }
        var n = 1
        for d in target {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("\(label): target shape \(spec) is too large") }
            n = p
        }
        guard n == count else { throw fail("\(label): cannot reshape \(shape) (\(count) elements) to \(spec)") }
        return target
    }

    /// y = (x − zero_point) × scale, per tensor (scalar scale) or per axis (1-D scale along `axis`).
    private func dequantize(_ node: ONNXNode, x: Tensor, scale: Tensor, zeroPoint: Tensor?) throws -> Tensor {
        let label = "node '\(node.name)' (DequantizeLinear)"
        if let b = node.attributes["block_size"]?.intValue, b != 0 {
            throw fail("\(label): blocked quantisation (block_size \(b)) is not supported")
        }
        if let z = zeroPoint, z.count != scale.count || z.rank > 1 {
            throw fail("\(label): zero point shape \(z.shape) differs from scale shape \(scale.shape)")
        }
        var shapeForBroadcast = scale.shape
        if scale.count != 1 {
            // Per-axis: a 1-D scale whose length matches x's `axis`.
            guard scale.rank == 1 else { throw fail("\(label): scale of shape \(scale.shape) must be 0-D or 1-D") }
            let rawAxis = Int(node.attributes["axis"]?.intValue ?? 1)
            let axis = rawAxis < 0 ? rawAxis + x.rank : rawAxis
            guard axis >= 0, axis < x.rank, x.shape[axis] == scale.count else {
                throw fail("\(label): scale of length \(scale.count) does not match axis \(rawAxis) of \(x.shape)")
            }
            shapeForBroadcast = [Int](repeating: 1, count: x.rank)
            shapeForBroadcast[axis] = scale.count
        } else {
            shapeForBroadcast = []
        }
        let s = scale.reshaped(to: shapeForBroadcast)
        guard let z = zeroPoint else { return x * s }
        return (x - z.reshaped(to: shapeForBroadcast)) * s
    }
}
