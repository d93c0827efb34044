import Foundation
import MonaRunKit

/// One (task, method) cell of a benchmark: the test metric over seeds and what stands behind it.
public struct BenchCell: Sendable {
    public var task: String
    public var method: String
    public var metric: String
    public var higherIsBetter: Bool
    /// Per seed, in suite order.
    public var seeds: [UInt64]
    public var values: [Double]
    /// Per seed that recorded one: the test metric of the final epoch's weights (no selection).
    public var finalValues: [Double] = []
    /// The run directories (relative to the bench output) the values come from.
    public var runs: [String]
    public var finalTrainLosses: [Double]
    /// Wall-clock seconds per run (runs that recorded them).
    public var seconds: [Double] = []
    public var sourceProbeAfter: [Double]
    /// The seed of each `sourceProbeAfter` value (runs without the measurement are left out of both).
    public var sourceProbeAfterSeeds: [UInt64] = []
    public var sourceProbeBefore: [Double]
    /// Per seed: source linear-probe accuracy over fine-tuning steps.
    public var reuseCurves: [[(step: Int, accuracy: Double)]]

    public var n: Int { values.count }
    public var mean: Double { BenchStatistics.mean(values) }
    /// Sample standard deviation over seeds (nil for one seed).
    public var standardDeviation: Double? { BenchStatistics.standardDeviation(values) }
    /// 95 % percentile bootstrap interval of the mean over seeds (nil for one seed).
    public var meanInterval: ConfidenceInterval? { BenchStatistics.bootstrapMeanInterval(values) }
    /// Mean of `finalValues` when every run recorded one (nil otherwise, so that means are over the same seeds).
    public var meanFinalValue: Double? {
        finalValues.count == values.count && !finalValues.isEmpty ? BenchStatistics.mean(finalValues) : nil
    }
    public var meanSeconds: Double? { seconds.isEmpty ? nil : BenchStatistics.mean(seconds) }
    public var meanFinalTrainLoss: Double? { finalTrainLosses.isEmpty ? nil : BenchStatistics.mean(finalTrainLosses) }
    public var meanSourceProbeAfter: Double? { sourceProbeAfter.isEmpty ? nil : BenchStatistics.mean(sourceProbeAfter) }
    public var meanSourceProbeBefore: Double? { sourceProbeBefore.isEmpty ? nil : BenchStatistics.mean(sourceProbeBefore) }

    /// The seeds' reuse curves averaged per step (each step over the seeds that measured it).
    public var meanReuseCurve: [(step: Int, accuracy: Double)] {
        var sums: [Int: (Double, Int)] = [:]
        for curve in reuseCurves { for p in curve { let s = sums[p.step] ?? (0, 0); sums[p.step] = (s.0 + p.accuracy, s.1 + 1) } }
        return sums.keys.sorted().map { ($0, sums[$0]!.0 / Double(sums[$0]!.1)) }
    }
}

/// A benchmark's aggregate: per task and method mean ± std of the test metric, average ranks, final training
/// losses, source-knowledge reuse and the modality gap per task; every number traceable to its run directories.
public struct BenchResults: Sendable {
    public var suite: String
    public var tasks: [String]
    public var methods: [String]
    public var cells: [BenchCell]
    /// Per task, the task's body (for the gap table).
    public var bodies: [String: String]
    /// Modality gap per task (absent when it could not be measured).
    public var gaps: [String: TaskModalityGap]
    /// Runs that failed (label, one-line reason).
    public var failures: [(run: String, error: String)]
    /// The suite's variant columns (an ablation section when there are any).
    public var variants: [BenchVariant] = []
    /// The suite's reference method for the paired comparisons (nil: `mona` when present, else the first).
    public var reference: String? = nil
    /// Per task, its family (`BenchTask.Family`; absent for tasks without one) and how many seeds the suite
    /// asks of each method there (for the verdict's coverage).
    public var families: [String: String] = [:]
    public var expectedSeeds: [String: Int] = [:]

    public func cell(_ task: String, _ method: String) -> BenchCell? {
        cells.first { $0.task == task && $0.method == method }
    }

