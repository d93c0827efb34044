import Foundation
import MonaTensor
import Testing
@testable import MonaData

/// Observed order log2(e(h) / e(h/2)) of successive errors on grids refined by 2.
private func orders(_ errors: [Double]) -> [Double] {
    zip(errors, errors.dropFirst()).map { log2($0 / $1) }
}

private func maxError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct PDESolverTests {
    /// Lax–Wendroff on sin(2πx) at a fixed Courant number: the error against the exact shift falls as Δx².
    @Test func advectionConvergesAtSecondOrder() {
        let solver = Advection1D(beta: 0.7, cfl: 0.5)
        let t = 1.3
        var errors: [Double] = []
        for n in [32, 64, 128, 256] {
            let u0 = (0..<n).map { sin(2 * Double.pi * Double($0) / Double(n)) }
            let exact = (0..<n).map { sin(2 * Double.pi * (Double($0) / Double(n) - 0.7 * t)) }
            errors.append(maxError(solver.evolve(u0, time: t), exact))
        }
        let p = orders(errors)
        print("advection (Lax–Wendroff) max errors \(errors), observed orders \(p)")
        #expect(errors[0] < 0.1)
        for q in p { #expect(abs(q - 2) < 0.15, "observed order \(q), errors \(errors)") }
        // A Courant number of exactly 1 reproduces the shift exactly.
        let one = Advection1D(beta: 1, cfl: 1)
        let u0 = (0..<16).map { Double($0 * $0 % 7) }
        let shifted = one.evolve(u0, time: 3.0 / 16)
        #expect(maxError(shifted, (0..<16).map { u0[($0 - 3 + 16) % 16] }) < 1e-12)
    }

    /// Pure diffusion (ρ = 0) of one Fourier mode vs e^{−ν k² t} sin(kx), at a fixed diffusion number.
    @Test func diffusionConvergesAtSecondOrder() {
        let nu = 0.01, t = 0.5, k = 2 * Double.pi * 3
        let solver = DiffusionReaction1D(nu: nu, rho: 0, cfl: 0.5)
        var errors: [Double] = []
        for n in [32, 64, 128, 256] {
            let x = (0..<n).map { Double($0) / Double(n) }
            let u = solver.evolve(x.map { sin(k * $0) }, time: t)
            errors.append(maxError(u, x.map { exp(-nu * k * k * t) * sin(k * $0) }))
        }
        let p = orders(errors)
        print("diffusion (Crank–Nicolson) max errors \(errors), observed orders \(p)")
        for q in p { #expect(abs(q - 2) < 0.15, "observed order \(q), errors \(errors)") }
    }

    /// Reaction only (ν = 0): the exact logistic solution; and with both terms values stay in [0, 1].
    @Test func diffusionReactionStaysInRangeAndMatchesLimits() {
        let logistic = DiffusionReaction1D(nu: 0, rho: 3)
        let u0 = [0.0, 0.1, 0.5, 0.9, 1.0]
        let u = logistic.evolve(u0, time: 0.7)
        let exact = u0.map { v in v * exp(3 * 0.7) / (1 - v + v * exp(3 * 0.7)) }
        #expect(maxError(u, exact) < 1e-12)

        var g = SeededGenerator(seed: 3)
        for (nu, rho) in [(0.5, 10.0), (5.0, 1.0), (0.005, 5.0)] {
            let solver = DiffusionReaction1D(nu: nu, rho: rho)
            var start = randomSineSum(count: 128, waves: 2, modes: 4, &g).map { abs($0) }
            let lo = start.min()!, hi = start.max()!
            start = start.map { ($0 - lo) / (hi - lo) }
            let end = solver.evolve(start, time: 1)
            #expect(end.allSatisfy { $0 >= 0 && $0 <= 1 }, "ν \(nu), ρ \(rho): range \(end.min()!)…\(end.max()!)")
            // Growth: the mean never falls (diffusion conserves it, the reaction term is ≥ 0 on [0, 1]).
            #expect(end.reduce(0, +) >= start.reduce(0, +) - 1e-9)
        }
        // ρ = 0 is pure diffusion: identical to the ν-only solver path and conserving the mean.
        let pure = DiffusionReaction1D(nu: 0.02, rho: 0).evolve(start64, time: 0.3)
        #expect(abs(pure.reduce(0, +) - start64.reduce(0, +)) < 1e-9)
    }

    private var start64: [Double] { (0..<64).map { 0.5 + 0.4 * sin(2 * Double.pi * Double($0) / 64) } }

    /// With n_f = 1 the retardation factor is a constant R and the equation is the heat equation u_t = (D/R) u_xx;
    /// with zero ghost values on [−Δx, 1 + Δx] the lowest sine mode decays as e^{−(D/R) π² t / (1 + 2Δx)²}.
    @Test func diffusionSorptionReducesToDiffusionForConstantRetardation() {
        let d = 5e-4, t = 200.0
        let solver = DiffusionSorption1D(diffusivity: d, freundlichN: 1, boundary: .ghostValues(left: 0, right: 0),
                                         cfl: 0.5)
        let r = solver.retardation(0.3)
        #expect(abs(r - solver.retardation(0.9)) < 1e-12 && r > 1)
        var errors: [Double] = []
        for n in [33, 65, 129, 257] {
            let dx = 1 / Double(n - 1), length = 1 + 2 * dx
            let x = (0..<n).map { Double($0) * dx }
            let mode = x.map { sin(Double.pi * ($0 + dx) / length) }
            let rate = d / r * Double.pi * Double.pi / (length * length)
            errors.append(maxError(solver.evolve(mode, time: t), mode.map { $0 * exp(-rate * t) }))
        }
        let p = orders(errors)
        print("diffusion-sorption with constant R: max errors \(errors), observed orders \(p)")
        for q in p { #expect(abs(q - 2) < 0.2, "observed order \(q), errors \(errors)") }
    }

    /// The nonlinear problem with PDEBench's boundaries: values stay in [0, 1], the solubility front enters from
    /// the left, and the solution converges under refinement (self-convergence). PDEBench's ghost nodes sit at
    /// −Δx and 1 + Δx, so the boundary moves with the grid and the observed order is about 1, not 2.
    @Test func diffusionSorptionPDEBenchSetting() {
        let solver = DiffusionSorption1D()
        #expect(abs(solver.retardation(1) - (1 + 0.71 / 0.29 * 2880 * 3.5e-4 * 0.874 * pow(1 + 1e-6, -0.126))) < 1e-12)
        var solutions: [[Double]] = []
        for n in [33, 65, 129, 257] {
            let u0 = (0..<n).map { 0.1 + 0.05 * cos(Double.pi * Double($0) / Double(n - 1)) }
            let u = solver.evolve(u0, time: 100)
            #expect(u.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(u[0] > 0.5 && u[0] > u[n / 2])
            solutions.append(u)
        }
        // Differences at the 33 common nodes between successive grids.
        var diffs: [Double] = []
        for (a, b) in zip(solutions, solutions.dropFirst()) {
            let stride = (b.count - 1) / (a.count - 1)
            diffs.append((0..<33).reduce(0) { m, i in
                let ia = i * (a.count - 1) / 32, ib = ia * stride
                return max(m, abs(a[ia] - b[ib]))
            })
        }
        let p = orders(diffs)
        print("diffusion-sorption (PDEBench) self-convergence differences \(diffs), orders \(p)")
        #expect(p.allSatisfy { $0 > 0.8 }, "self-convergence orders \(p)")

        // The generator's setting (white noise, T = 500, default steps with diffusion number 16 after the
        // backward-Euler start-up) against a reference with 16× smaller steps.
        var g = SeededGenerator(seed: 2)
        let noise = (0..<256).map { _ in 0.2 * g.nextUnitDouble() }
        let fast = solver.evolve(noise, time: 500)
        let reference = DiffusionSorption1D(cfl: 1).evolve(noise, time: 500)
        let gap = maxError(fast, reference)
        print("diffusion-sorption T = 500: default steps vs 16× smaller steps, max difference \(gap)")
        #expect(gap < 2e-3)
        #expect(fast.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Darcy with a ≡ 1 and the manufactured solution sin(πx) sin(πy) (f = 2π² sin(πx) sin(πy)): second order.
    @Test func darcyConvergesAtSecondOrder() {
        var errors: [Double] = []
        for m in [9, 17, 33, 65] {
            let h = 1 / Double(m - 1)
            var f = [Double](repeating: 0, count: m * m), exact = f
            for i in 0..<m {
                for j in 0..<m {
                    let s = sin(Double.pi * Double(j) * h) * sin(Double.pi * Double(i) * h)
                    exact[i * m + j] = s
                    f[i * m + j] = 2 * Double.pi * Double.pi * s
                }
            }
            let r = Darcy2D().solve(coefficient: [Double](repeating: 1, count: m * m), forcing: f, size: m)
            #expect(r.residual <= 1e-10)
            errors.append(maxError(r.u, exact))
        }
        let p = orders(errors)
        print("Darcy (5-point FV + CG) max errors \(errors), observed orders \(p)")
        for q in p { #expect(abs(q - 2) < 0.1, "observed order \(q), errors \(errors)") }
    }

    /// A layered coefficient (12 left of x ≈ 0.56, 3 right of it): the solution is positive inside, symmetric in y,
    /// and larger where the medium conducts less.
    @Test func darcyLayeredCoefficientSolutionIsPlausible() {
        let m = 9, k = m - 2
        // The jump lies between nodes j = 4 and j = 5 (x = 0.5, 0.625).
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<m { for j in 0..<m { a[i * m + j] = j <= 4 ? 12 : 3 } }
        let f = [Double](repeating: 1, count: m * m)
        let u = Darcy2D().solve(coefficient: a, forcing: f, size: m).u
        // Symmetric in y about 0.5, zero on the boundary, positive inside, larger where a is small.
        for i in 1...k { for j in 1...k { #expect(u[i * m + j] > 0) } }
        #expect(abs(u[2 * m + 3] - u[(m - 3) * m + 3]) < 1e-9)
        #expect(u[4 * m + 6] > u[4 * m + 2])
    }

    @Test func darcyCoefficientIsTwoValuedAndVaried() {
        var g = SeededGenerator(seed: 1)
        let a = Darcy2D.randomCoefficient(size: 33, high: 12, low: 3, tau: 3, alpha: 2, generator: &g)
        #expect(Set(a) == [12, 3])
        let high = Double(a.filter { $0 == 12 }.count) / Double(a.count)
        #expect(high > 0.05 && high < 0.95)
    }
}

@Suite struct PDEGeneratorTests {
    @Test func shapesRangesAndDeterminism() throws {
        for kind in PDEKind.allCases {
            let options = PDEOptions(samples: 4, testSamples: 2, resolution: kind.isTwoDimensional ? 9 : 32, seed: 7)
            let a = try PDEGenerator.generate(kind, options: options)
            let b = try PDEGenerator.generate(kind, options: options)
            let shape = kind.isTwoDimensional ? [9, 9] : [32]
            #expect(a.training.inputTensor!.shape == [4, 1] + shape)
            #expect(a.test.inputTensor!.shape == [2, 1] + shape)
            for (name, x) in a.arrays {
                let y = b.arrays[name]!
                #expect(x.shape == y.shape && x.scalars == y.scalars, "\(kind) \(name) differs between runs")
                #expect(x.scalars.allSatisfy { $0.isFinite })
            }
            // Another seed gives other data; more test samples leave the training set unchanged.
            var other = options
            other.seed = 8
            #expect(try PDEGenerator.generate(kind, options: other).arrays["x_train"]!.scalars != a.arrays["x_train"]!.scalars)
            var more = options
            more.testSamples = 5
            #expect(try PDEGenerator.generate(kind, options: more).arrays["y_train"]!.scalars == a.arrays["y_train"]!.scalars)
        }
        let reaction = try PDEGenerator.generate(.diffusionReaction, options: PDEOptions(samples: 8, testSamples: 0, resolution: 64))
        let values = reaction.arrays["x_train"]!.scalars + reaction.arrays["y_train"]!.scalars
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Darcy: u = 0 on the boundary, inputs two-valued.
        let darcy = try PDEGenerator.generate(.darcy, options: PDEOptions(samples: 2, testSamples: 0, resolution: 17))
        #expect(Set(darcy.arrays["x_train"]!.scalars) == [12, 3])
        let u = darcy.arrays["y_train"]!
        #expect((0..<17).allSatisfy { u[0, 0, 0, $0] == 0 && u[1, 0, $0, 16] == 0 })
        #expect(u.scalars.max()! > 0)
    }

    /// Advection targets are the inputs shifted by βT, up to the scheme's error on the refined grid: with the
    /// default resolution, refinement and Courant number, a shift of half the domain.
    @Test func advectionTargetIsTheShiftedInput() throws {
        let d = try PDEGenerator.generate(.advection, options: PDEOptions(samples: 3, testSamples: 0, time: 1.25))
        let x = d.training.inputTensor!, y = d.arrays["y_train"]!
        var worst: Float = 0
        for s in 0..<3 {
            for j in 0..<256 { worst = max(worst, abs(y[s, 0, j] - x[s, 0, (j + 128) % 256])) }
        }
        print("advection default grid: max |u(T) − shifted u(0)| = \(worst) after a shift of 0.5")
        #expect(worst < 2e-3)
    }

    @Test func badOptionsAreNamed() {
        func message(_ kind: PDEKind, _ o: PDEOptions) -> String {
            do {
                _ = try PDEGenerator.generate(kind, options: o)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(message(.advection, PDEOptions(samples: 0)).contains("'samples'"))
        #expect(message(.advection, PDEOptions(testSamples: -1)).contains("'test-samples'"))
        #expect(message(.advection, PDEOptions(resolution: 2)).contains("'resolution'"))
        #expect(message(.darcy, PDEOptions(resolution: 5000)).contains("'resolution'"))
        #expect(message(.advection, PDEOptions(refinement: 0)).contains("'refinement'"))
        #expect(message(.advection, PDEOptions(time: -1)).contains("'time'"))
        #expect(message(.darcy, PDEOptions(time: 1)).contains("'time'"))
        #expect(message(.advection, PDEOptions(coefficients: ["cfl": 1.5])).contains("'cfl'"))
        #expect(message(.advection, PDEOptions(coefficients: ["beta": .nan])).contains("'beta'"))
        #expect(message(.advection, PDEOptions(coefficients: ["nu": 1])).contains("unknown coefficient"))
        #expect(message(.advection, PDEOptions(coefficients: ["waves": 1.5])).contains("integer"))
        #expect(message(.diffusionReaction, PDEOptions(coefficients: ["rho": -1])).contains("'rho'"))
        #expect(message(.diffusionSorption, PDEOptions(coefficients: ["porosity": 0])).contains("'porosity'"))
        #expect(message(.darcy, PDEOptions(coefficients: ["low": 0])).contains("'low'"))
        #expect(message(.diffusionReaction, PDEOptions(resolution: 65536, coefficients: ["nu": 1e6])).contains("'nu'"))
    }
}
