import ArgumentParser
import Foundation
import MonaDistributed
import MonaFormats
import MonaRunKit
import MonaTransfer

/// Output flags shared by the subcommands.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print nothing but errors and the final result line.")
    var quiet = false

    @Flag(help: "Write progress, messages and the result as JSON lines (for scripts).")
    var json = false

    var mode: OutputMode { json ? .json : (quiet ? .quiet : .auto) }
}

/// The options `fit` and `align` share: task, body, method, training and data settings, YAML config and --set.
struct RunOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Known task (\(TaskCatalog.allNames.joined(separator: ", "))) or a data path."))
    var task: String?

    @Option(help: ArgumentHelp("Known body (\((AssetRegistry.bodyNames + BodyCatalog.builtInNames).joined(separator: ", "))) or a model directory."))
    var body: String?

    @Option(help: ArgumentHelp("Training method (\(MethodCatalog.names.map(\.name).joined(separator: ", "))); see the list below."))
    var method: String?

    @Option(help: "Fine-tuning epochs.")
    var epochs: Int?

    @Option(help: "Seed of data splits, initialisation, shuffling and dropout.")
    var seed: UInt64?

    @Option(name: .shortAndLong, help: "Run directory.")
    var output: String?

    @Option(help: "YAML configuration file (flags override it).")
    var config: String?

    @Option(name: .customLong("batch-size"), help: "Mini-batch size.")
    var batchSize: Int?

    @Option(help: "Learning rate.")
    var lr: Float?

    @Option(name: .customLong("max-tokens"), help: "Token cap of the embedder (sets the 1-D patch size).")
    var maxTokens: Int?

    @Option(help: "Stop after this many epochs without validation improvement.")
    var patience: Int?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set any option (repeatable).", valueName: "key=value"))
    var assignments: [String] = []

    @Flag(help: "Use an existing output folder that mona did not create (refused if it holds a file a run writes).")
    var force = false

    /// Numbers go into the configuration as JSON numbers (doubles): larger magnitudes would come back changed.
    func validate() throws {
        let limit = 1 << 53
        let integers: [(String, Int?)] = [("--epochs", epochs), ("--batch-size", batchSize), ("--max-tokens", maxTokens),
                                          ("--patience", patience)]
        for (flag, value) in integers {
            if let value, value.magnitude > UInt(limit) {
                throw ValidationError("\(flag) \(value): out of range; accepted: an integer of magnitude at most 2^53")
            }
        }
        if let seed, seed > UInt64(limit) {
            throw ValidationError("--seed \(seed): out of range; accepted: an integer from 0 to 2^53")
        }
        if let lr, !lr.isFinite { throw ValidationError("--lr \(lr): accepted: a finite number") }
    }

    /// `base` pairs, then the config file (or `savedRun`, a resumed run's config), then flags, merged into one
    /// tree; then each --set applied to the tree.
    func resolveConfig(base: [(String, RunValue)] = [], savedRun: URL? = nil) throws -> FitConfig {
        var layers = base
        if let config {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: config, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--config \(config): no such file")
            }
            layers += try ConfigFile.load(URL(fileURLWithPath: config))
        } else if let savedRun {
            layers += try ConfigFile.load(savedRun)
        }
        layers += flagPairs()
        return try FitConfig.resolve(layers: layers, assignments: assignments)
    }

    /// The configuration keys the flags set, so that a value refused by the configuration's checks is reported
    /// under the flag the user typed.
    static let flagKeys: [(flag: String, key: String)] = [
        ("--task", "task"), ("--body", "body"), ("--method", "method.name"), ("--epochs", "training.epochs"),
        ("--seed", "seed"), ("--output", "output"), ("--batch-size", "training.batchSize"),
        ("--lr", "training.learningRate"), ("--max-tokens", "model.maxTokens"), ("--patience", "training.patience"),
    ]

    /// Checks the resolved configuration before anything is created on disk; an error about a key that a flag
    /// set names the flag too (`--epochs 0 (training.epochs): must be ≥ 1, got 0`).
    func validate(_ config: FitConfig) throws {
        do {
            try config.validate()
        } catch TransferError.badConfig(let message) {
            let given = Set(flagPairs().map(\.0))
            if let (flag, key) = RunOptions.flagKeys.first(where: { given.contains($0.key) && message.hasPrefix($0.key + ":") }) {
                let value = flagPairs().first { $0.0 == key }.map { $0.1.stringValue ?? $0.1.json } ?? ""
                throw TransferError.badConfig("\(flag) \(value) (\(key))" + message.dropFirst(key.count))
            }
            throw TransferError.badConfig(message)
        }
    }

    func flagPairs() -> [(String, RunValue)] {
        var p: [(String, RunValue)] = []
        if let task { p.append(("task", .string(task))) }
        if let body { p.append(("body", .string(body))) }
        if let method { p.append(("method.name", .string(method))) }
        if let epochs { p.append(("training.epochs", .number(Double(epochs)))) }
        if let seed { p.append(("seed", .number(Double(seed)))) }
        if let output { p.append(("output", .string(output))) }
        if let batchSize { p.append(("training.batchSize", .number(Double(batchSize)))) }
        if let lr { p.append(("training.learningRate", RunValue(lr))) }
        if let maxTokens { p.append(("model.maxTokens", .number(Double(maxTokens)))) }
        if let patience { p.append(("training.patience", .number(Double(patience)))) }
        return p
    }
}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a cross-modal model (embedder → pretrained body → head) on a task; write a run directory.",
        discussion: """
        Every option can also come from a YAML file (--config); flags override the file, and the resolved \
        configuration is saved as <run>/config.yaml. Any option without a flag is set with --set key=value \
        (dotted YAML keys, e.g. --set training.weightDecay=0 --set data.trainLimit=20).

        The run directory receives metrics.jsonl (per step and per epoch; test metrics as test_<metric>), \
        checkpoints/best and checkpoints/last, predictions.csv for the test split, plots/*.svg and report.md.

        Methods (their options: --set method.<key>=value; docs/transfer.md lists them):
        \(MethodCatalog.helpText)

        A bad option value or an unknown option exits with status 2 and one line naming the option.

        Example:
          mona fit --task gunpoint --body minilm-l6 --method finetune --epochs 10 --seed 0 --output runs/gunpoint
        """)

    @OptionGroup var options: RunOptions

    @Option(name: .customLong("from-aligned"),
            help: ArgumentHelp("Fine-tune the aligned model of a `mona align` run instead of running the method's alignment stages (its config.yaml supplies the defaults).", valueName: "run-dir"))
    var fromAligned: String?

    @Flag(help: "Continue the run in --output from its last checkpoint (same configuration required).")
    var resume = false

    @Option(name: .customLong("checkpoint-interval"),
            help: ArgumentHelp("Write the resume checkpoint at most every N seconds and no final best/last weights (what `mona bench` uses when it deletes checkpoints anyway).", valueName: "seconds"))
    var checkpointInterval: Double?

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try runOnRanks(command: "fit", mode: outputOptions.mode, options: options, label: dataOptions.label,
                       config: { try resolveConfig() },
                       open: { try FitPipeline(config: $0, runDirectory: $1, mode: outputOptions.mode, communicator: $2) }
        ) { fit, ranks in
            if let interval = checkpointInterval {
                guard interval.isFinite, interval >= 0 else {
                    throw ValidationError("--checkpoint-interval: expected a number of seconds ≥ 0, got \(interval)")
                }
                fit.lastCheckpointInterval = interval
            }
            let result = try fit.fit(resume: resume)
            if ranks.isRoot { printResult(result, mode: outputOptions.mode) }
        }
    }

    /// The aligned run's config (with --from-aligned), then the file (or, when resuming without one, the run's
    /// saved config), then flags, then --set assignments.
    func resolveConfig() throws -> FitConfig {
        var base: [(String, RunValue)] = []
        if let fromAligned {
            let saved = URL(fileURLWithPath: fromAligned).appendingPathComponent("config.yaml")
            guard FileManager.default.fileExists(atPath: saved.path) else {
                throw TransferError.badConfig("--from-aligned \(fromAligned): no config.yaml there (not a `mona align` run)")
            }
            base = try ConfigFile.load(saved).filter { $0.0 != "output" }
            base.append(("fromAligned", .string(fromAligned)))
        }
        var savedRun: URL?
        if options.config == nil, resume, let out = options.output {
            let saved = URL(fileURLWithPath: out).appendingPathComponent("config.yaml")
            if FileManager.default.fileExists(atPath: saved.path) { savedRun = saved }
        }
        return try options.resolveConfig(base: base, savedRun: savedRun)
    }

    func printResult(_ r: FitResult, mode: OutputMode) {
        let metric = r.task.metric.key
        switch mode {
        case .json:
            var fields: [(String, RunValue)] = [("event", .string("result")), ("run", .string(r.runDirectory.path)),
                                                ("task", .string(r.task.name)), ("test_loss", .number(r.testLoss))]
            for m in r.task.reportedMetrics { if let x = r.testMetrics[m] { fields.append(("test_\(m.key)", .number(x))) } }
            if let b = r.state.bestMetric { fields.append(("best_val_\(metric)", .number(b))) }
            print(RunValue.object(fields).json)
        case .auto, .quiet:
            let value = r.testMetric.map { String(format: "%.4f", $0) } ?? "n/a"
            print(TerminalText.escaped("test \(metric) \(value)  (\(r.task.name); run \(r.runDirectory.path))"))
        }
    }
}

/// Runs `body`; on failure prints `mona <command>: error: <one line>` to standard error (or a JSON error line),
/// with control characters escaped, and exits with `exitStatus(for:)`: 2 for bad input (every error a user can
/// fix), 1 for a run that diverged.
///
/// In a data-parallel job (`communicator` returns one with several ranks) the error ends every rank instead
/// (`abortRanks`): the job stops within seconds rather than waiting for this rank forever.
func reportingErrors(command: String, mode: OutputMode, communicator: () -> (any Communicator)? = { nil },
                     _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        if let c = communicator(), c.isDistributed { c.abort(code: e.rawValue) }
        throw e
    } catch {
        let text = TerminalText.escaped("\(error)".split(whereSeparator: \.isNewline).joined(separator: "; "))
        if let c = communicator(), c.isDistributed {
            abortRanks(c, command: command, message: text, code: exitStatus(for: error))
        }
        if mode == .json {
            print(RunValue.object([("event", .string("error")), ("command", .string(command)), ("message", .string(text))]).json)
        }
        FileHandle.standardError.write(Data("mona \(command): error: \(text)\n".utf8))
        throw ExitCode(exitStatus(for: error))
    }
}