    /// Reads every finished run of `suite` under `output`.
    public static func collect(suite: BenchSuite, output: URL, outcomes: [BenchRunOutcome] = [],
                               gaps: [String: TaskModalityGap] = [:]) -> BenchResults {
        var cells: [BenchCell] = []
        for task in suite.tasks {
            for method in suite.methods {
                var cell = BenchCell(task: task.name, method: method, metric: "", higherIsBetter: true, seeds: [], values: [],
                                     runs: [], finalTrainLosses: [], sourceProbeAfter: [], sourceProbeBefore: [],
                                     reuseCurves: [])
                for seed in suite.seeds(for: task) {
                    let run = BenchRun(task: task, method: method, seed: seed)
                    guard let r = BenchRunRecord(directory: output.appendingPathComponent(run.relativePath, isDirectory: true))
                    else { continue }
                    cell.metric = r.metric
                    cell.higherIsBetter = r.higherIsBetter
                    cell.seeds.append(seed)
                    cell.values.append(r.testValue)
                    if let x = r.testFinalValue { cell.finalValues.append(x) }
                    cell.runs.append(run.relativePath)
                    if let x = r.finalTrainLoss { cell.finalTrainLosses.append(x) }
                    if let x = r.seconds { cell.seconds.append(x) }
                    if let x = r.sourceProbeAfter { cell.sourceProbeAfter.append(x); cell.sourceProbeAfterSeeds.append(seed) }
                    if let x = r.sourceProbeBefore { cell.sourceProbeBefore.append(x) }
                    if !r.reuseCurve.isEmpty { cell.reuseCurves.append(r.reuseCurve) }
                }
                if cell.n > 0 { cells.append(cell) }
            }
        }
        let failures = outcomes.filter { $0.status == .failed }.map { ($0.run.label, $0.error ?? "failed") }
        var results = BenchResults(suite: suite.name, tasks: suite.tasks.map(\.name), methods: suite.methods, cells: cells,
                                   bodies: Dictionary(suite.tasks.map { ($0.name, $0.body) }, uniquingKeysWith: { a, _ in a }),
                                   gaps: gaps, failures: failures,
                                   variants: suite.variants.filter { suite.methods.contains($0.name) }, reference: suite.reference)
        for t in suite.tasks {
            results.families[t.name] = results.families[t.name] ?? t.family
            results.expectedSeeds[t.name] = results.expectedSeeds[t.name] ?? suite.seeds(for: t).count
        }
        return results
    }

    // MARK: Aggregates

    /// Per task, each method's rank by mean test metric (1 = best, direction-aware, ties averaged).
    public func ranks(task: String) -> [String: Double] {
        let present = cells.filter { $0.task == task && $0.mean.isFinite }
        guard let first = present.first else { return [:] }
        let r = BenchStatistics.averageRanks(present.map(\.mean), descending: first.higherIsBetter)
        return Dictionary(uniqueKeysWithValues: zip(present.map(\.method), r))
    }

    /// Each method's rank averaged over the tasks where it has a result, and how many tasks that is.
    public var averageRanks: [String: (rank: Double, tasks: Int)] {
        var sums: [String: (Double, Int)] = [:]
        for t in tasks { for (m, r) in ranks(task: t) { let s = sums[m] ?? (0, 0); sums[m] = (s.0 + r, s.1 + 1) } }
        return sums.mapValues { ($0.0 / Double($0.1), $0.1) }
    }

    /// The method whose reuse stands for a task in the gap–reuse relation: vanilla fine-tuning (what MoNA's
    /// analysis plots), else the first method with a measurement.
    public func reuseMethod(task: String) -> String? {
        let withReuse = methods.filter { cell(task, $0)?.meanSourceProbeAfter != nil }
        return withReuse.contains("finetune") ? "finetune" : withReuse.first
    }

    /// Per task with both numbers: (task, OTDD gap, source linear-probe accuracy after fine-tuning).
    public var gapReusePoints: [(task: String, gap: Double, reuse: Double)] {
        tasks.compactMap { t in
            guard let g = gaps[t]?.otdd, g.isFinite, let m = reuseMethod(task: t),
                  let r = cell(t, m)?.meanSourceProbeAfter else { return nil }
            return (t, g, r)
        }
    }

    // MARK: Text forms

