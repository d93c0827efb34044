import Foundation
import Testing
@testable import MonaRunKit
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses an SVG document and counts elements, classes and text.
final class SVGInspector: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var texts: [String] = []
    var root: [String: String] = [:]
    private var currentText: String?

    static func parse(_ svg: String) -> SVGInspector? {
        let inspector = SVGInspector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = inspector
        return parser.parse() ? inspector : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if elements.isEmpty { root = attributes }
        elements[name, default: 0] += 1
        if let c = attributes["class"] { classes[c, default: 0] += 1 }
        if name == "text" { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { currentText? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let t = currentText { texts.append(t); currentText = nil }
    }
}

@Suite struct SVGPlotTests {
    @Test func lineChartIsWellFormedWithLegendTicksAndErrorBars() throws {
        let train = SVGPlot.Series(name: "train <loss> & co", points: (0..<50).map { (Double($0 * 20), 2 * exp(-Double($0) / 12)) })
        let val = SVGPlot.Series(name: "validation", points: [(0, 2.1), (250, 1.2), (500, .nan), (750, 0.6), (980, 0.5)],
                                 errors: [0.1, 0.15, 0.1, 0.05, 0.04])
        let svg = SVGPlot.lineChart(title: "Loss \"GunPoint\" <MoNA>", xLabel: "step", yLabel: "loss", series: [train, val])
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.root["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(doc.root["viewBox"] == "0 0 720 440")
        #expect(doc.classes["series"] == 2)
        #expect(doc.classes["errorbar"] == 4)  // the NaN point has no bar
        #expect(doc.classes["marker"] == 50 + 4)
        #expect(doc.texts.contains("Loss \"GunPoint\" <MoNA>"))
        #expect(doc.texts.contains("train <loss> & co"))
        #expect(doc.texts.contains("step") && doc.texts.contains("loss"))
        // Round tick values: x from 0 to 1000, every 200.
        for label in ["0", "200", "400", "600", "800", "1000"] { #expect(doc.texts.contains(label), "x tick \(label)") }
        #expect(doc.texts.contains("0.5") || doc.texts.contains("1"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // The NaN point splits the validation line into two pieces.
        let validationPath = svg.split(separator: "\n").first { $0.contains("class=\"series\"") && $0.contains("validation") }
        #expect(validationPath.map { $0.components(separatedBy: " M").count } == 2)
    }

    @Test func logScaleSkipsNonPositiveValuesAndUsesPowersOfTen() throws {
        let s = SVGPlot.Series(name: "relative L2", points: [(1, 1.0), (2, 0.1), (3, 0), (4, -1), (5, 0.001), (6, 2e-4)])
        let svg = SVGPlot.lineChart(title: "error", xLabel: "epoch", yLabel: "rel. L2", series: [s], logY: true)
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.classes["marker"] == 4)
        for label in ["1e-4", "1e-3", "1e-2", "1e-1", "1e0"] { #expect(doc.texts.contains(label), "log tick \(label)") }
    }

    @Test func emptyAndAllNaNSeriesSayNoData() throws {
        for series in [[], [SVGPlot.Series(name: "x", points: [])], [SVGPlot.Series(name: "x", points: [(.nan, 1), (1, .infinity)])]] {
            let svg = SVGPlot.lineChart(title: "t", xLabel: "x", yLabel: "y", series: series)
            let doc = try #require(SVGInspector.parse(svg))
            #expect(doc.texts.contains("no data"))
            #expect(doc.classes["series"] == nil)
        }
        let bars = SVGPlot.barChart(title: "t", yLabel: "y", groups: [], series: [])
        #expect(SVGInspector.parse(bars)?.texts.contains("no data") == true)
        let scatter = SVGPlot.scatter(title: "t", xLabel: "x", yLabel: "y", points: [(.nan, 1, "a")])
        #expect(SVGInspector.parse(scatter)?.texts.contains("no data") == true)
    }

    @Test func singlePointAndConstantSeriesGetAnAxis() throws {
        let svg = SVGPlot.lineChart(title: "one", xLabel: "x", yLabel: "y",
                                    series: [SVGPlot.Series(name: "a", points: [(3, 5)]),
                                             SVGPlot.Series(name: "b", points: [(3, 5), (4, 5)])])
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.classes["marker"] == 3)
        #expect((doc.classes["tick"] ?? 0) >= 4)
        #expect(!svg.contains("nan"))
    }

    @Test func barChartHasOneBarPerFiniteValue() throws {
        let groups = ["GunPoint", "ECG200 | long & <name>", "Darcy"]
        let svg = SVGPlot.barChart(title: "accuracy", yLabel: "accuracy", groups: groups, series: [
            SVGPlot.Series(name: "finetune", values: [0.9, 0.8, .nan], errors: [0.01, 0.02, 0.03]),
            SVGPlot.Series(name: "MoNA", values: [0.95, -0.1, 0.7]),
        ])
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.classes["bar"] == 5)
        #expect(doc.classes["errorbar"] == 2)
        #expect(doc.classes["category"] == 3)
        #expect(doc.classes["baseline"] == 1)
        #expect(doc.texts.contains("ECG200 | long & <name>"))
        #expect(doc.texts.contains("MoNA") && doc.texts.contains("finetune"))
    }

    @Test func scatterLabelsPoints() throws {
        let svg = SVGPlot.scatter(title: "transfer", xLabel: "OTDD", yLabel: "gain",
                                  points: [(1, 2, "a<b"), (2, 3, "c&d"), (3, .nan, "skip"), (4, 1, "")])
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.classes["point"] == 3)
        #expect(doc.classes["point-label"] == 2)
        #expect(doc.texts.contains("a<b") && doc.texts.contains("c&d"))
    }

    @Test func niceTicks() {
        #expect(SVGAxis.linear([0, 1000]).ticks.map(\.label) == ["0", "200", "400", "600", "800", "1000"])
        // Extending 0.13...0.87 to 0...1 would waste more than 10% of the range on each side.
        #expect(SVGAxis.linear([0.13, 0.87]).ticks.map(\.label) == ["0.2", "0.4", "0.6", "0.8"])
        #expect(SVGAxis.linear([0.03, 0.97]).ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let bars = SVGAxis.linear([0.3, 0.995], includeZero: true, padding: 0.04)
        #expect(bars.lo == 0 && bars.hi > 0.995 && bars.ticks.last?.value == 1)
        #expect(SVGAxis.linear([-3, 7]).ticks.map(\.value) == [-4, -2, 0, 2, 4, 6, 8])
        #expect(SVGAxis.linear([0, 2.5e7]).ticks.last?.label == "2.5e7")
        #expect(SVGAxis.linear([1e-5, 3e-5]).ticks.allSatisfy { $0.label.contains("e-5") || $0.label.contains("e-6") || $0.label == "0" })
        #expect(SVGAxis.linear([5, 5]).ticks.count >= 2)
        #expect(SVGAxis.niceStep(0.3) == 0.25)
        #expect(SVGAxis.niceStep(0.4) == 0.5)
        #expect(SVGAxis.niceStep(2.2) == 2)
        #expect(SVGAxis.niceStep(8) == 10)
        #expect(SVGAxis.logarithmic([1e-6, 1e3]).ticks.count <= 10)
        #expect(SVGAxis.logarithmic([0.2, 0.5]).ticks.map(\.label) == ["0.2", "0.3", "0.4", "0.5"])
        #expect(SVGAxis.logarithmic([3, 3]).ticks.count >= 2)
    }
}
