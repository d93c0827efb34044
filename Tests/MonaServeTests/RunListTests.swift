import Foundation
import MonaJSON
import Testing
@testable import MonaServe

/// The runs table and `/api/runs` over a folder of many runs: pages, filters and sort orders done by the server.
@Suite struct RunListTests {
    /// 250 runs: tasks a/b/c in turn, methods by seed parity, a test metric on two runs in three.
    func manyRuns() throws -> TemporaryDirectory {
        let tmp = TemporaryDirectory()
        for i in 0..<250 {
            let task = ["a", "b", "c"][i % 3], method = i % 2 == 0 ? "finetune" : "mona"
            var lines = [trainLine(step: i, loss: 1)]
            if i % 3 != 2 { lines.append("{\"split\": \"test\", \"test_accuracy\": \(Double(i) / 1000)}") }
            try makeRun(tmp.url.appendingPathComponent(String(format: "run%03d", i)), lines: lines,
                        config: "task: \(task)\nbody: tiny-bert\nmethod:\n  name: \(method)\nseed: \(i)\n")
        }
        return tmp
    }

    @Test func apiPagesFiltersAndSorts() throws {
        let tmp = try manyRuns()
        let server = try TestServer([tmp.url])
        let first = try server.json("/api/runs").value
        #expect(first["runs"]?.arrayValue?.count == 100 && first["total"]?.intValue == 250 && first["all"]?.intValue == 250)
        #expect(first["offset"]?.intValue == 0 && first["limit"]?.intValue == 100 && first["next_offset"]?.intValue == 100)
        #expect(first["runs"]?.arrayValue?.first?["id"]?.stringValue == "0/run000")
        #expect(first["tasks"] == .array(["a", "b", "c"]) && first["methods"] == .array(["finetune", "mona"]))
        let last = try server.json("/api/runs?offset=200").value
        #expect(last["runs"]?.arrayValue?.count == 50 && last["next_offset"] == .null)
        #expect(last["runs"]?.arrayValue?.last?["id"]?.stringValue == "0/run249")
        #expect(try server.json("/api/runs?offset=900").value["runs"]?.arrayValue?.isEmpty == true)
        // Every run exactly once across the pages.
        var ids: [String] = []
        var offset: Int? = 0
        while let o = offset {
            let page = try server.json("/api/runs?limit=64&offset=\(o)").value
            ids += page["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            offset = page["next_offset"]?.intValue
        }
        #expect(ids.count == 250 && Set(ids).count == 250)

        let filtered = try server.json("/api/runs?task=b&method=mona&limit=5000").value
        let rows = filtered["runs"]?.arrayValue ?? []
        #expect(filtered["total"]?.intValue == (0..<250).filter { $0 % 3 == 1 && $0 % 2 == 1 }.count && rows.count == filtered["total"]?.intValue)
        #expect(rows.allSatisfy { $0["task"]?.stringValue == "b" && $0["method"]?.stringValue == "mona" })
        let stopped = try server.json("/api/runs?status=stopped&limit=5000").value
        #expect(stopped["total"]?.intValue == (0..<250).filter { $0 % 3 == 2 }.count)

        // By test metric, best first; runs without one come last in either order.
        for order in ["desc", "asc"] {
            let sorted = try server.json("/api/runs?sort=test&order=\(order)&limit=5000").value["runs"]?.arrayValue ?? []
            let tests = sorted.map { $0["test"]?.doubleValue }
            let known = tests.compactMap { $0 }
            #expect(known.count == (0..<250).filter { $0 % 3 != 2 }.count)
            #expect(known == (order == "desc" ? known.sorted(by: >) : known.sorted()))
            #expect(tests.prefix(known.count).allSatisfy { $0 != nil } && tests.dropFirst(known.count).allSatisfy { $0 == nil })
        }
        let bySeed = try server.json("/api/runs?sort=seed&order=desc&limit=3").value["runs"]?.arrayValue ?? []
        #expect(bySeed.compactMap { $0["seed"]?.stringValue } == ["249", "248", "247"])  // numerically, not as text

        for bad in ["limit=0", "limit=5001", "offset=-1", "offset=x", "sort=secret", "order=up", "status=dead"] {
            let r = try server.json("/api/runs?\(bad)")
            #expect(r.status == 400 && r.value["error"]?.stringValue != nil, "\(bad)")
        }
    }

    @Test func runsPageShowsOnePageWithLinks() throws {
        let tmp = try manyRuns()
        let server = try TestServer([tmp.url])
        let page = try server.get("/runs")
        #expect(page.status == 200)
        #expect(page.body.components(separatedBy: "<tr data-id=").count - 1 == 100)
        #expect(page.body.contains("href=\"/runs?offset=100\"") && !page.body.contains("id=\"previous\""))
        #expect(page.body.contains("<span id=\"run-count\">250</span>"))
        #expect(page.body.contains("href=\"/runs?sort=test\"") && page.body.contains("data-api=\"/api/runs\""))
        let sorted = try server.get("/runs?sort=test&order=desc&task=a&offset=40&limit=20")
        #expect(sorted.body.components(separatedBy: "<tr data-id=").count - 1 == 20)
        #expect(sorted.body.contains("href=\"/runs?task=a&amp;sort=test&amp;order=desc&amp;offset=20&amp;limit=20\""))  // previous
        #expect(sorted.body.contains("class=\"sorted-desc\"") && sorted.body.contains("<option value=\"a\" selected>"))
        #expect(sorted.body.contains("data-api=\"/api/runs?task=a&amp;sort=test&amp;order=desc&amp;offset=40&amp;limit=20\""))
        #expect(try server.get("/runs?limit=0").status == 400)
    }

    /// Summaries are cached between requests, keyed by each file's stat: edits, new runs and deleted runs are
    /// still seen at the next request.
    @Test func cachedSummariesFollowChanges() throws {
        let tmp = TemporaryDirectory()
        let run = try makeRun(tmp.url.appendingPathComponent("r1"), lines: [trainLine(step: 1, loss: 1)])
        let server = try TestServer([tmp.url])
        #expect(try server.json("/api/runs").value["runs"]?.arrayValue?.first?["task"]?.stringValue == "waves")
        try Data("task: tides\nbody: tiny-bert\nmethod:\n  name: finetune\nseed: 3\n".utf8)
            .write(to: run.appendingPathComponent("config.yaml"), options: .atomic)
        try append("{\"split\": \"test\", \"test_accuracy\": 0.5}\n", to: run.appendingPathComponent("metrics.jsonl"))
        try Data("{\"total\": 12.5}".utf8).write(to: run.appendingPathComponent("timings.json"))
        try makeRun(tmp.url.appendingPathComponent("r2"), lines: [])
        var rows = try server.json("/api/runs").value["runs"]?.arrayValue ?? []
        #expect(rows.count == 2)
        #expect(rows.first?["task"]?.stringValue == "tides" && rows.first?["status"]?.stringValue == "finished")
        #expect(rows.first?["test"]?.doubleValue == 0.5 && rows.first?["seconds"]?.doubleValue == 12.5)
        try markRunning(tmp.url.appendingPathComponent("r2"))
        try FileManager.default.removeItem(at: run)
        rows = try server.json("/api/runs").value["runs"]?.arrayValue ?? []
        #expect(rows.count == 1 && rows.first?["id"]?.stringValue == "0/r2" && rows.first?["status"]?.stringValue == "running")
    }

    /// The scan reuses what unchanged folders held; a folder whose entries change (new run, deleted run, a
    /// folder becoming a run, a benchmark record appearing) is read again.
    @Test func scanCacheFollowsFolderChanges() throws {
        let tmp = TemporaryDirectory()
        let fm = FileManager.default
        for name in ["a/r1", "a/r2", "b/r3"] { try makeRun(tmp.url.appendingPathComponent(name), lines: [trainLine(step: 1, loss: 1)]) }
        try fm.createDirectory(at: tmp.url.appendingPathComponent("b/later/record"), withIntermediateDirectories: true)
        // Old modification times, so that the cache trusts what it read.
        func age(_ path: String) throws {
            try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: tmp.url.appendingPathComponent(path).path)
        }
        for path in ["", "a", "b", "a/r1", "a/r2", "b/r3", "b/later", "b/later/record"] { try age(path) }
        let catalog = try RunCatalog(roots: [tmp.url])
        func ids() -> [String] { catalog.scan().runs.map(\.id) }
        #expect(ids() == ["0/a/r1", "0/a/r2", "0/b/r3"])
        #expect(ids() == ["0/a/r1", "0/a/r2", "0/b/r3"])
        try makeRun(tmp.url.appendingPathComponent("a/r0"), lines: [])
        try fm.removeItem(at: tmp.url.appendingPathComponent("b/r3"))
        try age("a")
        try age("b")
        #expect(eventually(5) { ids() == ["0/a/r0", "0/a/r1", "0/a/r2"] }, "\(ids())")
        // A benchmark run kept as a record: record/metrics.jsonl appears below a folder that did not change.
        try Data((trainLine(step: 1, loss: 1) + "\n").utf8).write(to: tmp.url.appendingPathComponent("b/later/record/metrics.jsonl"))
        #expect(ids().contains("0/b/later"))
        let entry = try #require(catalog.scan().runs.first { $0.id == "0/b/later" })
        #expect(entry.source.lastPathComponent == "record")
    }
}
