import Foundation

/// How a command talks to the terminal.
public enum OutputMode: String, Sendable, CaseIterable {
    /// A live progress bar when the stream is a terminal; plain periodic lines otherwise (logs, CI).
    case auto
    /// No progress output at all (errors are still reported by the caller).
    case quiet
    /// One JSON object per line, for scripts: progress, messages and the final summary.
    case json
}

/// Progress of a loop (steps, epochs, batches) on a terminal, in a log, or as JSON lines.
///
/// - `auto` on a terminal: one line redrawn in place at most 10 times a second — label, bar, completed/total,
///   rate, elapsed time, ETA and the latest metrics; `message` prints above it without corrupting it.
/// - `auto` elsewhere: a plain line at every 10% of `total` (every 10 s at most apart), and at the end.
/// - `quiet`: nothing.
/// - `json`: every `update`, `message` and `finish` writes one JSON object on its own line, e.g.
///   `{"event": "progress", "label": "train", "completed": 3, "total": 10, "unit": "step", "elapsed": 0.5,
///   "rate": 6, "eta": 1.2, "metrics": {"loss": 0.7}}` (non-finite metrics as "NaN"/"Infinity" strings).
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let unit: String
    public let mode: OutputMode

    private let stream: FileHandle
    private let isTerminal: Bool
    private let initial: Int
    private let started = ContinuousClock.now
    private let mutex = NSLock()
    private var _total: Int?
    private var completed: Int
    private var metrics: [(String, Double)] = []
    private var lastDraw: ContinuousClock.Instant?
    private var lastLine: ContinuousClock.Instant
    private var lastBucket = 0
    private var barVisible = false
    private var finished = false

    /// - Parameters:
    ///   - total: the number of units to complete, if known (no bar or ETA otherwise).
    ///   - stream: where progress goes; standard error by default so standard output stays clean.
    ///   - initial: units already done before this reporter started (a resumed run); the rate counts only
    ///     units done since.
    public init(label: String, total: Int?, unit: String = "step", mode: OutputMode,
                stream: FileHandle = .standardError, initial: Int = 0) {
        self.label = label
        self._total = total
        self.unit = unit
        self.mode = mode
        self.stream = stream
        self.initial = initial
        self.completed = initial
        self.lastLine = started
        let fd = stream.fileDescriptor
        let dumb = ProcessInfo.processInfo.environment["TERM"] == "dumb"
        self.isTerminal = mode == .auto && !dumb && POSIX.isTerminal(fd)
        if let total, total > 0 { lastBucket = initial * 10 / total }
    }

    deinit {
        // Leave the terminal on a fresh line if the loop ended without `finish` (an error, for instance).
        if barVisible { emit("\n") }
    }

    /// The number of units to complete; may be set once it becomes known.
    public var total: Int? {
        get { mutex.withLock { _total } }
        set { mutex.withLock { _total = newValue } }
    }

    /// Records progress; cheap enough to call every step (terminal redraws are throttled to 10 per second).
    public func update(completed: Int, metrics: [(String, Double)]) {
        mutex.withLock {
            self.completed = completed
            if !metrics.isEmpty { self.metrics = metrics }
            guard !finished else { return }
            let now = ContinuousClock.now
            switch mode {
            case .quiet:
                return
            case .json:
                emit(jsonEvent("progress", now: now, extra: [("metrics", metricsObject(metrics))]) + "\n")
            case .auto where isTerminal:
                let done = _total.map { completed >= $0 } ?? false
                if let last = lastDraw, now - last < .milliseconds(100), !done { return }
                lastDraw = now
                emit("\r" + terminalLine(now: now) + "\u{1B}[K")
                barVisible = true
            case .auto:
                var due = now - lastLine >= .seconds(10)
                if let total = _total, total > 0 {
                    let bucket = min(completed, total) * 10 / total
                    if bucket > lastBucket { due = true }
                    if due { lastBucket = max(bucket, lastBucket) }
                }
                guard due else { return }
                lastLine = now
                emit(statusLine(now: now, barWidth: nil) + "\n")
            }
        }
    }

    /// Prints a line of text above the progress bar (a plain line otherwise; a JSON event in `json` mode).
    public func message(_ text: String) {
        let text = TerminalText.escaped(text)   // messages quote task and file names
        mutex.withLock {
            switch mode {
            case .quiet:
                return
            case .json:
                emit(jsonEvent("message", now: .now, extra: [("text", .string(text))]) + "\n")
            case .auto where isTerminal && barVisible:
                emit("\r\u{1B}[K" + text + "\n")
                if !finished { emit(terminalLine(now: .now) + "\u{1B}[K") }
            case .auto:
                emit(text + "\n")
            }
        }
    }

    /// Ends the progress display with a summary line: units done, time, rate and the given values.
    public func finish(summary: [(String, Double)]) {
        mutex.withLock {
            guard !finished else { return }
            finished = true
            let now = ContinuousClock.now
            switch mode {
            case .quiet:
                return
            case .json:
                emit(jsonEvent("finish", now: now, extra: [("summary", metricsObject(summary))]) + "\n")
            case .auto:
                var parts = ["\(label): done \(countText()) \(unit)\(plural) in \(ProgressReporter.duration(seconds(now)))"]
                if let rate = rate(now) { parts[0] += " (\(ProgressReporter.rateText(rate, unit: unit)))" }
                parts += summary.map { "\($0.0) \(ProgressReporter.number($0.1))" }
                let line = parts.joined(separator: "  ")
                emit((isTerminal && barVisible ? "\r\u{1B}[K" : "") + line + "\n")
                barVisible = false
            }
        }
    }

    // MARK: Formatting

    private var plural: String { completed - initial == 1 || unit.isEmpty ? "" : "s" }

    private func countText() -> String {
        if let total = _total { return "\(completed)/\(total)" }
        return "\(completed)"
    }

    private func seconds(_ now: ContinuousClock.Instant) -> Double {
        let d = (now - started).components
        return Double(d.seconds) + Double(d.attoseconds) * 1e-18
    }

    private func rate(_ now: ContinuousClock.Instant) -> Double? {
        let elapsed = seconds(now)
        let done = completed - initial
        guard elapsed > 0, done > 0 else { return nil }
        return Double(done) / elapsed
    }

    private func eta(_ now: ContinuousClock.Instant) -> Double? {
        guard let total = _total, let rate = rate(now), total >= completed else { return nil }
        return Double(total - completed) / rate
    }

    /// `label [█████░░░░░] 37/100 37% · 12.3 step/s · 0:03 < 0:05 · loss 0.1234 · acc 0.95`
    private func statusLine(now: ContinuousClock.Instant, barWidth: Int?) -> String {
        var parts: [String] = [label]
        if let total = _total, total > 0 {
            let fraction = min(max(Double(completed) / Double(total), 0), 1)
            if let width = barWidth {
                let filled = Int((fraction * Double(width)).rounded(.down))
                parts.append("[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]")
            }
            parts.append("\(completed)/\(total) \(Int((fraction * 100).rounded(.down)))%")
        } else {
            parts.append("\(completed) \(unit)\(plural)")
        }
        var timing: [String] = []
        if let rate = rate(now) { timing.append(ProgressReporter.rateText(rate, unit: unit)) }
        var clock = ProgressReporter.duration(seconds(now))
        if let eta = eta(now) { clock += " < " + ProgressReporter.duration(eta) }
        timing.append(clock)
        let values = metrics.map { "\($0.0) \(ProgressReporter.number($0.1))" }
        return ([parts.joined(separator: " ")] + timing + values).joined(separator: " · ")
    }

    /// The status line for a terminal: the bar takes the room left (10–30 columns) and the line is cut to the
    /// width so it never wraps (a wrapped line cannot be redrawn with \r).
    private func terminalLine(now: ContinuousClock.Instant) -> String {
        let columns = (POSIX.terminalColumns(stream.fileDescriptor) ?? 80) - 1
        var line = statusLine(now: now, barWidth: nil)
        if _total.map({ $0 > 0 }) == true {
            line = statusLine(now: now, barWidth: min(30, max(10, columns - line.count - 3)))
        }
        guard line.count > columns, columns > 1 else { return line }
        return String(line.prefix(columns - 1)) + "…"
    }

    static func rateText(_ rate: Double, unit: String) -> String {
        if rate >= 1 || rate == 0 { return "\(number(rate)) \(unit)/s" }
        return "\(number(1 / rate)) s/\(unit)"
    }

    /// `12.3s`, `4:05`, `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }

    /// Four significant digits (`0.1235`, `1235`, `1.235e+05`).
    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.4g", x)
    }

    private func metricsObject(_ values: [(String, Double)]) -> RunValue {
        .object(values.map { ($0.0, .number($0.1)) })
    }

    private func jsonEvent(_ event: String, now: ContinuousClock.Instant, extra: [(String, RunValue)]) -> String {
        var pairs: [(String, RunValue)] = [
            ("event", .string(event)), ("label", .string(label)), ("completed", .number(Double(completed))),
            ("total", _total.map { .number(Double($0)) } ?? .null), ("unit", .string(unit)),
            ("elapsed", .number((seconds(now) * 1000).rounded() / 1000)),
        ]
        if event != "message" {
            pairs.append(("rate", rate(now).map { .number(($0 * 1000).rounded() / 1000) } ?? .null))
            if event == "progress" { pairs.append(("eta", eta(now).map { .number(($0 * 10).rounded() / 10) } ?? .null)) }
        }
        return RunValue.object(pairs + extra).json
    }

    private func emit(_ text: String) {
        try? stream.write(contentsOf: Data(text.utf8))
    }
}
