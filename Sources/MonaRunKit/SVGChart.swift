import Foundation

/// Layout and drawing shared by the SVG charts: margins sized to the labels, grid, ticks, legend, clipping.
struct Chart {
    static let width = 720.0
    static let height = 440.0
    typealias LegendEntry = (name: String, color: String, bar: Bool)

    let title: String
    let xLabel: String
    let yLabel: String
    let yAxis: SVGAxis
    let legend: [LegendEntry]
    let xTickLabels: [String]
    let categories: [String]?
    private(set) var rotateCategories = false
    private(set) var plotLeft = 0.0, plotRight = 0.0, plotTop = 0.0, plotBottom = 0.0
    private var back: [String] = []  // grid and axes, drawn under the data
    private var parts: [String] = []

    static let maxLegendName = 28
    static let maxCategory = 24

    init(title: String, xLabel: String, yLabel: String, yAxis: SVGAxis, legend: [LegendEntry],
         xTickLabels: [String] = [], categories: [String]? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yAxis = yAxis
        self.legend = legend
        self.xTickLabels = xTickLabels
        self.categories = categories

        plotTop = title.isEmpty ? 20 : 50
        let yTickWidth = yAxis.ticks.map { Chart.textWidth($0.label, size: 11) }.max() ?? 0
        plotLeft = (yLabel.isEmpty ? 14 : 36) + yTickWidth + 8
        let legendWidth = legend.isEmpty ? 0
            : min(220, (legend.map { Chart.textWidth(Chart.truncated($0.name, Chart.maxLegendName), size: 12) }.max() ?? 0) + 40)
        // Room for half of the last x tick label, which is centred on the plot's right edge.
        let lastTick = xTickLabels.last.map { Chart.textWidth($0, size: 11) / 2 } ?? 0
        plotRight = Chart.width - max(16 + legendWidth, lastTick + 8)
        plotBottom = Chart.height - (xLabel.isEmpty ? 30 : 50)
        if let categories, !categories.isEmpty {
            let band = (plotRight - plotLeft) / Double(categories.count)
            let widest = categories.map { Chart.textWidth(Chart.truncated($0, Chart.maxCategory), size: 11) }.max() ?? 0
            if widest > band * 0.95 {
                // Rotated labels need height instead of width: sin(35°) of their length.
                rotateCategories = true
                plotBottom = Chart.height - (xLabel.isEmpty ? 20 : 40) - widest * 0.574 - 8
                // The first label reaches left of its bar by cos(35°) of its length.
                let firstWidth = Chart.textWidth(Chart.truncated(categories[0], Chart.maxCategory), size: 11)
                let overhang = firstWidth * 0.819 - band / 2 + 6
                if overhang > plotLeft {
                    plotLeft = min(overhang, Chart.width / 3)
                }
            }
        }
    }

    /// Pixel x for an axis position in 0...1.
    func x(_ t: Double) -> Double { plotLeft + t * (plotRight - plotLeft) }
    /// Pixel y for an axis position in 0...1 (0 at the bottom).
    func y(_ t: Double) -> Double { plotBottom - t * (plotBottom - plotTop) }

    mutating func add(_ element: String) { parts.append(element) }

