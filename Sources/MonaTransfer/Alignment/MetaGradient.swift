import Foundation
import MonaNN
import MonaTensor

// MoNA's meta-gradient (stage 1; docs/mona.md), written over closures and plain tensors so that any model can be
// plugged in: φ are the parameters the outer step updates (the target embedder, optionally the head), θ the body.
//
//   θ₀ = θ,  θₖ₊₁ = θₖ − α ∇θ L_inner(φ, θₖ)   (k < K)         θ' = θ_K
//   J(φ) = λ · L_outer(θ'(φ)) + L_task(φ, θ)
//
// L_outer reaches φ only through θ', so ∇φ L_outer is a mixed second derivative: −α ∇²φθ L_inner · v with
// v = ∇θ' L_outer (for K = 1). Dropping second-order terms (FOMAML) makes it exactly zero — see the tests.

/// How ∇φ L_outer(θ'(φ)) is computed.
public enum MetaGradientMode: Sendable, Equatable, Codable {
    /// Differentiate through the K inner steps (`createGraph: true`): exact second derivatives, at the memory
    /// cost of keeping the graph of every inner gradient.
    case exact
    /// Finite differences of first-order gradients only (the DARTS trick), no double backward.
    ///
    /// For K = 1: ∇φ L_outer ≈ −α [∇φ L_inner(φ, θ + εv) − ∇φ L_inner(φ, θ − εv)] / (2ε), v = ∇θ' L_outer,
    /// ε = `epsilon` / ‖v‖ (DARTS uses 0.01). For K > 1 the same central differences run backwards through
    /// the inner steps (reverse-mode with finite-difference Hessian-vector products): with u_K = v,
    /// ∇φ L_outer ≈ Σₖ −α Hφθ(θₖ)·uₖ₊₁ and uₖ = uₖ₊₁ − α Hθθ(θₖ)·uₖ₊₁, each product from one ± pair of
    /// gradient evaluations at θₖ ± εₖuₖ₊₁ (εₖ = `epsilon`/‖uₖ₊₁‖). This is K-step exact up to O(ε²), keeps
    /// the K inner iterates (values only), and costs 2 extra gradient evaluations per inner step.
    case finiteDifference(epsilon: Float = 0.01)
}

/// How the outer (source) gradient is weighed against the task gradient on φ.
///
/// A PyTorch implementation of MoNA (MiniLM body, UCR targets, WordNet source) measured, at α ∈ {1e-4, 1e-3},
/// ‖λ∇φ L_outer‖ / ‖∇φ L_task‖ of only 1e-4 … 4e-3: the source term then barely moves the embedder. Ours
/// reproduces it (3.4e-4 and 3.4e-3 on MiniLM + GunPoint + WordNet; the ratio grows ≈ linearly in α, since
/// L_outer reaches φ only through the α-sized step). These options fix the ratio instead of relying on λ alone.
public enum OuterGradientNormalization: Sendable, Equatable, Codable {
    /// Total = ∇φ L_task + λ ∇φ L_outer.
    case none
    /// Rescale the outer term so that its norm is `ratio` × ‖∇φ L_task‖ (direction kept; λ's magnitude is
    /// ignored, but λ = 0 still switches the outer term off, as in every mode).
    case fixedRatio(Float)
    /// Like `fixedRatio`, but only ever scales up: the outer term is λ ∇φ L_outer unless that is weaker than
    /// `ratio` × ‖∇φ L_task‖.
    case minimumRatio(Float)
}

/// Settings of one meta-gradient.
public struct MetaGradientOptions: Sendable, Equatable, Codable {
    /// Inner learning rate α.
    public var alpha: Float
    /// Weight λ of the outer (source) loss.
    public var lambda: Float
    /// Inner steps K (≥ 1).
    public var innerSteps: Int
    public var mode: MetaGradientMode
    public var outerGradientNormalization: OuterGradientNormalization
    /// Also evaluate L_outer(θ) at the un-updated body (one extra forward pass of the source batch, no graph),
    /// so that the effect of the simulated step on the source representation, L_outer(θ') − L_outer(θ), is logged.
    public var measuresOuterLossBeforeStep: Bool

