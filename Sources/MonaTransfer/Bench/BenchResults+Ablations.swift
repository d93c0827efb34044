import Foundation
import MonaRunKit

/// The ablation section of a suite with variant columns (`BenchVariant`): each variant against the reference
/// method, from the same paired comparisons as the statistics section.
extension BenchResults {
    func ablationMarkdown(_ s: BenchComparisons, into md: inout MarkdownReport) {
        guard !variants.isEmpty, let ref = s.reference else { return }
        md.heading("Ablations of \(ref)")
        md.paragraph("Each variant is `\(ref)` with the options under *changes* set (its saved config.yaml shows them); "
                     + "every other option, budget and seed is `\(ref)`'s. First row: `\(ref)` itself, mean ± sample "
                     + "standard deviation (n). Variant rows: per task the mean over seeds of (\(ref) − variant) on the "
                     + "same seed (same data split), **oriented so that positive = \(ref) better**, with its 95 % "
                     + "percentile bootstrap interval and the number of pairs; **bold**: the interval excludes 0. "
                     + "Across tasks: wins/ties/losses of \(ref) by task means and by intervals, the Wilcoxon "
                     + "signed-rank p-value over the task differences and its Holm adjustment over the "
                     + "\(s.controls.count) comparisons of \(ref) (as in the statistics section below).")
        let refPairs = s.pairwise.filter { $0.first == ref }
        let referenceCells = tasks.map { t -> String in
            guard let c = cell(t, ref) else { return "—" }
            return "\(BenchResults.number(c.mean)) ± \(BenchResults.number(c.standardDeviation)) (\(c.n))"
        }
        var rows: [[String]] = [[ref, "— (defaults)", "reference"] + referenceCells]
        for v in variants {
            let perTask = tasks.map { t -> String in
                guard let p = s.paired.first(where: { $0.task == t && $0.method == v.name }) else { return "—" }
                let text = "\(BenchResults.signed(p.mean)) \(BenchResults.interval(p.interval, signed: true)) (\(p.differences.count))"
                    .replacingOccurrences(of: "  ", with: " ")
                return (p.verdict ?? 0) != 0 ? "**\(text)**" : text
            }
            let c = refPairs.first { $0.second == v.name }
            rows.append([v.name, v.overridesText, v.summary] + perTask + [
                c.map { "\($0.wins)/\($0.ties)/\($0.losses)" } ?? "—",
                c?.intervalCounts.map { "\($0.wins)/\($0.ties)/\($0.losses)" } ?? "—",
                c.map { "\(BenchResults.pValue($0.wilcoxon?.pValue)) (\($0.tasks.count))" } ?? "—",
                BenchResults.pValue(c?.holmPValue),
            ])
        }
        md.table(headers: ["variant", "changes", "what it tests"] + tasks.map { label($0) }
                    + ["W/T/L (means)", "W/T/L (intervals)", "Wilcoxon p (tasks)", "Holm p"],
                 rows: rows)
    }

    /// The `ablations` object of results.json: per variant its overrides and its comparison with the reference.
    func ablationJSON(_ s: BenchComparisons) -> RunValue {
        func n(_ x: Double?) -> RunValue { x.map { RunValue.number($0) } ?? .null }
        let refPairs = s.pairwise.filter { $0.first == s.reference }
        return .object([
            ("reference", s.reference.map { .string($0) } ?? .null),
            ("difference_sign", .string("positive = reference better (sign flipped for lower-is-better metrics)")),
            ("variants", .array(variants.map { v in
                let c = refPairs.first { $0.second == v.name }
                var fields: [(String, RunValue)] = [
                    ("name", .string(v.name)), ("method", .string(v.method)),
                    ("options", .object(v.options.sorted { $0.key < $1.key }.map { ($0.key, RunValue.string($0.value)) })),
                    ("summary", .string(v.summary)),
                    ("paired", .array(s.paired.filter { $0.method == v.name }.map { p in
                        RunValue.object([("task", .string(p.task)), ("n", .number(Double(p.differences.count))),
                                         ("mean", n(p.mean)),
                                         ("ci95", p.interval.map { RunValue.array([.number($0.low), .number($0.high)]) } ?? RunValue.null)])
                    })),
                ]
                if let c {
                    fields += [("wins", .number(Double(c.wins))), ("ties", .number(Double(c.ties))),
                               ("losses", .number(Double(c.losses))), ("wilcoxon_p", n(c.wilcoxon?.pValue)),
                               ("holm_p", n(c.holmPValue))]
                }
                return RunValue.object(fields)
            })),
        ])
    }
}