    /// Horizontal grid lines with y tick labels; vertical ones with x tick labels for a numeric x axis;
    /// category labels for bar charts; the two axis lines.
    mutating func drawGrid(xAxis: SVGAxis?) {
        let f = SVGPlot.f
        for tick in yAxis.ticks {
            let py = y(yAxis.position(tick.value))
            back.append("<line class=\"grid\" x1=\"\(f(plotLeft))\" y1=\"\(f(py))\" x2=\"\(f(plotRight))\" y2=\"\(f(py))\" "
                        + "stroke=\"#e5e5e5\" stroke-width=\"1\"/>")
            back.append("<text class=\"tick\" x=\"\(f(plotLeft - 7))\" y=\"\(f(py + 4))\" text-anchor=\"end\" "
                        + "font-size=\"11\" fill=\"#444444\">\(SVGPlot.escape(tick.label))</text>")
        }
        if let xAxis {
            // Thin out x labels that would overlap (long labels, narrow plot).
            let spacing = xAxis.ticks.count > 1 ? (plotRight - plotLeft) / Double(xAxis.ticks.count - 1) : .infinity
            let widest = xAxis.ticks.map { Chart.textWidth($0.label, size: 11) }.max() ?? 0
            let every = max(1, Int(((widest + 8) / spacing).rounded(.up)))
            for (i, tick) in xAxis.ticks.enumerated() {
                let px = x(xAxis.position(tick.value))
                back.append("<line class=\"grid\" x1=\"\(f(px))\" y1=\"\(f(plotTop))\" x2=\"\(f(px))\" y2=\"\(f(plotBottom))\" "
                            + "stroke=\"#e5e5e5\" stroke-width=\"1\"/>")
                back.append("<line x1=\"\(f(px))\" y1=\"\(f(plotBottom))\" x2=\"\(f(px))\" y2=\"\(f(plotBottom + 4))\" "
                            + "stroke=\"#333333\" stroke-width=\"1\"/>")
                guard i % every == 0 else { continue }
                back.append("<text class=\"tick\" x=\"\(f(px))\" y=\"\(f(plotBottom + 17))\" text-anchor=\"middle\" "
                            + "font-size=\"11\" fill=\"#444444\">\(SVGPlot.escape(tick.label))</text>")
            }
        }
        if let categories, !categories.isEmpty {
            let band = (plotRight - plotLeft) / Double(categories.count)
            for (i, name) in categories.enumerated() {
                let px = plotLeft + band * (Double(i) + 0.5)
                let label = SVGPlot.escape(Chart.truncated(name, Chart.maxCategory))
                if rotateCategories {
                    let py = plotBottom + 12
                    back.append("<text class=\"category\" x=\"\(f(px))\" y=\"\(f(py))\" text-anchor=\"end\" font-size=\"11\" "
                                + "fill=\"#444444\" transform=\"rotate(-35 \(f(px)) \(f(py)))\">\(label)</text>")
                } else {
                    back.append("<text class=\"category\" x=\"\(f(px))\" y=\"\(f(plotBottom + 17))\" text-anchor=\"middle\" "
                                + "font-size=\"11\" fill=\"#444444\">\(label)</text>")
                }
            }
        }
        back.append("<path class=\"axis\" d=\"M\(f(plotLeft)) \(f(plotTop)) V\(f(plotBottom)) H\(f(plotRight))\" "
                    + "fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>")
    }

    /// Clips what follows to the plot area (lines leaving it, error bars beyond the domain).
    mutating func beginClip() { parts.append("<g clip-path=\"url(#plot-area)\">") }
    mutating func endClip() { parts.append("</g>") }

    mutating func errorBar(x: Double, top: Double, bottom: Double, color: String, cap: Double) {
        let f = SVGPlot.f
        parts.append("<path class=\"errorbar\" d=\"M\(f(x)) \(f(top)) V\(f(bottom)) M\(f(x - cap)) \(f(top)) H\(f(x + cap)) "
                     + "M\(f(x - cap)) \(f(bottom)) H\(f(x + cap))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.3\"/>")
    }

