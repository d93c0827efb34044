import Foundation
import MonaJSON

/// Metrics, configurations and training state are JSON values (MonaJSON holds the type and its policy).
public typealias RunValue = JSONValue

extension JSONValue {
    /// Parses one JSON value, keeping object keys in file order; errors are `RunError`s giving the line and column.
    public static func parse(json text: String) throws -> RunValue {
        try parse(json: Array(text.utf8))
    }

    public static func parse(json data: Data) throws -> RunValue {
        try parse(json: [UInt8](data))
    }

    public static func parse(json bytes: [UInt8]) throws -> RunValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw RunError("\(error)")
        }
    }
}
