import Foundation
import MonaJSON
import MonaRunKit

/// The server-rendered HTML pages. Tables are complete without JavaScript; the script adds sorting, filtering,
/// refreshing and the live curves.
extension Dashboard {
    func page(status: Int = 200, title: String, attributes: String = "", body: String) -> HTTPResponse {
        let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>\(MarkdownHTML.escape(title)) · mona</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
        <body><header><a href="/runs">mona runs</a>\(benchLinks())</header>
        <main \(attributes)>
        <h1>\(MarkdownHTML.escape(title))</h1>
        \(body)
        </main><script src="/assets/dashboard.js"></script></body></html>

        """
        return HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(html.utf8), headers: [
            ("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"),
        ])
    }

    private func benchLinks() -> String {
        catalog.scan().benches.map { "<a href=\"/bench?id=\(query($0.id))\">bench: \(e($0.name))</a>" }.joined()
    }

    func e(_ s: String) -> String { MarkdownHTML.escape(s) }

    func query(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func number(_ x: Double?, digits: Int = 4) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)f", x)
    }

    static func duration(_ s: Double?) -> String {
        guard let s, s.isFinite else { return "—" }
        if s < 60 { return String(format: "%.1f s", s) }
        if s < 3600 { return String(format: "%.1f min", s / 60) }
        return String(format: "%.2f h", s / 3600)
    }

    // MARK: Runs

    func runsPage(_ request: HTTPRequest) -> HTTPResponse {
        let runs = catalog.scan().runs.map { RunSummary.read($0, store: store) }
        func options(_ values: [String?]) -> String {
            Set(values.compactMap { $0 }).sorted().map { "<option value=\"\(e($0))\">\(e($0))</option>" }.joined()
        }
        var rows = ""
        for r in runs {
            func data(_ key: String, _ value: String?) -> String { " data-\(key)=\"\(e(value ?? ""))\"" }
            func raw(_ x: Double?) -> String? { x.flatMap { $0.isFinite ? String($0) : nil } }
            rows += "<tr" + data("id", r.id) + data("name", r.name) + data("task", r.task) + data("body", r.body)
                + data("method", r.method) + data("seed", r.seed) + data("status", r.status)
                + data("best", raw(r.bestValidation)) + data("test", raw(r.test)) + data("seconds", raw(r.seconds))
                + data("step", r.step.map(String.init)) + ">"
            rows += "<td><input type=\"checkbox\" value=\"\(e(r.id))\"></td>"
            rows += "<td><a href=\"/run?id=\(query(r.id))\">\(e(r.name))</a></td>"
            for v in [r.task, r.body, r.method, r.seed] { rows += "<td>\(e(v ?? "?"))</td>" }
            rows += "<td class=\"status-\(r.status)\">\(r.status)</td>"
            rows += "<td class=\"num\">\(e(r.metric.map { $0 + " " } ?? ""))\(Dashboard.number(r.bestValidation))</td>"
            rows += "<td class=\"num\">\(Dashboard.number(r.test))</td><td class=\"num\">\(Dashboard.duration(r.seconds))</td>"
            rows += "<td class=\"num\">\(r.step.map(String.init) ?? "—")</td></tr>\n"
        }
        let folders = catalog.roots.map { "<code>\(e($0.path))</code>" }.joined(separator: ", ")
        let body = """
        <p class="muted">Serving \(folders): <span id="run-count">\(runs.count)</span> runs (refreshed every 3 s).</p>
        <div class="controls"><label>task <select id="filter-task"><option value="">all</option>\(options(runs.map(\.task)))</select></label>
        <label>method <select id="filter-method"><option value="">all</option>\(options(runs.map(\.method)))</select></label>
        <button id="compare" type="button">compare selected</button></div>
        <table id="runs"><thead><tr><th></th><th data-key="name">run</th><th data-key="task">task</th><th data-key="body">body</th>
        <th data-key="method">method</th><th data-key="seed">seed</th><th data-key="status">status</th>
        <th data-key="best">best validation</th><th data-key="test">test</th><th data-key="seconds">wall time</th>
        <th data-key="step">step</th></tr></thead>
        <tbody>
        \(rows)</tbody></table>
        """
        return page(title: "Runs", attributes: "data-page=\"runs\"", body: body)
    }

    // MARK: One run

    func runPage(_ run: RunEntry) -> HTTPResponse {
        let s = RunSummary.read(run, store: store)
        func item(_ name: String, _ value: String, id: String? = nil, cls: String? = nil) -> String {
            "<dt>\(name)</dt><dd\(id.map { " id=\"\($0)\"" } ?? "")\(cls.map { " class=\"\($0)\"" } ?? "")>\(value)</dd>"
        }
        var body = "<dl class=\"summary\">"
        body += item("task", e(s.task ?? "?")) + item("body", e(s.body ?? "?")) + item("method", e(s.method ?? "?"))
        body += item("seed", e(s.seed ?? "?")) + item("status", s.status, id: "status", cls: "status-\(s.status)")
        body += item("records", String(s.records), id: "records")
        body += item("best validation", e((s.metric.map { $0 + " " } ?? "") + Dashboard.number(s.bestValidation)))
        body += item("test", Dashboard.number(s.test)) + item("wall time", Dashboard.duration(s.seconds))
        body += "</dl>\n<p class=\"warn\" id=\"gone\"></p>"
        for w in s.warnings { body += "<p class=\"warn\">\(e(w))</p>" }
        body += "<p class=\"muted\">Folder: <code>\(e(run.url.path))</code> · <a href=\"/api/run?id=\(query(run.id))\">JSON</a> · "
            + "<a href=\"/api/run/curves?id=\(query(run.id))\">curves JSON</a></p>"
        body += "<h2>Curves</h2><div class=\"charts\" id=\"charts\">loading…</div>\n"
        let plots = RunCatalog.plotNames(in: run.source)
        if !plots.isEmpty {
            body += "<h2>Plots</h2>"
            for p in plots {
                body += "<figure><img src=\"/file?run=\(query(run.id))&amp;name=\(query(p))\" alt=\"\(e(p))\"><figcaption>\(e(p))</figcaption></figure>"
            }
        }
        let (config, configProblem) = Dashboard.readText(run.source.appendingPathComponent("config.yaml"), limit: 1 << 20)
        body += "<h2>Resolved configuration</h2>" + (config.map { "<pre id=\"config\">\(e($0))</pre>" }
            ?? "<p class=\"muted\">\(e(configProblem ?? "no config.yaml"))</p>")
        let checkpoints = checkpoints(run)
        body += "<h2>Checkpoints</h2>"
        if checkpoints.isEmpty {
            body += "<p class=\"muted\">none kept</p>"
        } else {
            body += "<table><tr><th>checkpoint</th><th>files</th></tr>"
            for c in checkpoints {
                let files = c.files.map { "\(e($0.name)) (\(ByteCountFormatter.string(fromByteCount: $0.bytes, countStyle: .file)))" }
                body += "<tr><td>\(e(c.name))</td><td>\(files.joined(separator: ", "))</td></tr>"
            }
            body += "</table>"
        }
        let (report, reportProblem) = Dashboard.readText(run.source.appendingPathComponent("report.md"), limit: 4 << 20)
        body += "<h2>Report</h2>"
        if let report {
            let plotSet = Set(plots)
            body += "<div class=\"report\">" + MarkdownHTML.render(report) { path in
                guard path.hasPrefix("plots/") else { return nil }
                let name = String(path.dropFirst("plots/".count))
                return plotSet.contains(name) ? "/file?run=\(self.query(run.id))&name=\(self.query(name))" : nil
            } + "</div>"
        } else {
            body += "<p class=\"muted\">\(e(reportProblem ?? "no report.md yet (written when the run ends)"))</p>"
        }
        return page(title: run.name, attributes: "data-page=\"run\" data-id=\"\(e(run.id))\" data-status=\"\(s.status)\"", body: body)
    }

    // MARK: Compare

    func comparePage(_ request: HTTPRequest) -> HTTPResponse {
        let ids = Array(request.parameters("run").prefix(12))
        let runs = ids.compactMap { catalog.run(id: $0) }
        guard !runs.isEmpty else {
            return page(status: 404, title: "Compare runs",
                        body: "<p>Select runs on the <a href=\"/runs\">runs page</a> (none of the given ids is a run).</p>")
        }
        var list = "<ul>"
        for r in runs { list += "<li><a href=\"/run?id=\(query(r.id))\">\(e(r.name))</a> (id \(e(r.id)))</li>" }
        list += "</ul>"
        let idsJSON = JSONValue.array(runs.map { .string($0.id) }).json
        return page(title: "Compare \(runs.count) runs", attributes: "data-page=\"compare\" data-ids=\"\(e(idsJSON))\"",
                    body: list + "<div class=\"charts\" id=\"charts\">loading…</div>")
    }

    // MARK: Benchmark

    func benchPage(_ bench: BenchEntry) -> HTTPResponse {
        let (text, problem) = Dashboard.readText(bench.url.appendingPathComponent("results.json"))
        guard let text, let results = try? JSONValue.parse(json: Array(text.utf8)) else {
            return page(status: 500, title: bench.name, body: "<p class=\"warn\">\(e(problem ?? "results.json is not valid JSON"))</p>")
        }
        let methods = results["methods"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let tasks = results["tasks"]?.arrayValue ?? []
        var body = "<p class=\"muted\">Folder <code>\(e(bench.url.path))</code>, suite <b>\(e(results["suite"]?.stringValue ?? "?"))</b> · "
            + "<a href=\"/api/bench?id=\(query(bench.id))\">JSON</a>. Test metric of the best-validation weights: mean ± "
            + "standard deviation over seeds, 95 % bootstrap interval in brackets, (n); rank 1 in bold; s0, s1, … link to the runs.</p>"
        body += "<table id=\"results\"><tr><th>task</th><th>metric</th>" + methods.map { "<th>\(e($0))</th>" }.joined() + "</tr>"
        for task in tasks {
            let name = task["label"]?.stringValue ?? task["task"]?.stringValue ?? "?"
            let arrow = task["higher_is_better"]?.boolValue.map { $0 ? " ↑" : " ↓" } ?? ""
            body += "<tr><td>\(e(name))</td><td>\(e((task["metric"]?.stringValue ?? "—") + arrow))</td>"
            let cells = task["methods"]?.arrayValue ?? []
            for m in methods {
                guard let cell = cells.first(where: { $0["method"]?.stringValue == m }) else { body += "<td>—</td>"; continue }
                body += "<td class=\"num\">" + benchCell(cell, bench: bench) + "</td>"
            }
            body += "</tr>"
        }
        if let ranks = results["average_rank"] {
            body += "<tr><td>average rank</td><td></td>"
            for m in methods {
                let r = ranks[m]
                body += "<td class=\"num\">\(r.map { Dashboard.number($0["rank"]?.doubleValue, digits: 2) + " (\($0["tasks"]?.intValue ?? 0))" } ?? "—")</td>"
            }
            body += "</tr>"
        }
        body += "</table>"
        if let failures = results["failures"]?.arrayValue, !failures.isEmpty {
            body += "<h2>Failed runs</h2><ul>" + failures.map { "<li class=\"warn\">\(e($0.description))</li>" }.joined() + "</ul>"
        }
        let plots = RunCatalog.plotNames(in: bench.url)
        // The critical-difference diagram and average ranks first, then per-task bars and the rest.
        func order(_ name: String) -> Int {
            name.hasPrefix("cd-") ? 0 : name.hasPrefix("average-rank") ? 1 : name.hasPrefix("metric-") ? 2 : 3
        }
        if !plots.isEmpty {
            body += "<h2>Plots</h2>"
            for p in plots.sorted(by: { (order($0), $0) < (order($1), $1) }) {
                body += "<figure><img src=\"/file?bench=\(query(bench.id))&amp;name=\(query(p))\" alt=\"\(e(p))\"><figcaption>\(e(p))</figcaption></figure>"
            }
        }
        return page(title: "Benchmark \(bench.name)", attributes: "data-page=\"bench\"", body: body)
    }

    private func benchCell(_ cell: JSONValue, bench: BenchEntry) -> String {
        let mean = cell["mean"]?.doubleValue, std = cell["std"]?.doubleValue
        var text = Dashboard.number(mean) + (std.map { " ± " + Dashboard.number($0) } ?? "")
        if let ci = cell["ci95"]?.arrayValue, ci.count == 2 {
            text += " [\(Dashboard.number(ci[0].doubleValue)), \(Dashboard.number(ci[1].doubleValue))]"
        }
        text += " (\(cell["n"]?.intValue ?? 0))"
        var html = cell["rank"]?.doubleValue == 1 ? "<span class=\"best\">\(e(text))</span>" : e(text)
        let runs = cell["runs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let seeds = cell["seeds"]?.arrayValue ?? []
        var links: [String] = []
        for (i, path) in runs.enumerated() {
            let label = "s" + (i < seeds.count ? seeds[i].description : String(i))
            let components = path.split(separator: "/").map(String.init)
            let id = ([bench.id] + components).joined(separator: "/")
            if components.allSatisfy(RunCatalog.isPlainName), catalog.run(id: id) != nil {
                links.append("<a href=\"/run?id=\(query(id))\">\(e(label))</a>")
            } else {
                links.append("<span class=\"muted\" title=\"run folder missing\">\(e(label))</span>")
            }
        }
        if !links.isEmpty { html += "<br>" + links.joined(separator: " ") }
        return html
    }
}
