import Foundation
import MonaTensor

/// The PDEs the generators solve (PDEBench-style data made by our own solvers; see docs/pde.md).
public enum PDEKind: String, CaseIterable, Sendable {
    /// 1-D advection u_t + β u_x = 0, periodic on [0, 1).
    case advection
    /// 1-D diffusion-reaction u_t = ν u_xx + ρ u(1 − u), periodic on [0, 1).
    case diffusionReaction = "diffreact"
    /// 1-D diffusion-sorption u_t = D / R(u) u_xx on [0, 1] (PDEBench's boundary treatment).
    case diffusionSorption = "diffsorp"
    /// 2-D Darcy flow −∇·(a∇u) = f on the unit square, u = 0 on the boundary.
    case darcy

    /// One line for `--help` and summaries.
    public var summary: String {
        switch self {
        case .advection: return "1-D advection u_t + beta u_x = 0 (periodic): u(0) -> u(T)"
        case .diffusionReaction: return "1-D diffusion-reaction u_t = nu u_xx + rho u(1-u) (periodic): u(0) -> u(T)"
        case .diffusionSorption: return "1-D diffusion-sorption u_t = D/R(u) u_xx (PDEBench constants): u(0) -> u(T)"
        case .darcy: return "2-D Darcy flow -div(a grad u) = f, u = 0 on the boundary: a -> u"
        }
    }

    /// Whether samples are 2-D fields (else 1-D series).
    public var isTwoDimensional: Bool { self == .darcy }

    /// Default grid size (points per series, or nodes per side of a field, boundary included).
    public var defaultResolution: Int { isTwoDimensional ? 32 : 256 }

    /// Default final time T (nil for the stationary Darcy problem).
    public var defaultTime: Double? {
        switch self {
        case .advection: return 2
        case .diffusionReaction: return 1
        case .diffusionSorption: return 500
        case .darcy: return nil
        }
    }

    /// Default ratio of the solver grid to the output grid (the output keeps every r-th point).
    public var defaultRefinement: Int { self == .advection ? 4 : 1 }

    /// The named coefficients this PDE accepts, with defaults and valid ranges.
    public var coefficients: [PDECoefficient] {
        switch self {
        case .advection:
            return [PDECoefficient("beta", 0.4, "advection speed β (PDEBench: 0.1, 0.4, 1, 2, 4)", range: -1e6...1e6),
                    PDECoefficient("cfl", 0.8, "Courant number |β|Δt/Δx of the Lax–Wendroff steps", range: 1e-6...1),
                    .waves, .modes]
        case .diffusionReaction:
            return [PDECoefficient("nu", 0.005, "diffusivity ν (PDEBench: 0.5, 1, 2, 5)", range: 0...1e6),
                    PDECoefficient("rho", 1, "reaction rate ρ (PDEBench: 1, 2, 5, 10)", range: 0...1e6),
                    PDECoefficient("cfl", 1, "largest diffusion number νΔt/Δx² of the Crank–Nicolson steps", range: 1e-6...1e6),
                    .waves, .modes]
        case .diffusionSorption:
            return [PDECoefficient("diffusivity", 5e-4, "effective diffusion coefficient D", range: 1e-12...1e6),
                    PDECoefficient("porosity", 0.29, "porosity φ", range: 1e-6...1),
                    PDECoefficient("bulk-density", 2880, "bulk density ρ_s", range: 0...1e9),
                    PDECoefficient("freundlich-k", 3.5e-4, "Freundlich parameter k", range: 0...1e6),
                    PDECoefficient("freundlich-n", 0.874, "Freundlich exponent n_f", range: 1e-3...10),
                    PDECoefficient("u0-max", 0.2, "initial values are uniform in [0, u0-max]", range: 0...1),
                    PDECoefficient("cfl", 16, "largest diffusion number (D/R)Δt/Δx² of the Crank–Nicolson steps",
                                   range: 1e-6...1e6)]
        case .darcy:
            return [PDECoefficient("high", 12, "coefficient where the Gaussian field is ≥ 0", range: 1e-9...1e9),
                    PDECoefficient("low", 3, "coefficient where the Gaussian field is < 0", range: 1e-9...1e9),
                    PDECoefficient("tau", 3, "inverse length scale τ of the field's covariance (−Δ + τ²)^−α", range: 0...1e3),
                    PDECoefficient("alpha", 2, "smoothness α of the field's covariance", range: 0.5...20),
                    PDECoefficient("forcing", 1, "constant right-hand side f", range: -1e9...1e9)]
        }
    }
}

/// A named PDE coefficient: default value, meaning and the closed range it must lie in.
public struct PDECoefficient: Sendable, Equatable {
    public var name: String
    public var defaultValue: Double
    public var summary: String
    public var range: ClosedRange<Double>
    /// Whether the value must be an integer.
    public var integral: Bool

