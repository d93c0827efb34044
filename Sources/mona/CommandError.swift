/// A failure with a one-line cause, reported by `reportingErrors` without the usage text that
/// `ValidationError` adds (which is for malformed command lines, not for bad files).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
