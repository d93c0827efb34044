import Synchronization
/// What a backward rule gets besides the incoming gradient.
public struct BackwardContext {
    /// The op's output (use it instead of capturing it, which would make a reference cycle).
    public let output: Tensor
    /// For each input: whether its gradient is wanted. Rules skip work for inputs marked `false`.
    public let needsGradient: [Bool]
    /// The gradient contributions collected so far, in a backward pass without a graph.
    let accumulator: GradientAccumulator?

    init(output: Tensor, needsGradient: [Bool], accumulator: GradientAccumulator? = nil) {
        self.output = output
        self.needsGradient = needsGradient
        self.accumulator = accumulator
    }

    /// Hands over the gradient already accumulated for input `i`, for the rule to add its own contribution into in
    /// place (e.g. a GEMM with β = 1, which saves a pass over memory) and return that sum as input `i`'s gradient.
    /// Nil when there is none, when it is shared with another tensor, or when a graph is being recorded.
    func takeAccumulatedGradient(_ i: Int) -> Tensor? { accumulator?.take(i) }
}

/// A backward rule: maps the gradient of the output to one gradient per input (nil = none / not needed).
/// Rules are written with differentiable tensor ops, so running them with grad mode on builds the graph of
/// the gradient itself — that is what makes gradients of gradients work.
public typealias BackwardRule = (_ gradOutput: Tensor, _ context: BackwardContext) -> [Tensor?]

/// The name of every differentiable op, as recorded in the graph. One closed list, so that the engine's op test
/// table can check that each op has sample inputs (a new op needs a case here, and the table fails until it has
/// an entry). Backward rules that are themselves ops (e.g. `softmaxGradient`) are listed too: their own
/// gradients are what second-order derivatives run through.
public enum GradOp: String, CaseIterable, Sendable {
    case abs
    case add
    case addScalar
    case batchSummedMatmulNT
    case bceWithLogits
    case clamp
    case col2im
    case concat
    case crossEntropy
    case div
    case dropout
    case embedding
    case embeddingBackward
    case erf
    case exp
    case expand
    case gather
    case gelu
    case geluGradient
    case geluSecondDerivative
    case geluTanh
    case im2col
    case indexAdd
    case indexSelect
    case layerNorm
    case layerNormInputGradient
    case layerNormNormalized
    case layerNormRsqrt
    case layerNormWeightGradient
    case linear
    case log
    case logSoftmax
    case logSumExp
    case lossAbs
    case lossRowNorm
    case lossSigmoid
    case lossSoftplus
    case matmul
    case maxPool2d
    case maxPoolGather
    case maxPoolScatter
    case maximum
    case maximumAlongAxes
    case minimum
    case minimumAlongAxes
    case mul
    case mulScalar
    case neg
    case pad
    case patchGather
    case patchScatter
    case permute
    case pow
    case powTensor
    case relu
    case resample2d
    case resample2dAdjoint
    case reshape
    case rsqrt
    case scatterAdd
    case sharedWeightMatmul
    case sigmoid
    case slice
    case softmax
    case softmaxGradient
    case softplus
    case sqrt
    case squared
    case standardDeviation
    case sub
    case sum
    case swapLastTwoAxes
    case tanh
    case variance
    case `where`
}

final class GradNode: @unchecked Sendable {
    let op: GradOp
    /// Creation order (process-wide). A node's inputs were made before it, so descending sequence is a
    /// topological order for the backward pass — the one that keeps the fewest gradients waiting (see
    /// `gradientStore`).
    let sequence: Int
    private(set) var inputs: [Tensor]
    private(set) var rule: BackwardRule
    /// Set once a backward pass with `retainsGraph: false` has run this node and dropped what it held.
    private(set) var isReleased = false
    init(op: GradOp, inputs: [Tensor], rule: @escaping BackwardRule) {
        self.op = op
        self.inputs = inputs
        self.rule = rule
        self.sequence = GradNode.counter.add(1, ordering: .relaxed).newValue
    }

    private static let counter = Atomic<Int>(0)

