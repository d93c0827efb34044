import Foundation
import MonaRunKit

/// The verdict section of results.md / report.md and the `verdict` object of results.json: sentences generated
/// from `BenchVerdict`'s numbers, with the coverage they rest on.
extension BenchResults {
    /// The verdict, for suites about MoNA (not for a suite of variant columns, whose section is the ablation).
    var hasVerdict: Bool { variants.isEmpty && methods.contains("mona") }

    static let familyNames = [BenchTask.Family.series: "time series", BenchTask.Family.tokens: "token sequences",
                              BenchTask.Family.audio: "audio", BenchTask.Family.dense: "PDE fields",
                              BenchTask.Family.image: "images"]
    static let methodNames = ["finetune": "fine-tuning", "orca": "ORCA", "warmup-only": "warm-up only",
                              "no-body": "no-body", "scratch": "scratch", "mona": "MoNA", "expert": "the expert baseline"]

    static func familyName(_ f: String?) -> String { f.flatMap { familyNames[$0] } ?? f ?? "other" }
    static func methodName(_ m: String) -> String { methodNames[m] ?? m }

    /// "not distinguishable from noise" or which side is significantly better, after Holm, with the smallest
    /// p-value the number of tasks allows when that is above the level.
    static func significance(_ c: BenchVerdict.Comparison) -> String {
        guard let w = c.across.wilcoxon, let p = c.holmPValue ?? w.pValue else { return "no test" }
        let nonZero = w.n - w.zeros
        let floor = nonZero > 0 ? min(1, 2 / pow(2.0, Double(nonZero))) : 1
        if p < BenchVerdict.alpha {
            let better = c.across.wins > c.across.losses ? methodName(c.a) : methodName(c.b)
            return "significant at \(Int(BenchVerdict.alpha * 100)) %: \(better) better"
        }
        let note = floor >= BenchVerdict.alpha
            ? " (with \(nonZero) non-tied task\(nonZero == 1 ? "" : "s") no two-sided Wilcoxon p can be below \(BenchResults.pValue(floor)))"
            : ""
        return "not distinguishable from noise" + note
    }

    /// One comparison as a sentence.
    static func sentence(_ c: BenchVerdict.Comparison, family: String) -> String {
        let a = methodName(c.a), b = methodName(c.b)
        let byFamily = c.byFamily.map { "\(familyName($0.family)) \($0.wins) of \($0.tasks)" }.joined(separator: ", ")
        let w = c.across.wilcoxon
        return "**\(a) vs. \(b)** (\(c.tasks) task\(c.tasks == 1 ? "" : "s")): \(a)'s mean is better on \(c.across.wins) of "
            + "\(c.tasks) (\(byFamily)), worse on \(c.across.losses)\(c.across.ties > 0 ? ", tied on \(c.across.ties)" : ""); "
            + "paired 95 % intervals over seeds: \(c.intervalsAbove) above 0, \(c.intervalsBelow) below 0, "
            + "\(c.intervalsHolding) holding 0\(c.withoutInterval > 0 ? ", \(c.withoutInterval) with one pair (no interval)" : ""); "
            + "median relative difference \(BenchVerdict.percent(c.medianRelative)) of \(b)'s mean; Wilcoxon p = "
            + "\(BenchResults.pValue(w?.pValue)) (Holm \(BenchResults.pValue(c.holmPValue)) over \(family)): \(significance(c))."
    }

