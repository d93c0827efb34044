import ArgumentParser
import Foundation
import MonaDistributed
import MonaRunKit
import MonaTransfer

struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the alignment stages of a method (warm-up, MoNA stage 1, ORCA); save the aligned model.",
        discussion: """
        Same options and YAML handling as `mona fit`. Methods with alignment stages: \
        \(MethodCatalog.entries.filter { (try? MethodCatalog.make(MethodConfig(name: $0.name)).stages.isEmpty) == false }.map(\.name).joined(separator: ", ")); \
        their settings are --set method.<key>=value (e.g. method.outerSteps=20, method.orcaSteps=30; see docs/mona.md).

        The run directory receives config.yaml, metrics.jsonl (per MoNA outer step: align, uniform, outer_loss, \
        target_loss, grad_ratio, …; per ORCA step: otdd or mmd; the source-knowledge analysis before and after \
        alignment), checkpoints/aligned/, plots/*.svg and report.md. The test split is not used.

        Fine-tune the result with `mona fit --from-aligned <run> --output <other run>`.

        Example:
          mona align --task gunpoint --body minilm-l6 --method mona --max-tokens 16 --set method.outerSteps=20 -o runs/gp-aligned
        """)

    @OptionGroup var options: RunOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try runOnRanks(command: "align", mode: outputOptions.mode, options: options, label: dataOptions.label,
                       config: { try options.resolveConfig() },
                       open: { try AlignPipeline(config: $0, runDirectory: $1, mode: outputOptions.mode, communicator: $2) }
        ) { align, ranks in
            let result = try align.align()
            if ranks.isRoot { printResult(result, mode: outputOptions.mode) }
        }
    }

    func printResult(_ r: AlignResult, mode: OutputMode) {
        let metric = r.task.metric.key
        switch mode {
        case .json:
            var fields: [(String, RunValue)] = [("event", .string("result")), ("run", .string(r.runDirectory.path)),
                                                ("task", .string(r.task.name)), ("method", .string(r.method)),
                                                ("val_loss", .number(r.validationLoss))]
            if let m = r.validationMetric { fields.append(("val_\(metric)", .number(m))) }
            for (point, k) in [("before", r.knowledgeBefore), ("after", r.knowledgeAfter)] {
                if let k { fields.append(("source_linear_probe_\(point)", .number(Double(k.linearProbeAccuracy)))) }
            }
            print(RunValue.object(fields).json)
        case .auto, .quiet:
            let value = r.validationMetric.map { String(format: "%.4f", $0) } ?? "n/a"
            var line = "aligned (\(r.stages.joined(separator: " → "))): validation \(metric) \(value)"
            if let b = r.knowledgeBefore, let a = r.knowledgeAfter {
                line += String(format: ", source linear probe %.3f → %.3f", b.linearProbeAccuracy, a.linearProbeAccuracy)
            }
            print(line + "  (\(r.task.name); run \(r.runDirectory.path))")
        }
    }
}
