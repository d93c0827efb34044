import ArgumentParser
import Foundation
import MonaRunKit
import MonaTransfer

/// The exit status of a reported error: 1 when a run started and then failed (its loss or gradients became
/// NaN or infinite — docs/runs.md), 2 for everything a user can fix: a bad option, file, data set, checkpoint,
/// configuration or output folder, and a disk that is full or not writable. Signals (≥ 128) never come from
/// input: anything reachable from it is validated before use.
func exitStatus(for error: Error) -> Int32 {
    if let e = error as? TransferError, case .nonFinite = e { return 1 }
    return 2
}

extension Mona {
    /// Like ArgumentParser's `main()`, but a malformed command line exits with status 2 and one line naming the
    /// option (ArgumentParser's default is status 64 with the usage text appended).
    static func main() {
        do {
            let arguments = joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))
            try refuseEmptyValues(arguments)
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code.rawValue == ExitCode.validationFailure.rawValue else { exit(withError: error) }
            let line = TerminalText.escaped(message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; "))
            FileHandle.standardError.write(Data("mona: error: \(line) (see `mona help`)\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// An option given an empty value (`--output ""`, `--body=`) is refused naming the option: no option of mona
/// takes an empty string, and several would otherwise fall back to a default (an empty path is the working
/// directory).
/// An empty argument, and control characters in any argument (a name or path with an escape sequence or a
/// newline in it would forge terminal lines wherever it is printed), are refused the same way.
func refuseEmptyValues(_ arguments: [String]) throws {
    for (i, a) in arguments.enumerated() {
        if a == "--" { return }
        let option = a.hasPrefix("-") ? String(a.prefix { $0 != "=" }) : (i > 0 && arguments[i - 1].hasPrefix("-") ? arguments[i - 1] : nil)
        if a.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            let place = option.map { "\($0): a value" } ?? "argument \(i + 1)"
            throw ValidationError("\(place) with control characters ('\(TerminalText.escaped(a).prefix(80))'); accepted: printable text")
        }
        if a.isEmpty {
            throw ValidationError((option.map { "\($0): an empty value" } ?? "argument \(i + 1) is empty") + "; accepted: a non-empty value")
        }
        if a.hasPrefix("--"), a.hasSuffix("="), a.count > 3 {
            throw ValidationError("\(a.dropLast()): an empty value; accepted: a non-empty value")
        }
    }
}

/// `--name -1` → `--name=-1`: ArgumentParser reads a value that starts with a dash as another option and
/// reports "Missing value", so negative numbers would never reach the option's own validation.
func joiningNegativeValues(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var i = 0
    while i < arguments.count {
        let a = arguments[i]
        if a == "--" { out += arguments[i...]; break }
        if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, looksNegative(arguments[i + 1]) {
            out.append(a + "=" + arguments[i + 1])
            i += 2
            continue
        }
        out.append(a)
        i += 1
    }
    return out
}

private func looksNegative(_ s: String) -> Bool {
    guard s.hasPrefix("-"), s.count > 1 else { return false }
    let rest = s.dropFirst().lowercased()
    return rest.first.map { $0.isNumber || $0 == "." } == true || rest.hasPrefix("inf") || rest.hasPrefix("nan")
}
