import Foundation
import MonaJSON

/// `GET /api/run/events?id=ID[&max=N][&from=OFFSET]`: a run's curves as server-sent events (docs/serve.md).
///
/// The stream starts with a `snapshot` (the whole curves document, as `/api/run/curves`), then sends a
/// `records` event with the points of the lines appended since, every half second while the file grows. Event
/// ids are byte offsets in `metrics.jsonl` (always the start of a line), so a client that reconnects with
/// `Last-Event-ID` (or `?from=`) gets only what it missed; one too far behind, or whose file was replaced, gets a
/// fresh snapshot instead. Every event is thinned to `max` points per series, as the curves endpoint is.
extension Dashboard {
    /// Pause between two looks at the file.
    static let liveTickMilliseconds = 500
    /// A comment line is sent after this long without an event, so that a dead client is noticed.
    static let heartbeatMilliseconds = 15_000
    /// A client further behind than this many bytes gets a new snapshot rather than the whole gap.
    static let maxCatchUpBytes: UInt64 = 4 << 20

    func events(_ run: RunEntry, _ request: HTTPRequest) -> HTTPResponse {
        guard let limit = Dashboard.pointLimit(request) else { return jsonError(400, "?max= must be 16…20000") }
        var resume: UInt64?
        if let from = request.parameter("from") {
            guard let offset = UInt64(from) else { return jsonError(400, "?from= must be a byte offset ≥ 0 (a previous event id)") }
            resume = offset
        }
        // What a browser's EventSource sends on reconnecting wins over the URL's original offset; anything but
        // a number is ignored (a fresh snapshot follows).
        if let last = request.header("last-event-id"), let offset = UInt64(last) { resume = offset }
        let feed = LiveFeed(dashboard: self, id: run.id, limit: limit)
        let start = resume
        return HTTPResponse(contentType: "text/event-stream; charset=utf-8", body: [], headers: [("X-Accel-Buffering", "no")],
                            stream: { connection in feed.run(connection, resume: start) })
    }
}

/// One client's event stream: where it is in the run's metrics file, and what it was last told.
final class LiveFeed: @unchecked Sendable {
    let dashboard: Dashboard
    let id: String
    let limit: Int
    private var offset: UInt64 = 0
    private var identity: (dev: UInt64, ino: UInt64)?
    private var status = ""
    private var complete = false

    init(dashboard: Dashboard, id: String, limit: Int) {
        self.dashboard = dashboard
        self.id = id
        self.limit = limit
    }

    func run(_ connection: StreamConnection, resume: UInt64?) {
        guard connection.write("retry: 2000\n\n") else { return }
        guard let run = dashboard.catalog.run(id: id) else { return }
        if !(resume.map { canResume(run, at: $0) } ?? false) {
            guard connection.write(snapshot(run)) else { return }
        } else {
            status = RunSummary.read(run, store: dashboard.store).status
        }
        var ticks = 0
        var quiet = 0
        while true {
            if status != "running" && complete {
                _ = connection.write(LiveFeed.event("end", data: .object([("id", .string(id)), ("status", .string(status))])))
                return
            }
            if connection.closed(waiting: Dashboard.liveTickMilliseconds) { return }
            ticks += 1
            guard let run = dashboard.catalog.run(id: id) else {
                _ = connection.write(LiveFeed.event("gone", data: .object([
                    ("id", .string(id)), ("error", .string("the run cannot be read any more (deleted?)")),
                ])))
                return
            }
            var message = ""
            switch delta(run) {
            case .reset: message = snapshot(run)
            case .records(let text): message = text
            case .none: break
            }
            if !message.isEmpty || ticks % 4 == 0 {
                let now = RunSummary.read(run, store: dashboard.store)
                if now.status != status {
                    status = now.status
                    message += LiveFeed.event("status", data: .object([
                        ("status", .string(now.status)), ("records", .number(Double(now.records))),
                    ]))
                }
            }
            if message.isEmpty {
                quiet += Dashboard.liveTickMilliseconds
                if quiet < Dashboard.heartbeatMilliseconds { continue }
                message = ": still here\n\n"
            }
            quiet = 0
            guard connection.write(message) else { return }
        }
    }

    static func event(_ name: String, id: UInt64? = nil, data: JSONValue) -> String {
        "event: \(name)\n" + (id.map { "id: \($0)\n" } ?? "") + "data: \(data.json)\n\n"
    }

    /// The whole curves document, from which the stream continues.
    private func snapshot(_ run: RunEntry) -> String {
        let (body, read, file) = dashboard.curvesSnapshot(run, limit: limit)
        offset = read
        identity = file
        status = body["status"]?.stringValue ?? ""
        complete = body["complete"]?.boolValue ?? true
        return LiveFeed.event("snapshot", id: read, data: body)
    }

    /// Whether the stream can continue from `at` (a previous event id): a line start in the same file, not too
    /// far behind its end.
    private func canResume(_ run: RunEntry, at: UInt64) -> Bool {
        let fd = open(run.source.appendingPathComponent("metrics.jsonl", isDirectory: false).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        let size = UInt64(max(0, info.st_size))
        guard at <= size, size - at <= Dashboard.maxCatchUpBytes else { return false }
        if at > 0 {
            var previous: UInt8 = 0
            guard pread(fd, &previous, 1, off_t(at - 1)) == 1, previous == UInt8(ascii: "\n") else { return false }
        }
        offset = at
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        complete = at == size
        return true
    }

    enum Delta {
        case none
        /// The file was replaced, truncated or deleted: start again from a snapshot.
        case reset
        case records(String)
    }

    /// The points of the whole lines appended since `offset`, as one `records` event.
    private func delta(_ run: RunEntry) -> Delta {
        let fd = open(run.source.appendingPathComponent("metrics.jsonl", isDirectory: false).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return identity == nil ? .none : .reset }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .none }
        let size = UInt64(max(0, info.st_size))
        if let identity, identity.dev != UInt64(info.st_dev) || identity.ino != UInt64(info.st_ino) || size < offset {
            return .reset
        }
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        var series: [String: CurveSeries] = [:]
        var order: [String] = []
        var records = 0
        var malformed: [JSONValue] = []
        let from = offset
        let read = MetricsTail.readLines(fd: fd, from: offset, size: size) { lineOffset, record, _ in
            guard let record else {
                if malformed.count < 20 { malformed.append(.number(Double(lineOffset))) }
                return
            }
            records += 1
            for point in MetricsTail.points(record) {
                if series[point.id] == nil { order.append(point.id) }
                // Stepless points are sent with x = null; the client places them at its own count.
                series[point.id, default: CurveSeries(chart: point.chart, stage: point.stage, split: point.split, key: point.key)]
                    .append(x: point.x ?? .nan, y: point.y)
            }
        }
        offset = read.next
        complete = offset >= size
        guard offset > from else { return .none }
        let list: [JSONValue] = order.compactMap { key in
            guard let s = series[key] else { return nil }
            let (x, y) = CurveSeries.thin(s.x, s.y, to: limit)
            return Dashboard.seriesJSON(chart: s.chart, stage: s.stage, split: s.split, key: s.key, name: s.name,
                                        points: s.total, x: x, y: y)
        }
        return .records(LiveFeed.event("records", id: offset, data: .object([
            ("from", .number(Double(from))), ("next", .number(Double(offset))), ("records", .number(Double(records))),
            ("complete", .bool(complete)), ("malformed_line_offsets", .array(malformed)), ("series", .array(list)),
        ])))
    }
}