    func verdictMarkdown(_ v: BenchVerdict, into md: inout MarkdownReport) {
        let cov = v.coverage
        md.heading(cov.complete ? "Verdict" : "Verdict (partial)")
        var rests = "It rests on \(cov.runsFinished) of the suite's \(cov.runs) runs (\(cov.cellsWithResults) of "
            + "\(cov.cells) task × method cells, \(cov.tasksWithResults) of \(cov.tasks) tasks with any result)"
        if cov.complete {
            rests += ": the suite is complete."
        } else {
            rests += ". **Partial**: every count below is over the tasks where both methods of a comparison have results; "
                + "runs finished of those asked for, where some are missing — " + cov.missing.map { m in
                    "\(m.method): " + m.tasks.map { "\(label($0.task)) \($0.finished)/\($0.expected)" }.joined(separator: ", ")
                }.joined(separator: "; ") + "."
        }
        md.paragraph("Generated from the run records by `mona bench`, as every table here. " + rests
                     + " \"Better\" is by each task's own metric (higher accuracy, lower error). Relative differences "
                     + "are (A − B) / |B| of the task means, oriented so that positive = A better; a paired interval is "
                     + "the 95 % bootstrap interval of the per-seed differences (same seed = same split). Significant "
                     + "means a Holm-adjusted two-sided Wilcoxon signed-rank p < \(BenchVerdict.alpha) across tasks.")

        let ref = v.reference
        md.heading("Does MoNA beat fine-tuning, ORCA and warm-up only?", level: 3)
        if v.versusControls.isEmpty {
            md.paragraph("Not answerable yet: MoNA and none of its controls (warm-up only, fine-tuning, ORCA) share a task.")
        } else {
            let family = v.versusControls.first.map { "MoNA's \($0.holmFamily) comparisons" } ?? ""
            md.bullets(v.versusControls.map { BenchResults.sentence($0, family: family) })
        }
        verdictTable(v, into: &md)

        md.heading("Does the pretrained body help, and where does the expert baseline stand?", level: 3)
        var items = v.body.map { BenchResults.sentence($0, family: "these \($0.holmFamily) body comparisons") }
        if v.body.isEmpty { items.append("Not answerable yet: no task has fine-tuning or MoNA together with no-body or scratch.") }
        if let e = v.expert {
            let present = Set(v.expertTasks.compactMap { families[$0] })
            let which = BenchTask.Family.expertMethods.filter { present.contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.value) for \(BenchResults.familyName($0.key))" }.joined(separator: ", ")
            items.append("**The expert baseline** (the standard method of each task's field: \(which)) has the best mean of all "
                         + "methods with results on \(v.expertBest.count) of the \(v.expertTasks.count) tasks where it ran"
                         + (v.expertBest.isEmpty ? "" : " (\(v.expertBest.map(label).joined(separator: ", ")))") + ".")
            items.append(BenchResults.sentence(e, family: "MoNA's \(e.holmFamily) comparisons"))
        } else if v.expertTasks.isEmpty {
            items.append("The expert baseline has no results in this aggregation.")
        }
        md.bullets(items)

        md.heading("Is more source knowledge kept after MoNA than after fine-tuning?", level: 3)
        if let u = v.reuse {
            let w = u.wilcoxon
            md.paragraph("Linear-probe accuracy on held-out source data through the body after fine-tuning, paired by seed "
                         + "(MoNA − fine-tuning, positive = MoNA kept more). MoNA's probe is higher on \(u.wins) of "
                         + "\(u.perTask.count) tasks, lower on \(u.losses); mean difference \(BenchResults.signed(u.meanDifference)); "
                         + "paired intervals: \(u.intervalsAbove) above 0, \(u.intervalsBelow) below 0; Wilcoxon p = "
                         + "\(BenchResults.pValue(w?.pValue)) over the tasks' mean differences"
                         + ((w?.pValue ?? 1) < BenchVerdict.alpha ? "." : ": not distinguishable from noise."))
            md.table(headers: ["task", "before alignment", "fine-tuning", ref, "\(ref) − fine-tuning [95 % CI] (pairs)"],
                     rows: u.perTask.map { t in
                let text = "\(BenchResults.signed(t.paired.mean)) \(BenchResults.interval(t.paired.interval, signed: true)) (\(t.paired.differences.count))"
                    .replacingOccurrences(of: "  ", with: " ")
                return [label(t.task), BenchResults.number(t.before), BenchResults.number(t.finetune), BenchResults.number(t.mona),
                        (t.paired.verdict ?? 0) != 0 ? "**\(text)**" : text]
            })
        } else {
            md.paragraph("Not answerable yet: no task has the source probe measured for both MoNA and fine-tuning.")
        }

        md.heading("Does the modality gap predict the benefit?", level: 3)
        if !v.gapMeasured {
            md.paragraph("Not measured: this aggregation has no modality gap (`--no-gap`, or it could not be measured).")
        } else {
            let minimum = BenchVerdict.minimumCorrelationTasks
            md.paragraph("Spearman's ρ over the tasks of one body at a time (the OTDD of two bodies lives in two feature spaces "
                         + "and is never ranked together): the gap against MoNA's benefit over fine-tuning (relative "
                         + "difference of the task means) and against the source probe after fine-tuning (the reuse "
                         + "table's method). p: exact permutation test up to \(BenchStatistics.spearmanExactLimit) tasks, "
                         + "t approximation beyond (both as SciPy computes them); fewer than \(minimum) tasks: not tested.")
            md.bullets(v.gap.map { g in
                func text(_ s: SpearmanResult?, _ n: Int, _ what: String) -> String {
                    guard let s else { return "\(what): too few tasks (n = \(n) < \(minimum))" }
                    let significant = (s.pValue ?? 1) < BenchVerdict.alpha
                    return "\(what): ρ = \(String(format: "%+.3f", s.rho)), n = \(s.n), p = \(BenchResults.pValue(s.pValue)) "
                        + "(\(s.method.rawValue))" + (significant ? "" : ", not distinguishable from no correlation")
                }
                return "**\(g.body)**: " + text(g.benefit, g.benefitPoints.count, "gap vs. MoNA − fine-tuning benefit") + "; "
                    + text(g.reuse, g.reusePoints.count, "gap vs. reuse") + "."
            })
        }

        md.heading("Agreement with the paper", level: 3)
        md.paragraph("The MoNA paper's claims that this suite can check, with what was measured here on these tasks (the "
                     + "paper's own tasks, sizes and budgets differ, so compare directions and strengths, not values).")
        md.table(headers: ["paper's claim", "here", "reading"], rows: v.claims.map { [$0.claim, $0.here, $0.reading] })
    }

