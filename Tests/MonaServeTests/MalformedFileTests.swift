import Foundation
import MonaJSON
import Testing
@testable import MonaServe

/// What the dashboard reads may be half-written, damaged, huge or gone.
@Suite struct MalformedFileTests {
    @Test func halfWrittenLastLineWaitsForItsNewline() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9), trainLine(step: 2, loss: 0.8)])
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let handle = try FileHandle(forWritingTo: metrics)
        try handle.seekToEnd()
        let third = trainLine(step: 3, loss: 0.7)
        try handle.write(contentsOf: Data(third.prefix(25).utf8))  // a writer caught mid-line
        let server = try TestServer([tmp.url])
        var curves = try server.json("/api/run/curves?id=0/r").value
        #expect(curves.series("finetune train loss")?["y"] == .array([0.9, 0.8]))
        #expect(curves["malformed_lines"]?.arrayValue?.isEmpty == true)
        try handle.write(contentsOf: Data((third.dropFirst(25) + "\n").utf8))
        try handle.close()
        curves = try server.json("/api/run/curves?id=0/r").value
        #expect(curves.series("finetune train loss")?["y"] == .array([0.9, 0.8, 0.7]))
        #expect(curves.series("finetune train loss")?["x"] == .array([1, 2, 3]))
        #expect(curves["records"]?.intValue == 3)
        // The raw endpoint pages by byte offset and never returns the partial line.
        let page = try server.json("/api/run/metrics?id=0/r&limit=2").value
        #expect(page["records"]?.arrayValue?.count == 2)
        let next = try #require(page["next"]?.intValue)
        let rest = try server.json("/api/run/metrics?id=0/r&from=\(next)").value
        #expect(rest["records"]?.arrayValue?.first?["step"]?.intValue == 3)
        #expect(try server.get("/api/run/metrics?id=0/r&from=\(next - 3)").status == 400)
        #expect(try server.get("/api/run/metrics?id=0/r&from=999999").status == 400)
        #expect(try server.get("/api/run/metrics?id=0/r&limit=0").status == 400)
    }

    @Test func damagedLinesAndConfigAreReportedAndTheRestIsShown() throws {
        let tmp = TemporaryDirectory()
        try makeRun(tmp.url.appendingPathComponent("r"),
                    lines: [trainLine(step: 1, loss: 0.9), "{not json", "[1, 2]", "", "{\"stage\": \"finetune\", \"step\": 2, \"split\": \"train\", \"loss\": NaN}",
                            "{\"stage\": \"finetune\", \"step\": 3, \"split\": \"train\", \"loss\": \"Infinity\"}",
                            trainLine(step: 4, loss: 0.5)],
                    config: "task: [unclosed\n")
        let server = try TestServer([tmp.url])
        let curves = try server.json("/api/run/curves?id=0/r").value
        #expect(curves["malformed_lines"]?.arrayValue?.count == 2)
        // NaN/∞ losses stay in the series as nulls (a break in the line), not as a failure.
        #expect(curves.series("finetune train loss")?["y"] == .array([0.9, .null, .null, 0.5]))
        let runs = try server.json("/api/runs").value
        let row = try #require(runs["runs"]?.arrayValue?.first)
        #expect(row["task"] == .null && row["status"]?.stringValue == "stopped")
        #expect(row["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("config.yaml") == true } == true)
        let page = try server.get("/run?id=0/r")
        #expect(page.status == 200 && page.body.contains("not a JSON object"))
        // A run without metrics.jsonl yet (only the marker) is listed as stopped with no records.
        try makeRun(tmp.url.appendingPathComponent("empty"), lines: [])
        try FileManager.default.removeItem(at: tmp.url.appendingPathComponent("empty/metrics.jsonl"))
        let again = try server.json("/api/runs").value
        #expect(again["runs"]?.arrayValue?.count == 2)
        #expect(try server.get("/run?id=0/empty").status == 200)
        #expect(try server.get("/api/run/metrics?id=0/empty").status == 404)
    }

    @Test func deletedRunDirectoryIsNotFoundAndUnlisted() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9)])
        let server = try TestServer([tmp.url])
        #expect(try server.get("/run?id=0/r").status == 200)
        try FileManager.default.removeItem(at: run)
        #expect(try server.get("/run?id=0/r").status == 404)
        #expect(try server.get("/api/run/curves?id=0/r").status == 404)
        #expect(try server.json("/api/runs").value["runs"]?.arrayValue?.isEmpty == true)
        // Deleting the served folder itself: empty listings, no crash.
        try FileManager.default.removeItem(at: tmp.url)
        #expect(try server.get("/runs").status == 200)
    }

    @Test func rewrittenMetricsFileIsReadAgain() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: (1...5).map { trainLine(step: $0, loss: 1) })
        let server = try TestServer([tmp.url])
        #expect(try server.json("/api/run/curves?id=0/r").value["records"]?.intValue == 5)
        // A fresh run in the same folder starts the file over (shorter; later a new inode).
        try Data((trainLine(step: 1, loss: 0.25) + "\n").utf8).write(to: run.appendingPathComponent("metrics.jsonl"))
        let curves = try server.json("/api/run/curves?id=0/r").value
        #expect(curves["records"]?.intValue == 1 && curves.series("finetune train loss")?["y"] == .array([0.25]))
    }

    @Test func hugeMetricsFileIsThinnedKeepingExtremes() throws {
        let tmp = TemporaryDirectory()
        let count = 60_000
        var text = ""
        text.reserveCapacity(count * 100)
        for step in 1...count {
            let loss = step == 37_777 ? 9.5 : (step == 48_888 ? -3.25 : 1.0 / Double(step))
            text += trainLine(step: step, loss: loss) + "\n"
        }
        let run = try makeRun(tmp.url.appendingPathComponent("big"), lines: [])
        try Data(text.utf8).write(to: run.appendingPathComponent("metrics.jsonl"))
        let server = try TestServer([tmp.url])
        let curves = try server.json("/api/run/curves?id=0/big&max=500").value
        let loss = try #require(curves.series("finetune train loss"))
        let ys = loss["y"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let xs = loss["x"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        #expect(loss["points"]?.intValue == count)
        #expect(ys.count <= 500 && ys.count >= 400)
        #expect(ys.contains(9.5) && ys.contains(-3.25), "the spikes survive thinning")
        #expect(xs.first == 1 && xs.last == Double(count) && xs == xs.sorted())
        #expect(try server.get("/api/run/curves?id=0/big&max=5").status == 400)
        #expect(try server.get("/run?id=0/big").status == 200)
    }

    @Test func thinningIsIdentityBelowTheLimit() {
        let x = (0..<10).map(Double.init), y = x.map { $0 * $0 }
        let (tx, ty) = CurveSeries.thin(x, y, to: 100)
        #expect(tx == x && ty == y)
        let (nx, ny) = CurveSeries.thin(Array(repeating: 1, count: 50), (0..<50).map { $0 == 10 ? Double.nan : Double($0) }, to: 10)
        #expect(nx.count <= 10 && ny.count == nx.count && ny.last == 49)
    }

    @Test func brokenResultsJSONGivesAnErrorPage() throws {
        let tmp = TemporaryDirectory()
        let bench = tmp.url.appendingPathComponent("bench")
        try FileManager.default.createDirectory(at: bench, withIntermediateDirectories: true)
        try Data("{\"suite\": ".utf8).write(to: bench.appendingPathComponent("results.json"))
        let server = try TestServer([tmp.url])
        let page = try server.get("/bench?id=0/bench")
        #expect(page.status == 500 && page.body.contains("not valid JSON"))
        #expect(try server.get("/api/bench?id=0/bench").status == 500)
        // Valid JSON of the wrong shape renders an empty table instead of failing.
        try Data("{\"tasks\": 3, \"methods\": {\"a\": 1}}".utf8).write(to: bench.appendingPathComponent("results.json"))
        #expect(try server.get("/bench?id=0/bench").status == 200)
    }

    @Test func reportMarkdownIsEscaped() {
        let html = MarkdownHTML.render("# T <b>\n\nhello <script>alert(1)</script> **bold** `x<y` [link](javascript:alert(1))\n\n"
                                       + "| a | b |\n| --- | --- |\n| <i> | 2 |\n\n![plot](plots/loss.svg)\n\n![evil](http://evil/x.svg)\n") { path in
            path == "plots/loss.svg" ? "/file?run=0&name=loss.svg" : nil
        }
        #expect(!html.contains("<script>") && html.contains("&lt;script&gt;") && !html.contains("javascript:"))
        #expect(html.contains("<strong>bold</strong>") && html.contains("<code>x&lt;y</code>") && html.contains("<td>&lt;i&gt;</td>"))
        #expect(html.contains("<img src=\"/file?run=0&amp;name=loss.svg\"") && !html.contains("evil/x.svg"))
    }
}
