import CKernelRef
import MonaRunKit

/// How long to measure each figure.
struct BenchBudget {
    /// Minimum measured time per figure (seconds) and minimum number of timed calls.
    let seconds: Double
    let repetitions: Int

    static let full = BenchBudget(seconds: 0.4, repetitions: 5)
    static let quick = BenchBudget(seconds: 0.04, repetitions: 2)

    /// Best (smallest) seconds per call of `body` after one warm-up call. The minimum is the figure least
    /// disturbed by other processes sharing the machine.
    func best(_ body: () -> Void) -> Double { best(untimed: {}, body) }

    /// Best seconds per call of `first` and of `second`, calling them alternately so that both see the same
    /// machine conditions (their ratio is then far steadier than two separate measurements).
    func bestPair(_ first: () -> Void, _ second: () -> Void) -> (Double, Double) {
        first()
        second()
        var b1 = Double.infinity, b2 = Double.infinity
        var total = 0.0, reps = 0
        let start = ref_now()
        while (total < 2 * seconds || reps < repetitions) && ref_now() - start < 40 * seconds + 5 {
            let t0 = ref_now()
            first()
            let t1 = ref_now()
            second()
            let t2 = ref_now()
            b1 = min(b1, t1 - t0)
            b2 = min(b2, t2 - t1)
            total += t2 - t0
            reps += 1
        }
        return (b1, b2)
    }

    /// Like `best(_:)`, calling `untimed` before each call of `body` outside the timed interval.
    func best(untimed: () -> Void, _ body: () -> Void) -> Double {
        untimed()
        body()
        var best = Double.infinity
        var total = 0.0, reps = 0
        let start = ref_now()
        while (total < seconds || reps < repetitions) && ref_now() - start < 20 * seconds + 5 {
            untimed()
            let t0 = ref_now()
            body()
            let dt = ref_now() - t0
            best = min(best, dt)
            total += dt
            reps += 1
        }
        return best
    }
}

/// A minimal ordered JSON value (keys keep their insertion order).
enum JSON {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])

    var rendered: String {
        switch self {
        case .number(let x):
            if !x.isFinite { return "null" }
            if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
            return String(format3(x))
        case .string(let s): return RunValue.string(s).json
        case .bool(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(\.rendered).joined(separator: ", ") + "]"
        case .object(let o):
            return "{" + o.map { "\(RunValue.string($0.0).json): \($0.1.rendered)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Four significant digits, enough for benchmark figures.
func format3(_ x: Double) -> String {
    if !x.isFinite { return "–" }
    let a = abs(x)
    let decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4
    var s = String(Int((a * pow10(decimals)).rounded()))
    if decimals > 0 {
        while s.count <= decimals { s = "0" + s }
        s.insert(".", at: s.index(s.endIndex, offsetBy: -decimals))
    }
    return (x < 0 ? "-" : "") + s
}

private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in acc * 10 } }

/// One table of the report.
struct Table {
    let title: String
    let columns: [String]
    var rows: [[String]] = []
    var notes: [String] = []

    init(_ title: String, columns: [String]) {
        self.title = title
        self.columns = columns
    }

    var rendered: String {
        var widths = columns.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var out = [title, line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        out += notes.map { "  " + $0 }
        return out.joined(separator: "\n")
    }
}
