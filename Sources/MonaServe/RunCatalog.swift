import Foundation
import MonaRunKit

/// A run directory found under a served folder.
///
/// `source` holds the files (`metrics.jsonl`, `config.yaml`, …): the run directory itself, or its `record/`
/// folder for a benchmark run kept only as a record (the run's own files deleted after the record was written).
public struct RunEntry: Sendable {
    /// `<root index>` or `<root index>/<path below the root>`: what URLs and the JSON endpoints name a run by.
    public var id: String
    public var url: URL
    public var source: URL
    /// The path shown: the root folder's name followed by the path below it.
    public var name: String
}

/// A benchmark folder (`mona bench` output: `results.json`, `plots/`, `runs/`).
public struct BenchEntry: Sendable {
    public var id: String
    public var url: URL
    public var name: String
}

/// The folders given to `mona serve` and what lies under them.
///
/// Ids are paths below a root, and every id from a request is re-validated and resolved here: components must be
/// plain names (no `.`/`..`, separators, NUL or leading dot), and the resolved real path (symbolic links followed)
/// must stay inside the root's real path. So no request can name a file outside the served folders.
public struct RunCatalog: Sendable {
    public let roots: [URL]
    /// What each folder held at the last scan (see `FolderCache`).
    private let folders = FolderCache()

    /// How deep below a root runs and benchmarks are looked for, and how many folders one scan visits at most.
    static let maxDepth = 6
    static let maxVisited = 20_000

    /// - Throws: `ServeError` naming a folder that does not exist or is not a directory.
    public init(roots: [URL]) throws {
        var resolved: [URL] = []
        for root in roots {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ServeError("\(root.path): no such folder (mona serve takes folders of runs or benchmark folders)")
            }
            resolved.append(URL(fileURLWithPath: RunCatalog.realPath(root.path) ?? root.standardizedFileURL.path))
        }
        self.roots = resolved
    }

    // MARK: Discovery

    /// Every run and benchmark under the roots (depth-limited, symbolic links not followed, hidden folders and a
    /// run's own subfolders skipped), sorted by id.
    public func scan() -> (runs: [RunEntry], benches: [BenchEntry]) {
        var runs: [RunEntry] = [], benches: [BenchEntry] = []
        var visited = 0
        for (index, root) in roots.enumerated() {
            var stack: [(URL, [String])] = [(root, [])]
            while let item = stack.popLast() {
                let (dir, components) = item
                visited += 1
                if visited > RunCatalog.maxVisited { break }
                guard let folder = folders.look(at: dir) else { continue }
                let id = RunCatalog.id(root: index, components)
                let name = ([root.lastPathComponent] + components).joined(separator: "/")
                if folder.isBench { benches.append(BenchEntry(id: id, url: dir, name: name)) }
                if let source = folder.runSource {
                    runs.append(RunEntry(id: id, url: dir, source: source, name: name))
                    continue
                }
                guard components.count < RunCatalog.maxDepth else { continue }
                for child in folder.subfolders.reversed() {
                    stack.append((dir.appendingPathComponent(child, isDirectory: true), components + [child]))
                }
            }
        }
        folders.forget(unless: visited)
        return (runs.sorted { $0.id < $1.id }, benches.sorted { $0.id < $1.id })
    }

    static func id(root: Int, _ components: [String]) -> String {
        ([String(root)] + components).joined(separator: "/")
    }

    /// The folder holding a run's files, if `dir` is a run: `metrics.jsonl` or the run marker in it, or a
    /// benchmark record (`record/metrics.jsonl`).
    static func runSource(_ dir: URL) -> URL? {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.appendingPathComponent("metrics.jsonl", isDirectory: false).path)
            || fm.fileExists(atPath: dir.appendingPathComponent(RunDirectory.markerName, isDirectory: false).path) {
            return dir
        }
        let record = dir.appendingPathComponent("record", isDirectory: true)
        if fm.fileExists(atPath: record.appendingPathComponent("metrics.jsonl", isDirectory: false).path) { return record }
        return nil
    }

    static func isBench(_ dir: URL) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("results.json", isDirectory: false).path)
    }

    /// A name a request may use as one path component.
    static func isPlainName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix(".") else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F }
    }

    // MARK: Resolving ids from requests

    /// The folder an id names, inside its root; nil for a malformed id or one that leaves the root.
    func folder(id: String) -> URL? {
        guard id.utf8.count <= 4096 else { return nil }
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let index = Int(first), String(index) == first, roots.indices.contains(index) else {
            return nil
        }
        let components = Array(parts.dropFirst())
        guard components.count <= RunCatalog.maxDepth, components.allSatisfy(RunCatalog.isPlainName) else { return nil }
        let root = roots[index]
        var url = root
        for c in components { url.appendPathComponent(c) }
        return RunCatalog.contained(url, in: root)
    }

    /// `url` if its real path lies inside `root` (itself a real path); nil otherwise or when it does not exist.
    static func contained(_ url: URL, in root: URL) -> URL? {
        guard let real = realPath(url.path) else { return nil }
        let base = root.path == "/" ? "/" : root.path + "/"
        guard real == root.path || real.hasPrefix(base) else { return nil }
        return URL(fileURLWithPath: real)
    }

    public func run(id: String) -> RunEntry? {
        guard let dir = folder(id: id), let source = RunCatalog.runSource(dir) else { return nil }
        let parts = id.split(separator: "/").dropFirst().map(String.init)
        guard let index = Int(id.split(separator: "/").first ?? "") else { return nil }
        let name = ([roots[index].lastPathComponent] + parts).joined(separator: "/")
        return RunEntry(id: id, url: dir, source: source, name: name)
    }

    public func bench(id: String) -> BenchEntry? {
        guard let dir = folder(id: id), RunCatalog.isBench(dir), let index = Int(id.split(separator: "/").first ?? "") else {
            return nil
        }
        let name = ([roots[index].lastPathComponent] + id.split(separator: "/").dropFirst().map(String.init))
            .joined(separator: "/")
        return BenchEntry(id: id, url: dir, name: name)
    }

    /// A plot of a run or benchmark: `plots/<name>.svg` under `folder`, containment checked again so that a
    /// symbolic link in `plots/` cannot point outside the root.
    func plot(named name: String, in folder: URL, root: URL) -> URL? {
        guard RunCatalog.isPlainName(name), name.hasSuffix(".svg"),
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "._-+".unicodeScalars.contains($0) })
        else { return nil }
        return RunCatalog.contained(folder.appendingPathComponent("plots").appendingPathComponent(name), in: root)
    }

    /// The root an id lies under.
    func root(of id: String) -> URL? {
        guard let first = id.split(separator: "/").first, let index = Int(first), roots.indices.contains(index) else { return nil }
        return roots[index]
    }

    /// The SVG files in `folder/plots` (names only, sorted).
    static func plotNames(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("plots").path)) ?? []
        return names.filter { isPlainName($0) && $0.hasSuffix(".svg") }.sorted()
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// What one folder held when last looked at, reused while the folder has not changed: a scan over thousands of
/// run directories then costs one `stat` per folder instead of listing each.
///
/// A folder's modification time changes when an entry is added, removed or renamed in it, which is all a scan
/// depends on (whether `metrics.jsonl`, the run marker or `results.json` exist, and which subfolders there are),
/// plus `record/` for a benchmark run kept as a record, whose own time is checked too. File systems stamp times
/// with a coarse clock, so a change in the same tick as the look would leave the time unchanged: an entry is
/// only reused when the folder's time is more than two seconds older than the look that made it.
final class FolderCache: @unchecked Sendable {
    struct Folder {
        var isBench: Bool
        var runSource: URL?
        /// Plain-named subfolders (not symbolic links), sorted.
        var subfolders: [String]
    }

