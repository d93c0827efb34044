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
        let q: RunsQuery
        switch RunsQuery.parse(request) {
        case .success(let parsed): q = parsed
        case .failure(let message): return page(status: 400, title: "Runs", body: "<p class=\"warn\">\(e(message))</p>")
        }
        let list = listRuns(q)
        func options(_ values: [String], selected: String) -> String {
            values.map { "<option value=\"\(e($0))\"\($0 == selected ? " selected" : "")>\(e($0))</option>" }.joined()
        }
        func link(_ change: (inout RunsQuery) -> Void) -> String {
            var next = q
            change(&next)
            let text = next.queryString
            return "/runs" + (text.isEmpty ? "" : "?" + text)
        }
        var rows = ""
        for r in list.page {
            func data(_ key: String, _ value: String?) -> String { " data-\(key)=\"\(e(value ?? ""))\"" }
            rows += "<tr" + data("id", r.id) + data("status", r.status) + ">"
            rows += "<td><input type=\"checkbox\" value=\"\(e(r.id))\"></td>"
            rows += "<td><a href=\"/run?id=\(query(r.id))\">\(e(r.name))</a></td>"
            for v in [r.task, r.body, r.method, r.seed] { rows += "<td>\(e(v ?? "?"))</td>" }
            rows += "<td class=\"status-\(r.status)\">\(r.status)</td>"
            rows += "<td class=\"num\">\(e(r.metric.map { $0 + " " } ?? ""))\(Dashboard.number(r.bestValidation))</td>"
            rows += "<td class=\"num\">\(Dashboard.number(r.test))</td><td class=\"num\">\(Dashboard.duration(r.seconds))</td>"
            rows += "<td class=\"num\">\(r.step.map(String.init) ?? "—")</td></tr>\n"
        }
        var headers = "<th></th>"
        for (key, label) in [("name", "run"), ("task", "task"), ("body", "body"), ("method", "method"), ("seed", "seed"),
                             ("status", "status"), ("best", "best validation"), ("test", "test"), ("seconds", "wall time"),
                             ("step", "step")] {
            let current = q.sort == key
            let href = link { $0.sort = key; $0.descending = current && !q.descending; $0.offset = 0 }
            let mark = current ? (q.descending ? " class=\"sorted-desc\"" : " class=\"sorted-asc\"") : ""
            headers += "<th data-key=\"\(key)\"\(mark)><a href=\"\(e(href))\">\(label)</a></th>"
        }
        let first = list.total == 0 ? 0 : q.offset + 1, last = min(list.total, q.offset + q.limit)
        var pager = "<span id=\"run-range\">\(first)–\(last)</span> of <span id=\"run-count\">\(list.total)</span> runs"
        if list.total != list.all { pager += " matching (\(list.all) in all)" }
        if q.offset > 0 {
            pager += " · <a id=\"previous\" href=\"\(e(link { $0.offset = max(0, q.offset - q.limit) }))\">previous \(q.limit)</a>"
        }
        if last < list.total {
            pager += " · <a id=\"next\" href=\"\(e(link { $0.offset = q.offset + q.limit }))\">next \(min(q.limit, list.total - last))</a>"
        }
        let folders = catalog.roots.map { "<code>\(e($0.path))</code>" }.joined(separator: ", ")
        let hidden = [("sort", q.sort == "name" ? "" : q.sort), ("order", q.descending ? "desc" : ""),
                      ("limit", q.limit == RunsQuery.defaultLimit ? "" : String(q.limit))]
            .filter { !$0.1.isEmpty }.map { "<input type=\"hidden\" name=\"\($0.0)\" value=\"\(e($0.1))\">" }.joined()
        let body = """
        <p class="muted">Serving \(folders). \(pager) (refreshed every 3 s).</p>
        <form class="controls" id="filters" method="get" action="/runs">\(hidden)
        <label>task <select name="task" id="filter-task"><option value="">all</option>\(options(list.tasks, selected: q.task))</select></label>
        <label>method <select name="method" id="filter-method"><option value="">all</option>\(options(list.methods, selected: q.method))</select></label>
        <label>status <select name="status" id="filter-status"><option value="">all</option>\(options(RunsQuery.statuses, selected: q.status))</select></label>
        <button type="submit">filter</button> <button id="compare" type="button">compare selected</button></form>
        <table id="runs"><thead><tr>\(headers)</tr></thead>
        <tbody>
        \(rows)</tbody></table>
        """
        let api = "/api/runs" + (q.queryString.isEmpty ? "" : "?" + q.queryString)
        return page(title: "Runs", attributes: "data-page=\"runs\" data-api=\"\(e(api))\"", body: body)
    }

    // MARK: One run

    /// `?live=poll` makes the page poll instead of opening an event stream (for a proxy that buffers streams).
    func runPage(_ run: RunEntry, _ request: HTTPRequest) -> HTTPResponse {
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
        let (config, configProblem) = Dashboard.readText(run.source.appendingPathComponent("config.yaml", isDirectory: false), limit: 1 << 20)
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
        let (report, reportProblem) = Dashboard.readText(run.source.appendingPathComponent("report.md", isDirectory: false), limit: 4 << 20)
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
        let live = request.parameter("live") == "poll" ? "poll" : "sse"
        return page(title: run.name, attributes: "data-page=\"run\" data-id=\"\(e(run.id))\" data-status=\"\(s.status)\" data-live=\"\(live)\"",
                    body: body)
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
        let (text, problem) = Dashboard.readText(bench.url.appendingPathComponent("results.json", isDirectory: false))
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
