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

    /// Splits trainable parameters into decayed and non-decayed groups by the module structure, whatever the
    /// parameters are called: LayerNorm parameters, parameters of rank < 2 (biases, layer scales) and the
    /// position/CLS embeddings a module declares in `positionalParameters` get no weight decay. Both groups keep
    /// the order of `trainableParameters()`.
    public static func decayGroups(_ module: Module, weightDecay: Float) -> [ParameterGroup] {
        let exempt = Set(noDecayParameters(of: module).map { ObjectIdentifier($0) })
        let params = module.trainableParameters()
        let isExempt = { (p: Parameter) in exempt.contains(ObjectIdentifier(p)) }
        return [ParameterGroup(params.filter { !isExempt($0.parameter) }, weightDecay: weightDecay),
                ParameterGroup(params.filter { isExempt($0.parameter) }, weightDecay: 0)]
    }

    /// Every parameter of `module` that weight decay leaves alone (see `decayGroups`).
    static func noDecayParameters(of module: Module) -> [Parameter] {
        var out: [Parameter] = []
        func visit(_ m: Module, exemptAll: Bool) {
            let type = type(of: m)
            let positional = Set(type.positionalParameters.map { type.childKeys[$0] ?? $0 })
            let (params, children) = m.children()
            for (key, p) in params where exemptAll || m is LayerNorm || p.value.rank < 2 || positional.contains(key) {
                out.append(p)
            }
            for (key, child) in children {
                // An array element's key is `name.i`; a declaration names the whole array.
                let property = String(key.split(separator: ".").first ?? Substring(key))
                visit(child, exemptAll: exemptAll || positional.contains(property))
            }
        }
        visit(module, exemptAll: false)
        return out
    }
}

/// Base class of optimizers. Subclasses only write the per-parameter update (`update(_:gradient:state:…)`); the
/// base walks the groups, skips frozen parameters and those without a gradient, and keeps per-parameter state.
open class Optimizer {
    /// Changed between steps by learning-rate schedules; must stay finite and ≥ 0 (checked by `step`).
    public var learningRate: Float
    public let groups: [ParameterGroup]
    /// Number of `step` calls so far.
    public private(set) var stepCount = 0
    private var states: [ObjectIdentifier: [Tensor]] = [:]

    /// Throws `OptimizerError` for a negative or non-finite learning rate, weight decay or learning-rate scale.
    public init(groups: [ParameterGroup], learningRate: Float) throws {
        try OptimizerError.check("learningRate", learningRate, learningRate >= 0 && learningRate.isFinite,
                                 accepts: "a finite number ≥ 0")
        for group in groups {
            try OptimizerError.check("weightDecay", group.weightDecay,
                                     group.weightDecay >= 0 && group.weightDecay.isFinite, accepts: "a finite number ≥ 0")
            try OptimizerError.check("learningRateScale", group.learningRateScale,
                                     group.learningRateScale >= 0 && group.learningRateScale.isFinite,
                                     accepts: "a finite number ≥ 0")
        }
        self.groups = groups
        self.learningRate = learningRate
    }

    /// Names of the per-parameter state buffers (zero-initialised, same shape as the parameter), as PyTorch
    /// names them in `optimizer.state_dict()` (e.g. Adam's `exp_avg`, `exp_avg_sq`).
    open var stateNames: [String] { [] }

    /// Number of state buffers per parameter.
    public var stateBuffers: Int { stateNames.count }

    /// Writes one parameter's update in place. `step` counts from 1.
    open func update(_ parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: [UnsafeMutableBufferPointer<Float>], learningRate: Float, weightDecay: Float, step: Int) {
        fatalError("Optimizer subclasses implement update")
    }

    /// Applies one update to every trainable parameter that has a gradient in `gradients`.
    public func step(_ gradients: Gradients) {
        precondition(learningRate >= 0 && learningRate.isFinite,
                     "Optimizer: learning rate \(learningRate) is not a finite number ≥ 0 (set by a schedule?)")
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
    /// Per-parameter state buffers (e.g. Adam's first and second moments) keyed `<parameter name>/<state name>`
    /// (`encoder.weight/exp_avg`), for checkpoints. Parameters that have not been updated yet have no entry.
    public func stateTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let names = stateNames
        for group in groups {
            for (name, p) in group.parameters {
                guard let buffers = states[ObjectIdentifier(p)] else { continue }
                for (i, t) in buffers.enumerated() { out["\(name)/\(names[i])"] = t }
            }
        }
        return out
    }

    /// Restores buffers saved by `stateTensors()` (matched to this optimizer's parameters by name) and the step
    /// count, so that training continues exactly where it stopped. Keys written before the buffers were named,
    /// `<parameter name>/<buffer index>`, load too. Throws a `LoadError` listing buffers of unknown parameters or
    /// of the wrong shape; parameters without saved buffers start from zero state.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int, source: String = "optimizer state") throws {
        var byName: [String: Parameter] = [:]
        for group in groups { for (name, p) in group.parameters { byName[name] = p } }
        var report = LoadReport()
        var restored: [ObjectIdentifier: [Int: Tensor]] = [:]
        for (key, t) in tensors {
            guard let slash = key.lastIndex(of: "/"), let index = stateIndex(String(key[key.index(after: slash)...])),
                  let p = byName[String(key[..<slash])] else {
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

    /// The buffer a saved state name refers to: a name from `stateNames`, or a legacy buffer index.
    private func stateIndex(_ name: String) -> Int? {
        if let i = stateNames.firstIndex(of: name) { return i }
        guard let i = Int(name), i >= 0, i < stateBuffers else { return nil }
        return i
    }
}

/// An optimizer hyperparameter outside its range (PyTorch raises `ValueError: Invalid beta parameter …`).
public struct OptimizerError: Error, Equatable, CustomStringConvertible {
    /// The hyperparameter's name as the initializer spells it (`learningRate`, `beta1`, `epsilon`, …).
    public let parameter: String
    public let value: Float
    /// What is accepted, e.g. "a number in [0, 1)".
    public let accepted: String

    public var description: String { "\(parameter) must be \(accepted), got \(value)" }

    static func check(_ parameter: String, _ value: Float, _ valid: Bool, accepts accepted: String) throws {
        if !valid { throw OptimizerError(parameter: parameter, value: value, accepted: accepted) }
    }
}
