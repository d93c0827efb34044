import Foundation
import MonaJSON

/// What the runs table and `/api/runs` show: a filter, a sort order and one page of the result. Filtering and
/// sorting are done here rather than in the browser, so that a page of 100 rows out of thousands is still right.
struct RunsQuery: Sendable, Equatable {
    var offset = 0
    var limit = RunsQuery.defaultLimit
    var task = ""
    var method = ""
    var status = ""
    var sort = "name"
    var descending = false

    static let defaultLimit = 100
    static let maxLimit = 5000
    static let sortKeys = ["name", "task", "body", "method", "seed", "status", "best", "test", "seconds", "step"]
    static let statuses = ["running", "finished", "stopped"]

    enum Parsed {
        case success(RunsQuery)
        case failure(String)
    }

    /// `?offset=&limit=&task=&method=&status=&sort=&order=`; empty values mean no filter.
    static func parse(_ request: HTTPRequest) -> Parsed {
        var q = RunsQuery()
        if let text = request.parameter("offset"), !text.isEmpty {
            guard let n = Int(text), (0...10_000_000).contains(n) else { return .failure("?offset= must be a whole number ≥ 0") }
            q.offset = n
        }
        if let text = request.parameter("limit"), !text.isEmpty {
            guard let n = Int(text), (1...maxLimit).contains(n) else { return .failure("?limit= must be 1…\(maxLimit)") }
            q.limit = n
        }
        q.task = request.parameter("task") ?? ""
        q.method = request.parameter("method") ?? ""
        q.status = request.parameter("status") ?? ""
        guard q.status.isEmpty || statuses.contains(q.status) else {
            return .failure("?status= must be one of \(statuses.joined(separator: ", ")) (or empty)")
        }
        if let key = request.parameter("sort"), !key.isEmpty {
            guard sortKeys.contains(key) else { return .failure("?sort= must be one of \(sortKeys.joined(separator: ", "))") }
            q.sort = key
        }
        switch request.parameter("order") ?? "" {
        case "", "asc": q.descending = false
        case "desc": q.descending = true
        default: return .failure("?order= must be asc or desc")
        }
        return .success(q)
    }

    /// The query string of this query (defaults left out), for links.
    var queryString: String {
        var parts: [(String, String)] = []
        if !task.isEmpty { parts.append(("task", task)) }
        if !method.isEmpty { parts.append(("method", method)) }
        if !status.isEmpty { parts.append(("status", status)) }
        if sort != "name" { parts.append(("sort", sort)) }
        if descending { parts.append(("order", "desc")) }
        if offset > 0 { parts.append(("offset", String(offset))) }
        if limit != RunsQuery.defaultLimit { parts.append(("limit", String(limit))) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return parts.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    func matches(_ r: RunSummary) -> Bool {
        (task.isEmpty || r.task == task) && (method.isEmpty || r.method == method) && (status.isEmpty || r.status == status)
    }

    enum SortValue: Comparable {
        case number(Double)
        case text(String)
    }

    static func value(_ r: RunSummary, _ key: String) -> SortValue? {
        func finite(_ x: Double?) -> SortValue? { x.flatMap { $0.isFinite ? .number($0) : nil } }
        switch key {
        case "task": return r.task.map(SortValue.text)
        case "body": return r.body.map(SortValue.text)
        case "method": return r.method.map(SortValue.text)
        case "seed": return r.seed.map { Double($0).map(SortValue.number) ?? .text($0) }
        case "status": return .text(r.status)
        case "best": return finite(r.bestValidation)
        case "test": return finite(r.test)
        case "seconds": return finite(r.seconds)
        case "step": return r.step.map { .number(Double($0)) }
        default: return .text(r.name)
        }
    }

    /// The sort order: by the key (unknown values last in either direction), then by id.
    func ordered(_ a: RunSummary, _ b: RunSummary) -> Bool {
        switch (RunsQuery.value(a, sort), RunsQuery.value(b, sort)) {
        case let (x?, y?) where x != y: return descending ? y < x : x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.id < b.id
        }
    }
}

extension Dashboard {
    /// One page of the runs matching `q`, with the number matching, the number of runs in all, and the tasks and
    /// methods met (for the filter menus).
    func listRuns(_ q: RunsQuery) -> (page: [RunSummary], total: Int, all: Int, tasks: [String], methods: [String], benches: [BenchEntry]) {
        let (entries, benches) = catalog.scan()
        let summaries = entries.map { RunSummary.read($0, store: store) }
        let matching = summaries.filter(q.matches).sorted(by: q.ordered)
        let page = q.offset < matching.count ? Array(matching[q.offset..<min(matching.count, q.offset + q.limit)]) : []
        return (page, matching.count, summaries.count, Set(summaries.compactMap(\.task)).sorted(),
                Set(summaries.compactMap(\.method)).sorted(), benches)
    }
}
