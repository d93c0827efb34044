import Foundation
import MonaRunKit

/// The statistics sections of results.md and the `statistics` object of results.json.
extension BenchResults {
    /// How a task is named in tables and plots (a data path by its dataset name).
    public var taskLabels: [String: String] { BenchTask.displayNames(tasks) }

    public func label(_ task: String) -> String { taskLabels[task] ?? task }

    /// A signed difference: `+0.0356`, `-0.0021`, `+2.5e-05`.
    static func signed(_ x: Double?) -> String {
        guard let x else { return "—" }
        guard x.isFinite else { return number(x) }
        if x == 0 { return "0" }
        if abs(x) >= 1e-3 && abs(x) < 1e5 { return String(format: "%+.4f", x) }
        return String(format: "%+.3g", x)
    }

    static func interval(_ ci: ConfidenceInterval?, signed withSign: Bool = false) -> String {
        guard let ci else { return "" }
        func f(_ x: Double) -> String { withSign ? BenchResults.signed(x) : BenchResults.number(x) }
        return "[\(f(ci.low)), \(f(ci.high))]"
    }

    static func pValue(_ p: Double?) -> String {
        guard let p, p.isFinite else { return "—" }
        return p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p)
    }

    /// The statistics sections: paired differences, wins/ties/losses with Wilcoxon tests, Friedman and Nemenyi.
    func statisticsMarkdown(_ s: BenchComparisons, into md: inout MarkdownReport) {
        guard let ref = s.reference, !s.controls.isEmpty else {
            md.heading("Comparisons")
            md.paragraph("No comparisons: fewer than two methods have results.")
            return
        }
        // A suite of variants compares them with its reference; other suites compare MoNA with its controls.
        let other = variants.isEmpty ? "control" : "variant"
        md.heading("Paired differences: \(ref) vs. each \(other)")
        md.paragraph("Per task, the mean over seeds of (\(ref) − \(other)) on runs with the same seed (they share the "
                     + "data split), **oriented so that positive = \(ref) better** (for ↓ metrics the sign is flipped), "
                     + "with its 95 % percentile bootstrap interval over the paired seeds (exact bootstrap distribution "
                     + "for ≤ \(BenchStatistics.bootstrapExactLimit) seeds) and the number of pairs. **Bold**: the "
                     + "interval excludes 0. One pair: no interval.")
        var rows: [[String]] = tasks.compactMap { t in
            let row = s.controls.map { m -> String in
                guard let p = s.paired.first(where: { $0.task == t && $0.method == m }) else { return "—" }
                let text = "\(BenchResults.signed(p.mean)) \(BenchResults.interval(p.interval, signed: true)) (\(p.differences.count))"
                    .replacingOccurrences(of: "  ", with: " ")
                return (p.verdict ?? 0) != 0 ? "**\(text)**" : text
            }
            return row.allSatisfy { $0 == "—" } ? nil : [label(t)] + row
        }
        let refPairs = s.pairwise.filter { $0.first == ref }
        func summary(_ name: String, _ f: (BenchPairwiseComparison) -> String) -> [String] {
            [name] + s.controls.map { m in refPairs.first { $0.second == m }.map(f) ?? "—" }
        }
        rows.append(summary("wins/ties/losses (task means)") { "\($0.wins)/\($0.ties)/\($0.losses)" })
        rows.append(summary("wins/ties/losses (intervals)") { c in
            c.intervalCounts.map { "\($0.wins)/\($0.ties)/\($0.losses)" } ?? "—"
        })
        rows.append(summary("Wilcoxon p (tasks)") { "\(BenchResults.pValue($0.wilcoxon?.pValue)) (\($0.tasks.count))" })
        rows.append(summary("Holm-adjusted p") { BenchResults.pValue($0.holmPValue) })
        md.table(headers: ["task"] + s.controls, rows: rows)
        md.paragraph("Across tasks: a task counts as a win for \(ref) when its mean is better, a tie when the two means "
                     + "agree to \(BenchComparisons.tieTolerance) of their magnitude, a loss otherwise; by intervals, a win "
                     + "when the paired interval lies above 0, a loss below, a tie when it holds 0 (tasks with one pair "
                     + "not counted). Wilcoxon: signed-rank test of the oriented task-mean differences, two-sided "
                     + "(`zero_method=\"wilcox\"`: ties dropped; no continuity correction; exact distribution without "
                     + "ties or zeros, all sign flips with ties or zeros and ≤ 13 tasks, normal approximation beyond), as "
                     + "SciPy's `wilcoxon` defaults. Holm: step-down adjustment over \(ref)'s \(refPairs.count) comparisons. "
                     + "Differences of different metrics are ranked together, as usual across data sets.")

        md.heading("All pairs across tasks")
        md.table(headers: ["method A", "method B", "tasks", "A wins/ties/losses", "R+", "R−", "Wilcoxon p", "test"],
                 rows: s.pairwise.map { c in
            [c.first, c.second, String(c.tasks.count), "\(c.wins)/\(c.ties)/\(c.losses)",
             c.wilcoxon.map { String(format: "%g", $0.rPlus) } ?? "—", c.wilcoxon.map { String(format: "%g", $0.rMinus) } ?? "—",
             BenchResults.pValue(c.wilcoxon?.pValue), c.wilcoxon?.method.rawValue ?? "—"]
        })

        md.heading("Friedman test and critical difference")
        let r = s.ranks
        var facts: [String] = []
        if !r.leftOut.isEmpty {
            facts.append("left out (a method has no result): "
                         + r.leftOut.map { "\(label($0.task)) (no \($0.missing.joined(separator: ", ")))" }.joined(separator: "; "))
        }
        if let f = r.friedman {
            facts.append(String(format: "Friedman χ²_F = %.4f (tie-corrected; %.4f without), df = %d, p = %@",
                                f.chiSquare, f.chiSquareUncorrected, f.degreesOfFreedom, BenchResults.pValue(f.pValue)))
            facts.append(String(format: "Iman–Davenport F_F = %.4f, df = (%d, %d), p = %@", f.imanDavenportF,
                                f.treatments - 1, (f.treatments - 1) * (f.blocks - 1), BenchResults.pValue(f.imanDavenportPValue)))
        }
        if let n = r.nemenyi {
            facts.append(String(format: "Nemenyi (α = %.2f): q_α = %.4f, CD = q_α √(k(k+1)/(6N)) = %.4f with k = %d, N = %d",
                                n.alpha, n.q, n.criticalDifference, n.treatments, n.blocks))
            let groups = n.cliques.map { "{" + $0.map { r.methods[$0] }.joined(separator: ", ") + "}" }
            facts.append("not significantly different (rank gap < CD): " + (groups.isEmpty ? "none — every pair differs" : groups.joined(separator: ", ")))
        }
        if let note = r.note { facts.append("**\(note)**") }
        md.paragraph("Over the \(r.tasks.count) tasks on which all \(r.methods.count) methods have a result"
                     + (r.tasks.isEmpty ? "" : " (\(r.tasks.map(label).joined(separator: ", ")))")
                     + ": each task ranks the methods by mean (1 = best, ties averaged). Nemenyi's test is a post-hoc "
                     + "test: read its groups only when Friedman rejects.")
        md.bullets(facts)
        if let n = r.nemenyi {
            let order = r.methods.indices.sorted { n.averageRanks[$0] < n.averageRanks[$1] }
            md.table(headers: ["method", "average rank"], rows: order.map { [r.methods[$0], String(format: "%.4f", n.averageRanks[$0])] })
            md.image("plots/cd-diagram.svg", alt: "critical-difference diagram")
        }
    }

    /// The `statistics` object of results.json.
    func statisticsJSON(_ s: BenchComparisons) -> RunValue {
        func n(_ x: Double?) -> RunValue { x.map { RunValue.number($0) } ?? .null }
        func ci(_ c: ConfidenceInterval?) -> RunValue { c.map { .array([.number($0.low), .number($0.high)]) } ?? .null }
        func wilcoxon(_ w: WilcoxonResult?) -> RunValue {
            guard let w else { return .null }
            return .object([("n", .number(Double(w.n))), ("zeros", .number(Double(w.zeros))), ("r_plus", .number(w.rPlus)),
                            ("r_minus", .number(w.rMinus)), ("statistic", .number(w.statistic)), ("z", n(w.z)),
                            ("p", n(w.pValue)), ("method", .string(w.method.rawValue))])
        }
        let r = s.ranks
        var friedman: RunValue = .null
        if let f = r.friedman {
            friedman = .object([("blocks", .number(Double(f.blocks))), ("treatments", .number(Double(f.treatments))),
                                ("chi_square", n(f.chiSquare)), ("chi_square_uncorrected", n(f.chiSquareUncorrected)),
                                ("df", .number(Double(f.degreesOfFreedom))), ("p", n(f.pValue)),
                                ("iman_davenport_f", n(f.imanDavenportF)), ("iman_davenport_p", n(f.imanDavenportPValue))])
        }
        var nemenyi: RunValue = .null
        if let m = r.nemenyi {
            nemenyi = .object([
                ("alpha", .number(m.alpha)), ("q_alpha", .number(m.q)), ("critical_difference", .number(m.criticalDifference)),
                ("average_ranks", .object(zip(r.methods, m.averageRanks).map { ($0, RunValue.number($1)) })),
                ("cliques", .array(m.cliques.map { RunValue.array($0.map { RunValue.string(r.methods[$0]) }) })),
            ])
        }
        return .object([
            ("reference", s.reference.map { .string($0) } ?? .null),
            ("controls", .array(s.controls.map { RunValue.string($0) })),
            ("difference_sign", .string("positive = reference better (sign flipped for lower-is-better metrics)")),
            ("interval", .string("95 % percentile bootstrap of the mean over seeds (exact for <= \(BenchStatistics.bootstrapExactLimit) values)")),
            ("tie_tolerance", .number(BenchComparisons.tieTolerance)),
            ("paired", .array(s.paired.map { p in
                RunValue.object([("task", .string(p.task)), ("method", .string(p.method)),
                         ("seeds", .array(p.seeds.map { RunValue.number(Double($0)) })),
                         ("differences", .array(p.differences.map { RunValue.number($0) })), ("mean", n(p.mean)),
                         ("ci95", ci(p.interval))])
            })),
            ("pairwise", .array(s.pairwise.map { c in
                var fields: [(String, RunValue)] = [
                    ("a", .string(c.first)), ("b", .string(c.second)), ("tasks", .array(c.tasks.map { RunValue.string($0) })),
                    ("differences", .array(c.differences.map { RunValue.number($0) })), ("wins", .number(Double(c.wins))),
                    ("ties", .number(Double(c.ties))), ("losses", .number(Double(c.losses))),
                    ("wilcoxon", wilcoxon(c.wilcoxon)), ("holm_p", n(c.holmPValue)),
                ]
                if let counts = c.intervalCounts {
                    fields.append(("interval_counts", .object([("wins", .number(Double(counts.wins))),
                                                               ("ties", .number(Double(counts.ties))),
                                                               ("losses", .number(Double(counts.losses)))])))
                }
                return RunValue.object(fields)
            })),
            ("rank_tests", .object([
                ("tasks", .array(r.tasks.map { RunValue.string($0) })), ("methods", .array(r.methods.map { RunValue.string($0) })),
                ("left_out", .array(r.leftOut.map { RunValue.object([("task", .string($0.task)),
                                                             ("missing", .array($0.missing.map { RunValue.string($0) }))]) })),
                ("friedman", friedman), ("nemenyi", nemenyi), ("note", r.note.map { .string($0) } ?? .null),
            ])),
        ])
    }
}
