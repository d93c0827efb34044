import Foundation

extension BenchSuite {
    /// The ablations of MoNA as suite columns: `mona` with one design choice changed each. Every other setting —
    /// task budgets, seeds, the remaining MoNA options — is the default `mona` column's, so each variant is
    /// compared with `mona` on the same task and seed (the same data split).
    ///
    /// α = 1e-2 and T = 50 outer steps are MoNA's defaults: those points of the α and T sweeps are the `mona`
    /// column itself, not separate columns that would recompute the same runs.
    public static let monaVariants: [BenchVariant] = {
        // The registry's presets of MoNA, with what they change in words.
        var variants = [
            monaPreset("mona-fd", "finite-difference (DARTS-style) meta-gradient instead of the exact one"),
            monaPreset("mona-no-warmup", "no warm-up: stage 1 starts from the freshly initialised embedder and head"),
            monaPreset("mona-lambda0", "λ = 0: stage 1 trains the embedder on the target loss only (a longer warm-up)"),
        ]
        // Sweeps of one setting around its default.
        for (label, alpha) in [("1e-3", "0.001"), ("3e-2", "0.03")] {
            variants.append(mona("alpha" + label, ["alpha": alpha], "inner learning rate α = \(label) (default 1e-2)"))
        }
        for steps in [25, 100] {
            variants.append(mona("outer\(steps)", ["outerSteps": String(steps)], "\(steps) outer steps (default 50)"))
        }
        for lambda in ["0.3", "1"] {
            variants.append(mona("literal-l" + lambda,
                                 ["lambda": lambda, "outerNormalization": OuterNormalizationChoice.none.rawValue],
                                 "the objective as written: λ·L_outer + L_task with λ = \(lambda), no gradient normalisation"))
        }
        return variants
    }()

    /// Column `mona-<suffix>`: `mona` with `options`.
    private static func mona(_ suffix: String, _ options: [String: String], _ summary: String) -> BenchVariant {
        BenchVariant("mona-" + suffix, method: "mona", options: options, summary: summary)
    }

    /// The registry's preset `name` of `mona` as a column: the options the preset fixes, run by `mona` (so that
    /// its cells share the default column's configuration but for them).
    private static func monaPreset(_ name: String, _ summary: String) -> BenchVariant {
        BenchVariant(name, method: "mona", options: MethodCatalog.entry(name)?.preset ?? [:], summary: summary)
    }

    /// The ablation tasks: the cheapest tasks of `full` (docs/bench.md, per-run estimates of MoNA) that give at
    /// least four tasks from at least three modalities — a UCR series, two generated 1-D PDEs and the peptide
    /// sequences.
    public static let ablationTaskNames = ["italypowerdemand", "advection", "diffreact", "peptides"]

    /// MoNA's ablations (`monaVariants`) against the default `mona`, on `ablationTaskNames` with exactly the
    /// `full` suite's budgets, seeds and analysis intervals: the `mona` cells are the `full` suite's own
    /// configurations, so their records count in both folders and the numbers compare with the full suite.
    public static let ablations: BenchSuite = {
        let tasks = ablationTaskNames.compactMap { name in full.tasks.first { $0.name == name } }
        return BenchSuite(name: "ablations", tasks: tasks, methods: ["mona"] + monaVariants.map(\.name),
                          seeds: full.seeds, analysisEvery: full.analysisEvery, variants: monaVariants, reference: "mona")
    }()
}
