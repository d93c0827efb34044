import Foundation

/// One line of a text file: its 1-based number and its text without the line break.
struct TextLine {
    let number: Int
    let text: Substring
}

/// Splits bytes into lines on LF, removing a CR before it (so CRLF files work). Invalid UTF-8 is replaced by
/// U+FFFD and then fails to parse as a number or label, with an error naming the line.
func splitLines(_ bytes: [UInt8]) -> [TextLine] {
    var lines: [TextLine] = []
    var start = 0
    var number = 1
    func emit(_ end: Int) {
        var e = end
        if e > start, bytes[e - 1] == 13 { e -= 1 }
        lines.append(TextLine(number: number, text: Substring(String(decoding: bytes[start..<e], as: UTF8.self))))
        number += 1
    }
    for i in 0..<bytes.count where bytes[i] == 10 {
        emit(i)
        start = i + 1
    }
    if start < bytes.count { emit(bytes.count) }
    return lines
}

extension Substring {
    /// Without leading and trailing whitespace.
    var trimmed: Substring {
        let head = drop(while: { $0.isWhitespace })
        var end = head.endIndex
        while end > head.startIndex {
            let before = head.index(before: end)
            if !head[before].isWhitespace { break }
            end = before
        }
        return head[head.startIndex..<end]
    }
}

/// Parses one numeric token. Missing-value markers (`?`, `NaN` in any case) give `.nan`; a finite number gives
/// itself; anything else (including ±infinity and empty tokens) gives nil so that the caller can report it.
func parseNumber(_ token: Substring) -> Float? {
    let t = token.trimmed
    if t == "?" { return .nan }
    if t.count == 3, t.lowercased() == "nan" { return .nan }
    guard let v = Float(t), v.isFinite else { return nil }
    return v
}

/// Canonical spelling of a class label: surrounding whitespace removed, and a label that is an integral number
/// written as a float (`1.0000000e+00`, UCR style) becomes the integer (`1`), so train and test files agree.
func canonicalLabel(_ token: Substring) -> String {
    let t = token.trimmed
    if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return String(t)
}

/// Class names in a stable order: numerically if every name is a number, otherwise lexicographically.
func sortedClassNames(_ names: Set<String>) -> [String] {
    let numeric = names.compactMap { s -> (Double, String)? in Double(s).map { ($0, s) } }
    if numeric.count == names.count {
        return numeric.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
    }
    return names.sorted()
}
