import ArgumentParser
import Foundation
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

    /// `base` pairs, then the config file (or `savedRun`, a resumed run's config), then flags, merged into one
    /// tree; then each --set applied to the tree.
    func resolveConfig(base: [(String, RunValue)] = [], savedRun: URL? = nil) throws -> FitConfig {
        var layers = base
        if let config {
            layers += try ConfigFile.load(URL(fileURLWithPath: config))
        } else if let savedRun {
            layers += try ConfigFile.load(savedRun)
        }
        layers += flagPairs()
        return try FitConfig.resolve(layers: layers, assignments: assignments)
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

    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try reportingErrors(command: "fit", mode: outputOptions.mode, badInputStatus: 2) {
            let resolved = try resolveConfig()
            guard let out = options.output ?? resolved.output else {
                throw TransferError.badConfig("no run directory given (--output <dir> or `output:` in the config file)")
            }
            let pipeline = try FitPipeline(config: resolved, runDirectory: URL(fileURLWithPath: out),
                                           mode: outputOptions.mode)
            if let interval = checkpointInterval {
                guard interval.isFinite, interval >= 0 else {
                    throw ValidationError("--checkpoint-interval: expected a number of seconds ≥ 0, got \(interval)")
                }
                pipeline.lastCheckpointInterval = interval
            }
            let result = try pipeline.fit(resume: resume)
            printResult(result, mode: outputOptions.mode)
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
            print("test \(metric) \(value)  (\(r.task.name); run \(r.runDirectory.path))")
        }
    }
}

/// Runs `body`; on failure prints `mona <command>: error: <one line>` to standard error (or a JSON error line)
/// and exits with status 1, or `badInputStatus` for bad input (configuration, task, body, config file).
func reportingErrors(command: String, mode: OutputMode, badInputStatus: Int32 = 1, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch {
        var status: Int32 = 1
        switch error {
        case TransferError.badConfig, TransferError.badTask, TransferError.badBody, is RunError, is ValidationError:
            status = badInputStatus
        default: break
        }
        let text = "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; ")
        if mode == .json {
            print(RunValue.object([("event", .string("error")), ("command", .string(command)), ("message", .string(text))]).json)
        }
        FileHandle.standardError.write(Data("mona \(command): error: \(text)\n".utf8))
        throw ExitCode(status)
    }
}
