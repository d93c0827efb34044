import ArgumentParser
import Foundation
import MonaData
import MonaFormats
import MonaRunKit

/// `mona generate`: PDEBench-style data from our own PDE solvers, written as an `.npz` task file.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a PDE data set (advection, diffreact, diffsorp, darcy) as an .npz task file.",
        discussion: """
        Inputs are the initial condition u(0) (1-D) or the coefficient a (Darcy); targets are u(T) or the Darcy \
        solution u. The file holds x_train, y_train, x_test, y_test (float32; 1-D x [N, L] and y [N, 1, L], Darcy \
        [N, 1, H, W]) and is \
        read by `mona fit --task <file.npz>`. The same seed gives the same file, bit for bit. Equations, schemes \
        and defaults: docs/pde.md.

        Coefficients (--coefficient name=value):
          advection  beta (0.4), cfl (0.8), waves (2), modes (4)
          diffreact  nu (0.005), rho (1), cfl (1), waves (2), modes (4)
          diffsorp   diffusivity (5e-4), porosity (0.29), bulk-density (2880), freundlich-k (3.5e-4),
                     freundlich-n (0.874), u0-max (0.2), cfl (16)
          darcy      high (12), low (3), tau (3), alpha (2), forcing (1)

        Example:
          mona generate advection --samples 512 --test-samples 128 --resolution 256 --seed 0 --output adv.npz
        """)

    @Argument(help: ArgumentHelp("The PDE: \(PDEKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "pde"))
    var name: String

    var pde: PDEKind {
        get throws {
            guard let kind = PDEKind(rawValue: name.lowercased()) else {
                throw ValidationError("unknown PDE '\(name)'; choose \(PDEKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }

    @Option(help: "Training samples.")
    var samples: Int = 512

    @Option(name: .customLong("test-samples"), help: "Test samples.")
    var testSamples: Int = 128

    @Option(help: "Points per series (1-D, default 256) or nodes per side with the boundary (Darcy, default 32).")
    var resolution: Int?

    @Option(help: "Seed of the random initial conditions / coefficients.")
    var seed: UInt64 = 0

    @Option(help: "Final time T (defaults: advection 2, diffreact 1, diffsorp 500).")
    var time: Double?

    @Option(help: "Solver grid = output grid × this factor (defaults: advection 4, others 1).")
    var refinement: Int?

    @Option(help: "Advection speed β (same as --coefficient beta=…).")
    var beta: Double?

    @Option(help: "Diffusion-reaction diffusivity ν (same as --coefficient nu=…).")
    var nu: Double?

    @Option(help: "Diffusion-reaction rate ρ (same as --coefficient rho=…).")
    var rho: Double?

    @Option(name: .customLong("coefficient"), help: ArgumentHelp("Set a PDE coefficient (repeatable).", valueName: "name=value"))
    var coefficients: [String] = []

    @Option(name: .shortAndLong, help: "Output .npz file (written atomically).")
    var output: String

    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try reportingErrors(command: "generate", mode: outputOptions.mode) {
            let pde = try self.pde
            guard output.lowercased().hasSuffix(".npz") else {
                throw ValidationError("--output \(output): the file name must end in .npz (the task loader reads it by its extension)")
            }
            var values: [String: Double] = [:]
            for a in coefficients {
                let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let v = Double(parts[1]) else {
                    throw ValidationError("--coefficient \(a): expected name=number")
                }
                values[parts[0]] = v
            }
            for (name, flag) in [("beta", beta), ("nu", nu), ("rho", rho)] {
                guard let flag else { continue }
                guard pde.coefficients.contains(where: { $0.name == name }) else {
                    throw ValidationError("--\(name) does not apply to \(pde.rawValue)")
                }
                values[name] = flag
            }
            let options = PDEOptions(samples: samples, testSamples: testSamples, resolution: resolution, seed: seed,
                                     time: time, refinement: refinement, coefficients: values)
            let start = Date()
            let data = try PDEGenerator.generate(pde, options: options)
            let url = URL(fileURLWithPath: output)
            try NumPyArchive.save(data.arrays, to: url)
            let seconds = Date().timeIntervalSince(start)
            let shape = data.training.inputTensor!.shape.dropFirst().map(String.init).joined(separator: "×")
            let line = "wrote \(pde.rawValue): \(samples) train + \(testSamples) test samples, \(shape) → \(shape), seed \(seed), "
                + String(format: "%.2f s", seconds) + ", to \(output)"
            if outputOptions.mode == .json {
                let dims = data.training.inputTensor!.shape.dropFirst().map { RunValue.number(Double($0)) }
                print(RunValue.object([("event", .string("result")), ("pde", .string(pde.rawValue)),
                                       ("samples", .number(Double(samples))), ("test_samples", .number(Double(testSamples))),
                                       ("shape", .array(Array(dims))), ("seconds", .number(seconds)),
                                       ("output", .string(output))]).json)
            } else {
                print(line)
            }
        }
    }
}
