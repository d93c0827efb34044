import Foundation

/// Renders the Markdown that `mona` writes (report.md: headings, paragraphs, bullets, pipe tables, images, code
/// blocks, `**bold**` and `` `code` ``) as HTML. Every piece of text is escaped; links become plain text; an
/// image is shown only when `image` maps its path to a dashboard URL (plots of the run), so a report cannot make
/// the browser fetch anything else.
enum MarkdownHTML {
    static func render(_ markdown: String, image: (String) -> String?) -> String {
        var html = ""
        var paragraph: [String] = []
        var list: [String] = []
        var table: [[String]] = []
        var code: [String]?
        func flush() {
            if !paragraph.isEmpty { html += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n"; paragraph = [] }
            if !list.isEmpty { html += "<ul>" + list.map { "<li>" + inline($0) + "</li>" }.joined() + "</ul>\n"; list = [] }
            if !table.isEmpty {
                let rows = table.filter { row in !row.allSatisfy { cell in !cell.isEmpty && cell.allSatisfy { "-: ".contains($0) } } }
                html += "<table>"
                for (i, row) in rows.enumerated() {
                    let tag = i == 0 ? "th" : "td"
                    html += "<tr>" + row.map { "<\(tag)>" + inline($0) + "</\(tag)>" }.joined() + "</tr>"
                }
                html += "</table>\n"
                table = []
            }
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var block = code {
                if line.hasPrefix("```") {
                    html += "<pre>" + escape(block.joined(separator: "\n")) + "</pre>\n"
                    code = nil
                } else {
                    block.append(line)
                    code = block
                }
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { flush(); code = []; continue }
            if trimmed.isEmpty { flush(); continue }
            if let level = heading(trimmed) {
                flush()
                let text = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                let tag = "h\(min(level + 1, 6))"  // the page has its own h1
                html += "<\(tag)>" + inline(text) + "</\(tag)>\n"
                continue
            }
            if trimmed.hasPrefix("![") , let close = trimmed.range(of: "]("), trimmed.hasSuffix(")") {
                flush()
                let alt = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)..<close.lowerBound])
                let path = String(trimmed[close.upperBound..<trimmed.index(before: trimmed.endIndex)])
                if let url = image(path) {
                    html += "<figure><img src=\"\(escape(url))\" alt=\"\(escape(alt))\"></figure>\n"
                } else {
                    html += "<p class=\"muted\">[image: \(escape(alt))]</p>\n"
                }
                continue
            }
            if trimmed.hasPrefix("|") {
                if !paragraph.isEmpty || !list.isEmpty { let t = table; table = []; flush(); table = t }
                var cells = trimmed.split(separator: "|", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if cells.first == "" { cells.removeFirst() }
                if cells.last == "" { cells.removeLast() }
                table.append(cells)
                continue
            }
            if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") {
                if !paragraph.isEmpty || !table.isEmpty { let l = list; list = []; flush(); list = l }
                list.append(String(trimmed.dropFirst(2)))
                continue
            }
            if !list.isEmpty || !table.isEmpty { flush() }
            paragraph.append(trimmed)
        }
        if let block = code { html += "<pre>" + escape(block.joined(separator: "\n")) + "</pre>\n" }
        flush()
        return html
    }

    private static func heading(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    /// `**bold**`, `` `code` `` and `[text](url)` (shown as its text); everything escaped.
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.hasPrefix("`"), let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>" + escape(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])) + "</strong>"
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix("["), let mid = rest.range(of: "]("), let end = rest[mid.upperBound...].firstIndex(of: ")") {
                out += escape(String(rest[rest.index(after: rest.startIndex)..<mid.lowerBound]))
                rest = rest[rest.index(after: end)...]
            } else if let c = rest.popFirst() {
                out += escape(String(c))
            }
        }
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
