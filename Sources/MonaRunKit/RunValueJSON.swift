import Foundation

extension RunValue {
    /// Compact JSON on one line (see the type's notes on non-finite numbers).
    public var json: String { jsonText(pretty: false) }

    /// JSON text; `pretty` indents nested arrays and objects by two spaces.
    public func jsonText(pretty: Bool = false) -> String {
        var out = ""
        JSONWriter(pretty: pretty).write(self, into: &out, depth: 0)
        return out
    }

    /// Parses one JSON value, keeping object keys in file order.
    ///
    /// Accepts standard JSON plus the bare tokens `NaN`, `Infinity` and `-Infinity`. Errors give the line and
    /// column of the problem.
    public static func parse(json text: String) throws -> RunValue {
        try parse(json: Array(text.utf8))
    }

    public static func parse(json data: Data) throws -> RunValue {
        try parse(json: [UInt8](data))
    }

    static func parse(json bytes: [UInt8]) throws -> RunValue {
        var reader = JSONReader(bytes: bytes)
        let value = try reader.parseDocument()
        return value
    }
}

/// Formats a number for JSON and YAML: whole numbers without a fraction, others in Swift's shortest form.
func formatNumber(_ x: Double) -> String {
    if x.rounded() == x, abs(x) < 1e15 { return String(Int64(x)) }
    return x.description
}

struct JSONWriter {
    var pretty: Bool

    func write(_ value: RunValue, into out: inout String, depth: Int) {
        switch value {
        case .number(let x):
            if x.isFinite { out += formatNumber(x) } else { JSONWriter.writeString(RunValue.nonFiniteName(x), into: &out) }
        case .string(let s): JSONWriter.writeString(s, into: &out)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += pretty ? "," : ", " }
                newline(&out, depth + 1)
                write(item, into: &out, depth: depth + 1)
            }
            newline(&out, depth)
            out += "]"
        case .object(let pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += pretty ? "," : ", " }
                newline(&out, depth + 1)
                JSONWriter.writeString(key, into: &out)
                out += ": "
                write(item, into: &out, depth: depth + 1)
            }
            newline(&out, depth)
            out += "}"
        }
    }

    private func newline(_ out: inout String, _ depth: Int) {
        guard pretty else { return }
        out += "\n" + String(repeating: "  ", count: depth)
    }

    /// A double-quoted string with JSON escapes (also valid in YAML double-quoted scalars).
    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }
}

/// A small JSON reader over UTF-8 bytes that keeps object key order and reports line:column on errors.
struct JSONReader {
    let bytes: [UInt8]
    var index = 0
    /// Nesting limit: deeper documents are rejected rather than overflowing the stack.
    let maxDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> RunValue {
        skipSpace()
        let value = try parseValue(depth: 0)
        skipSpace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> RunError {
        var line = 1, column = 1
        for b in bytes[..<min(index, bytes.count)] {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return RunError("line \(line), column \(column): \(message)")
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func consume(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else { return false }
        index += utf8.count
        return true
    }

    private mutating func parseValue(depth: Int) throws -> RunValue {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var pairs: [(String, RunValue)] = []
            var seen = Set<String>()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key string") }
                let keyStart = index
                let key = try parseString()
                guard seen.insert(key).inserted else { index = keyStart; throw error("duplicate key \"\(key)\"") }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                index += 1
                skipSpace()
                pairs.append((key, try parseValue(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(pairs) }
                throw error("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [RunValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of input in an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        default:
            if consume("true") { return .bool(true) }
            if consume("false") { return .bool(false) }
            if consume("null") { return .null }
            if consume("NaN") { return .number(.nan) }
            if consume("Infinity") { return .number(.infinity) }
            if consume("-Infinity") { return .number(-.infinity) }
            return .number(try parseNumber())
        }
    }

    private mutating func parseNumber() throws -> Double {
        let start = index
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func digits() -> Int {
            let s = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - s
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { index = start; throw error("expected a value") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in an exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { index = start; throw error("bad number \(text)") }
        return value
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count,
              let v = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw error("bad \\u escape") }
        index += 4
        return v
    }

    private mutating func parseString() throws -> String {
        index += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { index += 1; break }
            if b < 0x20 { throw error("control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); index += 1; continue }
            index += 1
            guard index < bytes.count else { throw error("unterminated string") }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 2
                    let low = try parseHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(scalar).utf8))
            default: index -= 1; throw error("bad escape \\\(String(UnicodeScalar(e)))")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
