import Foundation
import MonaRunKit

/// Whether a suite's epoch budgets were enough: per method, how many runs early stopping ended before the epoch
/// cap and how many ran into it — and of those, how many selected their last epoch (still improving when the
/// budget ran out, so the cap cut training short). Read from the runs' records.
public struct BenchConvergence: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var method: String
        public var runs = 0
        public var stoppedEarly = 0
        public var hitCap = 0
        /// Runs that hit the cap with the selected epoch = the last epoch.
        public var improvingAtCap = 0
    }

    public var rows: [Row]
    /// (task, method) cells where at least half of the runs were still improving at the cap: raise the cap.
    public var stillImproving: [(task: String, method: String, runs: Int, improving: Int)]

    public static func == (a: BenchConvergence, b: BenchConvergence) -> Bool {
        a.rows == b.rows && a.stillImproving.map { "\($0)" } == b.stillImproving.map { "\($0)" }
    }

    /// Reads every run of `suite` under `output` that has an epoch count.
    public static func collect(suite: BenchSuite, output: URL) -> BenchConvergence {
        var rows: [Row] = []
        var improving: [(task: String, method: String, runs: Int, improving: Int)] = []
        for method in suite.methods {
            var row = Row(method: method)
            for task in suite.tasks {
                var cellRuns = 0, cellImproving = 0
                for seed in suite.seeds(for: task) {
                    let dir = output.appendingPathComponent(BenchRun(task: task, method: method, seed: seed).relativePath,
                                                            isDirectory: true)
                    guard let r = BenchRunRecord(directory: dir), let epochs = r.epochs else { continue }
                    let cap = r.manifest?.epochCap ?? task.epochs
                    row.runs += 1
                    cellRuns += 1
                    if epochs < cap {
                        row.stoppedEarly += 1
                    } else {
                        row.hitCap += 1
                        if let selected = r.selectedEpoch, selected >= epochs {
                            row.improvingAtCap += 1
                            cellImproving += 1
                        }
                    }
                }
                if cellRuns > 0 && 2 * cellImproving >= cellRuns { improving.append((task: task.name, method: method, runs: cellRuns, improving: cellImproving)) }
            }
            if row.runs > 0 { rows.append(row) }
        }
        return BenchConvergence(rows: rows, stillImproving: improving)
    }

    /// A Markdown section: the per-method table and the cells whose cap should be raised.
    public func markdown() -> String {
        func pct(_ k: Int, _ n: Int) -> String { n == 0 ? "–" : String(format: "%d (%.0f %%)", k, 100 * Double(k) / Double(n)) }
        var lines = ["## Convergence", "",
                     "Runs per method that early stopping ended before the epoch cap, that ran into the cap, and of "
                     + "those the runs whose selected epoch was the last one (still improving when the budget ran out).",
                     "", "| method | runs | stopped early | hit the cap | improving at the cap |", "|---|---:|---:|---:|---:|"]
        for r in rows {
            lines.append("| \(r.method) | \(r.runs) | \(pct(r.stoppedEarly, r.runs)) | \(pct(r.hitCap, r.runs)) | "
                         + "\(pct(r.improvingAtCap, r.runs)) |")
        }
        lines.append("")
        if stillImproving.isEmpty {
            lines.append("No (task, method) cell had half or more of its runs still improving at the cap.")
        } else {
            lines.append("Cells with half or more of their runs still improving at the cap (raise the task's epochs): "
                         + stillImproving.map { "\($0.task)/\($0.method) (\($0.improving)/\($0.runs))" }.joined(separator: ", ")
                         + ".")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
