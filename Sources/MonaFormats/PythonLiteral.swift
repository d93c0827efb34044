/// The subset of Python literal syntax found in `.npy` headers: dicts, tuples, lists, quoted strings, integers,
/// `True`, `False` and `None`. Parsed, never evaluated.
indirect enum PythonLiteral: Equatable, CustomStringConvertible {
    case dict([(PythonLiteral, PythonLiteral)])
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case string(String)
    case int(Int)
    case bool(Bool)
    case none

    struct Failure: Error { let message: String }

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.description == b.description }

    /// Items of a tuple or list.
    var sequence: [PythonLiteral]? {
        switch self {
        case .tuple(let items), .list(let items): items
        default: nil
        }
    }

    var description: String {
        switch self {
        case .dict(let pairs): "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .tuple(let items): items.count == 1 ? "(\(items[0]),)" : "(" + items.map(\.description).joined(separator: ", ") + ")"
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .string(let s): "'\(s)'"
        case .int(let v): String(v)
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        }
    }

    static let maxDepth = 32

    /// Parses one literal; `utf8` selects the string encoding (latin-1 otherwise). Whitespace may surround it.
    static func parse(_ bytes: [UInt8], utf8: Bool) throws(Failure) -> PythonLiteral {
        var p = Parser(bytes: bytes, utf8: utf8)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw Failure(message: "unexpected text at byte \(p.i)") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        let utf8: Bool
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        func fail(_ m: String) -> Failure { Failure(message: "\(m) at byte \(i)") }

        mutating func value(depth: Int) throws(Failure) -> PythonLiteral {
            guard depth < PythonLiteral.maxDepth else { throw fail("nesting too deep") }
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                var pairs: [(PythonLiteral, PythonLiteral)] = []
                while true {
                    skipSpace()
                    if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .dict(pairs) }
                    let key = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    pairs.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unterminated dict") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                }
            case UInt8(ascii: "("), UInt8(ascii: "["):
                let close = c == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
                i += 1
                var items: [PythonLiteral] = []
                var sawComma = false
                while true {
                    skipSpace()
                    if i < bytes.count, bytes[i] == close {
                        i += 1
                        if close == UInt8(ascii: "]") { return .list(items) }
                        // `(x)` is just x in Python; only `(x,)` is a one-tuple.
                        if items.count == 1 && !sawComma { return items[0] }
                        return .tuple(items)
                    }
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unterminated sequence") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; sawComma = true; continue }
                    guard bytes[i] == close else { throw fail("expected ',' or a closing bracket") }
                }
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try string(quote: c))
            case UInt8(ascii: "-"), 0x30...0x39:
                return .int(try integer())
            default:
                let start = i
                while i < bytes.count, (0x41...0x5A).contains(bytes[i]) || (0x61...0x7A).contains(bytes[i]) { i += 1 }
                switch String(decoding: bytes[start..<i], as: UTF8.self) {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                default: i = start; throw fail("unsupported token")
                }
            }
        }

        mutating func integer() throws(Failure) -> Int {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            let digitsStart = i
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
            guard i > digitsStart, let v = Int(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                throw fail("invalid or too large integer")
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "L") { i += 1 }   // Python 2 long suffix
            return v
        }

        mutating func string(quote: UInt8) throws(Failure) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                i += 1
                if c == quote { break }
                if c == UInt8(ascii: "\\") {
                    guard i < bytes.count else { throw fail("unterminated escape") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    default: throw fail("unsupported escape in a string")
                    }
                    continue
                }
                if c == 0x0A { throw fail("newline inside a string") }
                out.append(c)
            }
            if utf8 {
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                return s
            }
            return String(out.map { Character(Unicode.Scalar($0)) })
        }
    }
}
