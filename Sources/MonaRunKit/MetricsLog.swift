import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A run's metrics as JSON Lines (`metrics.jsonl`): one JSON object per line, written as each record arrives.
///
/// Every record is handed to the operating system in a single `write`, so a killed run loses at most the line
/// it was writing, and `read` skips such a truncated last line. Keys of a dictionary record are written in a
/// stable order: `leadingKeys` first (in that order), then the rest alphabetically.
public final class MetricsLog: @unchecked Sendable {
    /// Keys written first when present, so lines line up for a human reader.
    public static let leadingKeys = ["epoch", "step", "split", "phase"]

    public let url: URL
    private var fd: Int32
    private let lock = NSLock()

    /// Opens `url` for writing, creating parent directories.
    ///
    /// - Parameter append: continue an existing file (resuming a run). A partial last line left by a killed run
    ///   is cut off first so the next record starts on its own line. Without `append` the file is emptied.
    public init(url: URL, append: Bool) throws {
        self.url = url
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunError(file: url.path, "cannot create the directory \(directory.path) (\(describe(error)))")
        }
        let flags = (append ? O_RDWR : O_WRONLY) | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        fd = open(url.path, flags, 0o644)
        guard fd >= 0 else { throw RunError(file: url.path, "cannot open the metrics log (\(POSIX.lastError))") }
        if append {
            do { try MetricsLog.dropPartialLastLine(fd: fd, url: url) } catch { _ = closeDescriptor(fd); throw error }
        }
    }

    deinit { if fd >= 0 { _ = closeDescriptor(fd) } }

    /// Appends one record; keys in the stable order described on the type.
    public func log(_ record: [String: RunValue]) throws {
        try log(MetricsLog.ordered(record))
    }

    /// Appends one record with keys in the given order.
    public func log(_ record: [(String, RunValue)]) throws {
        let line = RunValue.object(record).json + "\n"
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0 else { throw RunError(file: url.path, "the metrics log is closed") }
        let ok = Array(line.utf8).withUnsafeBytes { POSIX.writeAll(fd, $0) }
        guard ok else { throw RunError(file: url.path, "cannot append to the metrics log (\(POSIX.lastError))") }
    }

    /// Forces written records to disk (records are already visible to readers after `log` returns).
    public func sync() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { _ = fsync(fd) }
    }

    /// Closes the file; later `log` calls throw.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { _ = closeDescriptor(fd); fd = -1 }
    }

    /// Reads every record of a metrics file.
    ///
    /// Blank lines are skipped, and so is an unparseable *last* line (a run killed while writing). A bad line
    /// anywhere else, or a line that is not a JSON object, is an error naming the file and line.
    public static func read(_ url: URL) throws -> [[String: RunValue]] {
        try readOrdered(url).map { record in
            Dictionary(record, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Like `read`, keeping each record's key order as written.
    public static func readOrdered(_ url: URL) throws -> [[(String, RunValue)]] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RunError(file: url.path, "cannot read the metrics log (\(describe(error)))")
        }
        let bytes = [UInt8](data)
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let endsWithNewline = bytes.last == UInt8(ascii: "\n")
        if endsWithNewline { lines.removeLast() }
        let lastContent = lines.lastIndex { line in line.contains { !isSpace($0) } }
        var records: [[(String, RunValue)]] = []
        for (i, line) in lines.enumerated() where line.contains(where: { !isSpace($0) }) {
            let value: RunValue
            do {
                value = try RunValue.parse(json: Array(line))
            } catch {
                // A killed run can leave its last line half-written; anything earlier is real damage.
                if i == lastContent { break }
                throw RunError(file: url.path, "line \(i + 1): not valid JSON (\(describe(error)))")
            }
            guard case .object(let pairs) = value else {
                throw RunError(file: url.path, "line \(i + 1): expected a JSON object, found \(value.json.prefix(40))")
            }
            records.append(pairs)
        }
        return records
    }

    /// A dictionary's pairs in the stable order: `leadingKeys` first, then alphabetical.
    public static func ordered(_ record: [String: RunValue]) -> [(String, RunValue)] {
        var pairs: [(String, RunValue)] = []
        for key in leadingKeys { if let v = record[key] { pairs.append((key, v)) } }
        for key in record.keys.sorted() where !leadingKeys.contains(key) { pairs.append((key, record[key]!)) }
        return pairs
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// Truncates the file after its last newline if it does not end with one.
    private static func dropPartialLastLine(fd: Int32, url: URL) throws {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        // Scan backwards in blocks for the last newline.
        var end = size
        var keep: off_t = 0
        var block = [UInt8](repeating: 0, count: 4096)
        var found = false
        var lastByteChecked = false
        while end > 0, !found {
            let start = max(0, end - off_t(block.count))
            let count = Int(end - start)
            let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, start) }
            guard n == count else { throw RunError(file: url.path, "cannot read the metrics log (\(POSIX.lastError))") }
            if !lastByteChecked {
                lastByteChecked = true
                if block[count - 1] == UInt8(ascii: "\n") { return }
            }
            if let i = block[..<count].lastIndex(of: UInt8(ascii: "\n")) {
                keep = start + off_t(i) + 1
                found = true
            }
            end = start
        }
        guard ftruncate(fd, keep) == 0 else {
            throw RunError(file: url.path, "cannot cut the partial last line (\(POSIX.lastError))")
        }
    }
}

private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }
