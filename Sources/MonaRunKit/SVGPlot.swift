import Foundation
import MonaJSON

/// Standalone SVG charts for run reports: line charts (optionally log-scaled), grouped bar charts and labelled
/// scatter plots.
///
/// Output is a complete SVG document (`xmlns`, `viewBox`, fixed 720×440 size) with a title, axes with round tick
/// values, grid lines, axis labels, a legend and optional error bars. Non-finite points (and non-positive ones
/// on a log axis) are skipped — a line breaks there — and a chart without any drawable point says "no data".
/// Text is XML-escaped.
public enum SVGPlot {
    /// A named series of points, optionally with a symmetric error (± half-width) per point.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Error bar half-widths, one per point (missing, negative or non-finite entries draw no bar).
        public var errors: [Double]?
        /// Asymmetric error bars (e.g. confidence intervals), one per point; bar charts prefer them to `errors`.
        public var intervals: [(low: Double, high: Double)?]?

        public init(name: String, points: [(x: Double, y: Double)], errors: [Double]? = nil) {
            self.name = name
            self.points = points
            self.errors = errors
        }

        /// Values at x = 0, 1, 2, … (for bar charts: one value per group).
        public init(name: String, values: [Double], errors: [Double]? = nil) {
            self.init(name: name, points: values.enumerated().map { (Double($0.offset), $0.element) }, errors: errors)
        }

        func error(at i: Int) -> Double? {
            guard let errors, i < errors.count, errors[i].isFinite, errors[i] > 0 else { return nil }
            return errors[i]
        }

