import Foundation
import MonaTensor

/// 1-D diffusion-reaction u_t = ν u_xx + ρ u(1 − u) on the periodic unit interval (PDEBench's "ReacDiff"; periodic
/// boundaries as in PDEBench).
///
/// Strang splitting: a half step of the reaction, solved exactly (u ← u / (u + (1 − u) e^{−ρΔt/2}), which maps
/// [0, 1] into itself), a Crank–Nicolson diffusion step (cyclic tridiagonal solve), another half reaction step.
/// Second order in time and space. Crank–Nicolson is unconditionally stable; keeping the diffusion number
/// νΔt/Δx² ≤ 1 (`cfl`, the default) also makes it preserve the range [0, 1] (no sign flips in the explicit half).
/// Δt is also capped at 1/(100 ρ) so the splitting error stays small for strong reaction.
public struct DiffusionReaction1D: Sendable {
    public var nu: Double
    public var rho: Double
    /// Largest diffusion number νΔt/Δx².
    public var cfl: Double

    public init(nu: Double, rho: Double, cfl: Double = 1) {
        precondition(nu >= 0 && nu.isFinite, "DiffusionReaction1D: nu must be finite and ≥ 0, got \(nu)")
        precondition(rho >= 0 && rho.isFinite, "DiffusionReaction1D: rho must be finite and ≥ 0, got \(rho)")
        precondition(cfl > 0 && cfl.isFinite, "DiffusionReaction1D: cfl must be finite and > 0, got \(cfl)")
        self.nu = nu
        self.rho = rho
        self.cfl = cfl
    }

    /// Time steps used to reach `time` on a grid of `count` points.
    public func steps(count: Int, time: Double) -> Int {
        if time == 0 || (nu == 0 && rho == 0) { return 0 }
        let n = Double(count)
        let diffusion = (time * nu * n * n / cfl).rounded(.up)
        let reaction = (100 * time * rho).rounded(.up)
        return max(1, Int(max(diffusion, reaction)))
    }

    /// `u` (values at x_j = j / n, periodic) advanced to `time`.
    public func evolve(_ u: [Double], time: Double) -> [Double] {
        let n = u.count
        precondition(n >= 3, "DiffusionReaction1D.evolve: needs at least 3 grid points, got \(n)")
        let steps = self.steps(count: n, time: time)
        if steps == 0 { return u }
        let dt = time / Double(steps)
        let r = nu * dt * Double(n * n)
        let decay = exp(-rho * dt / 2)
        let solver = nu > 0 ? CyclicSymmetricSolver(count: n, diagonal: 1 + r, offDiagonal: -r / 2) : nil
        var cur = u
        var rhs = [Double](repeating: 0, count: n), scratch = [Double](repeating: 0, count: n)
        cur.withUnsafeMutableBufferPointer { pu in
            rhs.withUnsafeMutableBufferPointer { pr in
                scratch.withUnsafeMutableBufferPointer { ps in
                    let v = pu.baseAddress!, b = pr.baseAddress!, s = ps.baseAddress!
                    func react() {
                        guard rho > 0 else { return }
                        for j in 0..<n { v[j] = v[j] / (v[j] + (1 - v[j]) * decay) }
                    }
                    for _ in 0..<steps {
                        react()
                        if let solver {
                            let a = 1 - r, h = r / 2
                            b[0] = a * v[0] + h * (v[n - 1] + v[1])
                            for j in 1..<(n - 1) { b[j] = a * v[j] + h * (v[j - 1] + v[j + 1]) }
                            b[n - 1] = a * v[n - 1] + h * (v[n - 2] + v[0])
                            solver.solve(b, into: v, scratch: s)
                        }
                        react()
                    }
                }
            }
        }
        return cur
    }

    struct Sampler: PDESampler {
        let solver: DiffusionReaction1D
        let resolution: Int, refinement: Int, time: Double, waves: Int, modes: Int

        init(_ p: ResolvedPDEOptions) throws {
            solver = DiffusionReaction1D(nu: p["nu"], rho: p["rho"], cfl: p["cfl"])
            resolution = p.resolution
            refinement = p.refinement
            time = p.time
            waves = Int(p["waves"])
            modes = Int(p["modes"])
            let steps = Double(solver.steps(count: resolution * refinement, time: time))
            guard steps * Double(resolution * refinement) <= 2e10 else {
                throw DataError(file: "diffreact option 'nu'",
                                "ν = \(solver.nu) needs \(Int(steps)) Crank–Nicolson steps at this resolution; "
                                + "lower nu, time or resolution, or raise cfl")
            }
        }

        var sampleShape: [Int] { [resolution] }
        var costPerSample: Int {
            let n = resolution * refinement
            return 20 * n * max(1, solver.steps(count: n, time: time))
        }

        /// PDEBench's initial condition for this PDE: |sine sum| rescaled to [0, 1].
        func sample(_ g: inout SeededGenerator) -> (input: [Double], target: [Double]) {
            let n = resolution * refinement
            var u0 = randomSineSum(count: n, waves: waves, modes: modes, &g).map { abs($0) }
            let lo = u0.min()!, hi = u0.max()!
            if hi > lo { u0 = u0.map { ($0 - lo) / (hi - lo) } }
            let u1 = solver.evolve(u0, time: time)
            return (subsampled(u0, stride: refinement, count: resolution), subsampled(u1, stride: refinement, count: resolution))
        }
    }
}
