import Foundation
import MonaJSON
import Testing
@testable import MonaServe

/// Marks a fake run as running: its lock file names this (live) process, as `mona fit` writes it.
func markRunning(_ run: URL) throws {
    try Data("\(getpid()) \(RunSummary.localHostName)\n".utf8).write(to: run.appendingPathComponent("run.lock"))
}

func append(_ text: String, to file: URL) throws {
    let handle = try FileHandle(forWritingTo: file)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
}

func fileSize(_ url: URL) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
}

extension TestClient {
    /// The next event, its data parsed; fails the test at the end of the stream.
    func event() throws -> (event: String, id: String?, data: JSONValue) {
        guard let e = nextEvent() else { throw ClientError(description: "the stream ended") }
        return (e.event, e.id, try JSONValue.parse(json: Array(e.data.utf8)))
    }
}

/// The live path of the run page: `/api/run/events` (server-sent events).
@Suite struct LiveStreamTests {
    @Test func snapshotThenAppendedLinesOnlyOnceWhole() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9), trainLine(step: 2, loss: 0.8)])
        try markRunning(run)
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let server = try TestServer([tmp.url])
        let (client, status, headers) = try openStream("/api/run/events?id=0/r", port: server.server.port)
        #expect(status == 200 && headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(headers["content-length"] == nil && headers["connection"] == "close")

        let first = try client.event()
        #expect(first.event == "snapshot" && first.id == String(fileSize(metrics)))
        #expect(first.data.series("finetune train loss")?["y"] == .array([0.9, 0.8]))
        #expect(first.data["status"]?.stringValue == "running" && first.data["records"]?.intValue == 2)

        try append(trainLine(step: 3, loss: 0.7) + "\n", to: metrics)
        let second = try client.event()
        #expect(second.event == "records" && second.id == String(fileSize(metrics)))
        #expect(second.data["from"]?.intValue == Int(first.id ?? ""))
        #expect(second.data.series("finetune train loss")?["x"] == .array([3]))
        #expect(second.data.series("finetune train loss")?["y"] == .array([0.7]))
        #expect(second.data.series("finetune train lr")?["chart"]?.stringValue == "optimizer")
        #expect(second.data["records"]?.intValue == 1)

        // A writer caught mid-line: nothing is sent until the line's newline arrives, then the whole line.
        let fourth = trainLine(step: 4, loss: 0.6)
        try append(String(fourth.prefix(30)), to: metrics)
        usleep(1_200_000)  // more than two looks at the file
        try append(String(fourth.dropFirst(30)) + "\n{broken\n", to: metrics)
        let third = try client.event()
        #expect(third.event == "records" && third.data["from"]?.intValue == Int(second.id ?? ""))
        #expect(third.data.series("finetune train loss")?["y"] == .array([0.6]))
        #expect(third.data["records"]?.intValue == 1)
        #expect(third.data["malformed_line_offsets"] == .array([.number(Double(fileSize(metrics) - "{broken\n".utf8.count))]))
        #expect(third.id == String(fileSize(metrics)))

        // The run ends: its status changes and the stream says so, then closes.
        try FileManager.default.removeItem(at: run.appendingPathComponent("run.lock"))
        var names: [String] = []
        while let e = client.nextEvent() { names.append(e.event) }
        #expect(names == ["status", "end"], "\(names)")
    }

    @Test func reconnectResumesFromTheLastEventID() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9)])
        try markRunning(run)
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let server = try TestServer([tmp.url])
        let port = server.server.port
        var (client, _, _) = try openStream("/api/run/events?id=0/r", port: port)
        let snapshot = try client.event()
        let id = try #require(snapshot.id)
        client = try TestClient(port: port)  // the first connection is dropped
        try append(trainLine(step: 2, loss: 0.8) + "\n" + trainLine(step: 3, loss: 0.7) + "\n", to: metrics)
        for (target, header) in [("/api/run/events?id=0/r", id as String?), ("/api/run/events?id=0/r&from=\(id)", nil),
                                 ("/api/run/events?id=0/r&from=0", id)] {
            let resumed = try openStream(target, port: port, lastEventID: header)
            let e = try resumed.client.event()
            #expect(e.event == "records" && e.data["from"]?.intValue == Int(id), "\(target)")
            #expect(e.data.series("finetune train loss")?["y"] == .array([0.8, 0.7]), "\(target)")
        }
        // Offsets that are not a line start of this file, and garbage, get a fresh snapshot.
        for bad in ["3", "999999", "abc", "-1"] {
            let s = try openStream("/api/run/events?id=0/r", port: port, lastEventID: bad)
            let e = try s.client.event()
            #expect(e.event == "snapshot" && e.data.series("finetune train loss")?["y"] == .array([0.9, 0.8, 0.7]), "\(bad)")
        }
        #expect(try openStream("/api/run/events?id=0/r&from=abc", port: port).status == 400)
        #expect(try openStream("/api/run/events?id=0/r&max=5", port: port).status == 400)
        #expect(try openStream("/api/run/events?id=0/nothing", port: port).status == 404)
        #expect(try openStream("/api/run/events?id=0/../r", port: port).status == 404)
        #expect(try openStream("/api/run/events", port: port).status == 400)
    }

    @Test func runDeletedOrRewrittenWhileStreamed() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9), trainLine(step: 2, loss: 0.8)])
        try markRunning(run)
        let server = try TestServer([tmp.url])
        let (client, _, _) = try openStream("/api/run/events?id=0/r", port: server.server.port)
        #expect(try client.event().event == "snapshot")
        // Replaced by a shorter file (another inode): a new snapshot of the new content.
        let replacement = tmp.url.appendingPathComponent("new.jsonl")
        try Data((trainLine(step: 1, loss: 0.5) + "\n").utf8).write(to: replacement)
        #expect(rename(replacement.path, run.appendingPathComponent("metrics.jsonl").path) == 0)
        let again = try client.event()
        #expect(again.event == "snapshot" && again.data.series("finetune train loss")?["y"] == .array([0.5]))
        // Deleted: one `gone` event, then the stream closes.
        try FileManager.default.removeItem(at: run)
        let gone = try client.event()
        #expect(gone.event == "gone" && gone.data["id"]?.stringValue == "0/r")
        #expect(client.nextEvent() == nil)
        #expect(eventually(5) { server.server.activity.streams == 0 })
    }

    @Test func finishedRunStreamsItsSnapshotAndEnds() throws {
        let tmp = TemporaryDirectory()
        try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9),
                    "{\"split\": \"test\", \"test_accuracy\": 0.75}"])
        let server = try TestServer([tmp.url])
        let (client, _, _) = try openStream("/api/run/events?id=0/r", port: server.server.port)
        let snapshot = try client.event()
        #expect(snapshot.event == "snapshot" && snapshot.data["status"]?.stringValue == "finished")
        let end = try client.event()
        #expect(end.event == "end" && end.data["status"]?.stringValue == "finished")
        #expect(client.nextEvent() == nil)
    }

    /// Down-sampling applies to the stream: the snapshot and every update keep at most `max` points per series,
    /// the extremes kept; a client far behind gets a snapshot, not megabytes of updates.
    @Test func hugeFileIsThinnedInTheStream() throws {
        let tmp = TemporaryDirectory()
        var lines: [String] = []
        for i in 0..<60_000 { lines.append(trainLine(step: i, loss: i == 31_234 ? 50 : 1 + sin(Double(i) / 500))) }
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: lines)
        try markRunning(run)
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let server = try TestServer([tmp.url])
        let port = server.server.port
        let (client, _, _) = try openStream("/api/run/events?id=0/r&max=100", port: port)
        let snapshot = try client.event()
        let loss = try #require(snapshot.data.series("finetune train loss"))
        #expect(snapshot.event == "snapshot" && loss["points"]?.intValue == 60_000)
        #expect((loss["y"]?.arrayValue?.count ?? 0) <= 100 && loss["y"]?.arrayValue?.contains(50) == true)

        var burst = ""
        for i in 60_000..<65_000 { burst += trainLine(step: i, loss: i == 62_000 ? -7 : 0.5) + "\n" }
        try append(burst, to: metrics)
        let update = try client.event()
        let added = try #require(update.data.series("finetune train loss"))
        #expect(update.event == "records" && added["points"]?.intValue == 5000 && update.data["records"]?.intValue == 5000)
        #expect((added["y"]?.arrayValue?.count ?? 0) <= 100 && added["y"]?.arrayValue?.contains(-7) == true)
        #expect(added["x"]?.arrayValue?.first?.intValue == 60_000 && added["x"]?.arrayValue?.last?.intValue == 64_999)

        // 5 MB behind: a snapshot instead.
        let late = try openStream("/api/run/events?id=0/r&max=100&from=0", port: port)
        let e = try late.client.event()
        #expect(e.event == "snapshot" && e.data.series("finetune train loss")?["points"]?.intValue == 65_000)
    }
}