    /// Defaults (docs/mona.md): α = 1e-2, λ = 1, K = 1, exact, outer gradient rescaled to the task gradient's
    /// norm — measured on MiniLM + GunPoint + WordNet, where the raw ratio is ≈ 3.5·α.
    public init(alpha: Float = 1e-2, lambda: Float = 1, innerSteps: Int = 1, mode: MetaGradientMode = .exact,
                outerGradientNormalization: OuterGradientNormalization = .fixedRatio(1),
                measuresOuterLossBeforeStep: Bool = true) {
        self.alpha = alpha
        self.lambda = lambda
        self.innerSteps = innerSteps
        self.mode = mode
        self.outerGradientNormalization = outerGradientNormalization
        self.measuresOuterLossBeforeStep = measuresOuterLossBeforeStep
    }
}

/// The gradients and diagnostics of one meta-gradient evaluation. All tensors are detached.
public struct MetaGradientResult: Sendable {
    /// ∇φ of the objective: `taskGradients + outerScale · outerGradients` — what the optimizer applies.
    public var phiGradients: [Tensor]
    /// ∇φ L_outer(θ'(φ)), without λ or normalisation.
    public var outerGradients: [Tensor]
    /// ∇φ L_task(φ, θ).
    public var taskGradients: [Tensor]
    /// L_outer(θ').
    public var outerLoss: Float
    /// L_outer(θ) at the un-updated body (NaN unless `measuresOuterLossBeforeStep`).
    public var outerLossBeforeStep: Float
    /// L_task(φ, θ) at the un-updated body.
    public var taskLoss: Float
    /// L_inner(φ, θₖ) for k = 0..<K.
    public var innerLosses: [Float]
    /// ‖∇φ L_outer‖ (global L2 norm over all φ tensors).
    public var outerGradientNorm: Float
    /// ‖∇φ L_task‖.
    public var taskGradientNorm: Float
    /// λ‖∇φ L_outer‖ / ‖∇φ L_task‖: the source term's relative strength before any normalisation
    /// (+∞ when the task gradient vanishes and the outer one does not, 0 when both vanish).
    public var gradientRatio: Float
    /// Factor applied to `outerGradients` in `phiGradients` (λ without normalisation).
    public var outerScale: Float
    /// ‖∇θ' L_outer‖ (the norm of v).
    public var outerThetaGradientNorm: Float
    /// Finite-difference steps εₖ used, in inner-step order (empty in exact mode; shorter when an adjoint
    /// vanished, which ends the backward sweep early).
    public var finiteDifferenceSteps: [Float]
}

