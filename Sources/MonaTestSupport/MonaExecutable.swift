import Foundation

/// The built `mona` executable next to the test bundle (`.build/<config>/mona`), or nil: the one lookup of every
/// test target that runs the command line.
public func monaExecutable() -> URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The runner may be inside the .xctest bundle on some platforms.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mona")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// `mona` with `arguments`, not yet started, its standard output and error going to two pipes. It runs in
/// `directory` when given (with `environment`, by default the test's with `MONA_ASSETS` set by
/// `environmentWithAbsoluteAssets`), else in the test's folder and environment (or `environment`).
public func monaProcess(_ arguments: [String], in directory: URL? = nil,
                        environment: [String: String]? = nil) throws -> (process: Process, out: Pipe, err: Pipe) {
    guard let exe = monaExecutable() else { throw CLITestError.noExecutable }
    let p = Process()
    p.executableURL = exe
    p.arguments = arguments
    if let directory {
        p.currentDirectoryURL = directory
        p.environment = environment ?? environmentWithAbsoluteAssets()
    } else if let environment {
        p.environment = environment
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    return (p, out, err)
}

/// Runs `mona` to its end (see `monaProcess` for `directory` and `environment`): exit status, standard output
/// and standard error.
public func runMona(_ arguments: [String], in directory: URL? = nil,
                    environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let (p, out, err) = try monaProcess(arguments, in: directory, environment: environment)
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// The test's environment with `MONA_ASSETS` pointing at the package's `.assets` when unset: `mona` looks for
/// `./.assets` in its working directory, and runs in fresh temporary folders would not find it.
public func environmentWithAbsoluteAssets() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    if env["MONA_ASSETS"]?.isEmpty ?? true {
        env["MONA_ASSETS"] = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".assets").path
    }
    return env
}

public enum CLITestError: Error, CustomStringConvertible {
    case noExecutable
    public var description: String { "the mona executable is not built next to the tests (swift build --build-tests)" }
}
