import Testing
import MonaTestSupport
@testable import MonaTensor

/// The generic checks run on every entry of `OpTable`: first-order gradients against central differences,
/// second-order gradients through `createGraph` against central differences of first-order ones, the fused
/// backward kernels (no graph recorded) against the recorded backward rules, fused ops against their reference
/// compositions, and coverage — every op autograd can record (`GradOp`) is exercised by some entry.
@Suite struct OpTableTests {
    /// ⟨call(x), r⟩ for a fixed random r of the output's shape, so that every output element matters.
    static func objective(_ sample: OpInfo.Sample,
                          _ call: (@Sendable ([Tensor]) -> Tensor)? = nil) -> @Sendable ([Tensor]) -> Tensor {
        let f = call ?? sample.call
        let r = withoutGradients { rand(sample.call(sample.inputs).shape, seed: 4242) }
        return { (f($0) * r).sum() }
    }

    /// x ↦ Σₖ ⟨∇ₖL(x), vₖ⟩ with the gradient taken through `createGraph`: its gradient is the Hessian-vector
    /// product H·v, which is what a second-order check compares.
    static func directionalGradient(_ sample: OpInfo.Sample) -> ([Tensor]) -> Tensor {
        let loss = objective(sample)
        let v = sample.inputs.enumerated().map { rand($1.shape, seed: 77 + UInt64($0)) }
        return { xs in
            withGradients(enabled: true) {
                let vars = xs.map { $0.requiresGrad ? $0 : $0.requiringGradient() }
                let g = gradients(of: loss(vars), wrt: vars, createGraph: true)
                return zip(g, v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
            }
        }
    }

    @Test(arguments: OpTable.entries) func firstOrderGradients(_ op: OpInfo) {
        for (k, sample) in op.samples.enumerated() {
            let r = gradientCheck(sample.inputs, atol: op.atol, rtol: op.rtol, Self.objective(sample))
            #expect(r.passed, "\(op.name), sample \(k): \(r.detail)")
        }
    }

    @Test(arguments: OpTable.entries) func secondOrderGradients(_ op: OpInfo) {
        for (k, sample) in op.samples.enumerated() {
            let r = gradientCheck(sample.inputs, atol: op.atol, rtol: op.rtol, Self.directionalGradient(sample))
            #expect(r.passed, "\(op.name), sample \(k): \(r.detail)")
        }
    }

    /// Backward rules run fused kernels when no graph is recorded and differentiable ops under `createGraph`; both
    /// must give the same gradients, and the same Hessian-vector products one level up.
    @Test(arguments: OpTable.entries) func fusedBackwardMatchesRecordedBackward(_ op: OpInfo) {
        for (k, sample) in op.samples.enumerated() {
            let loss = Self.objective(sample)
            let vars = sample.inputs.map { $0.requiringGradient() }
            let fused = gradients(of: loss(vars), wrt: vars)
            let recorded = gradients(of: loss(vars), wrt: vars, createGraph: true)
            for i in vars.indices {
                let scale = max(1, fused[i].scalars.map(Swift.abs).max() ?? 0)
                #expect(maxAbsDiff(fused[i], recorded[i].detached()) <= 1e-5 * scale,
                        "\(op.name), sample \(k), input \(i): gradient without vs with createGraph")
            }
            let v = sample.inputs.enumerated().map { rand($1.shape, seed: 77 + UInt64($0)) }
            let dot = zip(recorded, v).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
            let hvFused = gradients(of: dot, wrt: vars)
            let hvRecorded = gradients(of: dot, wrt: vars, createGraph: true)
            for i in vars.indices {
                let scale = max(1, hvFused[i].scalars.map(Swift.abs).max() ?? 0)
                #expect(maxAbsDiff(hvFused[i], hvRecorded[i].detached()) <= 1e-5 * scale,
                        "\(op.name), sample \(k), input \(i): Hessian-vector product without vs with createGraph")
            }
        }
    }

    /// Fused ops against compositions of simpler ops: the same values and the same first-order gradients.
    @Test(arguments: OpTable.entries.filter { $0.samples.contains { $0.reference != nil } })
    func fusedOpMatchesReference(_ op: OpInfo) {
        for (k, sample) in op.samples.enumerated() {
            guard let reference = sample.reference else { continue }
            let fused = withoutGradients { sample.call(sample.inputs) }
            let composed = withoutGradients { reference(sample.inputs) }
            #expect(fused.shape == composed.shape, "\(op.name), sample \(k): shape \(fused.shape) vs \(composed.shape)")
            guard fused.shape == composed.shape else { continue }
            let scale = max(1, composed.scalars.map(Swift.abs).max() ?? 0)
            #expect(maxAbsDiff(fused, composed) <= 2e-5 * scale, "\(op.name), sample \(k): values")
            let vars = sample.inputs.map { $0.requiringGradient() }
            let gf = gradients(of: Self.objective(sample)(vars), wrt: vars)
            let gc = gradients(of: Self.objective(sample, reference)(vars), wrt: vars)
            for i in vars.indices {
                let s = max(1, gc[i].scalars.map(Swift.abs).max() ?? 0)
                #expect(maxAbsDiff(gf[i], gc[i]) <= 2e-5 * s, "\(op.name), sample \(k), input \(i): gradients")
            }
        }
    }

    /// Every op that autograd can record has an entry whose checks run its backward rule: it appears in the
    /// forward graph or in the graph of the first-order gradient of some entry. A new op (a new `GradOp` case)
    /// fails here until the table has samples for it.
    @Test func everyRecordedOpHasAnEntry() {
        var covered: Set<GradOp> = []
        var seen: Set<String> = []
        for op in OpTable.entries {
            #expect(seen.insert(op.name).inserted, "duplicate entry name \(op.name)")
            for sample in op.samples {
                let vars = sample.inputs.map { $0.requiringGradient() }
                let out = sample.call(vars)
                covered.formUnion(out.graphOps)
                let grads = gradients(of: Self.objective(sample)(vars), wrt: vars, createGraph: true)
                for g in grads { covered.formUnion(g.graphOps) }
            }
        }
        let missing = GradOp.allCases.filter { !covered.contains($0) }.map(\.rawValue)
        #expect(missing.isEmpty, "ops without an entry in OpTable: \(missing.joined(separator: ", "))")
    }

    /// The coverage check sees what it should: an untracked tensor has no ops, and a composed expression lists
    /// each op once.
    @Test func graphOpsListsTheRecordedOps() {
        let x = rand([3], seed: 1).requiringGradient()
        #expect(rand([3], seed: 1).graphOps.isEmpty)
        #expect(x.graphOps.isEmpty)
        #expect((x.exp() * x + x.exp()).sum().graphOps == [.exp, .mul, .add, .sum])
    }
}