    /// The complete SVG document.
    func render(note: String? = nil) -> String {
        let f = SVGPlot.f
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(Chart.width))" height="\(f(Chart.height))" \
            viewBox="0 0 \(f(Chart.width)) \(f(Chart.height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">

            """
        out += "<title>\(SVGPlot.escape(title))</title>\n"
        out += "<defs><clipPath id=\"plot-area\"><rect x=\"\(f(plotLeft))\" y=\"\(f(plotTop - 2))\" "
            + "width=\"\(f(plotRight - plotLeft + 2))\" height=\"\(f(plotBottom - plotTop + 4))\"/></clipPath></defs>\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        if !title.isEmpty {
            out += "<text class=\"title\" x=\"\(f(Chart.width / 2))\" y=\"30\" text-anchor=\"middle\" font-size=\"16\" "
                + "font-weight=\"bold\" fill=\"#222222\">\(SVGPlot.escape(Chart.truncated(title, 80)))</text>\n"
        }
        if !xLabel.isEmpty {
            out += "<text class=\"axis-label\" x=\"\(f((plotLeft + plotRight) / 2))\" y=\"\(f(Chart.height - 12))\" "
                + "text-anchor=\"middle\" font-size=\"13\" fill=\"#222222\">\(SVGPlot.escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let cy = (plotTop + plotBottom) / 2
            out += "<text class=\"axis-label\" x=\"18\" y=\"\(f(cy))\" text-anchor=\"middle\" font-size=\"13\" "
                + "fill=\"#222222\" transform=\"rotate(-90 18 \(f(cy)))\">\(SVGPlot.escape(yLabel))</text>\n"
        }
        for element in back + parts { out += element + "\n" }
        if let note {
            out += "<text class=\"nodata\" x=\"\(f((plotLeft + plotRight) / 2))\" y=\"\(f((plotTop + plotBottom) / 2))\" "
                + "text-anchor=\"middle\" font-size=\"16\" fill=\"#888888\">\(SVGPlot.escape(note))</text>\n"
        }
        out += legendSVG()
        out += "</svg>\n"
        return out
    }

    private func legendSVG() -> String {
        guard !legend.isEmpty else { return "" }
        let f = SVGPlot.f
        let left = plotRight + 16
        let rowHeight = 18.0
        let capacity = max(1, Int((plotBottom - plotTop) / rowHeight))
        var out = "<g class=\"legend\">\n"
        for (i, entry) in legend.enumerated() {
            if i == capacity - 1 && legend.count > capacity {
                out += "<text x=\"\(f(left))\" y=\"\(f(plotTop + 10 + rowHeight * Double(i)))\" font-size=\"12\" "
                    + "fill=\"#444444\">… \(legend.count - i) more</text>\n"
                break
            }
            let cy = plotTop + 6 + rowHeight * Double(i)
            if entry.bar {
                out += "<rect x=\"\(f(left))\" y=\"\(f(cy - 5))\" width=\"14\" height=\"10\" fill=\"\(entry.color)\"/>\n"
            } else {
                out += "<line x1=\"\(f(left))\" y1=\"\(f(cy))\" x2=\"\(f(left + 16))\" y2=\"\(f(cy))\" stroke=\"\(entry.color)\" "
                    + "stroke-width=\"2.5\"/>\n"
            }
            out += "<text class=\"legend-label\" x=\"\(f(left + 22))\" y=\"\(f(cy + 4))\" font-size=\"12\" fill=\"#222222\">"
                + "\(SVGPlot.escape(Chart.truncated(entry.name, Chart.maxLegendName)))</text>\n"
        }
        return out + "</g>\n"
    }

    /// A frame with the title and axis labels and "no data" in the middle.
    static func noData(title: String, xLabel: String, yLabel: String, legend: [LegendEntry]) -> String {
        var chart = Chart(title: title, xLabel: xLabel, yLabel: yLabel,
                          yAxis: SVGAxis(lo: 0, hi: 1, isLog: false, ticks: []), legend: [])
        chart.back.append("<rect class=\"frame\" x=\"\(SVGPlot.f(chart.plotLeft))\" y=\"\(SVGPlot.f(chart.plotTop))\" "
                          + "width=\"\(SVGPlot.f(chart.plotRight - chart.plotLeft))\" "
                          + "height=\"\(SVGPlot.f(chart.plotBottom - chart.plotTop))\" fill=\"none\" stroke=\"#cccccc\"/>")
        return chart.render(note: "no data")
    }

    /// Approximate rendered width of `text` in a sans-serif font (no font metrics available here).
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.6
    }

    static func truncated(_ text: String, _ limit: Int) -> String {
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return oneLine.count <= limit ? oneLine : String(oneLine.prefix(limit - 1)) + "…"
    }
}