/// One MoNA meta-gradient: θ' = θ − α ∇θ L_inner(φ, θ) (K times); returns ∇φ [λ·L_outer(θ') + L_task(φ, θ)]
/// and diagnostics.
///
/// - Parameters:
///   - phi: the parameters the outer step updates (embedder, optionally head). Values are used, not mutated.
///   - theta: the body parameters θ (values; the body is never changed — "restored every outer step").
///   - innerLoss: L_inner(φ, θ), e.g. the target loss on a target batch through a functional call of the body
///     (`body.withParameters(names ↦ θ) { … }`). It must use the tensors it is given (so gradients reach them)
///     and be deterministic — with dropout, use the same mask on every call (or evaluation mode), since the
///     finite-difference mode compares calls at nearby θ.
///   - outerLoss: L_outer(θ'), e.g. L_align + L_uniform of normalised pooled source features through the body
///     with parameters θ'. It does not see φ (the source embedder is frozen).
///   - taskLoss: L_task(φ, θ); nil means "the inner loss at θ₀" (the usual MoNA setting, one target batch for
///     both), which also lets the exact mode reuse that forward pass.
///   - sumOverShards: data parallelism. When the target batch is split over several processes, `innerLoss` is
///     this process's share (its shard's mean loss × its fraction of the batch), and this sums tensors over
///     the processes. Every quantity that is linear in the target loss — ∇θ L_inner (before θ' is formed), the
///     finite-difference Hessian-vector products, ∇φ L_task, ∇φ L_outer and the logged losses — is summed, so
///     the result equals the single-process one; `outerLoss` must be the whole source batch on every process.
///     Needs K = 1 in exact mode (a summed inner gradient carries no graph of the other shards).
public func monaMetaGradient(phi: [Tensor], theta: [Tensor], options: MetaGradientOptions,
                             innerLoss: ([Tensor], [Tensor]) -> Tensor,
                             outerLoss: ([Tensor]) -> Tensor,
                             taskLoss: (([Tensor], [Tensor]) -> Tensor)? = nil,
                             sumOverShards: ([Tensor]) throws -> [Tensor]) rethrows -> MetaGradientResult {
    precondition(options.innerSteps >= 1, "monaMetaGradient: innerSteps must be ≥ 1, got \(options.innerSteps)")
    precondition(!phi.isEmpty, "monaMetaGradient: phi is empty (nothing for the outer step to update)")
    precondition(options.lambda >= 0 && options.alpha.isFinite,
                 "monaMetaGradient: need λ ≥ 0 and a finite α, got λ = \(options.lambda), α = \(options.alpha)")
    return try withGradients(enabled: true) {
        let phiVars = phi.map { $0.detached().requiringGradient() }
        let theta0 = theta.map { $0.detached().requiringGradient() }
        var parts: MetaParts
        switch options.mode {
        case .exact:
            parts = try exactOuterGradient(phiVars, theta0, options, innerLoss, outerLoss, sharesTask: taskLoss == nil,
                                           sum: sumOverShards)
        case .finiteDifference(let epsilon):
            precondition(epsilon > 0 && epsilon.isFinite,
                         "monaMetaGradient: finite-difference epsilon must be positive, got \(epsilon)")
            parts = try finiteDifferenceOuterGradient(phiVars, theta0, options, epsilon, innerLoss, outerLoss,
                                                      sharesTask: taskLoss == nil, sum: sumOverShards)
        }
        if options.measuresOuterLossBeforeStep {
            parts.outerLossBeforeStep = withoutGradients { outerLoss(theta0.map { $0.detached() }).item }
        }
        if let taskLoss {
            let lt = taskLoss(phiVars, theta0)
            parts.taskLoss = lt.item
            parts.taskGradients = gradients(of: lt, wrt: phiVars)
        }
        // What each process computed on its shard (gradients on φ, losses) is summed before norms and ratios.
        let n = phi.count, t = parts.taskGradients.count, k = parts.innerLosses.count
        let summed = try sumOverShards(parts.outerGradients + parts.taskGradients
                                       + [Tensor([parts.taskLoss] + parts.innerLosses)])
        parts.outerGradients = Array(summed[..<n])
        parts.taskGradients = Array(summed[n..<(n + t)])
        let losses = summed[n + t].scalars
        parts.taskLoss = losses[0]
        parts.innerLosses = Array(losses[1...(k)])
        return combine(parts, options)
    }
}

/// One process's meta-gradient (see above; nothing is summed over shards).
public func monaMetaGradient(phi: [Tensor], theta: [Tensor], options: MetaGradientOptions,
                             innerLoss: ([Tensor], [Tensor]) -> Tensor,
                             outerLoss: ([Tensor]) -> Tensor,
                             taskLoss: (([Tensor], [Tensor]) -> Tensor)? = nil) -> MetaGradientResult {
    monaMetaGradient(phi: phi, theta: theta, options: options, innerLoss: innerLoss, outerLoss: outerLoss,
                     taskLoss: taskLoss, sumOverShards: { $0 })
}

// MARK: - Internals

struct MetaParts {
    var outerGradients: [Tensor]
    var outerLoss: Float
    var innerLosses: [Float]
    var outerThetaGradientNorm: Float
    var steps: [Float] = []
    var taskLoss: Float = .nan
    var taskGradients: [Tensor] = []
    var outerLossBeforeStep: Float = .nan
}

