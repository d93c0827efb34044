import Foundation
import MonaTransfer

/// What `mona bench --executor slurm` asks of Slurm for its job array; every value is checked here, where it
/// enters, so that a bad one fails before anything is submitted (the error names the option).
public struct SlurmSettings: Sendable, Equatable {
    /// `%K` of `--array=0-N%K`: array tasks running at once (nil: as many as Slurm allows).
    public var maxParallel: Int?
    public var partition: String?
    /// Slurm's time format (`minutes`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`, `UNLIMITED`).
    public var timeLimit: String?
    /// CPUs of each array task; also its `MONA_THREADS`.
    public var cpusPerTask: Int = 1
    /// Memory per node, e.g. `4G` or `4000` (megabytes).
    public var memory: String?
    public var account: String?
    /// Further `#SBATCH` options, each one `--name` or `--name=value`.
    public var extraOptions: [String] = []
    public var jobName = "mona-bench"

    public init() {}

    public static func checkMaxParallel(_ k: Int) throws {
        guard k >= 1 else { throw TransferError.badConfig("--max-parallel: expected an integer ≥ 1, got \(k)") }
    }

    public static func checkCPUs(_ n: Int) throws {
        guard (1...4096).contains(n) else {
            throw TransferError.badConfig("--cpus-per-task: expected an integer from 1 to 4096, got \(n)")
        }
    }

    /// Partition (a comma-separated list is Slurm's "any of these") and account names.
    public static func checkName(_ value: String, option: String, list: Bool = false) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: list ? "_.-," : "_.-"))
        guard !value.isEmpty, value.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }),
              !value.hasPrefix("-"), !value.split(separator: ",", omittingEmptySubsequences: false).contains(where: \.isEmpty)
        else {
            throw TransferError.badConfig("\(option): '\(value)' is not a Slurm name (letters, digits, _ . -"
                                          + (list ? ", comma-separated" : "") + ")")
        }
    }

    /// Slurm's `--time` formats.
    public static func checkTime(_ value: String) throws {
        let bad = TransferError.badConfig("--time: '\(value)' is not a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, "
                                          + "D-HH:MM, D-HH:MM:SS or UNLIMITED)")
        if ["unlimited", "infinite"].contains(value.lowercased()) { return }
        func numbers(_ s: Substring) -> [Int]? {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...3).contains(parts.count) else { return nil }
            var out: [Int] = []
            for p in parts {
                guard (1...6).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p) else { return nil }
                out.append(n)
            }
            return out
        }
        let dash = value.split(separator: "-", omittingEmptySubsequences: false)
        switch dash.count {
        case 1:
            guard let n = numbers(dash[0]), n.contains(where: { $0 > 0 }) else { throw bad }
        case 2:
            guard let days = numbers(dash[0]), days.count == 1, let rest = numbers(dash[1]),
                  days[0] > 0 || rest.contains(where: { $0 > 0 }) else { throw bad }
        default:
            throw bad
        }
    }

    /// A positive amount with an optional unit (K, M, G, T; megabytes without one).
    public static func checkMemory(_ value: String) throws {
        var digits = Substring(value)
        if let last = value.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(digits), n > 0 else {
            throw TransferError.badConfig("--mem: '\(value)' is not a Slurm memory size (a positive integer with an "
                                          + "optional unit K, M, G or T, e.g. 4G)")
        }
    }

    /// One extra `#SBATCH` option: `--name` or `--name=value`, printable, on one line.
    public static func checkExtra(_ value: String) throws {
        let name = value.dropFirst(2).prefix { $0 != "=" }
        guard value.hasPrefix("--"), !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
              value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            throw TransferError.badConfig("--sbatch: '\(value)' is not one sbatch option (expected --name or --name=value "
                                          + "on one line, written --sbatch=--qos=long)")
        }
        let reserved = ["array", "output", "error", "job-name", "parsable", "wrap"]
        if reserved.contains(String(name)) {
            throw TransferError.badConfig("--sbatch: --\(name) is set by mona bench itself (not accepted here)")
        }
    }

    /// Checks every value (a settings value built in code gets the same checks as one from the command line).
    public func validate() throws {
        if let maxParallel { try SlurmSettings.checkMaxParallel(maxParallel) }
        try SlurmSettings.checkCPUs(cpusPerTask)
        if let partition { try SlurmSettings.checkName(partition, option: "--partition", list: true) }
        if let account { try SlurmSettings.checkName(account, option: "--account") }
        if let timeLimit { try SlurmSettings.checkTime(timeLimit) }
        if let memory { try SlurmSettings.checkMemory(memory) }
        for e in extraOptions { try SlurmSettings.checkExtra(e) }
    }
}
