import Foundation
import MonaJSON
import MonaRunKit
import MonaTestSupport
import Testing
@testable import MonaServe

/// The dashboard over run directories written by a real `mona fit` (built-in tiny body, a generated CSV task),
/// and over the benchmark folder committed in docs/results/full-protocol1-2026-12-07.
@Suite(.serialized) struct RealRunTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func fit(_ task: URL, output: URL, epochs: Int, seed: Int = 1) throws -> Process {
        let p = try monaProcess(["fit", "--task", task.path, "--body", "tiny-bert", "--method", "finetune", "--epochs",
                                 String(epochs), "--seed", String(seed), "--batch-size", "8", "-o", output.path]).process
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func finishedFitRunIsListedAndShown() throws {
        let tmp = TemporaryDirectory()
        let task = tmp.url.appendingPathComponent("waves.csv")
        try writeSeriesTask(task)
        let runs = tmp.url.appendingPathComponent("runs")
        let run = runs.appendingPathComponent("waves-finetune")
        let p = try fit(task, output: run, epochs: 2)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0)
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        let config = try ConfigFile.load(run.appendingPathComponent("config.yaml"))
        let test = try #require(records.last { $0["split"]?.stringValue == "test" })
        let testValue = try #require(test["test_accuracy"]?.doubleValue)
        let trainRecords = records.filter { $0["split"]?.stringValue == "train" && $0["stage"]?.stringValue == "finetune" }

        let server = try TestServer([runs])
        let list = try server.json("/api/runs").value
        let row = try #require(list["runs"]?.arrayValue?.first)
        #expect(list["runs"]?.arrayValue?.count == 1)
        #expect(row["id"]?.stringValue == "0/waves-finetune" && row["status"]?.stringValue == "finished")
        #expect(row["task"]?.stringValue == ConfigFile.value("task", in: config)?.stringValue)
        #expect(row["body"]?.stringValue == "tiny-bert" && row["method"]?.stringValue == "finetune" && row["seed"]?.stringValue == "1")
        #expect(row["metric"]?.stringValue == "accuracy" && row["test"]?.doubleValue == testValue)
        let lastValidation = try #require(records.last { $0["split"]?.stringValue == "validation" })
        #expect(row["best_validation"]?.doubleValue == lastValidation["best_val_accuracy"]?.doubleValue)
        let timings = try JSONValue.parse(json: Data(contentsOf: run.appendingPathComponent("timings.json")))
        #expect(row["seconds"]?.doubleValue == timings["total"]?.doubleValue)

        let curves = try server.json("/api/run/curves?id=0/waves-finetune").value
        let loss = try #require(curves.series("finetune train loss"))
        #expect(loss["points"]?.intValue == trainRecords.count)
        #expect(loss["y"]?.arrayValue?.compactMap(\.doubleValue) == trainRecords.compactMap { $0["loss"]?.doubleValue })
        #expect(curves.series("finetune validation val_accuracy")?["chart"]?.stringValue == "metric")
        #expect(curves["complete"]?.boolValue == true)

