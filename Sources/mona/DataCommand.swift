import ArgumentParser
import Foundation
import MonaFormats
import MonaRunKit
import MonaTransfer

/// The `--label` flag shared by `fit` and `data`.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("FASTA label rule (field:N[:SEP], regex:PATTERN, lineage:RANK) or a table's label column.",
                               valueName: "rule|column"))
    var label: String?
}

/// `mona data`: how a task's data will be read, without training.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Show how a task's data will be read (splits, classes, input shape, vocabulary, missing values) without training.",
        discussion: """
        TASK is a known task, a data file or folder (.csv/.tsv, .fasta with --label, a folder of class folders of \
        .wav, an .npy or IDX pair, .npz, .pt, UCR/UEA files) or a task spec (.yaml); see docs/own-data.md. \
        Errors are the ones `mona fit` would give; the exit status is then 2.
        """)

    @Argument(help: "Known task, data path or task spec file.")
    var task: String

    @OptionGroup var dataOptions: DataOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        do {
            let summary = try DataSummary.load(task, label: dataOptions.label,
                                               dataRoot: AssetRegistry().root.appendingPathComponent("data", isDirectory: true))
            if json {
                print(summary.value.json)
            } else {
                if let spec = summary.spec, spec.from != nil, !["yaml", "yml"].contains(URL(fileURLWithPath: task).pathExtension.lowercased()) {
                    print(TaskInference.describe(spec))
                }
                summary.lines.forEach { print($0) }
            }
        } catch {
            // Every failure here is about the task or its data: one line, exit 2 (as for any bad input).
            let text = TerminalText.escaped("\(error)".split(whereSeparator: \.isNewline).joined(separator: "; "))
            if json { print(RunValue.object([("event", "error"), ("command", "data"), ("message", .string(text))]).json) }
            FileHandle.standardError.write(Data("mona data: error: \(text)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// One informational line: printed as is, or as a JSON `message` event; nothing in quiet mode.
func announce(_ line: String, mode: OutputMode) {
    switch mode {
    case .auto:
        // Unbuffered, so it shows before the progress lines on standard error.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    case .json: print(RunValue.object([("event", "message"), ("message", .string(line))]).json)
    case .quiet: break
    }
}
