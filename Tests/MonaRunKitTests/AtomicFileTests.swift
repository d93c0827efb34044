import Foundation
import Testing
@testable import MonaRunKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh temporary directory per test.
func temporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("runkit-tests-\(safe)-\(UInt32.random(in: 0...UInt32.max))", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct AtomicFileTests {
    @Test func writesCreatesParentsAndLeavesNoTemporaryFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a/b/c/file.txt")
        try AtomicFile.write("first version\n", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "first version\n")
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try AtomicFile.write(bytes, to: url)
        #expect(try Data(contentsOf: url) == bytes)
        let listing = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(listing == ["file.txt"])
    }

    @Test func emptyDataGivesEmptyFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("empty")
        try AtomicFile.write(Data(), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
    }

    @Test func failedReplaceKeepsTheOldContentsAndCleansUp() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The destination is a non-empty directory: the temporary file is written, the rename fails.
        let target = dir.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try AtomicFile.write("keep me", to: target.appendingPathComponent("inside.txt"))
        #expect(throws: RunError.self) { try AtomicFile.write("new", to: target) }
        #expect(try String(contentsOf: target.appendingPathComponent("inside.txt"), encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["target"])
    }

    @Test func parentThatIsAFileIsAnErrorNamingThePath() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("blocker")
        try AtomicFile.write("x", to: blocker)
        let error = #expect(throws: RunError.self) {
            try AtomicFile.write("y", to: blocker.appendingPathComponent("child.txt"))
        }
        #expect(error?.description.contains("child.txt") == true)
        #expect(try String(contentsOf: blocker, encoding: .utf8) == "x")
    }

    @Test func readOnlyDirectoryThrowsAndKeepsTheOldFile() throws {
        // Root ignores directory permissions, so this case can only be checked as an ordinary user.
        guard getuid() != 0 else { return }
        let dir = try temporaryDirectory()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let url = dir.appendingPathComponent("config.yaml")
        try AtomicFile.write("old", to: url)
        chmod(dir.path, 0o555)
        #expect(throws: RunError.self) { try AtomicFile.write("new", to: url) }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["config.yaml"])
    }
}
