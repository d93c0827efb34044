extension JSONValue {
    /// JSON on one line with a space after `,` and `:` (JSON Lines records); see the type's notes on non-finite
    /// numbers.
    public var json: String { jsonText(pretty: false) }

    /// JSON text; `pretty` puts nested members on their own lines, indented by two spaces.
    public func jsonText(pretty: Bool = false) -> String {
        var out = ""
        JSONWriter(style: pretty ? .pretty : .line).write(self, into: &out, depth: 0)
        return out
    }

    /// JSON with no optional whitespace at all, as reference writers emit headers (safetensors).
    public var compactJSON: String {
        var out = ""
        JSONWriter(style: .compact).write(self, into: &out, depth: 0)
        return out
    }

    /// Formats a number for JSON and YAML: whole numbers below 10¹⁵ without a fraction, others in Swift's
    /// shortest round-trip form.
    public static func formatNumber(_ x: Double) -> String {
        if x.rounded() == x, abs(x) < 1e15 { return String(Int64(x)) }
        return x.description
    }

    /// A double-quoted string with JSON escapes (also valid as a YAML double-quoted scalar).
    public static func quoted(_ s: String) -> String {
        var out = ""
        JSONWriter.writeString(s, into: &out)
        return out
    }
}

struct JSONWriter {
    enum Style { case compact, line, pretty }
    var style: Style

    func write(_ value: JSONValue, into out: inout String, depth: Int) {
        switch value {
        case .number(let x):
            if x.isFinite {
                out += JSONValue.formatNumber(x)
            } else {
                JSONWriter.writeString(JSONValue.nonFiniteName(x), into: &out)
            }
        case .string(let s): JSONWriter.writeString(s, into: &out)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { separator(&out) }
                newline(&out, depth + 1)
                write(item, into: &out, depth: depth + 1)
            }
            newline(&out, depth)
            out += "]"
        case .object(let pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { separator(&out) }
                newline(&out, depth + 1)
                JSONWriter.writeString(key, into: &out)
                out += style == .compact ? ":" : ": "
                write(item, into: &out, depth: depth + 1)
            }
            newline(&out, depth)
            out += "}"
        }
    }

    private func separator(_ out: inout String) {
        out += style == .line ? ", " : ","
    }

    private func newline(_ out: inout String, _ depth: Int) {
        guard style == .pretty else { return }
        out += "\n" + String(repeating: "  ", count: depth)
    }

    static let shortEscapes: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"]

    static func writeString(_ s: String, into out: inout String) {
        out += "\"" + s.escapingScalars { scalar in
            if let short = shortEscapes[scalar] { return short }
            // Control characters, DEL and the two line separators that JavaScript and YAML treat as line ends.
            guard scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 else { return nil }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } + "\""
    }
}
