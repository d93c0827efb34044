import Foundation
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

/// Decodes configuration structs from a `RunValue` tree strictly: integers must be whole and in range (`2.7`,
/// `1e308`, `.inf` are errors), numbers finite, flags `true`/`false`, text text, and a null (an empty value)
/// is an error rather than the default. Errors name the dotted key and what it accepts.
struct ConfigTreeDecoder: Decoder {
    let value: RunValue
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: RunValue, codingPath: [CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
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

    func mismatch(_ expected: String) -> TransferError {
        .badConfig("\(ConfigTreeDecoder.path(codingPath)): expected \(expected), got \(ConfigTreeDecoder.describe(value))")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let pairs) = value else { throw mismatch("a mapping of options") }
        return KeyedDecodingContainer(Keyed<Key>(pairs: pairs, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer { throw mismatch("a single value") }

    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(decoder: self) }

    // MARK: Scalars

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let accepted = T.isSigned ? "an integer" : "a non-negative integer"
        guard case .number(let x) = value, x.isFinite, x == x.rounded(), abs(x) <= 9_007_199_254_740_992,
              let v = T(exactly: x) else { throw mismatch(accepted) }
        return v
    }

    func number() throws -> Double {
        guard case .number(let x) = value, x.isFinite else { throw mismatch("a finite number") }
        return x
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: ConfigTreeDecoder
        var codingPath: [CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool {
            guard case .bool(let b) = decoder.value else { throw decoder.mismatch("true or false") }
            return b
        }
        func decode(_ type: String.Type) throws -> String {
            guard case .string(let s) = decoder.value, !s.isEmpty else { throw decoder.mismatch("non-empty text") }
            return s
        }
        func decode(_ type: Double.Type) throws -> Double { try decoder.number() }
        func decode(_ type: Float.Type) throws -> Float {
            let x = try decoder.number()
            guard Float(x).isFinite else { throw decoder.mismatch("a finite number (single precision)") }
            return Float(x)
        }
        func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let pairs: [(String, RunValue)]
        let codingPath: [CodingKey]
        var allKeys: [Key] { pairs.compactMap { Key(stringValue: $0.0) } }

        func contains(_ key: Key) -> Bool { pairs.contains { $0.0 == key.stringValue } }
        // Never nil: an empty value is an error, not "use the default".
        func decodeNil(forKey key: Key) throws -> Bool { false }

        func child(_ key: Key) throws -> ConfigTreeDecoder {
            let path = codingPath + [key]
            guard let v = pairs.first(where: { $0.0 == key.stringValue })?.1 else {
                throw TransferError.badConfig("\(ConfigTreeDecoder.path(path)): missing")
            }
            return ConfigTreeDecoder(v, codingPath: path)
        }

        func single(_ key: Key) throws -> Single { Single(decoder: try child(key)) }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try single(key).decode(type) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try single(key).decode(type) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try single(key).decode(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try single(key).decode(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try single(key).decode(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try single(key).decode(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try single(key).decode(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try single(key).decode(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try single(key).decode(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try single(key).decode(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try single(key).decode(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try single(key).decode(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try single(key).decode(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try single(key).decode(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: try child(key)) }

        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try child(key).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try child(key).unkeyedContainer()
        }
        func superDecoder() throws -> Decoder { ConfigTreeDecoder(.object(pairs), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
    }
}
