import Foundation
import MonaTestSupport

/// Runs `mona` in `directory` until it prints an `http://` address on standard output (then stops it; status
/// 0), exits on its own (its status), or 30 s pass (status -1: neither listened nor refused).
func runMonaUntilListening(_ arguments: [String], in directory: URL) throws -> (status: Int32, out: String, err: String) {
    let (p, out, err) = try monaProcess(arguments, in: directory)
    let seen = LockedData()
    out.fileHandleForReading.readabilityHandler = { h in seen.append(h.availableData) }
    try p.run()
    let deadline = Date().addingTimeInterval(30)
    var listening = false
    while p.isRunning, Date() < deadline {
        listening = seen.text.contains("http://")
        if listening { break }
        usleep(20_000)
    }
    let stopped = p.isRunning
    if stopped { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    out.fileHandleForReading.readabilityHandler = nil
    let e = err.fileHandleForReading.readDataToEndOfFile()
    let o = seen.text
    let status: Int32 = listening ? 0 : (stopped ? -1 : p.terminationStatus)
    return (status, o, String(decoding: e, as: UTF8.self))
}

/// Bytes appended from a pipe's reader thread and read from the test's.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
