import Foundation
import MonaRunKit

/// Plots and a report section for the alignment stages' records (MoNA outer steps, ORCA steps), shared by
/// `mona align` and `mona fit`. What to plot comes from each method's `MethodReport`.
public enum AlignmentReport {
    typealias Record = [(String, RunValue)]

    static func number(_ r: Record, _ k: String) -> Double? { r.first { $0.0 == k }?.1.doubleValue }
    static func text(_ r: Record, _ k: String) -> String? { r.first { $0.0 == k }?.1.stringValue }

    /// `(step, value)` of `key` over the records of `phase`.
    static func curve(_ records: [Record], phase: String, key: String) -> [(x: Double, y: Double)] {
        records.filter { text($0, "phase") == phase }.compactMap { r in
            guard let s = number(r, "step"), let v = number(r, key), v.isFinite else { return nil }
            return (s, v)
        }
    }

    /// Writes the plots each method report declares (e.g. `plots/mona.svg`, `plots/mona-grad-ratio.svg`,
    /// `plots/orca.svg`) for the quantities present in `records`. Returns the written plots as report-relative
    /// paths with captions.
    @discardableResult
    public static func writePlots(records: [[(String, RunValue)]], reports: [MethodReport],
                                  run: RunDirectory) throws -> [(path: String, caption: String)] {
        var written: [(String, String)] = []
        for report in reports {
            for plot in report.plots {
                let series = plot.quantities.map {
                    SVGPlot.Series(name: $0.label, points: curve(records, phase: report.phase, key: $0.key))
                }.filter { !$0.points.isEmpty }
                guard !series.isEmpty else { continue }
                try FileManager.default.createDirectory(at: run.plots, withIntermediateDirectories: true)
                try AtomicFile.write(SVGPlot.lineChart(title: plot.title, xLabel: report.stepLabel, yLabel: plot.yLabel,
                                                       series: series), to: run.plot(plot.file))
                written.append(("plots/" + plot.file, plot.caption))
            }
        }
        return written
    }

    /// A Markdown summary of the methods' stage records (first/last/mean of each quantity in their tables) with
    /// the plots, or "" when `records` hold none.
    public static func section(records: [[(String, RunValue)]], reports: [MethodReport],
                               plots: [(path: String, caption: String)]) -> String {
        var rows: [[String]] = []
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        for report in reports {
            for q in report.table {
                let c = curve(records, phase: report.phase, key: q.key)
                guard let first = c.first, let last = c.last else { continue }
                let mean = c.map(\.y).reduce(0, +) / Double(c.count)
                rows.append([q.label, String(c.count), f(first.y), f(last.y), f(mean)])
            }
        }
        guard !rows.isEmpty else { return "" }
        var r = MarkdownReport(title: "")
        r.table(headers: ["quantity", "steps", "first", "last", "mean"], rows: rows)
        for p in plots { r.image(p.path, alt: p.caption) }
        // Drop the empty title line MarkdownReport starts with.
        let body = r.text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
        return "\n## Alignment stages\n" + body
    }
}
