/// Tridiagonal solves used by the implicit PDE steppers (Double precision, O(n)).
enum Tridiagonal {
    /// Solves the system with sub-diagonal `lower` (lower[0] unused), diagonal `diagonal` and super-diagonal
    /// `upper` (upper[n-1] unused) for right-hand side `rhs`, writing the solution into `x` (Thomas algorithm,
    /// no pivoting: the matrices here are diagonally dominant). `scratch` holds n values.
    static func solve(lower: UnsafePointer<Double>, diagonal: UnsafePointer<Double>, upper: UnsafePointer<Double>,
                      rhs: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>,
                      count n: Int) {
        var beta = diagonal[0]
        x[0] = rhs[0] / beta
        for i in 1..<n {
            scratch[i] = upper[i - 1] / beta
            beta = diagonal[i] - lower[i] * scratch[i]
            x[i] = (rhs[i] - lower[i] * x[i - 1]) / beta
        }
        var i = n - 2
        while i >= 0 {
            x[i] -= scratch[i + 1] * x[i + 1]
            i -= 1
        }
    }
}

/// The periodic (cyclic) constant-coefficient system `d·x_i + o·(x_{i−1} + x_{i+1}) = r_i` (indices mod n),
/// solved by Sherman–Morrison around a Thomas solve; the correction vector is computed once.
struct CyclicSymmetricSolver {
    let n: Int
    let diagonal: Double, offDiagonal: Double
    private let lower: [Double], main: [Double], upper: [Double]
    private let z: [Double]
    private let gamma: Double
    private let factor: Double

    /// Needs n ≥ 3 and a diagonally dominant matrix (|d| > 2|o|).
    init(count n: Int, diagonal d: Double, offDiagonal o: Double) {
        precondition(n >= 3, "CyclicSymmetricSolver: needs at least 3 unknowns, got \(n)")
        self.n = n
        diagonal = d
        offDiagonal = o
        let g = -d
        gamma = g
        // A = B + u vᵀ with u = (γ, 0…0, o), v = (1, 0…0, o/γ).
        let l = [Double](repeating: o, count: n)
        var b = [Double](repeating: d, count: n)
        b[0] = d - g
        b[n - 1] = d - o * o / g
        var u = [Double](repeating: 0, count: n)
        u[0] = g
        u[n - 1] = o
        var zz = [Double](repeating: 0, count: n), scratch = [Double](repeating: 0, count: n)
        Tridiagonal.solve(lower: l, diagonal: b, upper: l, rhs: u, x: &zz, scratch: &scratch, count: n)
        lower = l
        main = b
        upper = l
        z = zz
        factor = 1 + zz[0] + o / g * zz[n - 1]
    }

    /// Solves A x = rhs into `x`; `scratch` holds n values.
    func solve(_ rhs: UnsafePointer<Double>, into x: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        lower.withUnsafeBufferPointer { l in
            main.withUnsafeBufferPointer { m in
                upper.withUnsafeBufferPointer { u in
                    Tridiagonal.solve(lower: l.baseAddress!, diagonal: m.baseAddress!, upper: u.baseAddress!, rhs: rhs,
                                      x: x, scratch: scratch, count: n)
                }
            }
        }
        let dot = (x[0] + offDiagonal / gamma * x[n - 1]) / factor
        for i in 0..<n { x[i] -= dot * z[i] }
    }
}
