import Foundation

/// Why a data file (or a data option) could not be used.
///
/// Every loader in this module treats its input as untrusted: a malformed file gives a `DataError` that names the
/// file, the 1-based line for text formats (binary formats say the byte offset in the message instead), and what
/// was expected — never a crash.
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or, for a bad option, the option's name) the error is about.
    public let file: String
    /// 1-based line number in a text file, when the problem sits on one line.
    public let line: Int?
    /// What was wrong and what was expected.
    public let message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, or `file: message` without a line.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads a whole file, turning Foundation's error into a `DataError` naming the file.
func readBytes(_ url: URL) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw DataError(file: url.path, "cannot read file (\(error.localizedDescription))")
    }
}

/// A short, printable excerpt of an offending token for error messages.
func quoted<S: StringProtocol>(_ token: S, limit: Int = 40) -> String {
    let s = String(token)
    return s.count <= limit ? "'\(s)'" : "'\(s.prefix(limit))…'"
}

extension DataError: LocalizedError {
    /// The message itself, so Foundation's `localizedDescription` never reads "DataError error 1".
    public var errorDescription: String? { description }
}
