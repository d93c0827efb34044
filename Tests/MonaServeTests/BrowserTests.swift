import Foundation
import MonaJSON
import MonaTestSupport
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

/// Headless Chromium driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`: commands in
/// on fd 3, answers out on fd 4, each a JSON text ended by a NUL byte), so that a page can be looked at while its
/// event stream stays open (`--dump-dom` waits on virtual time, which an open stream holds still).
final class DevToolsBrowser {
    let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer: [UInt8] = []
    private var nextID = 1
    private var session = ""

    init(url: String, profile: URL) throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let browser = chromium ?? "/usr/bin/chromium"
        process.arguments = ["-c", "exec \"$0\" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                             + "--hide-scrollbars --window-size=1280,1400 --user-data-dir=\"$1\" --remote-debugging-pipe \"$2\" "
                             + "3<&0 4>&1 1>/dev/null 0</dev/null", browser, profile.path, url]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let targets = try call("Target.getTargets", [:], session: false)
        let page = targets["targetInfos"]?.arrayValue?.first { $0["type"]?.stringValue == "page" }
        guard let target = page?["targetId"]?.stringValue else { throw ClientError(description: "no page target: \(targets.json)") }
        let attached = try call("Target.attachToTarget", ["targetId": .string(target), "flatten": .bool(true)], session: false)
        guard let id = attached["sessionId"]?.stringValue else { throw ClientError(description: "no session: \(attached.json)") }
        session = id
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends one command and waits (at most 60 s) for its answer's `result`.
    func call(_ method: String, _ params: [String: JSONValue], session useSession: Bool = true) throws -> JSONValue {
        let id = nextID
        nextID += 1
        var message: [(String, JSONValue)] = [("id", .number(Double(id))), ("method", .string(method)),
                                               ("params", .object(params.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))]
        if useSession { message.append(("sessionId", .string(session))) }
        input.fileHandleForWriting.write(Data(JSONValue.object(message).json.utf8) + Data([0]))
        let deadline = Date().addingTimeInterval(60)
        let fd = output.fileHandleForReading.fileDescriptor
        while Date() < deadline {
            while let end = buffer.firstIndex(of: 0) {
                let text = Array(buffer[0..<end])
                buffer.removeFirst(end + 1)
                let answer = try JSONValue.parse(json: text)
                guard answer["id"]?.intValue == id else { continue }
                if let error = answer["error"] { throw ClientError(description: "\(method): \(error.json)") }
                return answer["result"] ?? .null
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1000) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ClientError(description: "chromium closed the DevTools pipe") }
            buffer += chunk[0..<n]
        }
        throw ClientError(description: "\(method): no answer from chromium in 60 s")
    }

    /// The value of a JavaScript expression in the page.
    func evaluate(_ expression: String) throws -> JSONValue {
        try call("Runtime.evaluate", ["expression": .string(expression), "returnByValue": .bool(true)])["result"]?["value"] ?? .null
    }

    func screenshot(to file: URL) throws {
        let shot = try call("Page.captureScreenshot", ["format": .string("png")])
        guard let text = shot["data"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw ClientError(description: "no screenshot data")
        }
        try data.write(to: file)
    }
}

/// What the run page's script reports about its live curves (see `runPage` in DashboardAssets).
struct LiveState: CustomStringConvertible {
    var live: String, updates: Int, firstPoints: Int?, points: Int?

    static let expression = """
        (() => { const c = document.getElementById("charts"); const loss = c && c.querySelector('svg[data-chart="loss"]');
          return JSON.stringify({ live: c ? (c.dataset.live || "") : "", updates: c ? Number(c.dataset.updates || 0) : 0,
            first: c && c.dataset.firstPoints !== undefined ? Number(c.dataset.firstPoints) : null,
            points: loss ? Number(loss.getAttribute("data-points")) : null }); })()
        """

    init(_ browser: DevToolsBrowser) throws {
        let text = try browser.evaluate(LiveState.expression).stringValue ?? "{}"
        let v = try JSONValue.parse(json: Array(text.utf8))
        live = v["live"]?.stringValue ?? ""
        updates = v["updates"]?.intValue ?? 0
        firstPoints = v["first"]?.intValue
        points = v["points"]?.intValue
    }

    var grew: Bool { (firstPoints ?? 0) > 0 && (points ?? 0) > (firstPoints ?? 0) }
    var description: String { "live=\(live) updates=\(updates) loss points \(firstPoints.map(String.init) ?? "–") → \(points.map(String.init) ?? "–")" }
}

/// `mona serve` over a folder in which `mona fit` is training, looked at by headless Chromium: the runs table lists
/// the run as running, and on the run page the loss curve drawn by the page's script gains points while the page
/// stays open, once through the event stream and once through polling.
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

        // The run page as users see it: the curves follow the event stream; then the same page told to poll.
        var seen: [String: LiveState] = [:]
        for (mode, suffix) in [("sse", ""), ("poll", "&live=poll")] {
            let browser = try DevToolsBrowser(url: "\(base)/run?id=0/live\(suffix)", profile: tmp.url.appendingPathComponent("profile-\(mode)"))
            var state = try LiveState(browser)
            for _ in 0..<120 where !(state.live == mode && state.grew && state.updates >= 2) {
                usleep(250_000)
                state = try LiveState(browser)
            }
            seen[mode] = state
            #expect(state.live == mode, "\(mode): \(state)")
            #expect(state.grew && state.updates >= 2, "\(mode): the loss curve did not grow live: \(state)")
            let html = try browser.evaluate("document.documentElement.outerHTML").stringValue ?? ""
            try html.write(to: artefacts.appendingPathComponent("run-\(mode).html"), atomically: true, encoding: .utf8)
            if mode == "sse" { try browser.screenshot(to: artefacts.appendingPathComponent("run.png")) }
        }
        #expect(fit.isRunning, "the run ended during the test: growth was not seen live")

        try screenshot("\(base)/runs", to: artefacts.appendingPathComponent("runs.png"), profile: profile, height: 500)
        for name in ["runs.png", "run.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: artefacts.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) screenshot missing or blank (\(size) bytes)")
        }
        print("BrowserTests: \(seen.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")); "
              + "screenshots in \(artefacts.path)")
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
