import Foundation
import MonaTensor

/// 1-D diffusion-sorption u_t = D / R(u) · u_xx on [0, 1] (PDEBench's "diff-sorp"), with the Freundlich
/// retardation factor R(u) = 1 + (1 − φ)/φ · ρ_s · k · n_f · (u + 10⁻⁶)^(n_f − 1).
///
/// Grid and boundaries follow PDEBench's generator: nodes x_j = j/(n − 1), j = 0…n−1, and ghost nodes at
/// x = −Δx and x = 1 + Δx. The left ghost holds the solubility 1 (the paper's u(0, t) = 1); the right ghost holds
/// D·(u_{n−2} − u_{n−1})/Δx (the paper's "Cauchy" condition u(1, t) = D ∂_x u(1, t), as that code writes it).
/// Simplifications: u is clamped at 0 inside R (so R stays real), and only the dissolved concentration is evolved
/// (PDEBench also integrates the total concentration, which its data sets do not use).
///
/// Time stepping: linearly implicit Crank–Nicolson with the coefficient at the midpoint — a backward-Euler half
/// step predicts u^{n+½}, then (I − Δt/2·A K) u^{n+1} = (I + Δt/2·A K) u^n + Δt·A g with A = D/R(u^{n+½}).
/// Second order; each step costs two tridiagonal solves. Unconditionally stable; Δt keeps the largest diffusion
/// number (D/R)Δt/Δx² ≤ `cfl` (default 16). Crank–Nicolson only slowly damps the highest grid frequencies when
/// that number is large, so the first `startupSteps` (2) steps are backward-Euler half steps instead (Rannacher's
/// start-up), which smooth the white-noise initial data and the boundary jump.
public struct DiffusionSorption1D: Sendable {
    /// Boundary treatment.
    public enum Boundary: Sendable, Equatable {
        /// PDEBench's (see the type's documentation).
        case pdebench
        /// Fixed ghost values at x = −Δx and x = 1 + Δx, i.e. Dirichlet conditions on [−Δx, 1 + Δx] (for tests).
        case ghostValues(left: Double, right: Double)
    }

    public var diffusivity: Double
    public var porosity: Double
    public var bulkDensity: Double
    public var freundlichK: Double
    public var freundlichN: Double
    public var boundary: Boundary
    /// Largest diffusion number (D/R)Δt/Δx².
    public var cfl: Double
    /// Leading steps taken as two backward-Euler half steps (Rannacher start-up; 0 = plain Crank–Nicolson).
    public var startupSteps: Int

    /// PDEBench's constants: D = 5·10⁻⁴, φ = 0.29, ρ_s = 2880, k = 3.5·10⁻⁴, n_f = 0.874.
    public init(diffusivity: Double = 5e-4, porosity: Double = 0.29, bulkDensity: Double = 2880,
                freundlichK: Double = 3.5e-4, freundlichN: Double = 0.874, boundary: Boundary = .pdebench,
                cfl: Double = 16, startupSteps: Int = 2) {
        precondition(diffusivity > 0 && diffusivity.isFinite, "DiffusionSorption1D: diffusivity must be > 0, got \(diffusivity)")
        precondition(porosity > 0 && porosity <= 1, "DiffusionSorption1D: porosity must be in (0, 1], got \(porosity)")
        precondition(bulkDensity >= 0 && freundlichK >= 0, "DiffusionSorption1D: bulk density and k must be ≥ 0")
        precondition(freundlichN > 0 && freundlichN.isFinite, "DiffusionSorption1D: freundlichN must be > 0, got \(freundlichN)")
        precondition(cfl > 0 && cfl.isFinite, "DiffusionSorption1D: cfl must be > 0, got \(cfl)")
        self.diffusivity = diffusivity
        self.porosity = porosity
        self.bulkDensity = bulkDensity
        self.freundlichK = freundlichK
        self.freundlichN = freundlichN
        self.boundary = boundary
        self.cfl = cfl
        self.startupSteps = max(0, startupSteps)
    }

    /// (1 − φ)/φ · ρ_s · k · n_f, the prefactor of R − 1.
    var sorption: Double { (1 - porosity) / porosity * bulkDensity * freundlichK * freundlichN }

    /// The retardation factor R(u).
    public func retardation(_ u: Double) -> Double {
        1 + sorption * pow(max(u, 0) + 1e-6, freundlichN - 1)
    }

    /// Time steps used to reach `time` on `count` nodes, for values bounded by `upper`.
    public func steps(count: Int, time: Double, upper: Double) -> Int {
        if time == 0 { return 0 }
        let dx = 1 / Double(count - 1)
        // R is monotone in u, so its minimum over [0, upper] sits at an end (u stays in that range: maximum principle).
        let rMin = min(retardation(0), retardation(upper))
        return max(1, Int((time * diffusivity / rMin / (cfl * dx * dx)).rounded(.up)))
    }

