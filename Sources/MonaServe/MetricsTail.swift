import Foundation
import MonaJSON
import MonaRunKit

/// One curve read from `metrics.jsonl`: a numeric key of the records of one stage and split.
struct CurveSeries: Sendable {
    /// Which chart it belongs on: loss, metric, optimizer, alignment or knowledge.
    var chart: String
    var stage: String
    var split: String
    var key: String
    var x: [Double] = []
    var y: [Double] = []
    /// Points read in all (more than `x.count` once the series has been thinned).
    var total = 0

    var name: String { [stage, split, key].filter { !$0.isEmpty }.joined(separator: " ") }
}

/// What the dashboard knows of one `metrics.jsonl`, read incrementally: each call reads only the bytes appended
/// since the last one, and only up to the last newline, so the half-written line of a run being appended is left
/// for a later call. A file that shrank or was replaced (another inode) is read again from the start.
final class MetricsTail: @unchecked Sendable {
    /// Most bytes parsed per call, so the first look at a huge file returns quickly (`complete` says whether the
    /// end was reached; the next call continues).
    static let bytesPerCall = 32 * 1024 * 1024
    /// Points kept per series; beyond this, the series is thinned to half by min/max buckets (its shape kept).
    static let keptPoints = 50_000

    let lock = NSLock()
    /// Whether curves are kept; a tail read only for the runs table keeps the last records and counts.
    let keepSeries: Bool
    private(set) var offset: UInt64 = 0
    private(set) var identity: (dev: UInt64, ino: UInt64)?
    private(set) var size: UInt64 = 0
    private(set) var series: [String: CurveSeries] = [:]
    private(set) var order: [String] = []
    private(set) var records = 0
    private(set) var badLines: [String] = []
    private(set) var lastValidation: [(String, JSONValue)]?
    private(set) var testRecord: [(String, JSONValue)]?
    private(set) var lastStep: Int?
    private(set) var lastEpoch: Int?
    private(set) var lastStage: String?
    private(set) var error: String?

    var complete: Bool { offset >= size }

    init(keepSeries: Bool) {
        self.keepSeries = keepSeries
    }

    private func reset() {
        offset = 0
        series = [:]
        order = []
        records = 0
        badLines = []
        lastValidation = nil
        testRecord = nil
        lastStep = nil
        lastEpoch = nil
        lastStage = nil
    }

    /// Reads what was appended to `url` since the last call (caller holds `lock`).
    func update(_ url: URL) {
        error = nil
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            error = "cannot open \(url.lastPathComponent) (\(String(cString: strerror(errno))))"
            reset()
            size = 0
            identity = nil
            return
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { error = "cannot stat \(url.lastPathComponent)"; return }
        let current = (dev: UInt64(info.st_dev), ino: UInt64(info.st_ino))
        let newSize = UInt64(max(0, info.st_size))
        if identity.map({ $0.dev != current.dev || $0.ino != current.ino }) ?? true || newSize < offset { reset() }
        identity = current
        size = newSize
        guard offset < size else { return }
        let read = MetricsTail.readLines(fd: fd, from: offset, size: size) { lineOffset, record, line in
            if let record {
                add(record)
            } else if badLines.count < 20 {
                badLines.append("byte \(lineOffset): not a JSON object: " + String(decoding: line.prefix(60), as: UTF8.self))
            }
        }
        if read.overlong {
            error = "a line longer than \(MetricsTail.bytesPerCall) bytes at byte \(offset); reading stopped there"
        }
        offset = read.next
    }

    /// Reads the whole lines of `fd` from `offset` (a line start), at most `bytesPerCall` bytes, handing each
    /// non-blank line to `body` with its offset: parsed when it is a JSON object, nil otherwise. Returns the
    /// offset after the last whole line (the rest is a line still being written, or a killed run's last, partial
    /// line) and whether a single line was longer than `bytesPerCall`.
    static func readLines(fd: Int32, from offset: UInt64, size: UInt64,
                          _ body: (UInt64, [(String, JSONValue)]?, ArraySlice<UInt8>) -> Void) -> (next: UInt64, overlong: Bool) {
        guard offset < size else { return (offset, false) }
        let want = Int(min(size - offset, UInt64(bytesPerCall)))
        var buffer = [UInt8](repeating: 0, count: want)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
        guard got > 0 else { return (offset, false) }
        guard let lastNewline = buffer[0..<got].lastIndex(of: UInt8(ascii: "\n")) else {
            return (offset, got == want && want == bytesPerCall)
        }
        var lineStart = 0
        for i in 0...lastNewline where buffer[i] == UInt8(ascii: "\n") {
            let line = buffer[lineStart..<i]
            lineStart = i + 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            if let value = try? JSONValue.parse(json: Array(line)), case .object(let pairs) = value {
                body(offset + UInt64(line.startIndex), pairs, line)
            } else {
                body(offset + UInt64(line.startIndex), nil, line)
            }
        }
        return (offset + UInt64(lastNewline + 1), false)
    }

    private func add(_ record: [(String, JSONValue)]) {
        records += 1
        func value(_ key: String) -> JSONValue? { record.first { $0.0 == key }?.1 }
        let stage = value("stage")?.stringValue ?? value("phase")?.stringValue ?? ""
        let split = value("split")?.stringValue ?? ""
        let step = value("step")?.intValue
        if let step { lastStep = step }
        if let epoch = value("epoch")?.intValue { lastEpoch = epoch }
        if !stage.isEmpty { lastStage = stage }
        if split == "validation" { lastValidation = record }
        if split == "test" { testRecord = record }
        guard keepSeries else { return }
        for point in MetricsTail.points(record) {
            if series[point.id] == nil { order.append(point.id) }
            // Mutated in place through the defaulting subscript (no copy of the point arrays).
            series[point.id, default: CurveSeries(chart: point.chart, stage: point.stage, split: point.split, key: point.key)]
                .append(x: point.x, y: point.y)
        }
    }

