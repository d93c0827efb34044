import Foundation
import MonaTensor

// Entropic optimal transport in the log domain, and the debiased Sinkhorn divergence built on it (used by OTDD,
// hence by ORCA's alignment stage and the modality-gap measure).
//
// OT_ε(a, b; C) = min_P ⟨P, C⟩ + ε KL(P ‖ a⊗b) over couplings P of a and b. Its dual is maximised by the
// Sinkhorn potentials f, g:
//   f_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε),   g_j = −ε log Σ_i a_i exp((f_i − C_ij)/ε),
// with P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε). Updating in the log domain (log-sum-exp) stays finite for any
// ε, however small; ε-scaling (start at the cost's range, shrink geometrically) makes small ε converge fast.

/// How gradients of an OT value reach the cost matrix.
public enum SinkhornGradient: String, Sendable, Codable {
    /// Envelope theorem: at the optimum ∂OT_ε/∂C = P, so the value is returned as the dual objective evaluated
    /// with the converged potentials held constant. Memory O(n·m), exact at convergence; first-order only.
    case envelope
    /// Autograd through every Sinkhorn iteration: the exact derivative of the truncated algorithm (and of
    /// any order), at the memory cost of one n×m graph node per iteration. For small problems and checks.
    case unrolled
}

/// Settings of the Sinkhorn solver.
public struct SinkhornOptions: Sendable, Equatable, Codable {
    /// Entropic regularisation ε, in cost units (squared feature distances for p = 2). otdd/ORCA use 0.1.
    public var epsilon: Float = 0.1
    /// Iteration cap (ε-scaling iterations included).
    public var maxIterations: Int = 1000
    /// Converged when the plan's marginal violation Σᵢ|(P𝟙)ᵢ − aᵢ| + Σⱼ|(Pᵀ𝟙)ⱼ − bⱼ| is below this. Float32
    /// limits what can be reached to roughly 1e-7 · max|C| / ε (the plan's exponent (f + g − C)/ε cancels
    /// numbers of the size of C), so for ε = 0.1 and costs near 100, ask for no less than ~1e-4.
    public var tolerance: Float = 1e-3
    /// ε-scaling factor: ε starts at the cost's range and is multiplied by this each iteration until it reaches
    /// `epsilon` (values ≥ 1 disable the annealing).
    public var epsilonScaling: Float = 0.5
    public var gradient: SinkhornGradient = .envelope

    public init(epsilon: Float = 0.1, maxIterations: Int = 1000, tolerance: Float = 1e-3,
                epsilonScaling: Float = 0.5, gradient: SinkhornGradient = .envelope) {
        self.epsilon = epsilon
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.epsilonScaling = epsilonScaling
        self.gradient = gradient
    }
}

/// The solution of one entropic OT problem.
public struct SinkhornResult: Sendable {
    /// OT_ε, the dual objective ⟨a, f⟩ + ⟨b, g⟩ − ε(Σ P − 1) (0-D). Differentiable w.r.t. the cost matrix (see
    /// `SinkhornGradient`), and through it w.r.t. whatever the cost was computed from.
    public var value: Tensor
    /// ⟨P, C⟩: the transport cost of the entropic plan, without the entropy term.
    public var transportCost: Float
    /// The coupling P [n, m] (detached).
    public var plan: Tensor
    /// Dual potentials [n] and [m] (detached).
    public var f: Tensor
    public var g: Tensor
    public var iterations: Int
    /// Σᵢ|(P𝟙)ᵢ − aᵢ| + Σⱼ|(Pᵀ𝟙)ⱼ − bⱼ| of the returned plan.
    public var marginalError: Float
    public var converged: Bool
}

