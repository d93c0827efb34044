import Foundation
import MonaRunKit

/// Plots and a report section for the alignment stages' records (MoNA outer steps, ORCA steps), shared by
/// `mona align` and `mona fit`.
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

    /// Writes `plots/mona.svg` (L_align, L_uniform, L_outer(θ′), target loss per outer step),
    /// `plots/mona-grad-ratio.svg` (λ‖∇φL_outer‖/‖∇φL_task‖ and ΔL_outer per step) and `plots/orca.svg`, for the
    /// stages present in `records`. Returns the written plots as report-relative paths with captions.
    @discardableResult
    public static func writePlots(records: [[(String, RunValue)]], run: RunDirectory) throws -> [(path: String, caption: String)] {
        var written: [(String, String)] = []
        func write(_ name: String, _ caption: String, _ svg: String) throws {
            try FileManager.default.createDirectory(at: run.plots, withIntermediateDirectories: true)
            try AtomicFile.write(svg, to: run.plot(name))
            written.append(("plots/" + name, caption))
        }
        let mona = curve(records, phase: "mona", key: "target_loss")
        if !mona.isEmpty {
            let series = [("align", "L_align (θ′)"), ("uniform", "L_uniform (θ′)"), ("outer_loss", "L_outer (θ′)"),
                          ("target_loss", "target loss")].map { key, name in
                SVGPlot.Series(name: name, points: curve(records, phase: "mona", key: key))
            }.filter { !$0.points.isEmpty }
            try write("mona.svg", "MoNA stage 1: losses per outer step",
                      SVGPlot.lineChart(title: "MoNA stage 1", xLabel: "outer step", yLabel: "loss", series: series))
            let ratio = [SVGPlot.Series(name: "λ‖∇φL_outer‖ / ‖∇φL_task‖", points: curve(records, phase: "mona", key: "grad_ratio")),
                         SVGPlot.Series(name: "L_outer(θ′) − L_outer(θ)", points: curve(records, phase: "mona", key: "outer_delta"))]
                .filter { !$0.points.isEmpty }
            try write("mona-grad-ratio.svg", "MoNA: gradient ratio and the simulated step's effect on L_outer",
                      SVGPlot.lineChart(title: "MoNA gradient ratio", xLabel: "outer step", yLabel: "value", series: ratio))
        }
        let orca = ["otdd", "mmd"].map { SVGPlot.Series(name: $0.uppercased(), points: curve(records, phase: "orca", key: $0)) }
            .filter { !$0.points.isEmpty }
        if !orca.isEmpty {
            try write("orca.svg", "ORCA: distance to the source features per step",
                      SVGPlot.lineChart(title: "ORCA embedder alignment", xLabel: "step", yLabel: "distance", series: orca))
        }
        return written
    }

    /// A Markdown summary of the alignment stages (first/last values, mean gradient ratio) with the plots, or ""
    /// when `records` hold no MoNA or ORCA step.
    public static func section(records: [[(String, RunValue)]], plots: [(path: String, caption: String)]) -> String {
        var rows: [[String]] = []
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        func add(_ phase: String, _ key: String, _ label: String) {
            let c = curve(records, phase: phase, key: key)
            guard let first = c.first, let last = c.last else { return }
            let mean = c.map(\.y).reduce(0, +) / Double(c.count)
            rows.append([label, String(c.count), f(first.y), f(last.y), f(mean)])
        }
        for (k, l) in [("target_loss", "MoNA target loss"), ("align", "MoNA L_align (θ′)"), ("uniform", "MoNA L_uniform (θ′)"),
                       ("outer_loss", "MoNA L_outer (θ′)"), ("outer_delta", "MoNA L_outer(θ′) − L_outer(θ)"),
                       ("grad_ratio", "MoNA gradient ratio (raw)")] { add("mona", k, l) }
        add("orca", "otdd", "ORCA OTDD")
        add("orca", "mmd", "ORCA MMD²")
        guard !rows.isEmpty else { return "" }
        var r = MarkdownReport(title: "")
        r.table(headers: ["quantity", "steps", "first", "last", "mean"], rows: rows)
        for p in plots { r.image(p.path, alt: p.caption) }
        // Drop the empty title line MarkdownReport starts with.
        let body = r.text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
        return "\n## Alignment stages\n" + body
    }
}
