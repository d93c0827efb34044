import Foundation
import MonaJSON
import MonaRunKit

/// The dashboard's routes: HTML pages, JSON endpoints (docs/serve.md) and the plots of runs and benchmarks.
/// Everything is read from the served folders on each request, so a run that appears, grows or is deleted is
/// seen at the next request.
public final class Dashboard: Sendable {
    public let catalog: RunCatalog
    let store = MetricsStore()

    /// Largest file served or embedded (plots, config, report, results.json).
    static let maxFileBytes = 16 * 1024 * 1024

    public init(catalog: RunCatalog) {
        self.catalog = catalog
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.segments
        switch path {
        case [], ["runs"]: return runsPage(request)
        case ["run"]: return withRun(request) { runPage($0, request) }
        case ["compare"]: return comparePage(request)
        case ["bench"]: return withBench(request) { benchPage($0) }
        case ["file"]: return file(request)
        case ["assets", "dashboard.js"]:
            return HTTPResponse(contentType: "text/javascript; charset=utf-8", body: Array(DashboardAssets.script.utf8))
        case ["assets", "dashboard.css"]:
            return HTTPResponse(contentType: "text/css; charset=utf-8", body: Array(DashboardAssets.style.utf8))
        case ["api", "runs"]:
            switch RunsQuery.parse(request) {
            case .success(let q): return json(runsJSON(q))
            case .failure(let message): return jsonError(400, message)
            }
        case ["api", "run"]: return apiRun(request) { run in self.json(self.runJSON(run)) }
        case ["api", "run", "curves"]: return apiRun(request) { run in self.curves(run, request) }
        case ["api", "run", "metrics"]: return apiRun(request) { run in self.metricsPage(run, request) }
        case ["api", "run", "events"]: return apiRun(request) { run in self.events(run, request) }
        case ["api", "benches"]:
            let benches = catalog.scan().benches
            return json(.object([("benches", .array(benches.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) }))]))
        case ["api", "bench"]:
            guard let id = request.parameter("id"), let bench = catalog.bench(id: id) else {
                return jsonError(404, "no benchmark folder with that id (GET /api/benches lists them)")
            }
            return benchJSON(bench)
        default:
            return page(status: 404, title: "Not found", body: "<p>No page here. <a href=\"/runs\">Runs</a></p>")
        }
    }

    // MARK: Helpers

    func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json; charset=utf-8", body: Array((value.json + "\n").utf8))
    }

    func jsonError(_ status: Int, _ message: String) -> HTTPResponse {
        json(.object([("error", .string(message))]), status: status)
    }

    private func withRun(_ request: HTTPRequest, _ body: (RunEntry) -> HTTPResponse) -> HTTPResponse {
        guard let id = request.parameter("id"), let run = catalog.run(id: id) else {
            return page(status: 404, title: "No such run",
                        body: "<p>No run with this id under the served folders (it may have been deleted). "
                            + "<a href=\"/runs\">All runs</a></p>")
        }
        return body(run)
    }

    private func withBench(_ request: HTTPRequest, _ body: (BenchEntry) -> HTTPResponse) -> HTTPResponse {
        guard let id = request.parameter("id"), let bench = catalog.bench(id: id) else {
            return page(status: 404, title: "No such benchmark",
                        body: "<p>No benchmark folder with this id under the served folders. <a href=\"/runs\">Runs</a></p>")
        }
        return body(bench)
    }

    private func apiRun(_ request: HTTPRequest, _ body: (RunEntry) -> HTTPResponse) -> HTTPResponse {
        guard let id = request.parameter("id") else { return jsonError(400, "missing ?id= (GET /api/runs lists run ids)") }
        guard let run = catalog.run(id: id) else {
            return jsonError(404, "no run with id '\(id)' under the served folders (it may have been deleted)")
        }
        return body(run)
    }

    /// A file's text if it exists and is at most `maxFileBytes` (nil otherwise, with the reason).
    static func readText(_ url: URL, limit: Int = maxFileBytes) -> (text: String?, problem: String?) {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return (nil, nil) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return (nil, "\(url.lastPathComponent) is not a regular file") }
        guard info.st_size <= limit else {
            return (nil, "\(url.lastPathComponent) is \(info.st_size) bytes, more than the \(limit) shown")
        }
        guard let data = try? Data(contentsOf: url) else { return (nil, "cannot read \(url.lastPathComponent)") }
        return (String(decoding: data, as: UTF8.self), nil)
    }

    // MARK: JSON

    func runsJSON(_ q: RunsQuery) -> JSONValue {
        let list = listRuns(q)
        return .object([
            ("runs", .array(list.page.map(\.json))),
            ("total", .number(Double(list.total))), ("offset", .number(Double(q.offset))), ("limit", .number(Double(q.limit))),
            ("next_offset", q.offset + q.limit < list.total ? .number(Double(q.offset + q.limit)) : .null),
            ("all", .number(Double(list.all))),
            ("tasks", .array(list.tasks.map(JSONValue.string))), ("methods", .array(list.methods.map(JSONValue.string))),
            ("benches", .array(list.benches.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) })),
        ])
    }

    func runJSON(_ run: RunEntry) -> JSONValue {
        let summary = RunSummary.read(run, store: store)
        var config: JSONValue = .null
        if case .success(let pairs) = RunSummary.readConfig(run.source) { config = .object(pairs) }
        let report = Dashboard.readText(run.source.appendingPathComponent("report.md", isDirectory: false)).text
        return .object([
            ("summary", summary.json), ("config", config),
            ("plots", .array(RunCatalog.plotNames(in: run.source).map(JSONValue.string))),
            ("checkpoints", .array(checkpoints(run).map { c in
                .object([("name", .string(c.name)), ("files", .array(c.files.map { f in
                    .object([("name", .string(f.name)), ("bytes", .number(Double(f.bytes)))])
                }))])
            })),
            ("report", report.map(JSONValue.string) ?? .null),
        ])
    }

    /// `checkpoints/<name>/` folders and their files with sizes.
    func checkpoints(_ run: RunEntry) -> [(name: String, files: [(name: String, bytes: Int64)])] {
        let fm = FileManager.default
        let base = run.source.appendingPathComponent("checkpoints")
        let names = ((try? fm.contentsOfDirectory(atPath: base.path)) ?? []).filter(RunCatalog.isPlainName).sorted()
        return names.compactMap { name in
            let folder = base.appendingPathComponent(name)
            guard let files = try? fm.contentsOfDirectory(atPath: folder.path) else { return nil }
            return (name, files.filter(RunCatalog.isPlainName).sorted().map { file in
                var info = stat()
                let bytes = stat(folder.appendingPathComponent(file).path, &info) == 0 ? Int64(info.st_size) : 0
                return (file, bytes)
            })
        }
    }

    /// `?max=`: the most points per series sent (16…20000, default 1000).
    static func pointLimit(_ request: HTTPRequest) -> Int? {
        guard let text = request.parameter("max") else { return 1000 }
        guard let n = Int(text), (16...20_000).contains(n) else { return nil }
        return n
    }

    /// The run's curves, each thinned to at most `?max=` points (default 1000).
    func curves(_ run: RunEntry, _ request: HTTPRequest) -> HTTPResponse {
        guard let limit = Dashboard.pointLimit(request) else { return jsonError(400, "?max= must be 16…20000") }
        return json(curvesSnapshot(run, limit: limit).body)
    }

    /// Every series of the run thinned to `limit` points, with the offset and identity of the file read so far
    /// (where a live stream continues from).
    func curvesSnapshot(_ run: RunEntry, limit: Int) -> (body: JSONValue, offset: UInt64, identity: (dev: UInt64, ino: UInt64)?) {
        let summary = RunSummary.read(run, store: store)
        let metrics = run.source.appendingPathComponent("metrics.jsonl", isDirectory: false)
        return store.with(metrics) { tail in
            let series: [JSONValue] = tail.order.compactMap { key in
                guard let s = tail.series[key] else { return nil }
                let (x, y) = CurveSeries.thin(s.x, s.y, to: limit)
                return Dashboard.seriesJSON(chart: s.chart, stage: s.stage, split: s.split, key: s.key, name: s.name,
                                            points: s.total, x: x, y: y)
            }
            let body: JSONValue = .object([
                ("id", .string(run.id)), ("status", .string(summary.status)),
                ("records", .number(Double(tail.records))), ("bytes_read", .number(Double(tail.offset))),
                ("complete", .bool(tail.complete)), ("malformed_lines", .array(tail.badLines.map(JSONValue.string))),
                ("series", .array(series)),
            ])
            return (body, tail.offset, tail.identity)
        }
    }

    static func seriesJSON(chart: String, stage: String, split: String, key: String, name: String, points: Int,
                           x: [Double], y: [Double]) -> JSONValue {
        .object([
            ("chart", .string(chart)), ("stage", .string(stage)), ("split", .string(split)),
            ("key", .string(key)), ("name", .string(name)), ("points", .number(Double(points))),
            ("x", .array(x.map { $0.isFinite ? .number($0) : .null })),
            ("y", .array(y.map { $0.isFinite ? .number($0) : .null })),
        ])
    }

    /// Raw records from byte offset `?from=` (a line start; 0 by default), at most `?limit=` of them (≤ 1000),
    /// and the offset to ask for next: polling with it follows a run like `tail -f`.
    func metricsPage(_ run: RunEntry, _ request: HTTPRequest) -> HTTPResponse {
        guard let from = UInt64(request.parameter("from") ?? "0") else { return jsonError(400, "?from= must be a byte offset ≥ 0") }
        guard let limit = Int(request.parameter("limit") ?? "200"), (1...1000).contains(limit) else {
            return jsonError(400, "?limit= must be 1…1000")
        }
        let url = run.source.appendingPathComponent("metrics.jsonl", isDirectory: false)
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return jsonError(404, "the run has no metrics.jsonl (yet)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return jsonError(500, "cannot stat metrics.jsonl") }
        let size = UInt64(max(0, info.st_size))
        guard from <= size else { return jsonError(400, "?from=\(from) is past the end of metrics.jsonl (\(size) bytes)") }
        if from > 0 {
            var previous: UInt8 = 0
            guard pread(fd, &previous, 1, off_t(from - 1)) == 1, previous == UInt8(ascii: "\n") else {
                return jsonError(400, "?from=\(from) is not the start of a line (use 0 or a 'next' offset)")
            }
        }
        var records: [JSONValue] = [], malformed: [JSONValue] = []
        var position = from
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        reading: while records.count < limit && position + UInt64(pending.count) < size {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position + UInt64(pending.count))) }
            guard n > 0 else { break }
            pending += chunk[0..<n]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[0..<newline])
                pending.removeFirst(newline + 1)
                let lineStart = position
                position += UInt64(newline + 1)
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                if let v = try? JSONValue.parse(json: line), case .object = v {
                    records.append(v)
                } else {
                    malformed.append(.number(Double(lineStart)))
                }
                if records.count >= limit { break reading }
            }
            if pending.count > MetricsTail.bytesPerCall { break }
        }
        return json(.object([
            ("id", .string(run.id)), ("from", .number(Double(from))), ("next", .number(Double(position))),
            ("size", .number(Double(size))), ("records", .array(records)), ("malformed_line_offsets", .array(malformed)),
        ]))
    }

    func benchJSON(_ bench: BenchEntry) -> HTTPResponse {
        let (text, problem) = Dashboard.readText(bench.url.appendingPathComponent("results.json", isDirectory: false))
        guard let text, let results = try? JSONValue.parse(json: Array(text.utf8)) else {
            return jsonError(500, problem ?? "results.json is not valid JSON")
        }
        return json(.object([
            ("id", .string(bench.id)), ("name", .string(bench.name)),
            ("plots", .array(RunCatalog.plotNames(in: bench.url).map(JSONValue.string))), ("results", results),
        ]))
    }

    /// A plot: `/file?run=<id>&name=<file>.svg` or `/file?bench=<id>&name=…`, served under a CSP that forbids
    /// scripts, since the file comes from a folder and not from the dashboard.
    func file(_ request: HTTPRequest) -> HTTPResponse {
        guard let name = request.parameter("name") else { return .text(400, "missing ?name=") }
        let folder: URL?, id: String?
        if let runID = request.parameter("run") {
            folder = catalog.run(id: runID)?.source
            id = runID
        } else if let benchID = request.parameter("bench") {
            folder = catalog.bench(id: benchID)?.url
            id = benchID
        } else {
            return .text(400, "missing ?run= or ?bench=")
        }
        guard let folder, let id, let root = catalog.root(of: id), let url = catalog.plot(named: name, in: folder, root: root) else {
            return .text(404, "no such plot")
        }
        let (text, problem) = Dashboard.readText(url)
        guard let text else { return .text(404, problem ?? "no such plot") }
        return HTTPResponse(contentType: "image/svg+xml", body: Array(text.utf8),
                            headers: [("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")])
    }
}
