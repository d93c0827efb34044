import Foundation

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
/// Size, nesting depth and alias expansion are limited (see `YAMLDocument`); reading is linear in the size.
public struct ConfigFile {
    /// Loads a YAML mapping into ordered `key → value` pairs, nested mappings flattened with dots
    /// (`optimizer.lr`). Errors name the file, line and key.
    public static func load(_ url: URL) throws -> [(String, RunValue)] {
        let data: Data
        do {
            // Refuse an oversized file before reading it into memory.
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= YAMLDocument.maxBytes else {
                throw RunError(file: url.path, "the configuration is \(size) bytes, above the \(YAMLDocument.maxBytes >> 20) MiB limit")
            }
            data = try Data(contentsOf: url)
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError(file: url.path, "cannot read the configuration (\(describe(error)))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RunError(file: url.path, "the configuration is not UTF-8 text")
        }
        return try parse(text, source: url.path)
    }

    /// Parses YAML text; `source` names it in error messages.
    public static func parse(_ text: String, source: String = "<config>") throws -> [(String, RunValue)] {
        guard let root = try YAMLDocument.compose(text, source: source) else { return [] }  // empty document
        guard case .mapping(let mapping) = root.content else {
            throw RunError("\(source):\(root.line): expected a mapping of `option: value` at the top level")
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

    private typealias Node = YAMLDocument.YAMLNode

    private static func flatten(_ mapping: [(key: Node, value: Node)], prefix: String, source: String,
                                into out: inout [(String, RunValue)], lines: inout [String: Int]) throws {
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyText, let plain) = keyNode.content else {
                throw RunError("\(source):\(keyNode.line): a key under '\(prefix)' is not a plain string")
            }
            if keyText == "<<" && plain {
                throw RunError("\(source):\(keyNode.line): merge keys (<<) are not supported; write the options out")
            }
            let key = prefix.isEmpty ? keyText : prefix + "." + keyText
            if case .mapping(let nested) = valueNode.content, !nested.isEmpty {
                try flatten(nested, prefix: key, source: source, into: &out, lines: &lines)
                continue
            }
            let line = keyNode.line
            if let first = lines[key] {
                throw RunError("\(source):\(line): duplicate key '\(key)' (first set at line \(first))")
            }
            lines[key] = line
            out.append((key, try value(of: valueNode, key: key, source: source)))
        }
    }

    private static func value(of node: Node, key: String, source: String) throws -> RunValue {
        switch node.content {
        case .scalar(let text, let plain):
            return plain ? resolve(plain: text) : .string(text)
        case .sequence(let items):
            return .array(try items.map { try value(of: $0, key: key, source: source) })
        case .mapping(let mapping):
            var pairs: [(String, RunValue)] = []
            var seen = Set<String>()
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyText, _) = keyNode.content else {
                    throw RunError("\(source):\(keyNode.line): a key inside '\(key)' is not a plain string")
                }
                guard seen.insert(keyText).inserted else {
                    throw RunError("\(source):\(keyNode.line): duplicate key '\(keyText)' inside '\(key)'")
                }
                pairs.append((keyText, try value(of: valueNode, key: key + "." + keyText, source: source)))
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
        // On UTF-8 bytes: a configuration has one plain scalar per value, so this runs for every one of them.
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "0"), bytes[i + 1] | 0x20 == UInt8(ascii: "x") {
            let hex = String(decoding: bytes[(i + 2)...].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
            guard !hex.isEmpty, let v = UInt64(hex, radix: 16) else { return nil }
            return negative ? -Double(v) : Double(v)
        }
        /// Digits from `i` on, `_` separators (after the first digit) dropped when `allowUnderscore`.
        func run(_ allowUnderscore: Bool) -> [UInt8] {
            var s: [UInt8] = []
            while i < bytes.count, isDigit(bytes[i]) || (allowUnderscore && bytes[i] == UInt8(ascii: "_") && !s.isEmpty) {
                if bytes[i] != UInt8(ascii: "_") { s.append(bytes[i]) }
                i += 1
            }
            return s
        }
        let whole = run(true)
        var fraction: [UInt8] = []
        var hasPoint = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") { hasPoint = true; i += 1; fraction = run(true) }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        // `007` is an identifier-like string, not a number (YAML 1.1 would read it as octal, 1.2 as 7).
        if whole.count > 1, whole[0] == UInt8(ascii: "0") { return nil }
        var exponent: [UInt8] = []
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            exponent = [UInt8(ascii: "e")]
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { exponent.append(bytes[i]); i += 1 }
            let digits = run(false)
            guard !digits.isEmpty else { return nil }
            exponent += digits
        }
        guard i == bytes.count else { return nil }
        var literal: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        literal += whole.isEmpty ? [UInt8(ascii: "0")] : whole
        if hasPoint { literal += [UInt8(ascii: ".")] + (fraction.isEmpty ? [UInt8(ascii: "0")] : fraction) }
        literal += exponent
        return Double(String(decoding: literal, as: UTF8.self))
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
            var text = RunValue.formatNumber(x)
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
        else { return RunValue.quoted(s) }
        return s
    }
}
