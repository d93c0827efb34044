import MonaTensor

/// SGD with optional momentum (PyTorch's form: v ← μv + g, with dampening 0) and Nesterov, and L2 weight decay
/// added to the gradient.
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool

    /// Throws `OptimizerError` for momentum < 0 (or non-finite), Nesterov without momentum, and the base checks.
    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, nesterov: Bool = false) throws {
        try OptimizerError.check("momentum", momentum, momentum >= 0 && momentum.isFinite,
                                 accepts: "a finite number ≥ 0")
        try OptimizerError.check("momentum", momentum, !nesterov || momentum > 0,
                                 accepts: "> 0 with Nesterov momentum")
        self.momentum = momentum
        self.nesterov = nesterov
        try super.init(groups: groups, learningRate: learningRate)
    }

    override public var stateNames: [String] { momentum == 0 ? [] : ["momentum_buffer"] }

    override public func update(_ p: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                                state: [UnsafeMutableBufferPointer<Float>], learningRate lr: Float, weightDecay wd: Float,
                                step: Int) {
        // Class properties read inside the loop would cost a dynamic exclusivity check per element: hoist them.
        let momentum = self.momentum, nesterov = self.nesterov
        for i in 0..<p.count {
            var d = g[i] + wd * p[i]
            if momentum != 0 {
                let v = step == 1 ? d : momentum * state[0][i] + d
                state[0][i] = v
                d = nesterov ? d + momentum * v : v
            }
            p[i] -= lr * d
        }
    }
}

/// Adam (Kingma & Ba) with bias correction. `decoupledWeightDecay` false: L2 added to the gradient (torch Adam);
/// true: AdamW (Loshchilov & Hutter), p ← p − lr·wd·p before the Adam step.
public class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    let decoupled: Bool

    /// Throws `OptimizerError` unless 0 ≤ β₁, β₂ < 1 and ε > 0 (finite), and for the base checks. Stricter than
    /// PyTorch on ε: with ε = 0 a parameter whose gradients were all zero so far gets 0/0 = NaN.
    public init(groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, decoupledWeightDecay: Bool = false) throws {
        try OptimizerError.check("beta1", beta1, beta1 >= 0 && beta1 < 1, accepts: "a number in [0, 1)")
        try OptimizerError.check("beta2", beta2, beta2 >= 0 && beta2 < 1, accepts: "a number in [0, 1)")
        try OptimizerError.check("epsilon", epsilon, epsilon > 0 && epsilon.isFinite, accepts: "a finite number > 0")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        decoupled = decoupledWeightDecay
        try super.init(groups: groups, learningRate: learningRate)
    }

    override public var stateNames: [String] { ["exp_avg", "exp_avg_sq"] }

    override public func update(_ p: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                                state: [UnsafeMutableBufferPointer<Float>], learningRate lr: Float, weightDecay wd: Float,
                                step: Int) {
        let m = state[0], v = state[1]
        // Read the (overridable, exclusivity-checked) class properties once, not per element.
        let beta1 = self.beta1, beta2 = self.beta2, epsilon = self.epsilon
        let c1 = 1 - Float(Double(beta1).power(step)), c2 = 1 - Float(Double(beta2).power(step))
        let stepSize = lr / c1, rootC2 = c2.squareRoot()
        let decay = decoupled ? 1 - lr * wd : 1
        let l2 = decoupled ? 0 : wd
        // 16 lanes at a time (the same expression per lane, so results equal the scalar loop's), then the tail.
        typealias V = SIMD16<Float>
        let (pp, pg, pm, pv) = (p.baseAddress, g.baseAddress, m.baseAddress, v.baseAddress)
        var i = 0
        if let pp, let pg, let pm, let pv {
            while i + 16 <= p.count {
                let pi = UnsafeRawPointer(pp + i).loadUnaligned(as: V.self)
                let gi = UnsafeRawPointer(pg + i).loadUnaligned(as: V.self) + l2 * pi
                let mi = beta1 * UnsafeRawPointer(pm + i).loadUnaligned(as: V.self) + (1 - beta1) * gi
                let vi = beta2 * UnsafeRawPointer(pv + i).loadUnaligned(as: V.self) + (1 - beta2) * gi * gi
                let pn = pi * decay - stepSize * mi / (vi.squareRoot() / rootC2 + epsilon)
                UnsafeMutableRawPointer(pm + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(pv + i).storeBytes(of: vi, as: V.self)
                UnsafeMutableRawPointer(pp + i).storeBytes(of: pn, as: V.self)
                i += 16
            }
        }
        while i < p.count {
            let gi = g[i] + l2 * p[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() / rootC2 + epsilon)
            i += 1
        }
    }
}

/// AdamW: Adam with decoupled weight decay (default 0.01 like PyTorch).
public final class AdamW: Adam {
    public init(groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8) throws {
        try super.init(groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   decoupledWeightDecay: true)
    }
}

extension Double {
    func power(_ n: Int) -> Double {
        var r = 1.0, b = self, e = n
        while e > 0 { if e & 1 == 1 { r *= b }; b *= b; e >>= 1 }
        return r
    }
}
