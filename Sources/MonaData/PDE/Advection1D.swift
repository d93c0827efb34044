import MonaTensor

/// 1-D linear advection u_t + β u_x = 0 on the periodic unit interval, by the Lax–Wendroff scheme.
///
/// u_j ← u_j − (c/2)(u_{j+1} − u_{j−1}) + (c²/2)(u_{j+1} − 2u_j + u_{j−1}) with Courant number c = βΔt/Δx.
/// Second order in space and time; stable for |c| ≤ 1 (von Neumann). Δt is the largest step with |c| ≤ `cfl`
/// that divides T into whole steps.
public struct Advection1D: Sendable {
    /// Advection speed β.
    public var beta: Double
    /// Largest Courant number |β|Δt/Δx, in (0, 1].
    public var cfl: Double

    public init(beta: Double, cfl: Double = 0.8) {
        precondition(beta.isFinite, "Advection1D: beta must be finite, got \(beta)")
        precondition(cfl > 0 && cfl <= 1, "Advection1D: cfl must be in (0, 1], got \(cfl)")
        self.beta = beta
        self.cfl = cfl
    }

    /// Time steps used to reach `time` on a grid of `count` points.
    public func steps(count: Int, time: Double) -> Int {
        if beta == 0 || time == 0 { return 0 }
        return max(1, Int((abs(beta) * time * Double(count) / cfl).rounded(.up)))
    }

    /// `u` (values at x_j = j / n, periodic) advanced to `time`.
    public func evolve(_ u: [Double], time: Double) -> [Double] {
        let n = u.count
        precondition(n >= 3, "Advection1D.evolve: needs at least 3 grid points, got \(n)")
        let steps = self.steps(count: n, time: time)
        if steps == 0 { return u }
        let c = beta * (time / Double(steps)) * Double(n)
        let a = 0.5 * c * c, b = 0.5 * c
        // u_j^{new} = (a + b) u_{j−1} + (1 − 2a) u_j + (a − b) u_{j+1}
        let left = a + b, mid = 1 - 2 * a, right = a - b
        var cur = u, next = u
        cur.withUnsafeMutableBufferPointer { p in
            next.withUnsafeMutableBufferPointer { q in
                var s = p.baseAddress!, d = q.baseAddress!
                for _ in 0..<steps {
                    d[0] = left * s[n - 1] + mid * s[0] + right * s[1]
                    for j in 1..<(n - 1) { d[j] = left * s[j - 1] + mid * s[j] + right * s[j + 1] }
                    d[n - 1] = left * s[n - 2] + mid * s[n - 1] + right * s[0]
                    swap(&s, &d)
                }
                if steps % 2 == 1 { p.baseAddress!.update(from: q.baseAddress!, count: n) }
            }
        }
        return cur
    }

    struct Sampler: PDESampler {
        let solver: Advection1D
        let resolution: Int, refinement: Int, time: Double, waves: Int, modes: Int

        init(_ p: ResolvedPDEOptions) throws {
            solver = Advection1D(beta: p["beta"], cfl: p["cfl"])
            resolution = p.resolution
            refinement = p.refinement
            time = p.time
            waves = Int(p["waves"])
            modes = Int(p["modes"])
        }

        var sampleShape: [Int] { [resolution] }
        var costPerSample: Int {
            let n = resolution * refinement
            return 8 * n * max(1, solver.steps(count: n, time: time))
        }

        func sample(_ g: inout SeededGenerator) -> (input: [Double], target: [Double]) {
            let n = resolution * refinement
            let u0 = randomSineSum(count: n, waves: waves, modes: modes, &g)
            let u1 = solver.evolve(u0, time: time)
            return (subsampled(u0, stride: refinement, count: resolution), subsampled(u1, stride: refinement, count: resolution))
        }
    }
}
