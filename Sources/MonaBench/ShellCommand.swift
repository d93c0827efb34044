import Foundation

/// One external command (`sbatch`, `squeue`) run to completion, with its output captured.
public struct ShellCommand: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The first non-empty line of stderr (else stdout), for one-line errors.
        public var firstMessage: String {
            let lines = (stderr + "\n" + stdout).split(whereSeparator: \.isNewline)
            return lines.map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? ""
        }
    }

    /// Runs `program` (looked up in PATH unless it contains a slash) with `arguments`.
    public static func run(_ program: String, _ arguments: [String]) throws -> Result {
        guard let url = locate(program) else {
            throw CommandNotFound(program: program)
        }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        // Temporary files rather than pipes: a full stderr pipe cannot stall the child while stdout is drained.
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("mona-cmd-\(ProcessInfo.processInfo.globallyUniqueString)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let read = { (u: URL) in (try? String(contentsOf: u, encoding: .utf8)) ?? "" }
        return Result(status: process.terminationStatus, stdout: read(outURL), stderr: read(errURL))
    }

    public static func locate(_ program: String) -> URL? {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    public struct CommandNotFound: Error, CustomStringConvertible {
        public var program: String
        public var description: String { "\(program): command not found in PATH (is Slurm installed on this machine?)" }
    }
}
