import Foundation
import Testing
@testable import MonaRunKit

@Suite struct RunDirectoryTests {
    @Test func layout() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RunDirectory(dir.appendingPathComponent("runs/gunpoint-mona"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: run.checkpoints.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(FileManager.default.fileExists(atPath: run.plots.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(run.config.lastPathComponent == "config.yaml")
        #expect(run.metrics.lastPathComponent == "metrics.jsonl")
        #expect(run.report.lastPathComponent == "report.md")
        #expect(run.predictions.lastPathComponent == "predictions.csv")
        #expect(run.bestCheckpoint.path.hasSuffix("checkpoints/best"))
        #expect(run.plot("loss.svg").path.hasSuffix("plots/loss.svg"))

        #expect(throws: RunError.self) { try RunDirectory(dir.appendingPathComponent("missing"), create: false) }
        try AtomicFile.write("x", to: dir.appendingPathComponent("file"))
        #expect(throws: RunError.self) { try RunDirectory(dir.appendingPathComponent("file")) }
        #expect(try RunDirectory(run.url, create: false).url == run.url)
    }

    @Test func lockIsPerProcessAndStaleFilesAreTakenOver() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RunDirectory(dir.appendingPathComponent("run"))
        #expect(!run.isLocked)
        // A lock file left by a dead process holds no flock: it is stale and taken over.
        try AtomicFile.write("999999 some-host\n", to: run.lockFile)
        try run.lock()
        #expect(run.isLocked)
        try run.lock()  // the same process may lock again
        let text = try String(contentsOf: run.lockFile, encoding: .utf8)
        #expect(text.hasPrefix("\(ProcessInfo.processInfo.processIdentifier) "))
        run.unlock()
        #expect(!run.isLocked)
        #expect(!FileManager.default.fileExists(atPath: run.lockFile.path))
    }

    @Test func anotherProcessHoldingTheLockIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RunDirectory(dir.appendingPathComponent("run"))
        // `flock` from util-linux holds the lock in a child process until its shell reads end-of-input.
        let flockTool = ["/usr/bin/flock", "/bin/flock"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let flockTool else { return }
        try AtomicFile.write("", to: run.lockFile)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: flockTool)
        child.arguments = ["-o", run.lockFile.path, "sh", "-c", "echo held; read line"]
        let output = Pipe(), input = Pipe()
        child.standardOutput = output
        child.standardInput = input
        try child.run()
        defer {
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        // Wait (by reading, not by timing) until the child holds the lock.
        _ = output.fileHandleForReading.availableData
        #expect(run.isLocked)
        let error = #expect(throws: RunError.self) { try run.lock() }
        #expect(error?.description.contains("in use") == true)
    }
}
