import Foundation

extension SVGPlot {
    /// A critical-difference diagram (Demšar, JMLR 2006): an axis of average ranks 1…k (1 = best, on the left),
    /// each method joined to its rank by a line to its label — the better half labelled on the left, the rest on
    /// the right — thick bars joining the groups (`cliques`, indices into `names`) whose members are not
    /// significantly different, and the critical difference as a bar of its length above the axis.
    ///
    /// Fewer than two methods (or a non-finite rank) give the frame with "no data".
    public static func criticalDifferenceDiagram(title: String, names: [String], ranks: [Double], cliques: [[Int]],
                                                 criticalDifference: Double?) -> String {
        let k = names.count
        guard k >= 2, ranks.count == k, ranks.allSatisfy(\.isFinite) else {
            return Chart.noData(title: title, xLabel: "", yLabel: "", legend: [])
        }
        let width = Chart.width
        let labels = names.indices.map { "\(Chart.truncated(names[$0], Chart.maxLegendName)) (\(String(format: "%.2f", ranks[$0])))" }
        let widest = labels.map { Chart.textWidth($0, size: 12) }.max() ?? 0
        let margin = min(max(widest + 34, 70), width / 3)
        let left = margin, right = width - margin
        let highest = Double(k)    // average ranks lie in 1…k; anything outside is clamped to the axis
        func x(_ rank: Double) -> Double { left + (min(max(rank, 1), highest) - 1) / (highest - 1) * (right - left) }

        var top = title.isEmpty ? 14.0 : 44.0
        var parts: [String] = []
        if let cd = criticalDifference, cd.isFinite, cd > 0 {
            let end = x(1 + min(cd, highest - 1))
            let y = top + 16
            parts.append("<path class=\"cd\" d=\"M\(f(x(1))) \(f(y)) H\(f(end)) M\(f(x(1))) \(f(y - 5)) V\(f(y + 5)) "
                         + "M\(f(end)) \(f(y - 5)) V\(f(y + 5))\" fill=\"none\" stroke=\"#222222\" stroke-width=\"1.5\"/>")
            parts.append("<text class=\"cd-label\" x=\"\(f((x(1) + end) / 2))\" y=\"\(f(y - 8))\" text-anchor=\"middle\" "
                         + "font-size=\"12\" fill=\"#222222\">CD = \(escape(String(format: "%.3f", cd)))</text>")
            top = y + 14
        }
        let axisY = top + 28
        parts.append("<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(axisY))\" x2=\"\(f(right))\" y2=\"\(f(axisY))\" "
                     + "stroke=\"#222222\" stroke-width=\"1.5\"/>")
        for i in 1...Int(highest) {
            let px = x(Double(i))
            parts.append("<line x1=\"\(f(px))\" y1=\"\(f(axisY))\" x2=\"\(f(px))\" y2=\"\(f(axisY - 8))\" stroke=\"#222222\" "
                         + "stroke-width=\"1.5\"/>")
            parts.append("<text class=\"tick\" x=\"\(f(px))\" y=\"\(f(axisY - 12))\" text-anchor=\"middle\" font-size=\"11\" "
                         + "fill=\"#444444\">\(i)</text>")
            if i < Int(highest) {
                let half = x(Double(i) + 0.5)
                parts.append("<line x1=\"\(f(half))\" y1=\"\(f(axisY))\" x2=\"\(f(half))\" y2=\"\(f(axisY - 4))\" "
                             + "stroke=\"#222222\" stroke-width=\"1\"/>")
            }
        }

        let order = ranks.indices.sorted { ranks[$0] != ranks[$1] ? ranks[$0] < ranks[$1] : $0 < $1 }
        let valid = cliques.filter { $0.count >= 2 && $0.allSatisfy { ranks.indices.contains($0) } }
        let firstRow = axisY + 22 + 9 * Double(valid.count)
        let rowHeight = 20.0
        let leftCount = (k + 1) / 2
        for (position, i) in order.enumerated() {
            let onLeft = position < leftCount
            // Left: best at the top; right: worst at the top, so no line crosses another.
            let row = onLeft ? position : k - 1 - position
            let y = firstRow + rowHeight * Double(row)
            let px = x(ranks[i])
            let edge = onLeft ? left - 10 : right + 10
            parts.append("<path class=\"method-line\" d=\"M\(f(px)) \(f(axisY)) V\(f(y)) H\(f(edge))\" fill=\"none\" "
                         + "stroke=\"#555555\" stroke-width=\"1\"/>")
            parts.append("<text class=\"method\" x=\"\(f(onLeft ? edge - 4 : edge + 4))\" y=\"\(f(y + 4))\" "
                         + "text-anchor=\"\(onLeft ? "end" : "start")\" font-size=\"12\" fill=\"#222222\">"
                         + "\(escape(labels[i]))</text>")
        }
        for (c, clique) in valid.enumerated() {
            let lo = clique.map { ranks[$0] }.min()!, hi = clique.map { ranks[$0] }.max()!
            let y = axisY + 14 + 9 * Double(c)
            parts.append("<line class=\"clique\" x1=\"\(f(x(lo) - 4))\" y1=\"\(f(y))\" x2=\"\(f(x(hi) + 4))\" y2=\"\(f(y))\" "
                         + "stroke=\"#111111\" stroke-width=\"4\" stroke-linecap=\"round\"/>")
        }
        let height = firstRow + rowHeight * Double(leftCount) + 10
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" \
            viewBox="0 0 \(f(width)) \(f(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">

            """
        out += "<title>\(escape(title))</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        if !title.isEmpty {
            out += "<text class=\"title\" x=\"\(f(width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" "
                + "font-weight=\"bold\" fill=\"#222222\">\(escape(Chart.truncated(title, 84)))</text>\n"
        }
        for p in parts { out += p + "\n" }
        return out + "</svg>\n"
    }
}
