import Foundation
import Testing
@testable import MonaRunKit

@Suite struct MetricsLogTests {
    @Test func roundTripWithStableKeyOrder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("run/metrics.jsonl")
        let log = try MetricsLog(url: url, append: false)
        try log.log(["loss": 0.5, "step": 1, "accuracy": 0.25, "epoch": 0])
        try log.log(["loss": .number(.nan), "step": 2, "split": "val"])
        try log.log([("z", 1), ("a", 2)])  // explicit order is kept
        log.close()
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "{\"epoch\": 0, \"step\": 1, \"accuracy\": 0.25, \"loss\": 0.5}")
        #expect(lines[1] == "{\"step\": 2, \"split\": \"val\", \"loss\": \"NaN\"}")
        #expect(lines[2] == "{\"z\": 1, \"a\": 2}")
        let records = try MetricsLog.read(url)
        #expect(records.count == 3)
        #expect(records[0]["loss"] == 0.5)
        #expect(records[0]["step"]?.intValue == 1)
        #expect(records[1]["loss"]?.doubleValue?.isNaN == true)
        #expect(records[1]["split"] == "val")
        #expect(try MetricsLog.readOrdered(url)[2].map(\.0) == ["z", "a"])
        #expect(throws: RunError.self) { try log.log(["step": 3]) }
    }

    @Test func truncatedLastLineIsSkippedAndAppendCutsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        do {
            let log = try MetricsLog(url: url, append: false)
            for step in 1...3 { try log.log(["step": .number(Double(step)), "loss": .number(1 / Double(step))]) }
        }
        // Simulate a run killed while writing its fourth record.
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\": 4, \"lo".utf8))
        try handle.close()
        #expect(try MetricsLog.read(url).count == 3)

        // Resume: the partial line is dropped, new records follow on their own lines.
        let resumed = try MetricsLog(url: url, append: true)
        try resumed.log(["step": 4, "loss": 0.2])
        try resumed.log(["step": 5, "loss": 0.1])
        resumed.close()
        let records = try MetricsLog.read(url)
        #expect(records.map { $0["step"]?.intValue } == [1, 2, 3, 4, 5])
        #expect(!(try String(contentsOf: url, encoding: .utf8)).contains("\"lo\n"))

        // Append to an intact file keeps everything; a fresh log (append: false) empties it.
        let again = try MetricsLog(url: url, append: true)
        try again.log(["step": 6])
        again.close()
        #expect(try MetricsLog.read(url).count == 6)
        let fresh = try MetricsLog(url: url, append: false)
        fresh.close()
        #expect(try MetricsLog.read(url).isEmpty)
    }

    @Test func appendCreatesMissingFileAndHandlesLongPartialLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("new/metrics.jsonl")
        let log = try MetricsLog(url: url, append: true)
        try log.log(["step": 1])
        log.close()
        // A partial line longer than the backward-scan block.
        let partial = "{\"text\": \"" + String(repeating: "x", count: 10_000)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(partial.utf8))
        try handle.close()
        let resumed = try MetricsLog(url: url, append: true)
        try resumed.log(["step": 2])
        resumed.close()
        #expect(try MetricsLog.read(url).map { $0["step"]?.intValue } == [1, 2])
    }

    @Test func damagedMiddleLineIsAnErrorWithItsLineNumber() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.jsonl")
        try AtomicFile.write("{\"step\": 1}\n{\"step\": \n\n{\"step\": 3}\n", to: url)
        let error = #expect(throws: RunError.self) { try MetricsLog.read(url) }
        #expect(error?.description.contains("line 2") == true)
        try AtomicFile.write("{\"step\": 1}\n[1, 2]\n", to: url)
        #expect(throws: RunError.self) { try MetricsLog.read(url) }
        try AtomicFile.write("{\"step\": 1}\n\n   \n", to: url)
        #expect(try MetricsLog.read(url).count == 1)
    }
}