    public init(_ name: String, _ defaultValue: Double, _ summary: String, range: ClosedRange<Double>,
                integral: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.range = range
        self.integral = integral
    }

    static let waves = PDECoefficient("waves", 2, "sine waves summed in each initial condition", range: 1...64,
                                      integral: true)
    static let modes = PDECoefficient("modes", 4, "largest wavenumber n of a wave sin(2πnx + φ)", range: 1...512,
                                      integral: true)
}

/// What to generate: sizes, seed, final time, solver refinement and named coefficients.
public struct PDEOptions: Sendable, Equatable {
    /// Training samples.
    public var samples: Int
    /// Test samples (drawn after the training samples, so changing this leaves the training set unchanged).
    public var testSamples: Int
    /// Points per series (1-D) or nodes per side, boundary included (2-D); nil → the PDE's default.
    public var resolution: Int?
    /// Seed of every random draw (sample k uses `SeededGenerator(seed:).forked(k)`).
    public var seed: UInt64
    /// Final time T (1-D only); nil → the PDE's default.
    public var time: Double?
    /// Solver grid = output grid × refinement; nil → the PDE's default.
    public var refinement: Int?
    /// Named coefficients overriding the PDE's defaults (`PDEKind.coefficients`).
    public var coefficients: [String: Double]

    public init(samples: Int = 512, testSamples: Int = 128, resolution: Int? = nil, seed: UInt64 = 0,
                time: Double? = nil, refinement: Int? = nil, coefficients: [String: Double] = [:]) {
        self.samples = samples
        self.testSamples = testSamples
        self.resolution = resolution
        self.seed = seed
        self.time = time
        self.refinement = refinement
        self.coefficients = coefficients
    }
}

/// Generated training and test sets.
public struct PDEDataset: Sendable {
    public var kind: PDEKind
    public var training: LabeledDataset
    public var test: LabeledDataset

    /// `x_train`, `y_train`, `x_test`, `y_test` (Float32), the layout `mona fit --task <file.npz>` reads:
    /// 1-D inputs x [N, L] with targets y [N, 1, L] (an [N, 1, L] x with a same-shaped y would be read as a 1×L
    /// field), 2-D inputs and targets [N, 1, H, W].
    public var arrays: [String: Tensor] {
        func pair(_ d: LabeledDataset) -> (Tensor, Tensor) {
            guard let x = d.inputTensor, case .fields(let y) = d.targets else {
                preconditionFailure("PDEDataset: generated sets hold tensor inputs and field targets")
            }
            return (x.rank == 3 ? x.reshaped(to: [x.shape[0], x.shape[2]]) : x, y)
        }
        let (a, b) = pair(training), (c, d) = pair(test)
        return ["x_train": a, "y_train": b, "x_test": c, "y_test": d]
    }
}

/// Generates PDEBench-style datasets: random inputs (initial conditions, or Darcy coefficients) and the solution
/// our solver computes for each. Bit-for-bit reproducible for a given seed (independent of thread count).
public enum PDEGenerator {
    /// Generates `options.samples` training and `options.testSamples` test samples of `kind`.
    /// Throws a `DataError` naming the offending option when a size or coefficient is invalid.
    public static func generate(_ kind: PDEKind, options: PDEOptions) throws -> PDEDataset {
        let p = try ResolvedPDEOptions(kind, options)
        let sampler: any PDESampler
        switch kind {
        case .advection: sampler = try Advection1D.Sampler(p)
        case .diffusionReaction: sampler = try DiffusionReaction1D.Sampler(p)
        case .diffusionSorption: sampler = try DiffusionSorption1D.Sampler(p)
        case .darcy: sampler = try Darcy2D.Sampler(p)
        }
        let total = p.samples + p.testSamples
        let row = sampler.sampleShape.reduce(1, *)
        var inputs = [Float](repeating: 0, count: total * row)
        var targets = [Float](repeating: 0, count: total * row)
        inputs.withUnsafeMutableBufferPointer { xin in
            targets.withUnsafeMutableBufferPointer { yout in
                let x = xin.baseAddress, y = yout.baseAddress
                Parallel.forEachChunk(total, costPerItem: sampler.costPerSample) { range in
                    for k in range {
                        var g = SeededGenerator(seed: p.seed).forked(UInt64(k))
                        let (a, b) = sampler.sample(&g)
                        for i in 0..<row {
                            x![k * row + i] = Float(a[i])
                            y![k * row + i] = Float(b[i])
                        }
                    }
                }
            }
        }
        func dataset(_ range: Range<Int>) throws -> LabeledDataset {
            let shape = [range.count, 1] + sampler.sampleShape
            let x = Tensor(Array(inputs[range.lowerBound * row..<range.upperBound * row]), shape: shape)
            let y = Tensor(Array(targets[range.lowerBound * row..<range.upperBound * row]), shape: shape)
            return try LabeledDataset(name: kind.rawValue, inputs: kind.isTwoDimensional ? .fields(x) : .series(x),
                                      targets: .fields(y))
        }
        return PDEDataset(kind: kind, training: try dataset(0..<p.samples), test: try dataset(p.samples..<total))
    }
}

