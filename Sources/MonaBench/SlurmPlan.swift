import Foundation
import MonaRunKit
import MonaTransfer

/// `<output>/slurm/plan.json`: the `mona bench` arguments that define the suite (so that `--status` and the
/// array tasks resolve the same cells) and every submission made for it — its job id and the suite cells of its
/// array tasks, in array order.
public struct SlurmPlan: Codable, Sendable, Equatable {
    public struct Submission: Codable, Sendable, Equatable {
        public var number: Int
        public var job: String
        public var cells: [Int]
    }

    public var format = "mona-bench-slurm"
    public var arguments: [String]
    public var submissions: [Submission] = []

    public init(arguments: [String]) { self.arguments = arguments }

    public static func file(in output: URL) -> URL {
        output.appendingPathComponent("slurm", isDirectory: true).appendingPathComponent("plan.json")
    }

    /// The stored plan, nil when there is none; a plan that does not decode is an error naming the file.
    public static func read(output: URL) throws -> SlurmPlan? {
        let url = file(in: output)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let plan = try JSONDecoder().decode(SlurmPlan.self, from: Data(contentsOf: url))
            guard plan.format == "mona-bench-slurm" else { throw TransferError.badConfig("format '\(plan.format)'") }
            for s in plan.submissions {
                guard (1...1_000_000).contains(s.number), !s.job.isEmpty, s.job.allSatisfy({ $0.isASCII && $0.isNumber }),
                      s.cells.allSatisfy({ $0 >= 0 }) else {
                    throw TransferError.badConfig("submission \(s.number): job '\(s.job)', cells must be ≥ 0")
                }
            }
            return plan
        } catch {
            throw TransferError.badConfig("\(url.path): not a mona bench Slurm plan (\(error)); move it away to start over")
        }
    }

    public func write(output: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: SlurmPlan.file(in: output))
    }

    /// The latest array task that was given suite cell `cell`.
    public func latestTask(of cell: Int) -> SlurmTaskID? {
        for s in submissions.reversed() {
            if let i = s.cells.firstIndex(of: cell) { return SlurmTaskID(job: s.job, index: i) }
        }
        return nil
    }
}
