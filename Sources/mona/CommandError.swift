import Foundation

/// A failure with a one-line cause, reported by `reportingErrors` without the usage text that
/// `ValidationError` adds (which is for malformed command lines, not for bad files).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--checkpoint` of evaluate and predict: one of the checkpoints a run directory holds.
func checkCheckpointName(_ name: String) throws {
    let names = ["best", "last", "aligned"]
    guard names.contains(name) else {
        throw CommandError("--checkpoint \(name): accepted: \(names.joined(separator: ", "))")
    }
}

/// A file or folder named by an option or argument must exist; the error names the option (`what`).
func checkExists(_ path: String, _ what: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw CommandError("\(what) \(path): no such file or folder") }
}
