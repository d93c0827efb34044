import Foundation
import Testing
@testable import MonaServe

/// Debian's chromium (`apt-get install -y chromium`), or nil with a visible SKIPPED line.
let chromium: String? = {
    let env = ProcessInfo.processInfo.environment["MONA_CHROMIUM"]
    for candidate in [env, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].compactMap({ $0 })
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    print("SKIPPED BrowserTests: no chromium (apt-get install -y chromium; .ci/run installs it) — the dashboard was NOT tested in a browser")
    return nil
}()

/// Screenshots and DOM dumps land here (`.build/test-artefacts/serve`), kept after the test for a human to look at.
let artefacts: URL = {
    let url = RealRunTests.repository.appendingPathComponent(".build/test-artefacts/serve", isDirectory: true)
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

/// `mona serve` over a folder in which `mona fit` is training, looked at by headless Chromium: the runs table lists
/// the run as running, and the run page's loss curve (drawn by the page's script from the JSON endpoint) has more
/// points in a later look than in an earlier one.
@Suite(.serialized) struct BrowserTests {
    func browser(_ arguments: [String], profile: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium ?? "/usr/bin/chromium")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                       "--hide-scrollbars", "--user-data-dir=\(profile.path)", "--window-size=1280,900"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The page's DOM after its scripts ran for `budget` ms of virtual time (fetches included).
    func dom(_ url: String, profile: URL, budget: Int = 4000) throws -> String {
        try browser(["--virtual-time-budget=\(budget)", "--dump-dom", url], profile: profile)
    }

    func screenshot(_ url: String, to file: URL, profile: URL, height: Int = 900) throws {
        _ = try browser(["--virtual-time-budget=4000", "--window-size=1280,\(height)", "--screenshot=\(file.path)", url],
                        profile: profile)
    }

    /// `data-points` of the loss chart in a dumped run page (nil when it is not drawn).
    static func lossPoints(_ html: String) -> Int? {
        guard let chart = html.range(of: "data-chart=\"loss\"") else { return nil }
        let start = html[..<chart.lowerBound].range(of: "<svg", options: .backwards)?.lowerBound ?? chart.lowerBound
        let tag = html[start...]
        guard let end = tag.firstIndex(of: ">"), let attr = tag[..<end].range(of: "data-points=\"") else { return nil }
        return Int(tag[attr.upperBound...].prefix { $0.isNumber })
    }

    @Test(.enabled(if: chromium != nil)) func liveRunInHeadlessChromium() throws {
        let exe = try #require(monaExecutable(), "the mona executable is not built next to the tests")
        let tmp = TemporaryDirectory()
        let profile = tmp.url.appendingPathComponent("profile")
        let task = tmp.url.appendingPathComponent("waves.csv")
        try writeSeriesTask(task, rows: 240)
        let runs = tmp.url.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)

        let serve = Process()
        serve.executableURL = exe
        serve.arguments = ["serve", "--port", "0", runs.path]
        let out = Pipe()
        serve.standardOutput = out
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        // SIGKILL: a child of the test runner may inherit an ignored SIGTERM.
        defer { kill(serve.processIdentifier, SIGKILL); serve.waitUntilExit() }
        var line = ""
        while !line.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(line.split(separator: ":").dropFirst(3).first.flatMap { UInt16($0.prefix { $0.isNumber }) },
                                "no port in \(line)")
        let base = "http://127.0.0.1:\(port)"

        let fit = Process()
        fit.executableURL = exe
        fit.arguments = ["fit", "--task", task.path, "--body", "tiny-bert", "--method", "finetune", "--epochs", "3000",
                         "--seed", "2", "--batch-size", "8", "-o", runs.appendingPathComponent("live").path]
        fit.standardOutput = FileHandle.nullDevice
        fit.standardError = FileHandle.nullDevice
        try fit.run()
        defer { if fit.isRunning { kill(fit.processIdentifier, SIGKILL); fit.waitUntilExit() } }

        // Wait for the first training records.
        let metrics = runs.appendingPathComponent("live/metrics.jsonl")
        for _ in 0..<600 where fit.isRunning {
            if let text = try? String(contentsOf: metrics, encoding: .utf8), text.contains("\"split\": \"train\"") { break }
            usleep(100_000)
        }
        try #require(fit.isRunning, "mona fit ended before the browser looked")

        let table = try dom("\(base)/runs", profile: profile)
        try table.write(to: artefacts.appendingPathComponent("runs.html"), atomically: true, encoding: .utf8)
        #expect(table.contains("href=\"/run?id=0/live\""), "runs table does not list the run")
        #expect(table.contains("status-running"), "runs table does not show the run as running")

        let first = try dom("\(base)/run?id=0/live", profile: profile)
        sleep(3)
        let second = try dom("\(base)/run?id=0/live", profile: profile)
        try second.write(to: artefacts.appendingPathComponent("run.html"), atomically: true, encoding: .utf8)
        let before = try #require(BrowserTests.lossPoints(first), "the first look has no loss chart")
        let after = try #require(BrowserTests.lossPoints(second), "the second look has no loss chart")
        #expect(fit.isRunning, "the run ended during the test: growth was not seen live")
        #expect(before > 0 && after > before, "loss curve points: \(before) then \(after)")

        try screenshot("\(base)/runs", to: artefacts.appendingPathComponent("runs.png"), profile: profile, height: 500)
        try screenshot("\(base)/run?id=0/live", to: artefacts.appendingPathComponent("run.png"), profile: profile, height: 1400)
        for name in ["runs.png", "run.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: artefacts.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) screenshot missing or blank (\(size) bytes)")
        }
        print("BrowserTests: loss curve \(before) → \(after) points; screenshots in \(artefacts.path)")
    }

    @Test(.enabled(if: chromium != nil)) func benchPageInHeadlessChromium() throws {
        let tmp = TemporaryDirectory()
        let bench = RealRunTests.repository.appendingPathComponent("docs/results/full-protocol1-2026-12-07")
        let server = try TestServer([bench])
        let base = "http://127.0.0.1:\(server.server.port)"
        let profile = tmp.url.appendingPathComponent("profile")
        let html = try dom("\(base)/bench?id=0", profile: profile, budget: 2000)
        #expect(html.contains("id=\"results\"") && html.contains("href=\"/run?id=0/runs/"))
        try screenshot("\(base)/bench?id=0", to: artefacts.appendingPathComponent("bench.png"), profile: profile, height: 1100)
        let size = (try? FileManager.default.attributesOfItem(atPath: artefacts.appendingPathComponent("bench.png").path)[.size] as? Int) ?? 0
        #expect(size > 10_000)
    }
}