    /// Drops the inputs and the rule (with the tensors it captured), so that their memory can be reused while
    /// the rest of the backward pass runs.
    func release() {
        inputs = []
        rule = { _, _ in [] }
        isReleased = true
    }
}

public enum GradMode {
    @TaskLocal static var enabled = true

    /// Whether ops currently record the graph.
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording the graph (inference, optimizer updates, metrics).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(false, operation: body)
}

/// Runs `body` with graph recording set to `enabled`.
public func withGradients<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
    try GradMode.$enabled.withValue(enabled, operation: body)
}

extension Tensor {
    /// Attaches `output` to the graph as the result of `op` over `inputs`, if grad mode is on and some input
    /// requires a gradient; otherwise returns it untracked. Every differentiable op ends with this call.
    public static func record(_ output: Tensor, op: GradOp, inputs: [Tensor], rule: @escaping BackwardRule) -> Tensor {
        guard GradMode.enabled, inputs.contains(where: { $0.requiresGrad }) else { return output }
        let node = GradNode(op: op, inputs: inputs, rule: rule)
        return Tensor(impl: TensorImpl(storage: output.storage, shape: output.shape, requiresGrad: true, node: node))
    }

    /// A leaf that requires gradients, sharing this tensor's storage.
    public func requiringGradient(_ flag: Bool = true) -> Tensor {
        Tensor(impl: TensorImpl(storage: storage, shape: shape, requiresGrad: flag, node: nil))
    }

    /// The ops of the graph that produced this tensor, each once (empty for leaves and untracked tensors).
    public var graphOps: Set<GradOp> {
        var ops: Set<GradOp> = []
        var seen: Set<ObjectIdentifier> = []
        var stack = [self]
        while let t = stack.popLast() {
            guard let node = t.node, seen.insert(ObjectIdentifier(node)).inserted else { continue }
            ops.insert(node.op)
            stack.append(contentsOf: node.inputs)
        }
        return ops
    }

    /// The same values cut from the graph.
    public func detached() -> Tensor {
        if !requiresGrad { return self }
        return Tensor(impl: TensorImpl(storage: storage, shape: shape, requiresGrad: false, node: nil))
    }
}

/// Gradients keyed by tensor identity.
public struct Gradients: @unchecked Sendable {
    var store: [ObjectIdentifier: Tensor] = [:]
    public init() {}
    public subscript(_ tensor: Tensor) -> Tensor? {
        get { store[tensor.id] }
        set { store[tensor.id] = newValue }
    }
    public var count: Int { store.count }
}

/// Reverse-mode differentiation of `output` with respect to `inputs`.
///
/// - Parameters:
///   - output: usually a scalar loss; for a non-scalar output pass `seed` (the vector of a vector-Jacobian product).
///   - inputs: the tensors to differentiate against (leaves or intermediate values).
///   - createGraph: record the backward computation, so the returned gradients can be differentiated again.
///   - seed: gradient of the final objective with respect to `output` (defaults to ones, requires a scalar).
///   - retainsGraph: `false` frees each node's saved tensors as soon as its backward rule has run, which lowers
///     the peak memory of a backward pass through a graph nobody holds otherwise (e.g. the backward of a
///     create-graph gradient, whose graph holds the forward activations and every intermediate gradient).
///     The graph of `output` can then not be differentiated again (that is a precondition failure). Ignored
///     (the graph is kept) with `createGraph`, whose result refers to it.
/// - Returns: one gradient per input, zeros where `output` does not depend on the input.
public func gradients(of output: Tensor, wrt inputs: [Tensor], createGraph: Bool = false,
                      seed: Tensor? = nil, retainsGraph: Bool = true) -> [Tensor] {
    let store = gradientStore(of: output, wrt: inputs, createGraph: createGraph, seed: seed,
                              retainsGraph: retainsGraph)
    return inputs.map { store[$0] ?? Tensor.zeros($0.shape) }
}

