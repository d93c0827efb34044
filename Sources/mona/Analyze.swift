import ArgumentParser
import Foundation
import MonaRunKit
import MonaTransfer

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyses of tasks, bodies and runs.",
        subcommands: [Gap.self])

    struct Gap: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Modality gap between a task's data and a body's source data (OTDD and MMD).",
            discussion: """
            The target training data goes through a freshly initialised target embedder (exactly as fine-tuning \
            would start, before any alignment) and the pretrained body; labelled source data (WordNet glosses for \
            text bodies, Fashion-MNIST for image bodies) through the body's own embedder and the body. Both are \
            mean-pooled over tokens. OTDD is label-aware (k-means pseudo-labels, k = 10, for targets without \
            classes), debiased entropic OT with p = 2; MMD² uses a ladder of Gaussian kernels.

            Example:
              mona analyze gap --task gunpoint --body minilm-l6
            """)

        @Option(help: "Known task or data path.")
        var task: String

        @Option(help: "Known body or model directory.")
        var body: String = "minilm-l6"

        @Option(help: "Seed of the data split, the embedder initialisation and the source sample.")
        var seed: UInt64 = 0

        @Option(name: .customLong("max-tokens"), help: "Token cap of the embedder.")
        var maxTokens: Int = 64

        @Option(name: .customLong("train-limit"), help: "Use only the first N training samples.")
        var trainLimit: Int?

        @Option(name: .customLong("target-samples"), help: "Target samples compared (at most).")
        var targetSamples: Int = 256

        @Option(name: .customLong("source-per-class"), help: "Source samples per class.")
        var sourcePerClass: Int = 20

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() throws {
            try reportingErrors(command: "analyze gap", mode: json ? .json : .auto) {
                var config = FitConfig(task: task, body: body, method: "finetune", seed: seed)
                config.model.maxTokens = maxTokens
                config.data.trainLimit = trainLimit
                try config.validate()
                guard targetSamples >= 2, sourcePerClass >= 1 else {
                    throw TransferError.badConfig("--target-samples must be ≥ 2 and --source-per-class ≥ 1")
                }
                let gap = try TaskModalityGap.measure(config: config, maxTargetSamples: targetSamples,
                                                  sourcePerClass: sourcePerClass)
                if json {
                    print(RunValue.object([("task", .string(task)), ("body", .string(body)), ("seed", .number(Double(seed))),
                                           ("otdd", .number(gap.otdd)), ("mmd", .number(gap.mmd)),
                                           ("label_aware", .bool(gap.labelAware)),
                                           ("target_samples", .number(Double(gap.targetSamples))),
                                           ("source_samples", .number(Double(gap.sourceSamples)))]).json)
                } else {
                    print(String(format: "%@ → %@: OTDD %.6g (%@), MMD² %.6g  (%d target, %d source samples)",
                                 task, body, gap.otdd, gap.labelAware ? "label-aware" : "k-means pseudo-labels", gap.mmd,
                                 gap.targetSamples, gap.sourceSamples))
                }
            }
        }
    }
}
