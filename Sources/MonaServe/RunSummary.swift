import Foundation
import MonaJSON
import MonaRunKit

/// One row of the runs table, read from a run's files.
struct RunSummary: Sendable {
    var id: String
    var name: String
    var task: String?
    var body: String?
    var method: String?
    var seed: String?
    /// running (a process holds `run.lock`), finished (a test record was logged) or stopped.
    var status: String
    var metric: String?
    var bestValidation: Double?
    var test: Double?
    var seconds: Double?
    var step: Int?
    var epoch: Int?
    var stage: String?
    var records: Int
    /// Problems met while reading (a malformed config or metrics line); the run is still listed.
    var warnings: [String]

    var json: JSONValue {
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func num(_ x: Double?) -> JSONValue { x.flatMap { $0.isFinite ? JSONValue.number($0) : nil } ?? .null }
        return .object([
            ("id", .string(id)), ("name", .string(name)), ("task", opt(task)), ("body", opt(body)),
            ("method", opt(method)), ("seed", opt(seed)), ("status", .string(status)), ("metric", opt(metric)),
            ("best_validation", num(bestValidation)), ("test", num(test)), ("seconds", num(seconds)),
            ("step", step.map { .number(Double($0)) } ?? .null), ("epoch", epoch.map { .number(Double($0)) } ?? .null),
            ("stage", opt(stage)), ("records", .number(Double(records))),
            ("warnings", .array(warnings.map(JSONValue.string))),
        ])
    }

    static func read(_ run: RunEntry, store: MetricsStore) -> RunSummary {
        var summary = RunSummary(id: run.id, name: run.name, status: "stopped", records: 0, warnings: [])
        switch store.parsed.config(run.source) {
        case .success(let pairs):
            func text(_ key: String) -> String? {
                guard let v = ConfigFile.value(key, in: pairs) else { return nil }
                return v.stringValue ?? v.description
            }
            summary.task = text("task")
            summary.body = text("body")
            summary.method = text("method.name") ?? text("method")
            summary.seed = text("seed")
        case .failure(let message):
            summary.warnings.append(message)
        }
        let metrics = run.source.appendingPathComponent("metrics.jsonl", isDirectory: false)
        store.with(metrics, series: false) { tail in
            summary.records = tail.records
            summary.step = tail.lastStep
            summary.epoch = tail.lastEpoch
            summary.stage = tail.lastStage
            if let e = tail.error, FileManager.default.fileExists(atPath: run.source.path) { summary.warnings.append(e) }
            summary.warnings += tail.badLines.prefix(3)
            if let validation = tail.lastValidation,
               let best = validation.first(where: { $0.0.hasPrefix("best_val_") }) {
                summary.metric = String(best.0.dropFirst("best_val_".count))
                summary.bestValidation = best.1.doubleValue
            }
            if let test = tail.testRecord {
                summary.status = "finished"
                let key = summary.metric.map { "test_" + $0 }
                let primary = test.first { $0.0 == key } ?? test.first { $0.0.hasPrefix("test_") && $0.0 != "test_loss" }
                if let primary {
                    summary.test = primary.1.doubleValue
                    if summary.metric == nil { summary.metric = String(primary.0.dropFirst("test_".count)) }
                }
            }
        }
        if store.parsed.isHeld(run.url.appendingPathComponent("run.lock", isDirectory: false)) { summary.status = "running" }
        summary.seconds = wallTime(run, running: summary.status == "running", parsed: store.parsed)
        return summary
    }

    /// Whether a live process holds a run's lock, given the lock file's `pid host` text. Read from what the
    /// holder writes rather than by trying the `flock`: a probe could, for an instant, make a `mona fit`
    /// starting on the same folder fail to lock it. A file left by a crashed process names a dead pid; another
    /// host's holder is checked with the flock probe, the only test that works there.
    static func isHeld(_ lock: URL, text: String) -> Bool {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0 else { return false }
        guard String(parts[1]) == localHostName else {
            return FolderLock.isLocked(lock)
        }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static let localHostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    enum ConfigRead {
        case success([(String, JSONValue)])
        case failure(String)
    }

    static func readConfig(_ folder: URL) -> ConfigRead {
        let url = folder.appendingPathComponent("config.yaml", isDirectory: false)
        guard FileManager.default.fileExists(atPath: url.path) else { return .failure("no config.yaml") }
        do { return .success(try ConfigFile.load(url)) } catch { return .failure("config.yaml: \(error)") }
    }

    /// `timings.json` → `total` when the run wrote it; otherwise the time from the config being written to the
    /// last metrics line (or to now while it runs).
    static func wallTime(_ run: RunEntry, running: Bool, parsed: ParsedFiles) -> Double? {
        if !running, let total = parsed.totalSeconds(run.source) { return total }
        guard let start = FileStamp(run.source.appendingPathComponent("config.yaml", isDirectory: false).path)?.modified else { return nil }
        let end = running ? Date().timeIntervalSince1970
            : FileStamp(run.source.appendingPathComponent("metrics.jsonl", isDirectory: false).path)?.modified
        guard let end else { return nil }
        return max(0, end - start)
    }
}

/// The small files of runs (config.yaml, timings.json, run.lock), parsed once and reused while their `stat`
/// is unchanged: the runs table reads every run on each request, and a folder may hold thousands.
final class ParsedFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var configs: [String: (FileStamp, RunSummary.ConfigRead)] = [:]
    private var timings: [String: (FileStamp, Double?)] = [:]
    private var locks: [String: (FileStamp, String)] = [:]
    static let maxEntries = 50_000

    private func cached<T>(_ table: ReferenceWritableKeyPath<ParsedFiles, [String: (FileStamp, T)]>, _ path: String,
                           _ read: () -> T?) -> T? {
        guard let stamp = FileStamp(path) else { return nil }
        lock.lock()
        if let hit = self[keyPath: table][path], hit.0 == stamp {
            lock.unlock()
            return hit.1
        }
        lock.unlock()
        guard let value = read() else { return nil }
        lock.lock()
        if self[keyPath: table].count >= ParsedFiles.maxEntries { self[keyPath: table].removeAll() }
        self[keyPath: table][path] = (stamp, value)
        lock.unlock()
        return value
    }

    func config(_ folder: URL) -> RunSummary.ConfigRead {
        let path = folder.appendingPathComponent("config.yaml", isDirectory: false).path
        return cached(\.configs, path) { RunSummary.readConfig(folder) } ?? .failure("no config.yaml")
    }

    func totalSeconds(_ folder: URL) -> Double? {
        let url = folder.appendingPathComponent("timings.json", isDirectory: false)
        let total: Double?? = cached(\.timings, url.path) {
            guard let data = try? Data(contentsOf: url), let value = try? JSONValue.parse(json: data),
                  let total = value["total"]?.doubleValue, total.isFinite else { return .some(nil) }
            return .some(total)
        }
        return total ?? nil
    }

    func isHeld(_ lockFile: URL) -> Bool {
        guard let text = cached(\.locks, lockFile.path, { try? String(contentsOf: lockFile, encoding: .utf8) }) else { return false }
        return RunSummary.isHeld(lockFile, text: text)
    }
}