        let page = try server.get("/run?id=0/waves-finetune")
        #expect(page.status == 200)
        for needle in ["name=loss.svg", "name=metric.svg", "<pre id=\"config\">", "tiny-bert", "<td>best</td>",
                       "model.safetensors", "class=\"report\"", "data-page=\"run\""] {
            #expect(page.body.contains(needle), "run page lacks \(needle)")
        }
        let svg = try server.get("/file?run=0/waves-finetune&name=loss.svg")
        let lossSVG = try String(contentsOf: run.appendingPathComponent("plots/loss.svg"), encoding: .utf8)
        #expect(svg.status == 200 && svg.body == lossSVG)
        let table = try server.get("/runs")
        #expect(table.body.contains("href=\"/run?id=0/waves-finetune\"") && table.body.contains("status-finished"))
        let detail = try server.json("/api/run?id=0/waves-finetune").value
        #expect(detail["config"]?["body"]?.stringValue == "tiny-bert")
        #expect(detail["checkpoints"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["best", "last"])
        let compare = try server.get("/compare?run=0/waves-finetune&run=0/nothing")
        #expect(compare.status == 200 && compare.body.contains("Compare 1 runs"))
    }

    /// While `mona fit` appends to metrics.jsonl, the run is listed as running and its curve gains points.
    @Test func liveRunGrowsWhileServed() throws {
        let tmp = TemporaryDirectory()
        let task = tmp.url.appendingPathComponent("waves.csv")
        try writeSeriesTask(task, rows: 160)
        let runs = tmp.url.appendingPathComponent("runs")
        let server = try TestServer([runs.deletingLastPathComponent()])
        let p = try fit(task, output: runs.appendingPathComponent("live"), epochs: 40)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        var seen: [(status: String, points: Int)] = []
        while p.isRunning {
            if let r = try? server.json("/api/run/curves?id=0/runs/live").value, r["status"]?.stringValue == "running" {
                let points = r.series("finetune train loss")?["points"]?.intValue ?? 0
                if seen.last?.points != points { seen.append(("running", points)) }
            }
            usleep(150_000)
        }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let growing = seen.filter { $0.points > 0 }
        #expect(growing.count >= 2, "saw \(seen) while the run was going")
        #expect(zip(growing, growing.dropFirst()).allSatisfy { $0.points < $1.points })
        let done = try server.json("/api/runs").value["runs"]?.arrayValue?.first
        #expect(done?["status"]?.stringValue == "finished")
    }

    @Test func benchFolderShowsResultsPlotsAndRunLinks() throws {
        let bench = RealRunTests.repository.appendingPathComponent("docs/results/full-protocol1-2026-12-07")
        try #require(FileManager.default.fileExists(atPath: bench.appendingPathComponent("results.json").path))
        let results = try JSONValue.parse(json: Data(contentsOf: bench.appendingPathComponent("results.json")))
        let server = try TestServer([bench])
        let page = try server.get("/bench?id=0")
        #expect(page.status == 200)
        var cellsChecked = 0
        for task in results["tasks"]?.arrayValue ?? [] {
            for cell in task["methods"]?.arrayValue ?? [] {
                guard let mean = cell["mean"]?.doubleValue, let std = cell["std"]?.doubleValue else { continue }
                #expect(page.body.contains(String(format: "%.4f ± %.4f", mean, std)))
                for path in cell["runs"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    #expect(page.body.contains("href=\"/run?id=0/\(path)\""), "no link to \(path)")
                    #expect(try server.get("/run?id=0/\(path)").status == 200)
                }
                cellsChecked += 1
            }
        }
        #expect(cellsChecked > 0)
        for plot in RunCatalog.plotNames(in: bench) {
            #expect(page.body.contains("name=\(plot)"))
            #expect(try server.get("/file?bench=0&name=\(plot)").status == 200)
        }
        let json = try server.json("/api/bench?id=0").value
        #expect(json["results"]?["suite"] == results["suite"])
        // A bench run kept only as a record reads from record/.
        let runs = try server.json("/api/runs").value["runs"]?.arrayValue ?? []
        #expect(runs.contains { $0["status"]?.stringValue == "finished" && $0["test"]?.doubleValue != nil })
    }

    @Test func serveCommandRefusesRemoteWithoutFlagAndServes() throws {
        let tmp = TemporaryDirectory()
        func run(_ args: [String]) throws -> (Int32, String) {
            let r = try runMona(args)
            return (r.status, r.err)
        }
        let remote = try run(["serve", "--host", "0.0.0.0", tmp.url.path])
        #expect(remote.0 == 2 && remote.1.contains("--allow-remote"))
        let missing = try run(["serve", tmp.url.appendingPathComponent("nope").path])
        #expect(missing.0 == 2 && missing.1.contains("no such folder"))
        #expect(try run(["serve", "--port", "70000", tmp.url.path]).0 == 2)

        for (args, warns) in [(["--port", "0"], false), (["--host", "0.0.0.0", "--allow-remote", "--port", "0"], true)] {
            let (p, out, err) = try monaProcess(["serve"] + args + [tmp.url.path])
            try p.run()
            var line = ""
            while !line.contains("\n") {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { break }
                line += String(decoding: data, as: UTF8.self)
            }
            let port = line.split(separator: ":").dropFirst(3).first.flatMap { UInt16($0.prefix { $0.isNumber }) }
            let answer = try port.map { try rawRequest("GET /runs HTTP/1.1\r\n\r\n", port: $0) }
            kill(p.processIdentifier, SIGKILL)  // a child of the test runner may inherit an ignored SIGTERM
            p.waitUntilExit()
            let warning = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(answer?.status == 200, "\(line)")
            #expect(warning.contains("without authentication") == warns, "\(warning)")
        }
    }
}
