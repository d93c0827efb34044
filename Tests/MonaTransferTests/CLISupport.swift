import Foundation

/// The built `mona` executable next to the test bundle (`.build/<config>/mona`), or nil.
func monaExecutable() -> URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The runner may be inside the .xctest bundle on some platforms.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mona")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// Runs `mona` with `arguments`; returns exit status, standard output and standard error.
func runMona(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    guard let exe = monaExecutable() else { throw CLITestError.noExecutable }
    let p = Process()
    p.executableURL = exe
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

enum CLITestError: Error, CustomStringConvertible {
    case noExecutable
    var description: String { "the mona executable is not built next to the tests (swift build --build-tests)" }
}