/// Entropic OT between weights `a` [n] and `b` [m] (uniform when nil; each must sum to 1) for the cost matrix
/// `cost` [n, m], solved in the log domain.
public func sinkhorn(cost: Tensor, sourceWeights: Tensor? = nil, targetWeights: Tensor? = nil,
                     options: SinkhornOptions = SinkhornOptions()) -> SinkhornResult {
    precondition(cost.rank == 2 && cost.shape[0] > 0 && cost.shape[1] > 0,
                 "sinkhorn: cost must be a non-empty [n, m] matrix, got \(cost.shape)")
    let n = cost.shape[0], m = cost.shape[1]
    let a = sourceWeights?.detached() ?? Tensor.full([n], 1 / Float(n))
    let b = targetWeights?.detached() ?? Tensor.full([m], 1 / Float(m))
    precondition(a.shape == [n] && b.shape == [m],
                 "sinkhorn: weights \(a.shape) and \(b.shape) do not match cost \(cost.shape)")
    precondition(options.epsilon > 0 && options.epsilon.isFinite && options.maxIterations >= 1,
                 "sinkhorn: need ε > 0 and maxIterations ≥ 1, got ε = \(options.epsilon), \(options.maxIterations)")
    let recording = GradMode.isEnabled
    let unrolled = options.gradient == .unrolled && recording
    // The iterations record a graph only when unrolled; the final dual objective always does (if the caller's does).
    let solved = withGradients(enabled: unrolled) { () -> (f: Tensor, g: Tensor, eps: Float, iterations: Int, converged: Bool) in
        let c = unrolled ? cost : cost.detached()
        let logA = a.log().reshaped(to: [n, 1]), logB = b.log().reshaped(to: [1, m])
        let target = options.epsilon
        let (lo, hi) = valueRange(cost)
        var eps = options.epsilonScaling < 1 ? max(target, hi - lo) : target
        if !eps.isFinite { eps = target }   // a NaN/∞ cost: let it propagate through the iterations
        var scaled = c * (1 / eps)
        var f = Tensor.zeros([n, 1]), g = Tensor.zeros([1, m])
        var iterations = 0, converged = false, nextCheck = 0
        while iterations < options.maxIterations {
            iterations += 1
            let fNew = (logB + g * (1 / eps) - scaled).logSumExp(alongAxis: 1, keepingDims: true) * (-eps)   // [n, 1]
            // Cheap test: the row-marginal violation of the previous pair, (P𝟙)ᵢ = aᵢ exp((fᵢ − fNewᵢ)/ε).
            let cheap = eps == target ? rowMarginalError(a, f, fNew, eps) : .infinity
            f = fNew
            g = (logA + f * (1 / eps) - scaled).logSumExp(alongAxis: 0, keepingDims: true) * (-eps)          // [1, m]
            if eps == target {
                if cheap.isNaN { break }
                // Confirm on the plan itself (at most every 10 iterations): potentials that stall below Float32
                // resolution make the cheap test read 0 without the marginals being met.
                if cheap < options.tolerance && iterations >= nextCheck {
                    let plan = withoutGradients {
                        ((f.detached() + g.detached() - c.detached()) * (1 / eps) + logA + logB).exp()
                    }
                    if marginalViolation(plan, a, b) < options.tolerance { converged = true; break }
                    nextCheck = iterations + 10
                }
            } else {
                eps = max(target, eps * options.epsilonScaling)
                scaled = c * (1 / eps)
            }
        }
        return (unrolled ? f : f.detached(), unrolled ? g : g.detached(), eps, iterations, converged)
    }
    let eps = solved.eps
    let logA = a.log().reshaped(to: [n, 1]), logB = b.log().reshaped(to: [1, m])
    let plan = ((solved.f + solved.g - cost) * (1 / eps) + logA + logB).exp()                      // [n, m]
    let value = (solved.f.reshaped(to: [n]) * a).sum() + (solved.g.reshaped(to: [m]) * b).sum()
        - (plan.sum() - 1) * eps
    let planValues = plan.detached()
    let transport = withoutGradients { (planValues * cost.detached()).sum().item }
    return SinkhornResult(value: value, transportCost: transport, plan: planValues,
                          f: solved.f.detached().reshaped(to: [n]), g: solved.g.detached().reshaped(to: [m]),
                          iterations: solved.iterations, marginalError: marginalViolation(planValues, a, b),
                          converged: solved.converged)
}

