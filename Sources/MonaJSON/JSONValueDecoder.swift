/// Decodes `Decodable` types from a parsed `JSONValue`: the one decoder behind typed files (a Hugging Face
/// `config.json`) and run configurations (the merged YAML tree). Integers must be whole, in range and exact
/// (below 2⁵³), whatever the mode; the two modes differ in what else they accept:
///
/// - `.file`: null is an absent member; any number, any text, lists allowed.
/// - `.configuration`: strict, because every value was typed by a person: null (an empty value) is an error
///   rather than the default, numbers must be finite, text non-empty, and there are no lists.
///
/// Every error is built by `rules.error` from the coding path, what was expected and what was found (nil:
/// the member is missing), so each caller words errors the way its users know them.
public struct JSONValueDecoder: Decoder {
    public enum Mode: Sendable { case file, configuration }

    public struct Rules: Sendable {
        public var mode: Mode
        public var error: @Sendable (_ path: [CodingKey], _ expected: String, _ found: JSONValue?) -> Error

        public init(mode: Mode, error: @escaping @Sendable (_ path: [CodingKey], _ expected: String, _ found: JSONValue?) -> Error) {
            self.mode = mode
            self.error = error
        }
    }

    public let value: JSONValue
    public let codingPath: [CodingKey]
    public let rules: Rules
    public var userInfo: [CodingUserInfoKey: Any] { [:] }

    public init(_ value: JSONValue, rules: Rules, codingPath: [CodingKey] = []) {
        self.value = value
        self.rules = rules
        self.codingPath = codingPath
    }

    /// A decoder for `value` one level down, at `key`.
    public func child(_ value: JSONValue, key: CodingKey) -> JSONValueDecoder {
        JSONValueDecoder(value, rules: rules, codingPath: codingPath + [key])
    }

    /// The error for this value when `expected` was wanted.
    public func mismatch(_ expected: String) -> Error { rules.error(codingPath, expected, value) }

    var strict: Bool { rules.mode == .configuration }

    public func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let pairs) = value else { throw mismatch(strict ? "a mapping of options" : "an object") }
        return KeyedDecodingContainer(Keyed<Key>(decoder: self, pairs: pairs))
    }

    public func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard !strict else { throw mismatch("a single value") }
        guard case .array(let items) = value else { throw mismatch("an array") }
        return Unkeyed(decoder: self, items: items)
    }

    public func singleValueContainer() throws -> SingleValueDecodingContainer { Single(decoder: self) }

    // MARK: Scalars

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let x) = value, x.isFinite, x == x.rounded(), abs(x) <= JSONValue.exactIntegerLimit,
              let v = T(exactly: x) else { throw mismatch(T.isSigned ? "an integer" : "a non-negative integer") }
        return v
    }

    func number() throws -> Double {
        guard case .number(let x) = value, x.isFinite || !strict else { throw mismatch(strict ? "a finite number" : "a number") }
        return x
    }

    func text() throws -> String {
        guard case .string(let s) = value, !(strict && s.isEmpty) else { throw mismatch(strict ? "non-empty text" : "a string") }
        return s
    }

    func flag() throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("true or false") }
        return b
    }

    func single(_ type: Float.Type) throws -> Float {
        let x = try number()
        guard Float(x).isFinite || !strict else { throw mismatch("a finite number (single precision)") }
        return Float(x)
    }

    /// Decodes a scalar or nested value of any type.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Bool.Type: return try flag() as! T
        case is String.Type: return try text() as! T
        case is Double.Type: return try number() as! T
        case is Float.Type: return try single(Float.self) as! T
        case is Int.Type: return try integer(Int.self) as! T
        case is Int64.Type: return try integer(Int64.self) as! T
        case is Int32.Type: return try integer(Int32.self) as! T
        case is UInt64.Type: return try integer(UInt64.self) as! T
        case is UInt32.Type: return try integer(UInt32.self) as! T
        case is UInt.Type: return try integer(UInt.self) as! T
        default: return try T(from: self)
        }
    }

    /// Null counts as absent only for files.
    var isAbsent: Bool { !strict && value == .null }

    struct Single: SingleValueDecodingContainer {
        let decoder: JSONValueDecoder
        var codingPath: [CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { decoder.isAbsent }
        func decode(_ type: Bool.Type) throws -> Bool { try decoder.flag() }
        func decode(_ type: String.Type) throws -> String { try decoder.text() }
        func decode(_ type: Double.Type) throws -> Double { try decoder.number() }
        func decode(_ type: Float.Type) throws -> Float { try decoder.single(type) }
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
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: JSONValueDecoder
        let pairs: [(String, JSONValue)]
        var codingPath: [CodingKey] { decoder.codingPath }
        var allKeys: [Key] { pairs.compactMap { Key(stringValue: $0.0) } }

        func contains(_ key: Key) -> Bool { pairs.contains { $0.0 == key.stringValue } }

        func decodeNil(forKey key: Key) throws -> Bool { try child(key).isAbsent }

        func child(_ key: Key) throws -> JSONValueDecoder {
            guard let v = pairs.first(where: { $0.0 == key.stringValue })?.1 else {
                throw decoder.rules.error(codingPath + [key], "", nil)
            }
            return decoder.child(v, key: key)
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).flag() }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).text() }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).number() }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).single(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try child(key).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try child(key).unkeyedContainer()
        }
        func superDecoder() throws -> Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let decoder: JSONValueDecoder
        let items: [JSONValue]
        var codingPath: [CodingKey] { decoder.codingPath }
        var count: Int? { items.count }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex >= items.count }

        init(decoder: JSONValueDecoder, items: [JSONValue]) {
            self.decoder = decoder
            self.items = items
        }

        struct Index: CodingKey {
            let intValue: Int?
            var stringValue: String { String(intValue ?? 0) }
            init(_ i: Int) { intValue = i }
            init?(stringValue: String) { nil }
            init?(intValue: Int) { self.intValue = intValue }
        }

        mutating func next() throws -> JSONValueDecoder {
            guard !isAtEnd else { throw decoder.rules.error(codingPath + [Index(currentIndex)], "", nil) }
            defer { currentIndex += 1 }
            return decoder.child(items[currentIndex], key: Index(currentIndex))
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, decoder.child(items[currentIndex], key: Index(currentIndex)).isAbsent else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
            try next().container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> Decoder { try next() }
    }
}
