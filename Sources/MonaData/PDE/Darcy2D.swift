import Foundation
import MonaTensor

/// 2-D Darcy flow −∇·(a ∇u) = f on the unit square with u = 0 on the boundary (the FNO / PDEBench Darcy problem).
///
/// Vertex-centred finite volumes on an m×m node grid (x_j = j h, y_i = i h, h = 1/(m − 1), boundary nodes
/// included): each interior node's box exchanges flux a_face (u_p − u_q)/h with its four neighbours, where a_face is
/// the harmonic mean 2 a_p a_q / (a_p + a_q) of the two nodes' coefficients — the classic 5-point scheme, second
/// order for smooth a and flux-continuous across jumps of a piecewise-constant a. The symmetric positive definite
/// system is solved by conjugate gradients with a Jacobi preconditioner, in Double, to a relative residual of
/// `tolerance`.
public struct Darcy2D: Sendable {
    /// Relative residual ‖b − Au‖ / ‖b‖ at which CG stops.
    public var tolerance: Double

    public init(tolerance: Double = 1e-10) {
        precondition(tolerance > 0 && tolerance < 1, "Darcy2D: tolerance must be in (0, 1), got \(tolerance)")
        self.tolerance = tolerance
    }

    /// The solution u on the m×m node grid (row-major, index i·m + j at (x = j h, y = i h); boundary rows and
    /// columns are 0) for node coefficients `a` (> 0) and node forcing `f`, with CG's iteration count and final
    /// relative residual.
    public func solve(coefficient a: [Double], forcing f: [Double], size m: Int)
        -> (u: [Double], iterations: Int, residual: Double) {
        precondition(m >= 3, "Darcy2D.solve: needs at least 3 nodes per side, got \(m)")
        precondition(a.count == m * m && f.count == m * m,
                     "Darcy2D.solve: coefficient (\(a.count)) and forcing (\(f.count)) must hold \(m)×\(m) values")
        precondition(a.allSatisfy { $0 > 0 && $0.isFinite }, "Darcy2D.solve: the coefficient must be positive and finite")
        let k = m - 2, count = k * k
        let inv = Double((m - 1) * (m - 1))                        // 1/h²
        func harmonic(_ p: Double, _ q: Double) -> Double { 2 * p * q / (p + q) }
        // east[i*k + j]: face between interior (i, j) and its x-neighbour (i, j+1) (index j+1 == k is the boundary);
        // west, north, south likewise. Stored per interior node so the matrix-free product is one pass.
        var east = [Double](repeating: 0, count: count), west = east, north = east, south = east, diag = east
        var b = east
        for i in 0..<k {
            for j in 0..<k {
                let p = (i + 1) * m + (j + 1), c = a[p], q = i * k + j
                east[q] = harmonic(c, a[p + 1]) * inv
                west[q] = harmonic(c, a[p - 1]) * inv
                north[q] = harmonic(c, a[p + m]) * inv
                south[q] = harmonic(c, a[p - m]) * inv
                diag[q] = east[q] + west[q] + north[q] + south[q]
                b[q] = f[p]
            }
        }
        // y = A x (zero Dirichlet: neighbours outside the interior contribute nothing).
        func apply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
            for i in 0..<k {
                for j in 0..<k {
                    let q = i * k + j
                    var s = diag[q] * x[q]
                    if j + 1 < k { s -= east[q] * x[q + 1] }
                    if j > 0 { s -= west[q] * x[q - 1] }
                    if i + 1 < k { s -= north[q] * x[q + k] }
                    if i > 0 { s -= south[q] * x[q - k] }
                    y[q] = s
                }
            }
        }
        var x = [Double](repeating: 0, count: count), r = b, z = b, p = b, ap = b
        let bNorm = sqrt(b.reduce(0) { $0 + $1 * $1 })
        var iterations = 0, residual = 0.0
        if bNorm > 0 {
            for q in 0..<count { z[q] = r[q] / diag[q] }
            p = z
            var rz = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
            residual = 1
            let limit = 20 * count + 100
            while residual > tolerance && iterations < limit {
                p.withUnsafeBufferPointer { pp in ap.withUnsafeMutableBufferPointer { apply(pp.baseAddress!, $0.baseAddress!) } }
                let pap = zip(p, ap).reduce(0) { $0 + $1.0 * $1.1 }
                let alpha = rz / pap
                var rr = 0.0, rzNew = 0.0
                for q in 0..<count {
                    x[q] += alpha * p[q]
                    r[q] -= alpha * ap[q]
                    z[q] = r[q] / diag[q]
                    rr += r[q] * r[q]
                    rzNew += r[q] * z[q]
                }
                let beta = rzNew / rz
                rz = rzNew
                for q in 0..<count { p[q] = z[q] + beta * p[q] }
                iterations += 1
                residual = sqrt(rr) / bNorm
            }
        }
        var u = [Double](repeating: 0, count: m * m)
        for i in 0..<k { for j in 0..<k { u[(i + 1) * m + j + 1] = x[i * k + j] } }
        return (u, iterations, residual)
    }

    /// A random piecewise-constant coefficient on the m×m node grid, as in the FNO Darcy data: a Gaussian field ψ
    /// with covariance ∝ (−Δ + τ²)^−α (Neumann cosine modes cos(πk₁x) cos(πk₂y), 0 ≤ k₁, k₂ < min(m, 128),
    /// the constant mode dropped), thresholded: `high` where ψ ≥ 0, `low` elsewhere.
    public static func randomCoefficient(size m: Int, high: Double, low: Double, tau: Double, alpha: Double,
                                         generator g: inout SeededGenerator) -> [Double] {
        let modes = min(m, 128)
        // Coefficients c[k1][k2] = ξ · (π²|k|² + τ²)^(−α/2).
        var c = [Double](repeating: 0, count: modes * modes)
        for k1 in 0..<modes {
            for k2 in 0..<modes {
                let xi = g.nextNormal()
                if k1 == 0 && k2 == 0 { continue }
                let lambda = Double.pi * Double.pi * Double(k1 * k1 + k2 * k2) + tau * tau
                c[k1 * modes + k2] = xi * pow(lambda, -alpha / 2)
            }
        }
        // cosines[i][k] = cos(π k · i h)
        let h = 1 / Double(m - 1)
        var cosines = [Double](repeating: 0, count: m * modes)
        for i in 0..<m { for k in 0..<modes { cosines[i * modes + k] = cos(Double.pi * Double(k) * Double(i) * h) } }
        // ψ[i][j] = Σ_k1 cos(π k1 y_i) Σ_k2 c[k1][k2] cos(π k2 x_j): first t[k1][j], then the outer sum.
        var t = [Double](repeating: 0, count: modes * m)
        for k1 in 0..<modes {
            for j in 0..<m {
                var s = 0.0
                for k2 in 0..<modes { s += c[k1 * modes + k2] * cosines[j * modes + k2] }
                t[k1 * m + j] = s
            }
        }
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in 0..<m {
                var s = 0.0
                for k1 in 0..<modes { s += cosines[i * modes + k1] * t[k1 * m + j] }
                a[i * m + j] = s >= 0 ? high : low
            }
        }
        return a
    }

    struct Sampler: PDESampler {
        let solver = Darcy2D()
        let resolution: Int, refinement: Int
        let high: Double, low: Double, tau: Double, alpha: Double, forcing: Double

        init(_ p: ResolvedPDEOptions) throws {
            resolution = p.resolution
            refinement = p.refinement
            high = p["high"]
            low = p["low"]
            tau = p["tau"]
            alpha = p["alpha"]
            forcing = p["forcing"]
        }

        var fineCount: Int { (resolution - 1) * refinement + 1 }
        var sampleShape: [Int] { [resolution, resolution] }
        var costPerSample: Int { 30 * fineCount * fineCount * fineCount }

        func sample(_ g: inout SeededGenerator) -> (input: [Double], target: [Double]) {
            let m = fineCount
            let a = Darcy2D.randomCoefficient(size: m, high: high, low: low, tau: tau, alpha: alpha, generator: &g)
            let u = solver.solve(coefficient: a, forcing: [Double](repeating: forcing, count: m * m), size: m).u
            func coarse(_ v: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: resolution * resolution)
                for i in 0..<resolution {
                    for j in 0..<resolution { out[i * resolution + j] = v[i * refinement * m + j * refinement] }
                }
                return out
            }
            return (coarse(a), coarse(u))
        }
    }
}