/// Differentiates through the inner steps: θ' keeps the graph of every inner gradient.
///
/// ∇φ L_outer(θ'(φ)) = (∂θ'/∂φ)ᵀ v with v = ∇θ' L_outer, so it is computed as ∇φ of a scalar that is linear in v,
/// with v held constant: first L_outer and v through the *values* of θ' (the source forward pass and its graph are
/// freed before the expensive part), then one backward pass through the inner-gradient graph, which frees that
/// graph node by node as it goes (`retainsGraph: false`). Since θ' = θ_{K−1} − α g_{K−1}, that scalar is
/// θ_{K−1}·v − α g_{K−1}·v, and for K = 1 only −α g₀·v (θ₀ does not depend on φ): θ' itself never enters the
/// graph, so neither it nor α·g is held while the source pass and the backward run. The same numbers as
/// differentiating L_outer(θ'(φ)) in one pass, at a lower peak.
private func exactOuterGradient(_ phi: [Tensor], _ theta0: [Tensor], _ o: MetaGradientOptions,
                                _ innerLoss: ([Tensor], [Tensor]) -> Tensor, _ outerLoss: ([Tensor]) -> Tensor,
                                sharesTask: Bool, sum: ([Tensor]) throws -> [Tensor]) rethrows -> MetaParts {
    var theta = theta0                        // θ_k, a function of φ for k ≥ 1
    var lastGradients: [Tensor] = []          // g_{K−1} = ∇θ L_inner(φ, θ_{K−1}), with its graph
    var innerLosses: [Float] = []
    var taskLoss: Float = .nan
    var taskGradients: [Tensor] = []
    for k in 0..<o.innerSteps {
        let li = innerLoss(phi, theta)
        innerLosses.append(li.item)
        // With a shared task loss, ∇φ L_task comes out of the same backward pass as the first inner gradient
        // (φ sits just upstream of the body), saving a second backward pass through the body.
        let wantsTask = k == 0 && sharesTask
        let g = gradients(of: li, wrt: theta + (wantsTask ? phi : []), createGraph: true)
        if wantsTask {
            taskLoss = li.item
            taskGradients = g[theta.count...].map { $0.detached() }
        }
        let gTheta = Array(g[..<theta.count])
        if k == o.innerSteps - 1 {
            lastGradients = gTheta
        } else {
            theta = zip(theta, gTheta).map { $0 - o.alpha * $1 }
        }
    }
    // L_outer(θ') and v = ∇θ' L_outer through constants θ' (nothing of the source pass outlives this block).
    // θ' from the whole batch's inner gradient (the sum over shards; this process's own share keeps its graph).
    let wholeGradient = try sum(lastGradients.map { $0.detached() })
    var (outerLossValue, v): (Float, [Tensor]) = {
        let thetaPrime = withoutGradients {
            zip(theta, wholeGradient).map { ($0.detached() - o.alpha * $1).requiringGradient() }
        }
        let lo = outerLoss(thetaPrime)
        let v = gradients(of: lo, wrt: thetaPrime, retainsGraph: false)
        return (lo.item, v)
    }()
    // ∇φ (θ_{K−1}·v − α g_{K−1}·v): the adjoint of θ' is v, exactly as in a backward pass of L_outer(θ'(φ)).
    // (Each dot product as a [1, n]·[n, 1] matmul: no temporary the size of θ' in the graph.)
    func dot(_ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor.matmul(a.reshaped(to: [1, a.count]), b.reshaped(to: [b.count, 1])).sum()
    }
    var product = (-o.alpha) * zip(lastGradients, v).map { dot($0, $1) }.reduce(Tensor(0), +)
    if o.innerSteps > 1 {
        product = zip(theta, v).map { dot($0, $1) }.reduce(product, +)
    }
    let vNorm = globalNorm(v)
    theta = []
    lastGradients = []
    v = []
    let outer = gradients(of: product, wrt: phi, retainsGraph: false)
    var parts = MetaParts(outerGradients: outer, outerLoss: outerLossValue, innerLosses: innerLosses,
                          outerThetaGradientNorm: vNorm)
    parts.taskLoss = taskLoss
    parts.taskGradients = taskGradients
    return parts
}