/// One sample's input and target (Double, row-major, output grid) from a per-sample generator.
protocol PDESampler: Sendable {
    /// [L] or [H, W].
    var sampleShape: [Int] { get }
    /// Rough elementary operations per sample (for splitting work over threads).
    var costPerSample: Int { get }
    func sample(_ g: inout SeededGenerator) -> (input: [Double], target: [Double])
}

/// Options checked against the PDE's rules, with defaults filled in.
struct ResolvedPDEOptions: Sendable {
    let kind: PDEKind
    let samples: Int, testSamples: Int, resolution: Int, seed: UInt64, time: Double, refinement: Int
    let values: [String: Double]

    init(_ kind: PDEKind, _ o: PDEOptions) throws {
        func bad(_ option: String, _ message: String) -> DataError { DataError(file: "\(kind.rawValue) option '\(option)'", message) }
        guard o.samples >= 1 else { throw bad("samples", "must be at least 1, got \(o.samples)") }
        guard o.testSamples >= 0 else { throw bad("test-samples", "must be at least 0, got \(o.testSamples)") }
        let r = o.resolution ?? kind.defaultResolution
        let minimum = kind.isTwoDimensional ? 3 : 8
        let maximum = kind.isTwoDimensional ? 1024 : 1 << 16
        guard r >= minimum && r <= maximum else { throw bad("resolution", "must be in \(minimum)...\(maximum), got \(r)") }
        let refinement = o.refinement ?? kind.defaultRefinement
        guard refinement >= 1 && refinement <= 64 else { throw bad("refinement", "must be in 1...64, got \(refinement)") }
        guard (kind.isTwoDimensional ? (r - 1) * refinement + 1 : r * refinement) <= (kind.isTwoDimensional ? 2049 : 1 << 18) else {
            throw bad("refinement", "resolution \(r) × refinement \(refinement) makes the solver grid too large")
        }
        var t = 0.0
        if let d = kind.defaultTime {
            t = o.time ?? d
            guard t.isFinite && t >= 0 && t <= 1e7 else { throw bad("time", "must be finite and in 0...1e7, got \(t)") }
        } else if o.time != nil {
            throw bad("time", "the Darcy problem is stationary; it has no final time")
        }
        let known = kind.coefficients
        var values: [String: Double] = [:]
        for c in known { values[c.name] = c.defaultValue }
        for (name, v) in o.coefficients {
            guard let c = known.first(where: { $0.name == name }) else {
                throw bad(name, "unknown coefficient; \(kind.rawValue) takes \(known.map(\.name).joined(separator: ", "))")
            }
            guard v.isFinite, c.range.contains(v) else {
                throw bad(name, "must be in \(c.range.lowerBound)...\(c.range.upperBound), got \(v)")
            }
            guard !c.integral || v == v.rounded() else { throw bad(name, "must be an integer, got \(v)") }
            values[name] = v
        }
        self.kind = kind
        samples = o.samples
        testSamples = o.testSamples
        resolution = r
        seed = o.seed
        time = t
        self.refinement = refinement
        self.values = values
    }

    subscript(_ name: String) -> Double { values[name]! }
}

/// PDEBench's random initial condition: a sum of `waves` sines A sin(2πn x + φ) with n uniform in 1...modes,
/// A uniform in [0, 1) and φ uniform in [0, 2π), on the periodic grid x_j = j / count.
func randomSineSum(count: Int, waves: Int, modes: Int, _ g: inout SeededGenerator) -> [Double] {
    var u = [Double](repeating: 0, count: count)
    for _ in 0..<waves {
        let n = 1 + Int(g.next() % UInt64(modes))
        let amplitude = g.nextUnitDouble()
        let phase = 2 * Double.pi * g.nextUnitDouble()
        let k = 2 * Double.pi * Double(n)
        for j in 0..<count { u[j] += amplitude * sin(k * Double(j) / Double(count) + phase) }
    }
    return u
}

/// Every `stride`-th value of `fine`, `count` of them.
func subsampled(_ fine: [Double], stride: Int, count: Int) -> [Double] {
    (0..<count).map { fine[$0 * stride] }
}
