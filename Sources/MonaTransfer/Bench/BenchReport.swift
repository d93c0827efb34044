import Foundation
import MonaFormats
import MonaRunKit

/// The modality gap of each task of a suite, cached under `<output>/gap/<task>.json` (recomputed when the
/// task's settings change).
public enum BenchGaps {
    struct Cached: Codable {
        var task: BenchTask
        var seed: UInt64
        var gap: TaskModalityGap
    }

    /// Measures (or reads back) the gap of every task whose data exists; a task whose gap cannot be measured is
    /// left out and `onError` hears why.
    public static func measure(suite: BenchSuite, output: URL, assets: AssetRegistry = AssetRegistry(),
                               onError: ((String, String) -> Void)? = nil) -> [String: TaskModalityGap] {
        let folder = output.appendingPathComponent("gap", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let seed = suite.seeds.first ?? 0
        var gaps: [String: TaskModalityGap] = [:]
        for task in suite.tasks where BenchSuite.taskExists(task.name) {
            let file = folder.appendingPathComponent(BenchRun.pathComponent(task.name) + ".json")
            if let data = try? Data(contentsOf: file), let cached = try? JSONDecoder().decode(Cached.self, from: data),
               cached.task == task, cached.seed == seed {
                gaps[task.name] = cached.gap
                continue
            }
            do {
                let config = suite.config(task: task, method: "finetune", seed: seed)
                let gap = try TaskModalityGap.measure(config: config, assets: assets)
                gaps[task.name] = gap
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try AtomicFile.write(try encoder.encode(Cached(task: task, seed: seed, gap: gap)), to: file)
            } catch {
                onError?(task.name, "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; "))
            }
        }
        return gaps
    }
}

extension BenchResults {
    /// Writes `results.{md,csv,json}`, `plots/*.svg` and `report.md` into `output`; returns the files written.
    @discardableResult
    public func write(to output: URL, outcomes: [BenchRunOutcome] = [], wallSeconds: Double? = nil) throws -> [URL] {
        let fm = FileManager.default
        let plots = output.appendingPathComponent("plots", isDirectory: true)
        try fm.createDirectory(at: plots, withIntermediateDirectories: true)
        var written: [URL] = []
        func put(_ text: String, _ name: String) throws {
            let url = output.appendingPathComponent(name)
            try AtomicFile.write(text, to: url)
            written.append(url)
        }
        let comparisons = BenchComparisons(results: self)
        let tables = markdown(comparisons: comparisons)
        try put(tables, "results.md")
        try put(csv(comparisons: comparisons), "results.csv")
        try put(json(comparisons: comparisons).json + "\n", "results.json")
        let labels = taskLabels

        var figures: [(file: String, caption: String)] = []
        for t in tasks {
            let present = methods.compactMap { cell(t, $0) }
            guard let first = present.first else { continue }
            let name = "plots/metric-\(BenchRun.pathComponent(labels[t] ?? t)).svg"
            var bars = SVGPlot.Series(name: "", values: present.map(\.mean))
            bars.intervals = present.map { c in c.meanInterval.map { (low: $0.low, high: $0.high) } }
            let svg = SVGPlot.barChart(title: "\(labels[t] ?? t): test \(first.metric) (\(first.higherIsBetter ? "higher" : "lower") is better)",
                                       yLabel: first.metric, groups: present.map(\.method),
                                       series: [bars])
            try put(svg, name)
            figures.append((name, "\(labels[t] ?? t): test \(first.metric), mean over seeds with its 95 % bootstrap interval"))
        }
        for t in tasks {
            let series = methods.compactMap { m -> SVGPlot.Series? in
                guard let c = cell(t, m), !c.meanReuseCurve.isEmpty else { return nil }
                return SVGPlot.Series(name: m, points: c.meanReuseCurve.map { (Double($0.step), $0.accuracy) })
            }
            guard !series.isEmpty else { continue }
            let name = "plots/reuse-\(BenchRun.pathComponent(labels[t] ?? t)).svg"
            try put(SVGPlot.lineChart(title: "\(labels[t] ?? t): source linear-probe accuracy during fine-tuning",
                                      xLabel: "fine-tuning step", yLabel: "source LP accuracy", series: series), name)
            figures.append((name, "\(labels[t] ?? t): source knowledge reuse over fine-tuning (mean over seeds)"))
        }
        // One gap figure per body; a pooled one from an earlier aggregation would mix two bodies' scales.
        for g in gapFigures(BenchVerdict(results: self, comparisons: comparisons)) {
            try put(g.svg, g.file)
            figures.append((g.file, g.caption))
        }
        let pooled = output.appendingPathComponent("plots/gap-vs-reuse.svg")
        if fm.fileExists(atPath: pooled.path) { try fm.removeItem(at: pooled) }
        let avg = averageRanks
        let ranked = methods.filter { avg[$0] != nil }
        if !ranked.isEmpty {
            try put(SVGPlot.barChart(title: "Average rank across tasks (1 = best)", yLabel: "average rank", groups: ranked,
                                     series: [SVGPlot.Series(name: "", values: ranked.map { avg[$0]!.rank })]),
                    "plots/average-rank.svg")
            figures.append(("plots/average-rank.svg", "average rank per method"))
        }
        let cdFile = output.appendingPathComponent("plots/cd-diagram.svg")
        if let nemenyi = comparisons.ranks.nemenyi {
            let r = comparisons.ranks
            let p = r.friedman.map { "Friedman p = " + BenchResults.pValue($0.pValue) } ?? "no Friedman test"
            try put(SVGPlot.criticalDifferenceDiagram(
                title: "Average ranks over \(r.tasks.count) tasks (Nemenyi α = \(nemenyi.alpha); \(p))",
                names: r.methods, ranks: nemenyi.averageRanks, cliques: nemenyi.cliques,
                criticalDifference: nemenyi.criticalDifference), "plots/cd-diagram.svg")
            figures.append(("plots/cd-diagram.svg", "critical-difference diagram: average ranks (1 = best), methods joined "
                            + "by a bar are not significantly different (Nemenyi)"))
        } else if fm.fileExists(atPath: cdFile.path) {
            try fm.removeItem(at: cdFile)    // a diagram from an earlier aggregation would no longer match the tables
        }

        var report = MarkdownReport(title: "Benchmark report: \(suite)")
        let finished = outcomes.filter { $0.status == .finished }.count
        let skipped = outcomes.filter { $0.status == .skipped }.count
        var facts = ["tasks: \(tasks.map { labels[$0] ?? $0 }.joined(separator: ", "))", "methods: \(methods.joined(separator: ", "))",
                     "results: [results.md](results.md), [results.csv](results.csv), [results.json](results.json) "
                        + "(run directories behind every cell)",
                     "runs: `runs/<task>/<method>/seed<k>/` (each with its own report.md, metrics.jsonl, plots)"]
        if !outcomes.isEmpty {
            facts.append("this invocation: \(finished) runs done now, \(skipped) skipped (already finished), \(failures.count) failed")
        }
        if let wallSeconds { facts.append(String(format: "wall time: %.1f s", wallSeconds)) }
        report.bullets(facts)
        report.raw(tables.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
            .joined(separator: "\n").replacingOccurrences(of: "\n## ", with: "\n### "))
        report.heading("Figures")
        for f in figures { report.image(f.file, alt: f.caption) }
        let url = output.appendingPathComponent("report.md")
        try report.write(to: url)
        written.append(url)
        return written
    }
}
