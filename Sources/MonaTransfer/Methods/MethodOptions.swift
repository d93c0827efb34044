import Foundation

/// The value types a method option can have, as the registry reports them (help text, docs, the hostile-value
/// test that covers every key of every method).
public enum OptionKind: Sendable, Equatable, CustomStringConvertible {
    case integer
    case number
    case bool
    case text
    /// One of a fixed set of words.
    case choice([String])

    /// What the option accepts, for messages: "an integer", "a finite number", …
    public var description: String {
        switch self {
        case .integer: return "an integer"
        case .number: return "a finite number"
        case .bool: return "true or false"
        case .text: return "non-empty text"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        }
    }
}

/// A word-valued option (`metaGradient: exact | finite-difference`): decoding lists the accepted words.
public protocol OptionChoice: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension OptionChoice {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text.lowercased()) else {
            let key = decoder.codingPath.map(\.stringValue).joined(separator: ".")
            throw TransferError.badConfig("\(key): expected \(Self.kind), got '\(text)'")
        }
        self = value
    }

    static var kind: OptionKind { .choice(allCases.map(\.rawValue)) }
}

/// One option of a method: its key and value type.
public struct OptionKey: Sendable, Equatable {
    public let key: String
    public let kind: OptionKind
}

/// Throws "`section`.`key`: expected `accepted`, got `value`" unless `ok`. Options structs call it for their
/// range checks, so that every message has the same shape.
public func requireOption(_ ok: Bool, _ key: String, _ accepted: String, got value: Any,
                          section: String = "method") throws {
    guard !ok else { return }
    throw TransferError.badConfig("\(section).\(key): expected \(accepted), got \(value)")
}

/// Decodes a method's options from their text form (`method.<key>: value`, as config files and `--set` give
/// them) strictly: an integer must be written as one (`2.7`, `1e308`, `inf` are errors), a number must be
/// finite in `Float`, a flag is `true` or `false`, a choice is one of its words, and an empty value is an error
/// (it never silently means the default). Every requested key is remembered, so that keys nobody asked for
/// can be reported as unknown with the list of known ones, and so that the registry can list each method's
/// keys with their types.
final class MethodOptionsDecoder: Decoder {
    let values: [String: String]
    let section: String
    /// Keys requested so far, in order, with their kinds.
    private(set) var requested: [OptionKey] = []
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(values: [String: String], section: String = "method") {
        self.values = values
        self.section = section
    }

    func note(_ key: String, _ kind: OptionKind) {
        if let i = requested.firstIndex(where: { $0.key == key }) {
            // A choice read through `decode<T>` is first seen as text; keep the more precise kind.
            if case .text = requested[i].kind { requested[i] = OptionKey(key: key, kind: kind) }
        } else {
            requested.append(OptionKey(key: key, kind: kind))
        }
    }

    /// Decodes `T`, then rejects keys that `T` did not ask for.
    func decode<T: Decodable>(_ type: T.Type, method: String) throws -> T {
        let value = try T(from: self)
        let known = requested.map(\.key)
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            let list = known.isEmpty ? "none (this method has no options)" : known.joined(separator: ", ")
            throw TransferError.badConfig("unknown option '\(section).\(unknown)' for method \(method); known: \(list)")
        }
        return value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw TransferError.badConfig("\(section): options are single values, not lists")
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        throw TransferError.badConfig("\(section): expected `key: value` options")
    }

    /// The text of one option, for `OptionChoice` (a single-value container).
    struct Single: Decoder, SingleValueDecodingContainer {
        let text: String
        var codingPath: [CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
            throw TransferError.badConfig("\(path): expected a single value")
        }
        func unkeyedContainer() throws -> UnkeyedDecodingContainer { throw TransferError.badConfig("\(path): expected a single value") }
        func singleValueContainer() throws -> SingleValueDecodingContainer { self }
        var path: String { codingPath.map(\.stringValue).joined(separator: ".") }
        func decodeNil() -> Bool { false }
        func decode(_ type: String.Type) throws -> String { text }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            throw TransferError.badConfig("\(path): unsupported option type \(T.self)")
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: MethodOptionsDecoder
        var codingPath: [CodingKey] { decoder.codingPath }
        var allKeys: [Key] { decoder.values.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { decoder.values[key.stringValue] != nil }
        // Never nil: an empty value is an error, not "use the default".
        func decodeNil(forKey key: Key) throws -> Bool { false }

        func name(_ key: Key) -> String { decoder.section + "." + key.stringValue }

        func text(_ key: Key, _ kind: OptionKind) throws -> String {
            decoder.note(key.stringValue, kind)
            guard let s = decoder.values[key.stringValue] else {
                throw TransferError.badConfig("\(name(key)): missing (expected \(kind))")
            }
            guard !s.isEmpty else { throw TransferError.badConfig("\(name(key)): expected \(kind), got nothing") }
            return s
        }

        func integer(_ key: Key) throws -> Int {
            let s = try text(key, .integer)
            if let i = Int(s) { return i }
            if let x = Double(s), x.isFinite, x == x.rounded(), abs(x) <= 9_007_199_254_740_992 { return Int(x) }
            throw TransferError.badConfig("\(name(key)): expected an integer, got '\(s)'")
        }

        func number(_ key: Key) throws -> Double {
            let s = try text(key, .number)
            guard let x = Double(s), x.isFinite, Float(x).isFinite else {
                throw TransferError.badConfig("\(name(key)): expected a finite number, got '\(s)'")
            }
            return x
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            let s = try text(key, .bool)
            switch s.lowercased() {
            case "true": return true
            case "false": return false
            default: throw TransferError.badConfig("\(name(key)): expected true or false, got '\(s)'")
            }
        }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try text(key, .text) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try number(key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try number(key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try narrow(key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try narrow(key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try narrow(key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try narrow(key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try narrow(key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try narrow(key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try narrow(key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try narrow(key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try narrow(key) }

        func narrow<T: FixedWidthInteger>(_ key: Key) throws -> T {
            let i = try integer(key)
            guard let v = T(exactly: i) else {
                throw TransferError.badConfig("\(name(key)): expected an integer in \(T.min)...\(T.max), got \(i)")
            }
            return v
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            if let choice = T.self as? any OptionChoice.Type { decoder.note(key.stringValue, choice.kind) }
            let s = try text(key, .text)
            return try T(from: Single(text: s, codingPath: [TextKey(decoder.section), key]))
        }

        // decodeIfPresent: note the key (so that the registry sees it even when absent), then decode if present.
        func present(_ key: Key, _ kind: OptionKind) -> Bool {
            decoder.note(key.stringValue, kind)
            return contains(key)
        }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
            present(key, .bool) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
            present(key, .text) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
            present(key, .number) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
            present(key, .number) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
            present(key, .integer) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
            present(key, .integer) ? try decode(type, forKey: key) : nil
        }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            let kind = (T.self as? any OptionChoice.Type)?.kind ?? .text
            return present(key, kind) ? try decode(type, forKey: key) : nil
        }

        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw TransferError.badConfig("\(name(key)): options are single values")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            throw TransferError.badConfig("\(name(key)): options are single values")
        }
        func superDecoder() throws -> Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> Decoder { decoder }
    }
}

/// A method without options of its own.
public struct NoOptions: Decodable, Sendable, Equatable {
    public init() {}
    public init(from decoder: Decoder) throws {}
}
