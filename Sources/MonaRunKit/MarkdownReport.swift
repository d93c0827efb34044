import Foundation
import MonaJSON

/// A Markdown document built block by block (GitHub-flavoured tables and fenced code).
///
/// ```swift
/// var report = MarkdownReport(title: "GunPoint · MoNA")
/// report.table(headers: ["metric", "value"], rows: [["accuracy", "0.973"]])
/// try report.write(to: run.report)
/// ```
public struct MarkdownReport: Sendable {
    private var blocks: [String]

    public init(title: String) {
        blocks = ["# " + MarkdownReport.oneLine(title)]
    }

    /// A heading; `level` is clamped to 1...6.
    public mutating func heading(_ text: String, level: Int = 2) {
        blocks.append(String(repeating: "#", count: min(max(level, 1), 6)) + " " + MarkdownReport.oneLine(text))
    }

    /// A paragraph of text (Markdown inside it is kept as written).
    public mutating func paragraph(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        blocks.append(trimmed)
    }

    /// A bulleted list; continuation lines of multi-line items are indented under their bullet.
    public mutating func bullets(_ items: [String]) {
        guard !items.isEmpty else { return }
        blocks.append(items.map { item in
            "- " + item.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        }.joined(separator: "\n"))
    }

    /// A table. Cells have `|` escaped and line breaks turned into `<br>`; short rows are padded. Columns whose
    /// cells are all numbers (blank cells allowed) are right-aligned.
    public mutating func table(headers: [String], rows: [[String]]) {
        let width = max(headers.count, rows.map(\.count).max() ?? 0)
        guard width > 0 else { return }
        func padded(_ cells: [String]) -> [String] { cells + Array(repeating: "", count: width - cells.count) }
        let head = padded(headers).map(MarkdownReport.cell)
        let body = rows.map { padded($0).map(MarkdownReport.cell) }
        let numeric = (0..<width).map { column in
            let cells = body.map { $0[column] }.filter { !$0.isEmpty }
            return !cells.isEmpty && cells.allSatisfy(MarkdownReport.looksNumeric)
        }
        func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        var lines = [line(head), "|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined()]
        lines += body.map(line)
        blocks.append(lines.joined(separator: "\n"))
    }

    /// An image; `relativePath` is relative to the report (e.g. `plots/loss.svg`).
    public mutating func image(_ relativePath: String, alt: String) {
        let altText = MarkdownReport.oneLine(alt).replacingOccurrences(of: "[", with: "\\[").replacingOccurrences(of: "]", with: "\\]")
        let encoded: [Unicode.Scalar: String] = [" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"]
        let target = relativePath.escapingScalars { encoded[$0] }
        blocks.append("![\(altText)](\(target))")
    }

    /// A fenced code block; the fence is longer than any backtick run in `text`.
    public mutating func code(_ text: String, language: String = "") {
        var longest = 0, run = 0
        for c in text {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        var body = text
        if body.hasSuffix("\n") { body.removeLast() }
        blocks.append(fence + MarkdownReport.oneLine(language) + "\n" + body + "\n" + fence)
    }

    /// Raw Markdown, appended as its own block.
    public mutating func raw(_ markdown: String) {
        blocks.append(markdown)
    }

    /// The document: blocks separated by blank lines, ending with a newline.
    public var text: String { blocks.joined(separator: "\n\n") + "\n" }

    /// Writes the document atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }

    // MARK: Escaping

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A table cell: `|` escaped (GitHub splits cells on unescaped pipes), line breaks as `<br>`.
    static func cell(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r\n", with: "<br>")
            .replacingOccurrences(of: "\n", with: "<br>")
            .replacingOccurrences(of: "\r", with: "<br>")
    }

    private static func looksNumeric(_ cell: String) -> Bool {
        // Numbers as reports print them: "0.973", "-1.2e-3", "97.3%", "0.91 ± 0.02".
        var s = cell
        if s.hasSuffix("%") { s.removeLast() }
        let parts = s.components(separatedBy: " ± ")
        return parts.count <= 2 && parts.allSatisfy { Double($0.trimmingCharacters(in: .whitespaces)) != nil || $0 == "nan" }
    }
}
