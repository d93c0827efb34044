/// A JSON value: metrics, configurations, training state, `config.json` and safetensors headers.
///
/// One policy for every file the project reads or writes:
/// - Objects keep their members in file order; a key that appears twice in one object is a parse error.
/// - Numbers are `Double`. Integers below 2⁵³ in magnitude are exact and `intValue` returns them; a larger
///   integer literal is read as the nearest double and `intValue` is nil for it, so a rounded value is never
///   taken for an exact count or offset. A literal beyond the double range (`1e400`) is a parse error.
/// - Non-finite numbers: JSON has none, so the writer emits the strings `"NaN"`, `"Infinity"` and `"-Infinity"`
///   (a diverged loss stays visible and every JSON reader can load the file) and `doubleValue` turns them back
///   into numbers. The parser also accepts the bare tokens `NaN`, `Infinity` and `-Infinity` that Python's
///   `json` module writes.
/// - Strings must be valid UTF-8; an unpaired surrogate escape (`"\ud800"`) is a parse error, not U+FFFD.
/// - Nesting deeper than `JSONParser.maxDepth` levels is a parse error (no stack overflow on hostile input).
///
/// Equality treats two NaNs as equal, so a value read back from a file equals the value that was written.
public enum JSONValue: Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Key–value pairs in file order, keys unique within the object.
    case object([(String, JSONValue)])
}

extension JSONValue {
    public init(_ value: Double) { self = .number(value) }
    public init(_ value: Int) { self = .number(Double(value)) }
    /// A `Float` by its shortest decimal form, so `Float(0.1)` is stored as 0.1 rather than 0.10000000149011612.
    public init(_ value: Float) {
        self = .number(value.isFinite ? (Double(value.description) ?? Double(value)) : Double(value))
    }
    public init(_ value: String) { self = .string(value) }
    public init(_ value: Bool) { self = .bool(value) }

    /// The number; also NaN and ±infinity from their string forms ("NaN", "Infinity", "-Infinity", "inf", "nan").
    public var doubleValue: Double? {
        switch self {
        case .number(let x): return x
        case .string(let s): return JSONValue.nonFiniteNumber(s)
        default: return nil
        }
    }

    /// The number if it is a whole number below 2⁵³ in magnitude (every such value is exact; see the type's notes).
    public var intValue: Int? {
        guard case .number(let x) = self, x.rounded() == x, abs(x) < JSONValue.exactIntegerLimit else { return nil }
        return Int(x)
    }

    /// 2⁵³: the first integer a `Double` cannot tell from its neighbour.
    public static let exactIntegerLimit: Double = 9_007_199_254_740_992

    /// The string of a `.string` (nil for other cases; use `description` to render any value as text).
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [(String, JSONValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value for `key` in an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// A short name of the value's kind, for error messages ("must be a string, got an integer").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: intValue != nil ? "an integer" : "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public static func nonFiniteNumber(_ s: String) -> Double? {
        switch s {
        case "NaN", "nan", "NAN", ".nan", ".NaN", ".NAN": return .nan
        case "Infinity", "inf", "+inf", "Inf", "+Infinity", ".inf", ".Inf", ".INF", "+.inf": return .infinity
        case "-Infinity", "-inf", "-Inf", "-.inf", "-.Inf", "-.INF": return -.infinity
        default: return nil
        }
    }

    static func nonFiniteName(_ x: Double) -> String {
        x.isNaN ? "NaN" : x > 0 ? "Infinity" : "-Infinity"
    }
}

extension JSONValue: Equatable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// Strings as they are (no quotes); everything else as compact JSON.
    public var description: String {
        if case .string(let s) = self { return s }
        return json
    }
}

extension JSONValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public typealias Key = String
    public typealias Value = JSONValue
    public typealias ArrayLiteralElement = JSONValue

    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Keeps the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}

extension JSONValue: Codable {
    private struct ObjectKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Non-finite numbers are encoded as the strings "NaN", "Infinity", "-Infinity" (encoders reject them).
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .number(let x):
            var c = encoder.singleValueContainer()
            if x.isFinite { try c.encode(x) } else { try c.encode(JSONValue.nonFiniteName(x)) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .object(let pairs):
            var c = encoder.container(keyedBy: ObjectKey.self)
            for (key, value) in pairs { try c.encode(value, forKey: ObjectKey(stringValue: key)) }
        }
    }

    /// Objects decoded through `Decodable` get the decoder's key order (Foundation's is unspecified); use
    /// `JSONValue.parse` to keep the file's order.
    public init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: ObjectKey.self) {
            self = .object(try c.allKeys.map { ($0.stringValue, try c.decode(JSONValue.self, forKey: $0)) })
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !c.isAtEnd { items.append(try c.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else {
            self = .string(try c.decode(String.self))
        }
    }
}
