import MonaTensor

/// Parameters that share hyper-parameters (e.g. "no weight decay on biases and LayerNorm").
public struct ParameterGroup {
    public var parameters: [(name: String, parameter: Parameter)]
    public var weightDecay: Float
    /// Multiplies the optimizer's learning rate for this group.
    public var learningRateScale: Float

    public init(_ parameters: [(name: String, parameter: Parameter)], weightDecay: Float = 0, learningRateScale: Float = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }

    /// Splits trainable parameters into decayed and non-decayed groups: names matching `noDecay` globs (default:
    /// biases, LayerNorm weights, embeddings' norms, layer-scale and position/CLS tokens) get no weight decay.
    public static func decayGroups(_ module: Module, weightDecay: Float,
                                   noDecay: [String] = ["*bias", "*LayerNorm*", "*layernorm*", "*norm*", "*layer_scale*",
                                                        "*cls_token", "*position_embeddings*"]) -> [ParameterGroup] {
        let params = module.trainableParameters()
        let isNoDecay = { (n: String) in noDecay.contains { globMatch($0, n) } }
        return [ParameterGroup(params.filter { !isNoDecay($0.name) }, weightDecay: weightDecay),
                ParameterGroup(params.filter { isNoDecay($0.name) }, weightDecay: 0)]
    }
}

/// Base class of optimizers. Subclasses only write the per-parameter update (`update(_:gradient:state:…)`); the
/// base walks the groups, skips frozen parameters and those without a gradient, and keeps per-parameter state.
open class Optimizer {
    public var learningRate: Float
    public var groups: [ParameterGroup]
    /// Number of `step` calls so far.
    public private(set) var stepCount = 0
    private var states: [ObjectIdentifier: [Tensor]] = [:]

    public init(groups: [ParameterGroup], learningRate: Float) {
        self.groups = groups
        self.learningRate = learningRate
    }

    public convenience init(_ module: Module, learningRate: Float, weightDecay: Float = 0) {
        self.init(groups: [ParameterGroup(module.trainableParameters(), weightDecay: weightDecay)], learningRate: learningRate)
    }

    /// Number of state buffers per parameter (zero-initialised, same shape as the parameter).
    open var stateBuffers: Int { 0 }

    /// Writes one parameter's update in place. `step` counts from 1.
    open func update(_ parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: [UnsafeMutableBufferPointer<Float>], learningRate: Float, weightDecay: Float, step: Int) {
        fatalError("Optimizer subclasses implement update")
    }

    /// Applies one update to every trainable parameter that has a gradient in `gradients`.
    public func step(_ gradients: Gradients) {
        stepCount += 1
        withoutGradients {
            for group in groups {
                for (_, p) in group.parameters where p.isTrainable {
                    guard let g = gradients[p.value] else { continue }
                    precondition(g.shape == p.value.shape, "Optimizer: gradient \(g.shape) for parameter \(p.value.shape)")
                    let key = ObjectIdentifier(p)
                    if states[key] == nil { states[key] = (0..<stateBuffers).map { _ in Tensor.zeros(p.value.shape) } }
                    var buffers = states[key]!
                    states[key] = nil                      // keep the buffers uniquely referenced: no copy on write
                    var ptrs: [UnsafeMutableBufferPointer<Float>] = []
                    for i in buffers.indices { buffers[i].withUnsafeMutableBufferPointer { ptrs.append($0) } }
                    g.withUnsafeBufferPointer { gp in
                        p.value.withUnsafeMutableBufferPointer { pp in
                            update(pp, gradient: gp, state: ptrs, learningRate: learningRate * group.learningRateScale,
                                   weightDecay: group.weightDecay, step: stepCount)
                        }
                    }
                    states[key] = buffers
                }
            }
        }
    }
}

extension Optimizer {
    /// Per-parameter state buffers (e.g. Adam's first and second moments) keyed `<parameter name>/<buffer index>`,
    /// for checkpoints. Parameters that have not been updated yet have no entry.
    public func stateTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for group in groups {
            for (name, p) in group.parameters {
                guard let buffers = states[ObjectIdentifier(p)] else { continue }
                for (i, t) in buffers.enumerated() { out["\(name)/\(i)"] = t }
            }
        }
        return out
    }

    /// Restores buffers saved by `stateTensors()` (matched to this optimizer's parameters by name) and the step
    /// count, so that training continues exactly where it stopped. Throws a `LoadError` listing buffers of unknown
    /// parameters or of the wrong shape; parameters without saved buffers start from zero state.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int, source: String = "optimizer state") throws {
        var byName: [String: Parameter] = [:]
        for group in groups { for (name, p) in group.parameters { byName[name] = p } }
        var report = LoadReport()
        var restored: [ObjectIdentifier: [Int: Tensor]] = [:]
        for (key, t) in tensors {
            guard let slash = key.lastIndex(of: "/"), let index = Int(key[key.index(after: slash)...]),
                  index >= 0, index < stateBuffers, let p = byName[String(key[..<slash])] else {
                report.unexpected.append(key)
                continue
            }
            if t.shape != p.value.shape {
                report.mismatched.append("\(key): expected \(p.value.shape), found \(t.shape)")
                continue
            }
            restored[ObjectIdentifier(p), default: [:]][index] = t
        }
        if !report.isClean { throw LoadError(source: source, report: report) }
        states = [:]
        for group in groups {
            for (_, p) in group.parameters {
                guard let saved = restored[ObjectIdentifier(p)] else { continue }
                // Fresh copies: the optimizer updates its buffers in place.
                states[ObjectIdentifier(p)] = (0..<stateBuffers).map { i in
                    saved[i].map { t in Tensor(t.scalars, shape: t.shape) } ?? Tensor.zeros(p.value.shape)
                }
                report.loaded += 1
            }
        }
        self.stepCount = stepCount
    }
}

/// Scales gradients in place so that their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients(_ gradients: inout Gradients, parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = gradients[p.value] else { continue }
        g.withUnsafeBufferPointer { for x in $0 { total += Double(x) * Double(x) } }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm && norm.isFinite {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters { if let g = gradients[p.value] { gradients[p.value] = withoutGradients { g * scale } } }
    }
    return norm
}
