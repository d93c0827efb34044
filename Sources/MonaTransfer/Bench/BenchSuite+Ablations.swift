import Foundation

extension BenchSuite {
    /// The ablations of MoNA as suite columns: `mona` with one design choice changed each. Every other setting —
    /// task budgets, seeds, the remaining MoNA options — is the default `mona` column's, so each variant is
    /// compared with `mona` on the same task and seed (the same data split).
    ///
    /// α = 1e-2 and T = 50 outer steps are MoNA's defaults: those points of the α and T sweeps are the `mona`
    /// column itself, not separate columns that would recompute the same runs.
    public static let monaVariants: [BenchVariant] = [
        BenchVariant("mona-fd", method: "mona", options: ["metaGradient": MetaGradientChoice.finiteDifference.rawValue],
                     summary: "finite-difference (DARTS-style) meta-gradient instead of the exact one"),
        BenchVariant("mona-no-warmup", method: "mona", options: ["warmupEpochs": "0"],
                     summary: "no warm-up: stage 1 starts from the freshly initialised embedder and head"),
        BenchVariant("mona-lambda0", method: "mona", options: ["lambda": "0"],
                     summary: "λ = 0: stage 1 trains the embedder on the target loss only (a longer warm-up)"),
        BenchVariant("mona-alpha1e-3", method: "mona", options: ["alpha": "0.001"],
                     summary: "inner learning rate α = 1e-3 (default 1e-2)"),
        BenchVariant("mona-alpha3e-2", method: "mona", options: ["alpha": "0.03"],
                     summary: "inner learning rate α = 3e-2 (default 1e-2)"),
        BenchVariant("mona-outer25", method: "mona", options: ["outerSteps": "25"],
                     summary: "25 outer steps (default 50)"),
        BenchVariant("mona-outer100", method: "mona", options: ["outerSteps": "100"],
                     summary: "100 outer steps (default 50)"),
        BenchVariant("mona-literal-l0.3", method: "mona",
                     options: ["lambda": "0.3", "outerNormalization": OuterNormalizationChoice.none.rawValue],
                     summary: "the objective as written: λ·L_outer + L_task with λ = 0.3, no gradient normalisation"),
        BenchVariant("mona-literal-l1", method: "mona",
                     options: ["lambda": "1", "outerNormalization": OuterNormalizationChoice.none.rawValue],
                     summary: "the objective as written: λ·L_outer + L_task with λ = 1, no gradient normalisation"),
    ]

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
