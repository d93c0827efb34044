import Foundation

/// MoNA, ORCA and their ablations as method-catalog entries (registered with the built-in methods).
///
/// * `mona` — warm-up, MoNA stage 1 (exact meta-gradient), fine-tuning.
/// * `mona-fd` — the same with the finite-difference meta-gradient.
/// * `mona-no-warmup` — stage 1 without stage 0.
/// * `mona-lambda0` — λ = 0: stage 1 trains the embedder on the target loss only (a longer warm-up), the control
///   that tells knowledge alignment apart from extra warm-up.
/// * `orca` / `orca-mmd` — OTDD (or MMD) embedder alignment, then fine-tuning.
let alignmentMethodEntries: [(name: String, summary: String, factory: MethodCatalog.Factory)] = [
    ("mona", "MoNA: warm-up, meta-learned knowledge alignment of the embedder (exact meta-gradient), fine-tuning", { c in
        MethodSpec(name: "mona", summary: "MoNA (exact meta-gradient)", stages: [MoNAStage(options: try MoNAOptions(method: c))]) }),
    ("mona-fd", "MoNA with the finite-difference (DARTS-style) meta-gradient", { c in
        var c = c
        c.options["metaGradient"] = "finite-difference"
        return MethodSpec(name: "mona-fd", summary: "MoNA (finite-difference meta-gradient)",
                          stages: [MoNAStage(options: try MoNAOptions(method: c))]) }),
    ("mona-no-warmup", "MoNA without the warm-up stage", { c in
        var o = try MoNAOptions(method: c)
        o.warmupEpochs = 0
        return MethodSpec(name: "mona-no-warmup", summary: "MoNA without warm-up", stages: [MoNAStage(options: o)]) }),
    ("mona-lambda0", "MoNA with λ = 0 (stage 1 on the target loss only: a longer warm-up)", { c in
        var o = try MoNAOptions(method: c)
        o.meta.lambda = 0
        return MethodSpec(name: "mona-lambda0", summary: "MoNA, λ = 0", stages: [MoNAStage(options: o)]) }),
    ("orca", "ORCA: embedder trained to minimise OTDD to the source features, then fine-tuning", { c in
        MethodSpec(name: "orca", summary: "ORCA (OTDD)", stages: [ORCAStage(options: try ORCAOptions(method: c))]) }),
    ("orca-mmd", "ORCA with MMD instead of OTDD", { c in
        var c = c
        c.options["distance"] = "mmd"
        return MethodSpec(name: "orca-mmd", summary: "ORCA (MMD)", stages: [ORCAStage(options: try ORCAOptions(method: c))]) }),
]
