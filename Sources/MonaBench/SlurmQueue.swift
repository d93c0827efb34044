import Foundation
import MonaTransfer
#if canImport(Glibc)
import Glibc
#endif

/// One task of a Slurm job array, `<job>_<index>` as squeue prints it.
public struct SlurmTaskID: Hashable, Sendable, CustomStringConvertible, Codable {
    public var job: String
    public var index: Int
    public init(job: String, index: Int) {
        self.job = job
        self.index = index
    }
    public var description: String { "\(job)_\(index)" }
}

/// The array tasks Slurm still knows, read from `squeue` (accounting, and so `sacct`, is often disabled on small
/// clusters; squeue always answers).
public enum SlurmQueue {
    /// States squeue keeps showing for a while (MinJobAge) after a task ended: such a task is no longer live.
    public static let endedStates: Set<String> = ["CD", "CA", "F", "TO", "NF", "PR", "OOM", "BF", "DL", "RV", "SE"]
    /// States of a task that has started and not ended.
    public static let runningStates: Set<String> = ["R", "CG", "CF", "SO", "ST"]

    public static func isLive(_ state: String) -> Bool { !endedStates.contains(state) }

    /// What an ended state means, for a failed cell's line.
    public static func meaning(_ state: String) -> String {
        switch state {
        case "CA": return "cancelled"
        case "TO": return "hit its time limit"
        case "PR": return "preempted"
        case "NF": return "lost its node"
        case "OOM": return "ran out of memory"
        case "F": return "failed"
        case "DL": return "missed its deadline"
        case "BF": return "failed to launch"
        default: return "ended (\(state))"
        }
    }

    /// Parses `squeue --noheader --array --format='%i %t'` lines: `123_4 R`. Array ranges that squeue did not
    /// expand (`123_[5-7,9%2] PD`) are expanded; plain jobs (no `_`) and unreadable lines are left out.
    public static func parse(_ text: String) -> [SlurmTaskID: String] {
        var out: [SlurmTaskID: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let underscore = fields[0].firstIndex(of: "_") else { continue }
            let job = String(fields[0][..<underscore])
            let rest = fields[0][fields[0].index(after: underscore)...]
            let state = String(fields[1])
            guard !job.isEmpty, job.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
            for index in indices(rest) { out[SlurmTaskID(job: job, index: index)] = state }
        }
        return out
    }

    /// `4` → [4]; `[5-7,9%2]` → [5, 6, 7, 9]; anything else → [].
    static func indices(_ text: Substring) -> [Int] {
        if let n = Int(text), n >= 0 { return [n] }
        guard text.hasPrefix("["), text.hasSuffix("]") else { return [] }
        let inner = text.dropFirst().dropLast().prefix { $0 != "%" }
        var out: [Int] = []
        for part in inner.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let lo = bounds.first.flatMap({ Int($0) }), lo >= 0 else { return [] }
            let hi = bounds.count == 2 ? Int(bounds[1]) : (bounds.count == 1 ? lo : nil)
            guard let hi, hi >= lo, hi - lo < 1_000_000 else { return [] }
            out += Array(lo...hi)
        }
        return out
    }

    /// The array tasks of this user that squeue lists, with their compact state.
    public static func query(program: String = "squeue") throws -> [SlurmTaskID: String] {
        var arguments = ["--noheader", "--array", "--format=%i %t"]
        if let user = userName() { arguments += ["--user", user] }
        let result = try ShellCommand.run(program, arguments)
        guard result.status == 0 else {
            throw TransferError.badConfig("squeue failed (exit status \(result.status)): \(result.firstMessage)")
        }
        return parse(result.stdout)
    }

    static func userName() -> String? {
        #if os(Linux)
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        #endif
        let name = NSUserName()
        return name.isEmpty ? nil : name
    }

    /// Submits `script` with `sbatch --parsable`; returns the job id.
    public static func submit(script: URL, program: String = "sbatch") throws -> String {
        let result = try ShellCommand.run(program, ["--parsable", script.path])
        guard result.status == 0 else {
            throw TransferError.badConfig("sbatch refused \(script.path) (exit status \(result.status)): \(result.firstMessage)")
        }
        // `<job>` or `<job>;<cluster>`.
        let first = result.stdout.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let job = String(first.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces)
        guard !job.isEmpty, job.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw TransferError.badConfig("sbatch answered '\(first)' instead of a job id")
        }
        return job
    }
}