    /// Per task, MoNA's relative difference to each compared method, and the best method.
    private func verdictTable(_ v: BenchVerdict, into md: inout MarkdownReport) {
        let all = v.versusControls + v.body.filter { $0.a == v.reference } + (v.expert.map { [$0] } ?? [])
        guard !all.isEmpty else { return }
        let rows: [[String]] = tasks.compactMap { t in
            let cellsText = all.map { c -> String in
                guard let d = c.perTask.first(where: { $0.task == t }) else { return "—" }
                let text = BenchVerdict.percent(d.relative)
                return (d.paired?.verdict ?? 0) != 0 ? "**\(text)**" : text
            }
            guard cellsText.contains(where: { $0 != "—" }) else { return nil }
            let r = ranks(task: t)
            let best = r.filter { $0.value == r.values.min() }.keys.sorted().joined(separator: ", ")
            return [label(t), BenchResults.familyName(families[t]), metricLabel(t)] + cellsText + [best]
        }
        md.paragraph("Per task: (MoNA − other) / |other| of the task means, positive = MoNA better; **bold**: the paired "
                     + "95 % interval over seeds excludes 0. Best: the best mean of all methods with results on the task.")
        md.table(headers: ["task", "modality", "metric"] + all.map { "vs. \($0.b)" } + ["best"],
                 rows: rows)
    }

