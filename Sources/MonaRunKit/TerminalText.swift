/// Text that came from a file (tensor names, metadata, class names, paths) made safe to print: a name holding
/// an escape sequence or a newline could otherwise rewrite the terminal or forge output lines.
public enum TerminalText {
    /// `text` with control characters (C0, DEL, C1) and bidirectional overrides written as `\u{XX}` escapes;
    /// with `keepingNewlines`, line feeds stay (for multi-line output such as a CSV table).
    public static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepingNewlines) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func needsEscape(_ s: Unicode.Scalar, _ keepingNewlines: Bool) -> Bool {
        switch s.value {
        case 0x0A: return !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true   // bidirectional embeddings, overrides and isolates
        default: return false
        }
    }
}