    static func number(_ x: Double?) -> String {
        guard let x else { return "—" }
        guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "inf" : "-inf") }
        if x == 0 || (abs(x) >= 1e-3 && abs(x) < 1e5) { return String(format: "%.4f", x) }
        return String(format: "%.4g", x)
    }

    func metricLabel(_ task: String) -> String {
        guard let c = cells.first(where: { $0.task == task }) else { return "—" }
        return "\(c.metric) \(c.higherIsBetter ? "↑" : "↓")"
    }

    /// The Markdown tables (results.md).
    public func markdown() -> String { markdown(comparisons: BenchComparisons(results: self)) }

    func markdown(comparisons: BenchComparisons) -> String {
        var md = MarkdownReport(title: "Benchmark results: \(suite)")
        md.paragraph("Test metric of the best-validation weights, mean ± sample standard deviation over seeds, its 95 % "
                     + "percentile bootstrap interval over seeds in brackets (none for one seed), n runs in parentheses. "
                     + "↑: higher is better, ↓: lower is better. Rank: per task by mean (1 = best, ties averaged), "
                     + "averaged over the tasks where the method has results. Run directories behind every cell: results.json.")
        if hasVerdict { verdictMarkdown(BenchVerdict(results: self, comparisons: comparisons), into: &md) }
        testMetricTable(into: &md)
        ablationMarkdown(comparisons, into: &md)
        statisticsMarkdown(comparisons, into: &md)

        finalEpochTable(into: &md)

        md.heading("Final training loss")
        md.paragraph("Mean training loss of the last fine-tuning epoch, averaged over seeds.")
        md.table(headers: ["task"] + methods, rows: tasks.map { t in
            [label(t)] + methods.map { BenchResults.number(cell(t, $0)?.meanFinalTrainLoss) }
        })

        timeTable(into: &md)

        md.heading("Source knowledge reuse")
        md.paragraph("Linear-probe accuracy on held-out labelled source data through the body after fine-tuning "
                     + "(before any alignment in parentheses), mean over seeds: how much of what the body knew survives.")
        md.table(headers: ["task"] + methods, rows: tasks.map { t in
            [label(t)] + methods.map { m in
                guard let c = cell(t, m), let a = c.meanSourceProbeAfter else { return "—" }
                return "\(BenchResults.number(a)) (\(BenchResults.number(c.meanSourceProbeBefore)))"
            }
        })

        md.heading("Modality gap")
        md.paragraph("Target training data through the freshly initialised target embedder and the pretrained body "
                     + "vs. source data through the body's own embedder, mean-pooled: label-aware OTDD (k-means "
                     + "pseudo-labels for targets without classes) and MMD². Reuse: source linear-probe accuracy after "
                     + "fine-tuning of the method named.")
        md.table(headers: ["task", "body", "OTDD", "MMD²", "labels", "reuse", "reuse method"], rows: tasks.map { t in
            let g = gaps[t]
            let m = reuseMethod(task: t)
            return [label(t), bodies[t] ?? "", BenchResults.number(g?.otdd), BenchResults.number(g?.mmd),
                    g.map { $0.labelAware ? "classes" : "k-means" } ?? "—",
                    BenchResults.number(m.flatMap { cell(t, $0)?.meanSourceProbeAfter }), m ?? "—"]
        })
        let byBody = gapReuseByBody
        md.paragraph("Spearman ρ of gap vs. reuse, within each body (two bodies' gaps are not comparable): "
                     + (byBody.isEmpty ? "no task with both." : byBody.map { b in
                        "\(b.body) \(b.test.map { String(format: "%.4f (p = %@)", $0.rho, BenchResults.pValue($0.pValue)) } ?? "—") "
                            + "over \(b.tasks) task\(b.tasks == 1 ? "" : "s")"
                     }.joined(separator: "; ")))
        if !failures.isEmpty {
            md.heading("Failed runs")
            md.bullets(failures.map { "`\($0.run)`: \($0.error)" })
        }
        return md.text
    }

    /// The short form printed at the end of `mona bench`: the test metric with its intervals, the same at the
    /// final epoch, and the time per run. Everything else is in results.md.
    public func summaryMarkdown() -> String {
        var md = MarkdownReport(title: "Benchmark results: \(suite)")
        md.paragraph("Test metric of the best-validation weights, mean ± sample standard deviation [95 % bootstrap "
                     + "interval over seeds] (n runs); paired differences, tests and every other table: results.md.")
        testMetricTable(into: &md)
        finalEpochTable(into: &md)
        timeTable(into: &md)
        return md.text
    }

    private func testMetricTable(into md: inout MarkdownReport) {
        let ranksByTask = Dictionary(uniqueKeysWithValues: tasks.map { ($0, ranks(task: $0)) })
        var rows: [[String]] = tasks.map { t in
            [label(t), metricLabel(t)] + methods.map { m in
                guard let c = cell(t, m) else { return "—" }
                let best = ranksByTask[t]?[m] == ranksByTask[t]?.values.min()
                let ci = c.meanInterval.map { " " + BenchResults.interval($0) } ?? ""
                let text = "\(BenchResults.number(c.mean)) ± \(BenchResults.number(c.standardDeviation))\(ci) (\(c.n))"
                return best ? "**\(text)**" : text
            }
        }
        let avg = averageRanks
        rows.append(["average rank", ""] + methods.map { m in avg[m].map { String(format: "%.2f (%d)", $0.rank, $0.tasks) } ?? "—" })
        md.heading("Test metric")
        md.table(headers: ["task", "metric"] + methods, rows: rows)
    }

    private func finalEpochTable(into md: inout MarkdownReport) {
        md.heading("Test metric at the final epoch")
        md.paragraph("The same runs evaluated with the weights of their last fine-tuning epoch instead of the "
                     + "selected ones, mean ± sample standard deviation over seeds (a learner without epochs shows its one fit). "
                     + "With a handful of validation samples the selection itself is noisy; this table shows how "
                     + "much the ranking depends on it.")
        md.table(headers: ["task"] + methods, rows: tasks.map { t in
            [label(t)] + methods.map { m in
                guard let c = cell(t, m), let x = c.meanFinalValue else { return "—" }
                return "\(BenchResults.number(x)) ± \(BenchResults.number(BenchStatistics.standardDeviation(c.finalValues)))"
            }
        })
    }

    private func timeTable(into md: inout MarkdownReport) {
        md.heading("Time per run")
        md.paragraph("Wall-clock seconds of one run (alignment, fine-tuning, evaluation), mean over seeds, as measured "
                     + "on the machine that ran it (shared machines make these noisy).")
        md.table(headers: ["task"] + methods, rows: tasks.map { t in
            [label(t)] + methods.map { m in cell(t, m)?.meanSeconds.map { String(format: "%.0f", $0) } ?? "—" }
        })
    }

    /// One row per (task, method) cell (results.csv).
    public func csv() -> String { csv(comparisons: BenchComparisons(results: self)) }

    /// `paired_*`: the reference method (`mona`) minus this method on the seeds both ran, oriented so that
    /// positive = the reference better, with its 95 % bootstrap interval (empty for the reference itself).
    func csv(comparisons: BenchComparisons) -> String {
        var lines = ["task,label,method,metric,higher_is_better,n,mean,std,ci95_low,ci95_high,values,final_epoch_mean,final_train_loss,"
                     + "source_lp_after,source_lp_before,average_rank_in_task,gap_otdd,gap_mmd,reference,paired_n,"
                     + "paired_diff,paired_ci95_low,paired_ci95_high,runs"]
        func f(_ x: Double?) -> String { x.map { $0.isFinite ? String($0) : ($0.isNaN ? "NaN" : ($0 > 0 ? "inf" : "-inf")) } ?? "" }
        for t in tasks {
            let r = ranks(task: t)
            for m in methods {
                guard let c = cell(t, m) else { continue }
                let ci = c.meanInterval
                let p = comparisons.paired.first { $0.task == t && $0.method == m }
                let row = [csvField(t), csvField(label(t)), csvField(m), c.metric, String(c.higherIsBetter), String(c.n),
                           f(c.mean), f(c.standardDeviation), f(ci?.low), f(ci?.high),
                           c.values.map { f($0) }.joined(separator: ";"), f(c.meanFinalValue), f(c.meanFinalTrainLoss),
                           f(c.meanSourceProbeAfter), f(c.meanSourceProbeBefore), f(r[m]), f(gaps[t]?.otdd),
                           f(gaps[t]?.mmd), p.map { csvField($0.reference) } ?? "", p.map { String($0.differences.count) } ?? "",
                           f(p?.mean), f(p?.interval?.low), f(p?.interval?.high), csvField(c.runs.joined(separator: ";"))]
                lines.append(row.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Everything, with the run directories behind each cell (results.json).
    public func json() -> RunValue { json(comparisons: BenchComparisons(results: self)) }

    func json(comparisons: BenchComparisons) -> RunValue {
        func n(_ x: Double?) -> RunValue { x.map { RunValue.number($0) } ?? .null }
        let avg = averageRanks
        let taskValues: [RunValue] = tasks.map { t in
            let r = ranks(task: t)
            let methodValues: [RunValue] = methods.compactMap { m in
                guard let c = cell(t, m) else { return nil }
                return .object([
                    ("method", .string(m)), ("n", .number(Double(c.n))), ("mean", n(c.mean)), ("std", n(c.standardDeviation)),
                    ("ci95", c.meanInterval.map { RunValue.array([.number($0.low), .number($0.high)]) } ?? RunValue.null),
                    ("values", .array(c.values.map { .number($0) })), ("seeds", .array(c.seeds.map { .number(Double($0)) })),
                    ("final_epoch_mean", n(c.meanFinalValue)),
                    ("final_epoch_values", .array(c.finalValues.map { .number($0) })),
                    ("rank", n(r[m])), ("final_train_loss", n(c.meanFinalTrainLoss)),
                    ("final_train_losses", .array(c.finalTrainLosses.map { .number($0) })),
                    ("seconds", n(c.meanSeconds)),
                    ("source_lp_after", n(c.meanSourceProbeAfter)), ("source_lp_before", n(c.meanSourceProbeBefore)),
                    ("reuse_curve", .array(c.meanReuseCurve.map { .array([.number(Double($0.step)), .number($0.accuracy)]) })),
                    ("runs", .array(c.runs.map { .string($0) })),
                ])
            }
            let first = cells.first { $0.task == t }
            var fields: [(String, RunValue)] = [("task", .string(t)), ("label", .string(label(t))),
                                                ("body", .string(bodies[t] ?? "")),
                                                ("metric", first.map { .string($0.metric) } ?? .null),
                                                ("higher_is_better", first.map { .bool($0.higherIsBetter) } ?? .null)]
            if let g = gaps[t] {
                fields.append(("gap", .object([("otdd", .number(g.otdd)), ("mmd", .number(g.mmd)),
                                               ("label_aware", .bool(g.labelAware)),
                                               ("target_samples", .number(Double(g.targetSamples))),
                                               ("source_samples", .number(Double(g.sourceSamples)))])))
            } else {
                fields.append(("gap", .null))
            }
            fields.append(("reuse_method", reuseMethod(task: t).map { .string($0) } ?? .null))
            fields.append(("methods", .array(methodValues)))
            return .object(fields)
        }
        var fields: [(String, RunValue)] = [
            ("suite", .string(suite)),
            ("methods", .array(methods.map { .string($0) })),
            ("tasks", .array(taskValues)),
            ("average_rank", .object(methods.compactMap { m in
                avg[m].map { (m, RunValue.object([("rank", .number($0.rank)), ("tasks", .number(Double($0.tasks)))])) }
            })),
            ("gap_reuse", .object([
                ("by_body", .array(gapReuseByBody.map { b in
                    .object([("body", .string(b.body)), ("tasks", .number(Double(b.tasks))), ("spearman", n(b.test?.rho)),
                             ("p", n(b.test?.pValue))])
                })),
                ("points", .array(gapReusePoints.map { .object([("task", .string($0.task)), ("gap", .number($0.gap)),
                                                                 ("reuse", .number($0.reuse))]) })),
            ])),
            ("statistics", statisticsJSON(comparisons)),
        ]
        // Only suites with variant columns have the key, so other suites' results.json stay as they were.
        if !variants.isEmpty { fields.append(("ablations", ablationJSON(comparisons))) }
        if hasVerdict { fields.append(("verdict", verdictJSON(BenchVerdict(results: self, comparisons: comparisons)))) }
        fields.append(("failures", .array(failures.map { .object([("run", .string($0.run)), ("error", .string($0.error))]) })))
        return .object(fields)
    }
}
