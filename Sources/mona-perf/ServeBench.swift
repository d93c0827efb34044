import ArgumentParser
import Foundation
import MonaServe

/// `mona-perf serve`: the dashboard over a folder of thousands of fake run directories.
struct ServeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "mona serve over thousands of run directories: scan, runs table and /api/runs times (ms).",
        discussion: """
        Writes --runs fake run directories (task/method/seed<k>, each with config.yaml, a 40-line metrics.jsonl, \
        timings.json and the run marker) into a temporary folder, then times, in the process (no sockets): the \
        folder scan, the first /api/runs (every run's files read and parsed), and later /api/runs, sorted \
        /api/runs and /runs pages (files unchanged: parsed summaries reused). Best of --repeats after the first.
        """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Run directories to create.") var runs = 5000
    @Option(help: "Timed repetitions of each request after the first.") var repeats = 5

    func run() throws {
        guard (1...100_000).contains(runs) else { throw ValidationError("--runs: expected 1…100000") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mona-serve-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let created = try time { try ServeBench.writeRuns(runs, into: folder) }
        let dashboard = Dashboard(catalog: try RunCatalog(roots: [folder]))
        func get(_ target: String) -> Int {
            guard let request = HTTPRequest(target: target) else { return 0 }
            return dashboard.handle(request).body.count
        }
        var table = Table("mona serve over \(runs) run directories (ms; later requests: best of \(repeats))",
                          columns: ["what", "ms", "CPU ms", "response bytes"])
        var report: [(String, JSON)] = [("runs", .number(Double(runs))), ("create_ms", .number(created.seconds * 1000))]
        func row(_ name: String, key: String, ms: (wall: Double, cpu: Double), bytes: Int) {
            table.rows.append([name, format3(ms.wall), format3(ms.cpu), String(bytes)])
            report.append((key + "_ms", .number(ms.wall)))
            report.append((key + "_cpu_ms", .number(ms.cpu)))
        }
        let catalog = dashboard.catalog
        var count = 0
        let scan = try best { count = catalog.scan().runs.count }
        guard count == runs else { throw ValidationError("the scan found \(count) runs, not \(runs)") }
        row("scan of the folder", key: "scan", ms: scan, bytes: 0)
        var bytes = 0
        let first = try time { bytes = get("/api/runs") }
        row("first /api/runs (cold)", key: "api_runs_cold", ms: (first.seconds * 1000, first.cpu * 1000), bytes: bytes)
        for (name, key, target) in [("/api/runs", "api_runs", "/api/runs"),
                                    ("/api/runs?sort=test&order=desc", "api_runs_sorted", "/api/runs?sort=test&order=desc"),
                                    ("/api/runs?task=task07&limit=5000", "api_runs_filtered", "/api/runs?task=task07&limit=5000"),
                                    ("/runs (HTML, 100 rows)", "runs_page", "/runs"),
                                    ("/api/runs?limit=5000", "api_runs_all", "/api/runs?limit=5000")] {
            let ms = try best { bytes = get(target) }
            row(name, key: key, ms: ms, bytes: bytes)
        }
        table.notes.append("fixture written in \(format3(created.seconds * 1000)) ms; CPU ms: user + system time of this "
                           + "process (what the request costs on a machine shared with other jobs)")
        if json {
            print(JSON.object(report).rendered)
        } else {
            print(table.rendered)
        }
    }

    /// Wall and CPU (user + system) seconds of `body`.
    func time(_ body: () throws -> Void) throws -> (seconds: Double, cpu: Double) {
        func cpu() -> Double {
            var usage = rusage()
            #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            #else
            getrusage(RUSAGE_SELF, &usage)
            #endif
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let start = DispatchTime.now().uptimeNanoseconds, startCPU = cpu()
        try body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpu() - startCPU)
    }

    /// Milliseconds, wall and CPU: the best of `repeats` runs after one untimed run.
    func best(_ body: () throws -> Void) throws -> (wall: Double, cpu: Double) {
        try body()
        var best = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<max(1, repeats) {
            let t = try time(body)
            best = (min(best.wall, t.seconds * 1000), min(best.cpu, t.cpu * 1000))
        }
        return best
    }

    /// `count` finished runs spread over tasks, methods and seeds, like a benchmark's output.
    static func writeRuns(_ count: Int, into folder: URL) throws {
        let methods = ["finetune", "linear-probe", "orca", "mona"]
        for i in 0..<count {
            let task = String(format: "task%02d", i % 50), method = methods[(i / 50) % 4], seed = i / 200
            let dir = folder.appendingPathComponent(task).appendingPathComponent(method).appendingPathComponent("seed\(seed)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data("mona run directory\n".utf8).write(to: dir.appendingPathComponent(".mona-run"))
            try Data("task: \(task)\nbody: tiny-bert\nmethod:\n  name: \(method)\nseed: \(seed)\nepochs: 10\nbatch_size: 8\n".utf8)
                .write(to: dir.appendingPathComponent("config.yaml"))
            var lines = ""
            for step in 0..<36 {
                lines += "{\"stage\": \"finetune\", \"epoch\": \(step / 4), \"step\": \(step), \"split\": \"train\", \"loss\": \(1 / Double(step + 1)), \"lr\": 0.001}\n"
            }
            for epoch in 0..<3 {
                lines += "{\"stage\": \"finetune\", \"epoch\": \(epoch), \"step\": \(epoch * 12), \"split\": \"validation\", \"val_accuracy\": 0.8, \"best_val_accuracy\": 0.8}\n"
            }
            lines += "{\"split\": \"test\", \"test_accuracy\": \(Double(i % 97) / 97)}\n"
            try Data(lines.utf8).write(to: dir.appendingPathComponent("metrics.jsonl"))
            try Data("{\"total\": \(10 + i % 13)}".utf8).write(to: dir.appendingPathComponent("timings.json"))
        }
    }
}
