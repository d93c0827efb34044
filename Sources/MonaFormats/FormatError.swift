import Foundation

/// Why a file could not be read or written. Every case names the file and what was expected.
public struct FormatError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

extension FormatError: LocalizedError {
    /// The message itself, so Foundation's `localizedDescription` never reads "FormatError error 1".
    public var errorDescription: String? { description }
}