    /// One curve point of a record.
    struct Point {
        var id: String
        var chart, stage, split, key: String
        /// The record's step; nil when it has none (the point is then placed at its series' count).
        var x: Double?
        var y: Double
    }

    /// The curve points of one record: every numeric key but the counters, against `step`; none for the test
    /// record (shown in the summary, not as a curve).
    static func points(_ record: [(String, JSONValue)]) -> [Point] {
        func value(_ key: String) -> JSONValue? { record.first { $0.0 == key }?.1 }
        let stage = value("stage")?.stringValue ?? value("phase")?.stringValue ?? ""
        let split = value("split")?.stringValue ?? ""
        guard split != "test" else { return [] }
        let x = value("step")?.intValue.map(Double.init)
        var out: [Point] = []
        for (key, v) in record {
            guard let y = v.doubleValue, !["step", "epoch", "seed", "selected_epoch"].contains(key) else { continue }
            out.append(Point(id: stage + "\u{1}" + split + "\u{1}" + key, chart: chart(stage: stage, split: split, key: key),
                             stage: stage, split: split, key: key, x: x, y: y))
        }
        return out
    }

    /// Training and warm-up stages log train/validation records; alignment stages (MoNA, ORCA, …) log per outer
    /// step; the analysis stage logs how much source knowledge the representation keeps. Quantities of very
    /// different scales go on separate charts (norms and ratios apart from losses, cluster geometry apart from
    /// probe accuracies), so that one does not flatten the others.
    static func chart(stage: String, split: String, key: String) -> String {
        if stage == "analysis" { return key.hasSuffix("accuracy") ? "knowledge" : "geometry" }
        if split == "train" || split == "validation" {
            if key == "lr" || key == "grad_norm" { return "optimizer" }
            return key.hasSuffix("loss") ? "loss" : "metric"
        }
        if key.contains("norm") || key.contains("scale") || key.contains("ratio") { return "alignment-norms" }
        return "alignment"
    }
}

extension CurveSeries {
    /// Adds a point at `x`, or at the series' own count when the record has no step.
    mutating func append(x: Double?, y: Double) {
        self.x.append(x ?? Double(total))
        self.y.append(y)
        total += 1
        if self.x.count > MetricsTail.keptPoints {
            (self.x, self.y) = CurveSeries.thin(self.x, self.y, to: MetricsTail.keptPoints / 2)
        }
    }

    /// At most `limit` points: the first and last points kept, and per bucket of consecutive points the lowest
    /// and the highest (in their order), so spikes survive thinning.
    static func thin(_ x: [Double], _ y: [Double], to limit: Int) -> ([Double], [Double]) {
        let n = x.count
        guard limit >= 4, n > limit else { return (x, y) }
        let buckets = (limit - 2) / 2
        var ox: [Double] = [x[0]], oy: [Double] = [y[0]]
        let inner = n - 2
        for b in 0..<buckets {
            let start = 1 + b * inner / buckets, end = 1 + (b + 1) * inner / buckets
            guard start < end else { continue }
            var low = start, high = start
            for i in start..<end {
                // A NaN never displaces a number (and is kept when the bucket has nothing else).
                if y[i] < y[low] || y[low].isNaN { low = i }
                if y[i] > y[high] || y[high].isNaN { high = i }
            }
            for i in low == high ? [low] : [min(low, high), max(low, high)] {
                ox.append(x[i])
                oy.append(y[i])
            }
        }
        ox.append(x[n - 1])
        oy.append(y[n - 1])
        return (ox, oy)
    }
}

/// The `MetricsTail` of every metrics file looked at, shared by all requests: a light one per run for the runs
/// table (thousands of runs are listed without holding their curves), and full ones (with curves) for the few
/// runs most recently shown, the least recently used dropped first.
final class MetricsStore: @unchecked Sendable {
    private let lock = NSLock()
    private var summaries: [String: MetricsTail] = [:]
    private var curves: [String: (tail: MetricsTail, used: UInt64)] = [:]
    private var uses: UInt64 = 0
    /// The runs' small files, parsed once per change.
    let parsed = ParsedFiles()
    static let maxSummaries = 50_000
    static let maxCurves = 32

    /// Brings the tail of `url` up to date and hands it to `body` while holding its lock.
    func with<T>(_ url: URL, series: Bool = true, _ body: (MetricsTail) -> T) -> T {
        lock.lock()
        let tail: MetricsTail
        if !series {
            if let existing = summaries[url.path] {
                tail = existing
            } else {
                tail = MetricsTail(keepSeries: false)
                if summaries.count >= MetricsStore.maxSummaries { summaries.removeAll() }  // runs come and go
                summaries[url.path] = tail
            }
        } else {
            uses += 1
            if let existing = curves[url.path] {
                tail = existing.tail
            } else {
                tail = MetricsTail(keepSeries: true)
                if curves.count >= MetricsStore.maxCurves, let oldest = curves.min(by: { $0.value.used < $1.value.used }) {
                    curves[oldest.key] = nil
                }
            }
            curves[url.path] = (tail, uses)
        }
        lock.unlock()
        tail.lock.lock()
        defer { tail.lock.unlock() }
        tail.update(url)
        return body(tail)
    }
}
