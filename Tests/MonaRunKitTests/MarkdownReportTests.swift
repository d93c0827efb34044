import Foundation
import Testing
@testable import MonaRunKit

@Suite struct MarkdownReportTests {
    @Test func buildsADocument() {
        var report = MarkdownReport(title: "GunPoint\nMoNA")
        report.heading("Results")
        report.heading("Too deep", level: 9)
        report.paragraph("Accuracy **improved**.")
        report.bullets(["one", "two\nlines"])
        report.image("plots/loss curve (train).svg", alt: "loss [train]")
        report.code("let x = 1\n", language: "swift")
        report.code("has ``` inside")
        #expect(report.text == """
            # GunPoint MoNA

            ## Results

            ###### Too deep

            Accuracy **improved**.

            - one
            - two
              lines

            ![loss \\[train\\]](plots/loss%20curve%20%28train%29.svg)

            ```swift
            let x = 1
            ```

            ````
            has ``` inside
            ````

            """)
    }

    @Test func tableEscapesPipesAndAlignsNumbers() {
        var report = MarkdownReport(title: "t")
        report.table(headers: ["method | variant", "accuracy"],
                     rows: [["a|b", "0.95"], ["multi\nline", "0.91 ± 0.02"], ["short"]])
        let lines = report.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("| method \\| variant | accuracy |"))
        #expect(lines.contains("| --- | ---: |"))
        #expect(lines.contains("| a\\|b | 0.95 |"))
        #expect(lines.contains("| multi<br>line | 0.91 ± 0.02 |"))
        #expect(lines.contains("| short |  |"))
        // Every table row has the same number of unescaped pipes.
        let pipes = lines.filter { $0.hasPrefix("|") }.map { line in
            zip(line, " " + line).filter { $0.0 == "|" && $0.1 != "\\" }.count
        }
        #expect(Set(pipes).count == 1)
    }
}
