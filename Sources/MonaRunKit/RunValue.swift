/// A JSON-like value for metrics, configurations and training state.
///
/// Objects keep their keys in order (a run's files should read the same way every time). Numbers are `Double`;
/// integers up to 2^53 are exact and are written without a fractional part.
///
/// Non-finite numbers: JSON has no NaN or infinity, so `RunValue.json` writes them as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"` (a diverged loss stays visible instead of becoming `null`), and
/// `doubleValue` turns those strings back into numbers. The JSON reader also accepts the bare tokens `NaN`,
/// `Infinity` and `-Infinity` that Python's `json` module writes. YAML uses its own `.nan` / `.inf`.
///
/// Equality treats two NaNs as equal, so a value read back from a file equals the value that was written.
public enum RunValue: Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([RunValue])
    /// Key–value pairs in order; keys should be unique (the readers reject duplicates).
    case object([(String, RunValue)])
}

extension RunValue {
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
        case .string(let s): return RunValue.nonFiniteNumber(s)
        default: return nil
        }
    }

    /// The number if it is a whole number that fits an `Int`.
    public var intValue: Int? {
        guard case .number(let x) = self, x.rounded() == x, abs(x) < 9.2e18 else { return nil }
        return Int(x)
    }

    /// The string of a `.string` (nil for other cases; use `description` to render any value as text).
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [RunValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [(String, RunValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value for `key` in an object (the first if repeated); nil for a missing key or a non-object.
    public subscript(key: String) -> RunValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    static func nonFiniteNumber(_ s: String) -> Double? {
        switch s {
        case "NaN", "nan", "NAN", ".nan", ".NaN", ".NAN": return .nan
        case "Infinity", "inf", "+inf", "Inf", "+Infinity", ".inf", ".Inf", ".INF", "+.inf": return .infinity
        case "-Infinity", "-inf", "-Inf", "-.inf", "-.Inf", "-.INF": return -.infinity
        default: return nil
        }
    }
}

extension RunValue: Equatable {
    public static func == (a: RunValue, b: RunValue) -> Bool {
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

extension RunValue: CustomStringConvertible {
    /// Strings as they are (no quotes); everything else as compact JSON.
    public var description: String {
        if case .string(let s) = self { return s }
        return json
    }
}

extension RunValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public typealias Key = String
    public typealias Value = RunValue
    public typealias ArrayLiteralElement = RunValue

    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: RunValue...) { self = .array(elements) }
    /// Keeps the literal's key order.
    public init(dictionaryLiteral elements: (String, RunValue)...) { self = .object(elements) }
}

extension RunValue: Codable {
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
            if x.isFinite { try c.encode(x) } else { try c.encode(RunValue.nonFiniteName(x)) }
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
    /// `RunValue.parse(json:)` to keep the file's order.
    public init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: ObjectKey.self) {
            self = .object(try c.allKeys.map { ($0.stringValue, try c.decode(RunValue.self, forKey: $0)) })
            return
        }
        if var c = try? decoder.unkeyedContainer() {
            var items: [RunValue] = []
            while !c.isAtEnd { items.append(try c.decode(RunValue.self)) }
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

    static func nonFiniteName(_ x: Double) -> String {
        x.isNaN ? "NaN" : x > 0 ? "Infinity" : "-Infinity"
    }
}
