import Foundation
import Yams

/// YAML configuration files: nested mappings read as flat, ordered `dotted.key → value` pairs.
///
/// ```yaml
/// seed: 0
/// optimizer:
///   name: adamw
///   lr: 1e-4          # a number: plain scalars that look like numbers are numbers
/// tags: [a, "1"]      # arrays; quoted scalars are always strings
/// ```
/// loads as `[("seed", 0), ("optimizer.name", "adamw"), ("optimizer.lr", 0.0001), ("tags", ["a", "1"])]`.
///
/// Scalar rules (plain, unquoted scalars; quoted and block scalars are always strings):
/// `null`, `~` and an empty value are null; `true`/`false` (any case style) are booleans — `yes`/`no`/`on`/`off`
/// stay strings; decimal numbers (`3`, `-0.5`, `1e-4`, `1_000`), `0x` hex integers and `.inf`/`-.inf`/`.nan`
/// are numbers; a number with a leading zero such as `007` stays a string (an identifier, not an octal).
/// An empty nested mapping `{}` is kept as an empty `.object`; mappings inside lists become `.object` values.
/// Anchors and aliases work; merge keys (`<<`) are rejected rather than silently taken as an option name.
public struct ConfigFile {
    /// Loads a YAML mapping into ordered `key → value` pairs, nested mappings flattened with dots
    /// (`optimizer.lr`). Errors name the file, line and key.
    public static func load(_ url: URL) throws -> [(String, RunValue)] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunError(file: url.path, "cannot read the configuration (\(describe(error)))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RunError(file: url.path, "the configuration is not UTF-8 text")
        }
        return try parse(text, source: url.path)
    }

    /// Parses YAML text; `source` names it in error messages.
    public static func parse(_ text: String, source: String = "<config>") throws -> [(String, RunValue)] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            throw RunError(yamlMessage(error, source: source))
        } catch {
            throw RunError(file: source, "invalid YAML (\(describe(error)))")
        }
        guard let root else { return [] }  // empty document
        guard case .mapping(let mapping) = root else {
            throw RunError("\(location(source, root.mark)): expected a mapping of `option: value` at the top level")
        }
        var out: [(String, RunValue)] = []
        var lines: [String: Int] = [:]
        try flatten(mapping, prefix: "", source: source, into: &out, lines: &lines)
        return out
    }

    /// Writes a resolved configuration as YAML (atomically), such that `load` gives the same pairs back.
    ///
    /// Consecutive keys that share a dotted prefix are nested under it; keys that cannot be nested without
    /// reordering or clashing are written with their dots (`optimizer.lr: 0.001`), which loads identically.
    /// Arrays and objects are written in flow style (`[1, 2]`, `{a: 1}`). A non-empty object value loads back
    /// flattened (`key.sub`), as if it had been nested in the first place.
    public static func write(_ config: [(String, RunValue)], to url: URL) throws {
        try AtomicFile.write(yaml(config), to: url)
    }

    /// The YAML text `write` produces.
    public static func yaml(_ config: [(String, RunValue)]) throws -> String {
        var seen = Set<String>()
        for (key, _) in config where !seen.insert(key).inserted {
            throw RunError("configuration: duplicate key '\(key)'")
        }
        var out = ""
        emit(config.map { (components: $0.0.split(separator: ".", omittingEmptySubsequences: false).map(String.init),
                           value: $0.1) },
             depth: 0, into: &out)
        return out
    }

    /// A configuration's value for `key`.
    public static func value(_ key: String, in config: [(String, RunValue)]) -> RunValue? {
        config.first { $0.0 == key }?.1
    }

    // MARK: Reading

    private static func location(_ source: String, _ mark: Mark?) -> String {
        guard let mark else { return source }
        return "\(source):\(mark.line)"
    }

    private static func yamlMessage(_ error: YamlError, source: String) -> String {
        func message(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> String {
            var text = "\(source):\(mark.line):\(mark.column): invalid YAML: \(problem)"
            if let context { text += " (\(context.text) at line \(context.mark.line))" }
            return text
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return message(context, problem, mark)
        case let .reader(problem, offset, _, yaml):
            if let offset, offset <= yaml.count {
                let line = yaml.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                return "\(source):\(line): invalid YAML: \(problem)"
            }
            return "\(source): invalid YAML: \(problem)"
        default:
            return "\(source): invalid YAML: \(error)"
        }
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: String, source: String,
                                into out: inout [(String, RunValue)], lines: inout [String: Int]) throws {
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw RunError("\(location(source, keyNode.mark)): a key under '\(prefix)' is not a plain string")
            }
            if keyScalar.string == "<<" && keyScalar.style == .plain {
                throw RunError("\(location(source, keyNode.mark)): merge keys (<<) are not supported; write the options out")
            }
            let key = prefix.isEmpty ? keyScalar.string : prefix + "." + keyScalar.string
            if case .mapping(let nested) = valueNode, nested.count > 0 {
                try flatten(nested, prefix: key, source: source, into: &out, lines: &lines)
                continue
            }
            let line = keyNode.mark?.line ?? 0
            if let first = lines[key] {
                throw RunError("\(source):\(line): duplicate key '\(key)' (first set at line \(first))")
            }
            lines[key] = line
            out.append((key, try value(of: valueNode, key: key, source: source)))
        }
    }

    private static func value(of node: Node, key: String, source: String) throws -> RunValue {
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain || scalar.style == .any ? resolve(plain: scalar.string) : .string(scalar.string)
        case .sequence(let sequence):
            return .array(try sequence.map { try value(of: $0, key: key, source: source) })
        case .mapping(let mapping):
            var pairs: [(String, RunValue)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw RunError("\(location(source, keyNode.mark)): a key inside '\(key)' is not a plain string")
                }
                if pairs.contains(where: { $0.0 == keyScalar.string }) {
                    throw RunError("\(location(source, keyNode.mark)): duplicate key '\(keyScalar.string)' inside '\(key)'")
                }
                pairs.append((keyScalar.string, try value(of: valueNode, key: key + "." + keyScalar.string, source: source)))
            }
            return .object(pairs)
        }
    }

    /// The value of a plain (unquoted) scalar, by the rules in the type's documentation.
    public static func resolve(plain text: String) -> RunValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        default: break
        }
        if let x = number(text) { return .number(x) }
        return .string(text)
    }

    /// A decimal number (optional sign, digits with `_` separators, fraction, exponent) or a `0x` integer.
    private static func number(_ text: String) -> Double? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "+" || first == "-" { negative = first == "-"; body = body.dropFirst() }
        if body.hasPrefix("0x") || body.hasPrefix("0X") {
            let hex = body.dropFirst(2).filter { $0 != "_" }
            guard !hex.isEmpty, let v = UInt64(hex, radix: 16) else { return nil }
            return negative ? -Double(v) : Double(v)
        }
        let chars = Array(body)
        var i = 0
        func run(_ allowUnderscore: Bool) -> String {
            var s = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber || (allowUnderscore && chars[i] == "_" && !s.isEmpty) {
                if chars[i] != "_" { s.append(chars[i]) }
                i += 1
            }
            return s
        }
        let whole = run(true)
        var fraction = ""
        var hasPoint = false
        if i < chars.count, chars[i] == "." { hasPoint = true; i += 1; fraction = run(true) }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        // `007` is an identifier-like string, not a number (YAML 1.1 would read it as octal, 1.2 as 7).
        if whole.count > 1, whole.first == "0" { return nil }
        var exponent = ""
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            i += 1
            var sign = ""
            if i < chars.count, chars[i] == "+" || chars[i] == "-" { sign = String(chars[i]); i += 1 }
            let digits = run(false)
            guard !digits.isEmpty else { return nil }
            exponent = "e" + sign + digits
        }
        guard i == chars.count else { return nil }
        let literal = (negative ? "-" : "") + (whole.isEmpty ? "0" : whole) + (hasPoint ? "." + (fraction.isEmpty ? "0" : fraction) : "") + exponent
        return Double(literal)
    }

    // MARK: Writing

    private typealias Entry = (components: [String], value: RunValue)

    private static func emit(_ entries: [Entry], depth: Int, into out: inout String) {
        let indent = String(repeating: "  ", count: depth)
        // A run of adjacent keys sharing a first component becomes a nested mapping, unless that component is
        // also a key of its own here (YAML would see a duplicate) or was already nested earlier (same reason).
        let ownKeys = Set(entries.filter { $0.components.count == 1 }.map { $0.components[0] })
        var nested = Set<String>()
        var i = 0
        while i < entries.count {
            let entry = entries[i]
            let name = entry.components[0]
            var end = i
            while end < entries.count, entries[end].components.count > 1, entries[end].components[0] == name { end += 1 }
            if end > i, !ownKeys.contains(name), !nested.contains(name) {
                nested.insert(name)
                out += indent + yamlKey(name) + ":\n"
                emit(entries[i..<end].map { (Array($0.components.dropFirst()), $0.value) }, depth: depth + 1, into: &out)
                i = end
            } else {
                out += indent + yamlKey(entry.components.joined(separator: ".")) + ": " + yamlValue(entry.value) + "\n"
                i += 1
            }
        }
    }

    private static func yamlKey(_ key: String) -> String { yamlString(key) }

    /// A value in YAML flow syntax.
    static func yamlValue(_ value: RunValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x):
            if x.isNaN { return ".nan" }
            if x.isInfinite { return x > 0 ? ".inf" : "-.inf" }
            var text = formatNumber(x)
            // YAML 1.1 readers (PyYAML) need a '.' in the mantissa to see `1e-05` as a float.
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }), !text[..<e].contains(".") {
                text.insert(contentsOf: ".0", at: e)
            }
            return text
        case .string(let s): return yamlString(s)
        case .array(let items): return "[" + items.map(yamlValue).joined(separator: ", ") + "]"
        case .object(let pairs): return "{" + pairs.map { yamlString($0.0) + ": " + yamlValue($0.1) }.joined(separator: ", ") + "}"
        }
    }

    /// Words that YAML 1.1 readers take as booleans; quoted so other tools read them as strings too.
    private static let yaml11Booleans: Set<String> = ["y", "n", "yes", "no", "on", "off"]

    /// A string, plain when that is unambiguous (also inside flow collections), double-quoted otherwise.
    static func yamlString(_ s: String) -> String {
        let plainSafe = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                          || "_./+-() ".unicodeScalars.contains(c))
        }
        guard plainSafe,
              // Starting with a letter, `_` or `/` rules out numbers, dates and YAML indicators.
              let first = s.unicodeScalars.first,
              ("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "_" || first == "/",
              s.last != " ", !s.contains("  "),
              !yaml11Booleans.contains(s.lowercased()),
              resolve(plain: s) == .string(s)
        else { return JSONWriter.quoted(s) }
        return s
    }
}
