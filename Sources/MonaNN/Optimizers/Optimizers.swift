import MonaTensor

/// SGD with optional momentum (PyTorch's form: v ← μv + g, with dampening 0) and Nesterov, and L2 weight decay
/// added to the gradient.
public final class SGD: Optimizer {
    public var momentum: Float
    public var nesterov: Bool

    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(groups: groups, learningRate: learningRate)
    }

    override public var stateBuffers: Int { momentum == 0 ? 0 : 1 }

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
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    let decoupled: Bool

    public init(groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        decoupled = decoupledWeightDecay
        super.init(groups: groups, learningRate: learningRate)
    }

    override public var stateBuffers: Int { 2 }

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
                epsilon: Float = 1e-8) {
        super.init(groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
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