/// Like `gradients(of:wrt:)` but returns a store keyed by tensor identity (missing = no dependence).
public func gradientStore(of output: Tensor, wrt inputs: [Tensor], createGraph: Bool = false,
                          seed: Tensor? = nil, retainsGraph: Bool = true) -> Gradients {
    if let seed {
        precondition(seed.shape == output.shape,
                     "gradients: seed shape \(seed.shape) does not match output shape \(output.shape)")
    } else {
        precondition(output.count == 1,
                     "gradients: output of shape \(output.shape) is not a scalar; pass a seed of that shape")
    }
    var result = Gradients()
    guard output.requiresGrad else { return result }
    let wanted = Set(inputs.map(\.id))

    // Topological order (iterative DFS) over tracked tensors; mark which ones lead to a wanted input.
    var order: [Tensor] = []
    var visited: [ObjectIdentifier: Bool] = [:]   // value: leads to a wanted input
    var stack: [(Tensor, Int)] = [(output, 0)]
    visited[output.id] = wanted.contains(output.id)
    while let (t, start) = stack.popLast() {
        if start == 0, let node = t.node {
            precondition(!node.isReleased, "gradients: the graph through op \(node.op) was freed by an earlier "
                         + "backward pass with retainsGraph: false")
        }
        var next = start
        let parents = t.node?.inputs ?? []
        var pushed = false
        while next < parents.count {
            let p = parents[next]
            next += 1
            if p.requiresGrad && visited[p.id] == nil {
                visited[p.id] = wanted.contains(p.id)
                stack.append((t, next))
                stack.append((p, 0))
                pushed = true
                break
            }
        }
        if pushed { continue }
        if !(visited[t.id] ?? false) {
            if parents.contains(where: { visited[$0.id] == true }) { visited[t.id] = true }
        }
        order.append(t)
    }
    // Run rules in reverse creation order rather than the DFS's: a valid order either way, but the DFS reaches
    // every weight gradient of a create-graph backward first (each is one step from the objective), so in its
    // backward the tangents of all forward activations were made before any part of the graph could be freed.
    // In creation order each layer's rules run together, as in PyTorch's sequence-number order (MoNA's exact
    // meta-gradient on MiniLM-L6: peak of the second backward 1578 → 1296 MB).
    order.sort { ($0.node?.sequence ?? -1) < ($1.node?.sequence ?? -1) }

    // Each tensor's gradient contributions, summed when the tensor is reached (and dropped once propagated):
    // one pass over all of them instead of a chain of additions (see `sumOfContributions`).
    // Without `retainsGraph`, each tensor is dropped from `order` and its node released once its turn has come
    // (its consumers are done): what only the graph held is freed during the pass. `visited` and the
    // accumulator are keyed by identity, but only ever looked up for tensors still held (by `order` or a node).
    let releases = !retainsGraph && !createGraph
    var pending: [Tensor?] = order
    order = []
    let contributions = GradientAccumulator(addsInPlace: releases)
    GradMode.$enabled.withValue(createGraph) {
        contributions.parts[output.id] = [seed ?? Tensor.ones(output.shape)]
        for index in pending.indices.reversed() {
            let t = pending[index]!
            defer {
                if releases {
                    t.node?.release()
                    pending[index] = nil
                }
            }
            guard visited[t.id] == true, let parts = contributions.parts.removeValue(forKey: t.id) else { continue }
            let g = sumOfContributions(parts)
            if wanted.contains(t.id) { result.store[t.id] = g }
            guard let node = t.node else { continue }
            let needs = node.inputs.map { $0.requiresGrad && visited[$0.id] == true }
            guard needs.contains(true) else { continue }
            contributions.inputs = createGraph ? [] : node.inputs
            let context = BackwardContext(output: t, needsGradient: needs, accumulator: createGraph ? nil : contributions)
            let inGrads = node.rule(g, context)
            contributions.inputs = []
            precondition(inGrads.count == node.inputs.count,
                         "autograd: op \(node.op) returned \(inGrads.count) gradients for \(node.inputs.count) inputs")
            for (i, input) in node.inputs.enumerated() where needs[i] {
                guard let gi = inGrads[i] else { continue }
                precondition(gi.shape == input.shape,
                             "autograd: op \(node.op) gave a gradient of shape \(gi.shape) for input \(i) of shape \(input.shape)")
                contributions.add(gi, for: input.id)
            }
        }
    }
    return result
}