/// The debiased Sinkhorn divergence S_ε = OT_ε(a, b) − ½ OT_ε(a, a) − ½ OT_ε(b, b) from the three cost matrices
/// (cross [n, m], and the two self costs [n, n], [m, m]). S_ε ≥ 0, it is 0 when the two weighted point sets
/// coincide, and it removes the entropic bias that makes OT_ε(a, a) > 0.
public func sinkhornDivergence(crossCost: Tensor, sourceCost: Tensor, targetCost: Tensor,
                               sourceWeights: Tensor? = nil, targetWeights: Tensor? = nil,
                               options: SinkhornOptions = SinkhornOptions()) -> SinkhornDivergence {
    let xy = sinkhorn(cost: crossCost, sourceWeights: sourceWeights, targetWeights: targetWeights, options: options)
    let xx = sinkhorn(cost: sourceCost, sourceWeights: sourceWeights, targetWeights: sourceWeights, options: options)
    let yy = sinkhorn(cost: targetCost, sourceWeights: targetWeights, targetWeights: targetWeights, options: options)
    return SinkhornDivergence(value: xy.value - (xx.value + yy.value) * 0.5, cross: xy, source: xx, target: yy)
}

/// S_ε between two point clouds x [n, D] and y [m, D] with the squared Euclidean cost (p = 2), uniform weights
/// unless given. Differentiable w.r.t. x and y.
public func sinkhornDivergence(_ x: Tensor, _ y: Tensor, sourceWeights: Tensor? = nil, targetWeights: Tensor? = nil,
                               options: SinkhornOptions = SinkhornOptions()) -> SinkhornDivergence {
    sinkhornDivergence(crossCost: pairwiseSquaredDistances(x, y), sourceCost: pairwiseSquaredDistances(x, x),
                       targetCost: pairwiseSquaredDistances(y, y), sourceWeights: sourceWeights,
                       targetWeights: targetWeights, options: options)
}

/// A debiased Sinkhorn divergence and the three OT problems behind it.
public struct SinkhornDivergence: Sendable {
    /// S_ε (0-D, differentiable like `SinkhornResult.value`).
    public var value: Tensor
    public var cross: SinkhornResult
    public var source: SinkhornResult
    public var target: SinkhornResult
    /// Whether all three problems met the tolerance.
    public var converged: Bool { cross.converged && source.converged && target.converged }
}

// MARK: - Helpers

/// Σᵢ aᵢ |1 − exp((fᵢ − f'ᵢ)/ε)|, the row-marginal violation of (f, g) given f' = the f-update from g.
private func rowMarginalError(_ a: Tensor, _ f: Tensor, _ fNext: Tensor, _ eps: Float) -> Float {
    var s = 0.0
    let fv = f.detached(), nv = fNext.detached()
    for i in 0..<a.count {
        let r = Foundation.exp(Double(fv.data[i] - nv.data[i]) / Double(eps))
        s += Double(a.data[i]) * abs(1 - r)
    }
    return Float(s)
}

/// Σᵢ|(P𝟙)ᵢ − aᵢ| + Σⱼ|(Pᵀ𝟙)ⱼ − bⱼ|, accumulated in Double (NaN propagates).
private func marginalViolation(_ p: Tensor, _ a: Tensor, _ b: Tensor) -> Float {
    let n = a.count, m = b.count
    var rows = [Double](repeating: 0, count: n), cols = [Double](repeating: 0, count: m)
    for i in 0..<n {
        for j in 0..<m {
            let v = Double(p.data[i * m + j])
            rows[i] += v
            cols[j] += v
        }
    }
    var e = 0.0
    for i in 0..<n { e += abs(rows[i] - Double(a.data[i])) }
    for j in 0..<m { e += abs(cols[j] - Double(b.data[j])) }
    return Float(e)
}

/// Smallest and largest finite-or-not value (NaN propagates as NaN).
private func valueRange(_ t: Tensor) -> (Float, Float) {
    var lo = Float.infinity, hi = -Float.infinity
    var sawNaN = false
    t.withUnsafeBufferPointer { b in
        for v in b {
            if v.isNaN { sawNaN = true }
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
    }
    return sawNaN ? (.nan, .nan) : (lo, hi)
}