        /// The error bar's ends around `y` at point i: the interval when given, else y ± error.
        func errorRange(at i: Int, y: Double) -> (low: Double, high: Double)? {
            if let intervals {
                guard i < intervals.count, let r = intervals[i], r.low.isFinite, r.high.isFinite, r.high > r.low else { return nil }
                return r
            }
            return error(at: i).map { (y - $0, y + $0) }
        }
    }

    /// Colour-blind-friendly palette (Tableau 10), cycled by series index.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                          "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#7f7f7f"]

    static func color(_ i: Int) -> String { palette[i % palette.count] }

    /// Lines through each series' points in the given order, with markers when points are few.
    public static func lineChart(title: String, xLabel: String, yLabel: String, series: [Series],
                                 logY: Bool = false) -> String {
        func drawable(_ p: (x: Double, y: Double)) -> Bool {
            p.x.isFinite && p.y.isFinite && (!logY || p.y > 0)
        }
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for (i, p) in s.points.enumerated() where drawable(p) {
                xs.append(p.x)
                ys.append(p.y)
                if let e = s.error(at: i) {
                    ys.append(p.y + e)
                    if !logY || p.y - e > 0 { ys.append(p.y - e) }
                }
            }
        }
        let legend = series.enumerated().map { (name: $0.element.name, color: color($0.offset), bar: false) }
        guard !xs.isEmpty else {
            return Chart.noData(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend)
        }
        let xAxis = SVGAxis.linear(xs)
        let yAxis = logY ? SVGAxis.logarithmic(ys, padding: 0.03) : SVGAxis.linear(ys, padding: 0.04)
        var chart = Chart(title: title, xLabel: xLabel, yLabel: yLabel, yAxis: yAxis, legend: legend,
                          xTickLabels: xAxis.ticks.map(\.label))
        chart.drawGrid(xAxis: xAxis)
        chart.beginClip()
        for (index, s) in series.enumerated() {
            let color = color(index)
            var path = "", penDown = false
            var isolated: [Int] = []
            for (i, p) in s.points.enumerated() {
                guard drawable(p) else { penDown = false; continue }
                let (px, py) = (chart.x(xAxis.position(p.x)), chart.y(yAxis.position(p.y)))
                path += (penDown ? " L" : (path.isEmpty ? "M" : " M")) + "\(f(px)) \(f(py))"
                let previousOK = i > 0 && drawable(s.points[i - 1])
                let nextOK = i + 1 < s.points.count && drawable(s.points[i + 1])
                if !previousOK && !nextOK { isolated.append(i) }
                penDown = true
            }
            guard !path.isEmpty else { continue }
            chart.add("<path class=\"series\" d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" "
                      + "stroke-linejoin=\"round\" stroke-linecap=\"round\"><title>\(escape(s.name))</title></path>")
            let drawableCount = s.points.filter(drawable).count
            for (i, p) in s.points.enumerated() where drawable(p) {
                if let e = s.error(at: i) {
                    let top = chart.y(yAxis.position(p.y + e))
                    let bottom = logY && p.y - e <= 0 ? chart.plotBottom : chart.y(yAxis.position(p.y - e))
                    chart.errorBar(x: chart.x(xAxis.position(p.x)), top: top, bottom: bottom, color: color, cap: 4)
                }
                if drawableCount <= 60 || isolated.contains(i) {
                    chart.add("<circle class=\"marker\" cx=\"\(f(chart.x(xAxis.position(p.x))))\" "
                              + "cy=\"\(f(chart.y(yAxis.position(p.y))))\" r=\"3\" fill=\"\(color)\"/>")
                }
            }
        }
        chart.endClip()
        return chart.render()
    }

    /// Grouped bars: one cluster per group, one bar per series; `series[s].points[g].y` is the value of series
    /// `s` in group `g` (x is ignored), with optional error bars from `errors[g]`.
    public static func barChart(title: String, yLabel: String, groups: [String], series: [Series]) -> String {
        var ys: [Double] = []
        for s in series {
            for (g, p) in s.points.prefix(groups.count).enumerated() where p.y.isFinite {
                ys.append(p.y)
                if let r = s.errorRange(at: g, y: p.y) { ys.append(r.high); ys.append(r.low) }
            }
        }
        let legend = series.enumerated().map { (name: $0.element.name, color: color($0.offset), bar: true) }
        guard !ys.isEmpty else {
            return Chart.noData(title: title, xLabel: "", yLabel: yLabel, legend: legend)
        }
        let yAxis = SVGAxis.linear(ys, includeZero: true, padding: 0.04)
        var chart = Chart(title: title, xLabel: "", yLabel: yLabel, yAxis: yAxis,
                          legend: series.count > 1 || series.contains { !$0.name.isEmpty } ? legend : [],
                          categories: groups)
        chart.drawGrid(xAxis: nil)
        let band = (chart.plotRight - chart.plotLeft) / Double(groups.count)
        let clusterWidth = band * 0.8
        let barWidth = clusterWidth / Double(max(series.count, 1))
        let zero = chart.y(yAxis.position(0))
        for (index, s) in series.enumerated() {
            let color = color(index)
            for (g, p) in s.points.prefix(groups.count).enumerated() where p.y.isFinite {
                let left = chart.plotLeft + band * Double(g) + (band - clusterWidth) / 2 + barWidth * Double(index)
                let top = chart.y(yAxis.position(p.y))
                let label = "\(s.name.isEmpty ? "" : s.name + " · ")\(groups[g]): \(SVGAxis.label(p.y))"
                chart.add("<rect class=\"bar\" x=\"\(f(left + 1))\" y=\"\(f(min(top, zero)))\" "
                          + "width=\"\(f(max(barWidth - 2, 1)))\" height=\"\(f(abs(zero - top)))\" fill=\"\(color)\">"
                          + "<title>\(escape(label))</title></rect>")
                if let r = s.errorRange(at: g, y: p.y) {
                    chart.errorBar(x: left + barWidth / 2, top: chart.y(yAxis.position(r.high)),
                                   bottom: chart.y(yAxis.position(r.low)), color: "#333333",
                                   cap: min(5, barWidth / 4))
                }
            }
        }
        if yAxis.lo < 0 && yAxis.hi > 0 {  // a baseline at zero when bars go both ways
            chart.add("<line class=\"baseline\" x1=\"\(f(chart.plotLeft))\" y1=\"\(f(zero))\" x2=\"\(f(chart.plotRight))\" "
                      + "y2=\"\(f(zero))\" stroke=\"#333333\" stroke-width=\"1\"/>")
        }
        return chart.render()
    }

    /// Labelled points (e.g. one per task or model).
    public static func scatter(title: String, xLabel: String, yLabel: String,
                               points: [(x: Double, y: Double, label: String)]) -> String {
        let shown = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard !shown.isEmpty else {
            return Chart.noData(title: title, xLabel: xLabel, yLabel: yLabel, legend: [])
        }
        let xAxis = SVGAxis.linear(shown.map(\.x), padding: 0.05)
        let yAxis = SVGAxis.linear(shown.map(\.y), padding: 0.06)
        var chart = Chart(title: title, xLabel: xLabel, yLabel: yLabel, yAxis: yAxis, legend: [],
                          xTickLabels: xAxis.ticks.map(\.label))
        chart.drawGrid(xAxis: xAxis)
        for p in shown {
            let (px, py) = (chart.x(xAxis.position(p.x)), chart.y(yAxis.position(p.y)))
            chart.add("<circle class=\"point\" cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"4.5\" fill=\"\(color(0))\" "
                      + "fill-opacity=\"0.85\" stroke=\"#ffffff\" stroke-width=\"1\"><title>\(escape(p.label)) "
                      + "(\(SVGAxis.label(p.x)), \(SVGAxis.label(p.y)))</title></circle>")
            guard !p.label.isEmpty else { continue }
            // Labels to the right of their point, or to the left near the right edge.
            let width = Chart.textWidth(p.label, size: 10)
            let leftSide = px + 7 + width > chart.plotRight
            chart.add("<text class=\"point-label\" x=\"\(f(leftSide ? px - 7 : px + 7))\" y=\"\(f(py - 6))\" "
                      + "font-size=\"10\" fill=\"#333333\"\(leftSide ? " text-anchor=\"end\"" : "")>"
                      + "\(escape(p.label))</text>")
        }
        return chart.render()
    }

    /// XML-escapes text for element content and attribute values.
    public static func escape(_ text: String) -> String {
        let entities: [Unicode.Scalar: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;"]
        return text.escapingScalars { scalar in
            // Control characters are not allowed in XML 1.0 at all.
            entities[scalar] ?? (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" ? " " : nil)
        }
    }

    /// A coordinate with at most two decimals.
    static func f(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded(), abs(r) < 1e12 { return String(Int64(r)) }
        return "\(r)"
    }
}
