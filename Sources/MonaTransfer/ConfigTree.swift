import Foundation
import MonaJSON
import MonaRunKit

/// The merged configuration tree: layers of flat `dotted.key → value` pairs (a saved run's config, the YAML
/// file, the flags) and `--set key=value` assignments, each applied to the tree in turn, later ones winning.
public struct ConfigTree: Sendable {
    public private(set) var root: [(String, RunValue)] = []

    public init() {}

    /// Sets `value` at the dotted `key` (`training.learningRate`), creating sections as needed.
    public mutating func set(_ value: RunValue, at key: String) throws {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { throw TransferError.badConfig("option '\(key)': empty key component") }
        try ConfigTree.insert(value, at: parts[...], into: &root, prefix: "")
    }

    /// Applies `--set key=value`: the value is read as a YAML plain scalar (a number, true/false, an empty value
    /// is null, anything else text) and set on the tree; it is never spliced into YAML text.
    public mutating func assign(_ assignment: String) throws {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw TransferError.badConfig("--set \(assignment): expected key=value")
        }
        let key = String(assignment[..<eq]).trimmingCharacters(in: .whitespaces)
        let text = String(assignment[assignment.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        try set(ConfigFile.resolve(plain: text), at: key)
    }

    public var value: RunValue { .object(root) }

    static func insert(_ value: RunValue, at path: ArraySlice<String>, into object: inout [(String, RunValue)],
                       prefix: String) throws {
        let head = path.first!
        let index = object.firstIndex { $0.0 == head }
        if path.count == 1 {
            if let i = index { object[i].1 = value } else { object.append((head, value)) }
            return
        }
        var child: [(String, RunValue)] = []
        if let i = index {
            guard case .object(let existing) = object[i].1 else {
                throw TransferError.badConfig("option '\(prefix)\(head)' is a single value, so "
                                              + "'\(prefix)\(path.joined(separator: "."))' cannot be set under it")
            }
            child = existing
        }
        try insert(value, at: path.dropFirst(), into: &child, prefix: prefix + head + ".")
        if let i = index { object[i].1 = .object(child) } else { object.append((head, .object(child))) }
    }
}

/// Decodes configuration structs from the merged tree strictly (`JSONValueDecoder` in configuration mode):
/// integers must be whole and in range (`2.7`, `1e308`, `.inf` are errors), numbers finite, flags
/// `true`/`false`, text text, and a null (an empty value) is an error rather than the default. Errors name the
/// dotted key and what it accepts.
enum ConfigTreeDecoder {
    static func make(_ value: RunValue) -> JSONValueDecoder { JSONValueDecoder(value, rules: rules) }

    static let rules = JSONValueDecoder.Rules(mode: .configuration) { codingPath, expected, found in
        guard let found else { return TransferError.badConfig("\(path(codingPath)): missing") }
        return TransferError.badConfig("\(path(codingPath)): expected \(expected), got \(describe(found))")
    }

    static func path(_ codingPath: [CodingKey]) -> String {
        let p = codingPath.map(\.stringValue).joined(separator: ".")
        return p.isEmpty ? "configuration" : p
    }

    static func describe(_ v: RunValue) -> String {
        switch v {
        case .null: return "nothing"
        case .bool(let b): return String(b)
        case .number(let x):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
        case .string(let s): return "'\(s)'"
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }
}