    private struct Entry {
        var folder: Folder
        var stamp: FileStamp
        var record: FileStamp?
        /// When the folder was read (seconds since 1970).
        var read: Double
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    static let settle = 2.0

    /// The folder's own stamp: nil unless it is a directory (a symbolic link is not followed).
    private static func stamp(_ path: String) -> FileStamp? { FileStamp(path, type: S_IFDIR, followingLinks: false) }

    /// The folder at `dir` (nil when it is not a directory, or a symbolic link).
    func look(at dir: URL) -> Folder? {
        let path = dir.path
        guard let stamp = Self.stamp(path) else { return nil }
        let record = Self.stamp(path + "/record")
        lock.lock()
        let hit = entries[path]
        lock.unlock()
        if let hit, hit.stamp == stamp, hit.record == record, Double(stamp.seconds) < hit.read - FolderCache.settle,
           Double(record?.seconds ?? 0) < hit.read - FolderCache.settle {
            return hit.folder
        }
        let now = Date().timeIntervalSince1970
        let source = RunCatalog.runSource(dir)
        var subfolders: [String] = []
        if source == nil, let children = try? FileManager.default.contentsOfDirectory(atPath: path) {
            subfolders = children.filter { child in
                guard RunCatalog.isPlainName(child) else { return false }
                return FolderCache.stamp(path + "/" + child) != nil
            }.sorted()
        }
        let folder = Folder(isBench: RunCatalog.isBench(dir), runSource: source, subfolders: subfolders)
        lock.lock()
        entries[path] = Entry(folder: folder, stamp: stamp, record: record, read: now)
        lock.unlock()
        return folder
    }

    /// Drops everything once the cache holds far more folders than a scan visits (folders deleted or renamed).
    func forget(unless visited: Int) {
        lock.lock()
        if entries.count > 2 * visited + 1000 { entries.removeAll() }
        lock.unlock()
    }
}
