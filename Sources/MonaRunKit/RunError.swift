/// Why a run could not go on: a one-line cause that names the file, option or key involved.
///
/// Command-line front ends print `description` and exit with `exitCode`.
public struct RunError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The cause, on one line.
    public let message: String
    /// The process exit status this error should produce (1 unless the caller says otherwise; 2 for usage errors).
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        // One line: newlines from wrapped library messages would break log parsing.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.exitCode = exitCode
    }

    /// An error about a file: "<path>: <message>".
    public init(file: String, _ message: String, exitCode: Int32 = 1) {
        self.init("\(file): \(message)", exitCode: exitCode)
    }

    public var description: String { message }
}