    /// `u` (values at x_j = j/(n − 1)) advanced to `time`.
    public func evolve(_ u: [Double], time: Double) -> [Double] {
        let n = u.count
        precondition(n >= 3, "DiffusionSorption1D.evolve: needs at least 3 grid points, got \(n)")
        let dx = 1 / Double(n - 1), inv = 1 / (dx * dx)
        // Ghosts: left = gl; right = gr + βr·u_{n−1} + γr·u_{n−2}.
        let gl: Double, gr: Double, br: Double, cr: Double
        var upper = u.max()!
        switch boundary {
        case .pdebench:
            gl = 1; gr = 0; br = -diffusivity / dx; cr = diffusivity / dx
            upper = max(upper, 1)
        case .ghostValues(let l, let r):
            gl = l; gr = r; br = 0; cr = 0
            upper = max(upper, l, r)
        }
        let steps = self.steps(count: n, time: time, upper: upper)
        if steps == 0 { return u }
        let h = time / Double(steps) / 2
        var v = u, mid = u, coef = u, rhs = u, lower = u, diag = u, sup = u, scratch = u
        // K u + g: the discrete u_xx with the ghost values folded in.
        func operatorValue(_ w: UnsafePointer<Double>, _ j: Int) -> Double {
            if j == 0 { return (gl - 2 * w[0] + w[1]) * inv }
            if j == n - 1 { return (w[n - 2] * (1 + cr) + w[n - 1] * (br - 2) + gr) * inv }
            return (w[j - 1] - 2 * w[j] + w[j + 1]) * inv
        }
        // Rows of I − h·A·K for the coefficients in `coef`.
        func fillMatrix() {
            for j in 0..<n {
                let s = h * coef[j] * inv
                lower[j] = -s
                diag[j] = 1 + 2 * s
                sup[j] = -s
            }
            let s = h * coef[n - 1] * inv
            lower[n - 1] = -s * (1 + cr)
            diag[n - 1] = 1 - s * (br - 2)
        }
        func solve(into out: inout [Double]) {
            Tridiagonal.solve(lower: lower, diagonal: diag, upper: sup, rhs: rhs, x: &out, scratch: &scratch, count: n)
        }
        for step in 0..<steps {
            // Predictor: backward-Euler half step with A(u^n).
            for j in 0..<n { coef[j] = diffusivity / retardation(v[j]) }
            fillMatrix()
            for j in 0..<n { rhs[j] = v[j] }
            rhs[0] += h * coef[0] * gl * inv
            rhs[n - 1] += h * coef[n - 1] * gr * inv
            solve(into: &mid)
            if step < startupSteps {
                // Rannacher start-up: the first steps are two backward-Euler half steps, which damp the rough
                // initial data (white noise, the jump at the left boundary) that Crank–Nicolson would carry along.
                for j in 0..<n { coef[j] = diffusivity / retardation(mid[j]) }
                fillMatrix()
                for j in 0..<n { rhs[j] = mid[j] }
                rhs[0] += h * coef[0] * gl * inv
                rhs[n - 1] += h * coef[n - 1] * gr * inv
                solve(into: &v)
                continue
            }
            // Corrector: Crank–Nicolson with A(u^{n+½}).
            for j in 0..<n { coef[j] = diffusivity / retardation(mid[j]) }
            fillMatrix()
            v.withUnsafeBufferPointer { w in
                for j in 0..<n { rhs[j] = w[j] + h * coef[j] * operatorValue(w.baseAddress!, j) }
            }
            rhs[0] += h * coef[0] * gl * inv
            rhs[n - 1] += h * coef[n - 1] * gr * inv
            solve(into: &v)
        }
        return v
    }

    struct Sampler: PDESampler {
        let solver: DiffusionSorption1D
        let resolution: Int, refinement: Int, time: Double, u0Max: Double

        init(_ p: ResolvedPDEOptions) throws {
            solver = DiffusionSorption1D(diffusivity: p["diffusivity"], porosity: p["porosity"],
                                         bulkDensity: p["bulk-density"], freundlichK: p["freundlich-k"],
                                         freundlichN: p["freundlich-n"], cfl: p["cfl"])
            resolution = p.resolution
            refinement = p.refinement
            time = p.time
            u0Max = p["u0-max"]
            let steps = Double(solver.steps(count: fineCount, time: time, upper: 1))
            guard steps * Double(fineCount) <= 2e10 else {
                throw DataError(file: "diffsorp option 'diffusivity'",
                                "needs \(Int(steps)) steps at this resolution; lower diffusivity, time or resolution, or raise cfl")
            }
        }

        var fineCount: Int { (resolution - 1) * refinement + 1 }
        var sampleShape: [Int] { [resolution] }
        var costPerSample: Int { 60 * fineCount * max(1, solver.steps(count: fineCount, time: time, upper: 1)) }

        /// PDEBench's initial condition for this PDE: independent uniform values in [0, u0-max] at every node.
        func sample(_ g: inout SeededGenerator) -> (input: [Double], target: [Double]) {
            let u0 = (0..<fineCount).map { _ in u0Max * g.nextUnitDouble() }
            let u1 = solver.evolve(u0, time: time)
            return (subsampled(u0, stride: refinement, count: resolution), subsampled(u1, stride: refinement, count: resolution))
        }
    }
}