    /// The `verdict` object of results.json: the same numbers.
    func verdictJSON(_ v: BenchVerdict) -> RunValue {
        func n(_ x: Double?) -> RunValue { x.map { RunValue.number($0) } ?? .null }
        func ci(_ c: ConfidenceInterval?) -> RunValue { c.map { .array([.number($0.low), .number($0.high)]) } ?? .null }
        func count(_ x: Int) -> RunValue { .number(Double(x)) }
        func spearman(_ s: SpearmanResult?, _ points: Int) -> RunValue {
            guard let s else { return .object([("n", count(points)), ("rho", .null), ("p", .null), ("note", .string("too few tasks"))]) }
            return .object([("n", count(s.n)), ("rho", .number(s.rho)), ("p", n(s.pValue)), ("method", .string(s.method.rawValue)),
                            ("p_exact", n(s.exactPValue)), ("p_t", n(s.tPValue))])
        }
        func comparison(_ c: BenchVerdict.Comparison) -> RunValue {
            .object([
                ("a", .string(c.a)), ("b", .string(c.b)), ("tasks", count(c.tasks)),
                ("wins", count(c.across.wins)), ("ties", count(c.across.ties)), ("losses", count(c.across.losses)),
                ("intervals_above", count(c.intervalsAbove)), ("intervals_below", count(c.intervalsBelow)),
                ("intervals_holding", count(c.intervalsHolding)), ("without_interval", count(c.withoutInterval)),
                ("median_relative", n(c.medianRelative)), ("wilcoxon_p", n(c.across.wilcoxon?.pValue)),
                ("holm_p", n(c.holmPValue)), ("holm_family", count(c.holmFamily)),
                ("by_family", .array(c.byFamily.map { .object([("family", .string($0.family)), ("wins", count($0.wins)),
                                                               ("tasks", count($0.tasks))]) })),
                ("per_task", .array(c.perTask.map { d in
                    .object([("task", .string(d.task)), ("family", d.family.map { .string($0) } ?? .null),
                             ("mean_a", .number(d.meanA)), ("mean_b", .number(d.meanB)), ("difference", .number(d.difference)),
                             ("relative", n(d.relative)), ("pairs", count(d.paired?.differences.count ?? 0)),
                             ("paired_mean", n(d.paired?.mean)), ("paired_ci95", ci(d.paired?.interval))])
                })),
            ])
        }
        let cov = v.coverage
        return .object([
            ("complete", .bool(cov.complete)),
            ("coverage", .object([("tasks", count(cov.tasks)), ("tasks_with_results", count(cov.tasksWithResults)),
                                  ("cells", count(cov.cells)), ("cells_with_results", count(cov.cellsWithResults)),
                                  ("runs", count(cov.runs)), ("runs_finished", count(cov.runsFinished)),
                                  ("missing", .array(cov.missing.map { m in
                                      .object([("method", .string(m.method)), ("tasks", .array(m.tasks.map {
                                          .object([("task", .string($0.task)), ("finished", count($0.finished)),
                                                   ("expected", count($0.expected))])
                                      }))])
                                  }))])),
            ("alpha", .number(BenchVerdict.alpha)),
            ("relative", .string("(a - b) / |b| of the task means, positive = a better")),
            ("versus_controls", .array(v.versusControls.map(comparison))),
            ("body", .array(v.body.map(comparison))),
            ("expert", v.expert.map(comparison) ?? .null),
            ("expert_best", .array(v.expertBest.map { .string($0) })),
            ("expert_tasks", .array(v.expertTasks.map { .string($0) })),
            ("source_reuse", v.reuse.map { u in
                .object([("tasks", count(u.perTask.count)), ("wins", count(u.wins)), ("losses", count(u.losses)),
                         ("intervals_above", count(u.intervalsAbove)), ("intervals_below", count(u.intervalsBelow)),
                         ("mean_difference", n(u.meanDifference)), ("wilcoxon_p", n(u.wilcoxon?.pValue)),
                         ("per_task", .array(u.perTask.map { t in
                             .object([("task", .string(t.task)), ("before", n(t.before)), ("finetune", .number(t.finetune)),
                                      ("mona", .number(t.mona)),
                                      ("seeds", .array(t.paired.seeds.map { .number(Double($0)) })),
                                      ("differences", .array(t.paired.differences.map { .number($0) })),
                                      ("mean", .number(t.paired.mean)), ("ci95", ci(t.paired.interval))])
                         }))])
            } ?? .null),
            ("gap_measured", .bool(v.gapMeasured)),
            ("gap", .array(v.gap.map { g in
                .object([("body", .string(g.body)),
                         ("benefit", spearman(g.benefit, g.benefitPoints.count)),
                         ("benefit_points", .array(g.benefitPoints.map {
                             .object([("task", .string($0.task)), ("gap", .number($0.gap)), ("benefit", .number($0.benefit))])
                         })),
                         ("reuse", spearman(g.reuse, g.reusePoints.count)),
                         ("reuse_points", .array(g.reusePoints.map {
                             .object([("task", .string($0.task)), ("gap", .number($0.gap)), ("reuse", .number($0.reuse))])
                         }))])
            })),
            ("paper", .array(v.claims.map { .object([("claim", .string($0.claim)), ("here", .string($0.here)),
                                                      ("reading", .string($0.reading))]) })),
        ])
    }
}
