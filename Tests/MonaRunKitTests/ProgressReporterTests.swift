import Foundation
import Testing
@testable import MonaRunKit

/// Runs `body` with a reporter writing into a pipe and returns what it wrote.
func capture(mode: OutputMode, total: Int?, _ body: (ProgressReporter) -> Void) throws -> String {
    let pipe = Pipe()
    do {
        let reporter = ProgressReporter(label: "train", total: total, unit: "step", mode: mode,
                                        stream: pipe.fileHandleForWriting)
        body(reporter)
    }
    try pipe.fileHandleForWriting.close()
    let data = try pipe.fileHandleForReading.readToEnd() ?? Data()
    return String(decoding: data, as: UTF8.self)
}

@Suite struct ProgressReporterTests {
    @Test func quietWritesNothing() throws {
        let out = try capture(mode: .quiet, total: 5) { r in
            for i in 1...5 { r.update(completed: i, metrics: [("loss", 1)]) }
            r.message("hello")
            r.finish(summary: [("accuracy", 0.9)])
        }
        #expect(out.isEmpty)
    }

    @Test func jsonModeWritesOneParseableObjectPerEvent() throws {
        let out = try capture(mode: .json, total: 4) { r in
            for i in 1...4 { r.update(completed: i, metrics: [("loss", 1 / Double(i)), ("bad", .nan)]) }
            r.message("checkpoint \"best\" saved")
            r.finish(summary: [("accuracy", 0.75)])
            r.update(completed: 5, metrics: [])  // after finish: ignored
        }
        let lines = out.split(separator: "\n")
        #expect(lines.count == 6)
        let events = try lines.map { try RunValue.parse(json: String($0)) }
        #expect(events.map { $0["event"]?.stringValue } == ["progress", "progress", "progress", "progress", "message", "finish"])
        #expect(events[0]["completed"] == 1)
        #expect(events[0]["total"] == 4)
        #expect(events[0]["label"] == "train")
        #expect(events[1]["metrics"]?["loss"] == 0.5)
        #expect(events[1]["metrics"]?["bad"]?.doubleValue?.isNaN == true)
        #expect(events[4]["text"] == "checkpoint \"best\" saved")
        #expect(events[5]["summary"]?["accuracy"] == 0.75)
        // Foundation's strict parser accepts every line too.
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil) }
    }

    @Test func plainModeOnAPipeWritesLinesWithoutEscapes() throws {
        let out = try capture(mode: .auto, total: 10) { r in
            for i in 1...10 { r.update(completed: i, metrics: [("loss", 0.5)]) }
            r.message("note")
            r.finish(summary: [("accuracy", 0.9)])
        }
        #expect(!out.contains("\u{1B}") && !out.contains("\r"))
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("train 10/10 100%") && $0.contains("loss 0.5") })
        #expect(lines.contains("note"))
        #expect(lines.last?.hasPrefix("train: done 10/10 steps") == true)
        #expect(lines.last?.contains("accuracy 0.9") == true)
    }

    @Test func unknownTotalCountsUnits() throws {
        let out = try capture(mode: .json, total: nil) { r in
            r.update(completed: 3, metrics: [])
            r.finish(summary: [])
        }
        let first = try RunValue.parse(json: String(out.split(separator: "\n")[0]))
        #expect(first["total"] == .null)
        #expect(first["eta"] == .null)
    }

    @Test func formatting() {
        #expect(ProgressReporter.duration(5.25) == "5.2s" || ProgressReporter.duration(5.25) == "5.3s")
        #expect(ProgressReporter.duration(125) == "2:05")
        #expect(ProgressReporter.duration(3723) == "1:02:03")
        #expect(ProgressReporter.number(0.123456) == "0.1235")
        #expect(ProgressReporter.number(.nan) == "nan")
        #expect(ProgressReporter.rateText(0.5, unit: "epoch") == "2 s/epoch")
        #expect(OutputMode(rawValue: "json") == .json)
    }
}