/// First-order gradients only: the inner iterates are plain values and every Hessian-vector product is a central
/// difference of gradients (see `MetaGradientMode.finiteDifference`).
private func finiteDifferenceOuterGradient(_ phi: [Tensor], _ theta0: [Tensor], _ o: MetaGradientOptions,
                                           _ epsilon: Float,
                                           _ innerLoss: ([Tensor], [Tensor]) -> Tensor,
                                           _ outerLoss: ([Tensor]) -> Tensor, sharesTask: Bool,
                                           sum: ([Tensor]) throws -> [Tensor]) rethrows -> MetaParts {
    let phiValues = phi.map { $0.detached() }
    var iterates: [[Tensor]] = []           // θ₀ … θ_{K−1} (values)
    var theta = theta0
    var innerLosses: [Float] = []
    var taskLoss: Float = .nan
    var taskGradients: [Tensor] = []
    for k in 0..<o.innerSteps {
        iterates.append(theta.map { $0.detached() })
        let wantsTask = k == 0 && sharesTask
        let li = innerLoss(wantsTask ? phi : phiValues, theta)
        innerLosses.append(li.item)
        let g = gradients(of: li, wrt: (wantsTask ? phi : []) + theta)
        if wantsTask {
            taskLoss = li.item
            taskGradients = Array(g[..<phi.count])
        }
        let gTheta = try sum(wantsTask ? Array(g[phi.count...]) : g)
        theta = withoutGradients { zip(theta, gTheta).map { $0.detached() - o.alpha * $1 } }.map { $0.requiringGradient() }
    }
    let lo = outerLoss(theta)
    var u = gradients(of: lo, wrt: theta)                       // v = ∇θ' L_outer
    let vNorm = globalNorm(u)
    var outer = phi.map { Tensor.zeros($0.shape) }
    var steps: [Float] = []
    for k in stride(from: o.innerSteps - 1, through: 0, by: -1) {
        let norm = globalNorm(u)
        guard norm > 0, norm.isFinite else {
            if !norm.isFinite { outer = outer.map { $0 * Float.nan } }   // NaN/∞ must not become a clean zero
            break
        }
        let eps = epsilon / norm
        steps.append(eps)
        let needsTheta = k > 0
        func grads(_ sign: Float) -> [Tensor] {
            let shifted = withoutGradients { zip(iterates[k], u).map { $0 + (sign * eps) * $1 } }
                .map { $0.requiringGradient() }
            let li = innerLoss(phi, shifted)
            return gradients(of: li, wrt: phi + (needsTheta ? shifted : []))
        }
        let plus = grads(1), minus = grads(-1)
        // The θ part of the product feeds the next adjoint, so it is summed over shards now (φ's at the end).
        let thetaDifference = try needsTheta
            ? sum(withoutGradients { (0..<u.count).map { plus[phi.count + $0] - minus[phi.count + $0] } }) : []
        withoutGradients {
            let scale = 1 / (2 * eps)
            for i in 0..<phi.count { outer[i] = outer[i] - o.alpha * scale * (plus[i] - minus[i]) }
            for j in thetaDifference.indices { u[j] = u[j] - o.alpha * scale * thetaDifference[j] }
        }
    }
    var parts = MetaParts(outerGradients: outer, outerLoss: lo.item, innerLosses: innerLosses,
                          outerThetaGradientNorm: vNorm, steps: steps.reversed())
    parts.taskLoss = taskLoss
    parts.taskGradients = taskGradients
    return parts
}

/// Norms, ratio and the normalised total.
private func combine(_ p: MetaParts, _ o: MetaGradientOptions) -> MetaGradientResult {
    let outerNorm = globalNorm(p.outerGradients), taskNorm = globalNorm(p.taskGradients)
    let weighted = o.lambda * outerNorm
    let ratio: Float = taskNorm > 0 ? weighted / taskNorm : (weighted > 0 ? .infinity : (weighted == 0 ? 0 : .nan))
    var scale = o.lambda
    let usable = o.lambda > 0 && outerNorm > 0 && taskNorm > 0 && outerNorm.isFinite && taskNorm.isFinite
    switch o.outerGradientNormalization {
    case .none: break
    case .fixedRatio(let r):
        if usable { scale = r * taskNorm / outerNorm }
    case .minimumRatio(let r):
        if usable, weighted < r * taskNorm { scale = r * taskNorm / outerNorm }
    }
    if outerNorm.isNaN || taskNorm.isNaN { scale = .nan }
    let total = withoutGradients {
        zip(p.taskGradients, p.outerGradients).map { ($0 + scale * $1).detached() }
    }
    return MetaGradientResult(phiGradients: total, outerGradients: p.outerGradients.map { $0.detached() },
                              taskGradients: p.taskGradients.map { $0.detached() }, outerLoss: p.outerLoss,
                              outerLossBeforeStep: p.outerLossBeforeStep,
                              taskLoss: p.taskLoss, innerLosses: p.innerLosses, outerGradientNorm: outerNorm,
                              taskGradientNorm: taskNorm, gradientRatio: ratio, outerScale: scale,
                              outerThetaGradientNorm: p.outerThetaGradientNorm, finiteDifferenceSteps: p.steps)
}

