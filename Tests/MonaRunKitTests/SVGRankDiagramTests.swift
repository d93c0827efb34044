import Foundation
import Testing
@testable import MonaRunKit

@Suite struct SVGRankDiagramTests {
    @Test func drawsRanksGroupsAndTheCriticalDifference() throws {
        let svg = SVGPlot.criticalDifferenceDiagram(title: "ranks <&>", names: ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"],
                                                    ranks: [3.143, 2.0, 2.893, 1.964], cliques: [[3, 1, 2], [2, 0]],
                                                    criticalDifference: 1.12)
        let doc = try #require(SVGInspector.parse(svg), "not well-formed XML")
        #expect(doc.classes["clique"] == 2 && doc.classes["method"] == 4 && doc.classes["method-line"] == 4)
        #expect(doc.classes["cd"] == 1 && doc.texts.contains("CD = 1.120"))
        #expect(doc.texts.contains("C4.5+m+cf (1.96)") && doc.texts.contains("C4.5 (3.14)"))
        #expect(doc.texts.contains("ranks <&>"))                                        // escaped, parsed back
        #expect(["1", "2", "3", "4"].allSatisfy(doc.texts.contains))                     // axis 1…k
        // The best half is labelled on the left (text-anchor end), the rest on the right.
        let best = try #require(svg.split(separator: "\n").first { $0.contains(">C4.5+m+cf (1.96)<") })
        let worst = try #require(svg.split(separator: "\n").first { $0.contains(">C4.5 (3.14)<") })
        #expect(best.contains("text-anchor=\"end\"") && worst.contains("text-anchor=\"start\""))
    }

    @Test func degenerateInputSaysNoData() throws {
        let one = SVGPlot.criticalDifferenceDiagram(title: "t", names: ["a"], ranks: [1], cliques: [], criticalDifference: 1)
        #expect(try #require(SVGInspector.parse(one)).texts.contains("no data"))
        let bad = SVGPlot.criticalDifferenceDiagram(title: "t", names: ["a", "b"], ranks: [1, .nan], cliques: [[0, 1]],
                                                    criticalDifference: nil)
        #expect(try #require(SVGInspector.parse(bad)).texts.contains("no data"))
        // Out-of-range clique indices and singletons are ignored, no CD bar without a CD.
        let odd = SVGPlot.criticalDifferenceDiagram(title: "", names: ["a", "b", "c"], ranks: [1, 2, 3], cliques: [[0], [1, 7]],
                                                    criticalDifference: nil)
        let doc = try #require(SVGInspector.parse(odd))
        #expect(doc.classes["clique"] == nil && doc.classes["cd"] == nil && doc.classes["method"] == 3)
    }

    @Test func barsTakeAsymmetricIntervals() throws {
        var series = SVGPlot.Series(name: "", values: [0.5, 0.8, 0.6])
        series.intervals = [(0.4, 0.9), nil, (0.6, 0.6)]          // a point interval draws nothing
        let svg = SVGPlot.barChart(title: "t", yLabel: "y", groups: ["a", "b", "c"], series: [series])
        let doc = try #require(SVGInspector.parse(svg))
        #expect(doc.classes["errorbar"] == 1 && doc.classes["bar"] == 3)
        // The axis reaches the interval's top (0.9), beyond every bar.
        #expect((doc.texts.compactMap(Double.init).max() ?? 0) >= 0.9, "\(doc.texts)")
    }
}
