import ArgumentParser
import Foundation
import MonaData
import MonaFormats
import MonaTensor
import MonaTransfer

/// `mona-perf experts`: fits a task's expert baseline for several seeds and reports the test metric and the
/// seconds per fit. bench/check_minirocket.py compares its MiniRocket figures with aeon's.
struct ExpertBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experts",
        abstract: "Expert baselines (MiniRocket, k-mer logistic regression, residual conv net): test metric per seed.",
        discussion: """
        Prepares the data as `mona fit` does (the seed's stratified validation split, per-channel normalisation \
        fitted on the training split), fits the task's expert on the training split (selecting on the training \
        or validation split) and scores the test split once. With --validation-fraction 0 the expert fits the \
        whole training file (the archive's own train/test protocol). --json prints one object with the \
        training rows of each seed's split, so that a reference implementation can fit exactly those rows.
        """)

    @Option(help: "Task name or data path.") var task = "gunpoint"
    @Option(help: "Comma-separated seeds.") var seeds = "0,1,2"
    @Option(name: .customLong("validation-fraction"), help: "Share of the training file held out for validation.")
    var validationFraction = 0.2
    @Option(help: "Epoch budget of the residual conv net (dense tasks).") var epochs = 10
    @Option(help: "Engine threads.") var threads = 2
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() throws {
        let seedList = seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !seedList.isEmpty else { throw ValidationError("--seeds: expected e.g. 0,1,2") }
        guard validationFraction >= 0 && validationFraction < 1 else {
            throw ValidationError("--validation-fraction: must be in [0, 1), got \(validationFraction)")
        }
        guard epochs >= 1 else { throw ValidationError("--epochs: must be ≥ 1, got \(epochs)") }
        Engine.setThreadCount(threads)
        defer { Engine.configureFromEnvironment() }
        let assets = AssetRegistry()
        var rows: [JSON] = []
        var table = Table("Expert baseline on \(task) (validation fraction \(validationFraction))",
                          columns: ["seed", "expert", "train", "validation", "test", "metric", "value", "seconds", "selected"])
        var values: [Double] = []
        var seconds: [Double] = []
        var metricName = ""
        for seed in seedList {
            var config = FitConfig(task: task, method: "expert", seed: seed)
            config.training.validationFraction = validationFraction
            let (spec, splits, _) = try FitPipeline.prepareData(config, assets: assets)
            let trainRows = try trainingRows(config: config, assets: assets)
            let start = Date()
            let model = try Experts.fit(train: splits.train, validation: splits.validation, task: spec, seed: seed,
                                        epochs: epochs)
            let predictions = try model.predict(splits.test)
            let elapsed = Date().timeIntervalSince(start)
            let value = spec.metrics(predictions: predictions, data: splits.test)[spec.metric] ?? .nan
            metricName = spec.metric.key
            values.append(value)
            seconds.append(elapsed)
            let kind = Experts.kind(for: spec) ?? "?"
            let chosen = model.selected.map { "\($0.0)=\(format3($0.1))" }.joined(separator: " ")
            table.rows.append([String(seed), kind, String(splits.train.count), String(splits.validation.count),
                               String(splits.test.count), spec.metric.key, format3(value), format3(elapsed), chosen])
            rows.append(.object([("seed", .number(Double(seed))), ("expert", .string(kind)),
                                 ("metric", .string(spec.metric.key)), ("value", .number(value)),
                                 ("seconds", .number(elapsed)),
                                 ("selected", .object(model.selected.map { ($0.0, JSON.number($0.1)) })),
                                 ("train_rows", .array(trainRows.map { .number(Double($0)) }))]))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        if json {
            print(JSON.object([("task", .string(task)), ("metric", .string(metricName)),
                               ("validation_fraction", .number(validationFraction)), ("mean", .number(mean)),
                               ("seconds_per_fit", .number(seconds.reduce(0, +) / Double(seconds.count))),
                               ("runs", .array(rows))]).rendered)
        } else {
            print(table.rendered)
            print("mean \(metricName) \(format3(mean))")
        }
    }

    /// Indices (into the training file) of the seed's training split — what `DataSplits.make` keeps.
    func trainingRows(config: FitConfig, assets: AssetRegistry) throws -> [Int] {
        let loaded = try TaskCatalog.load(config.task, dataRoot: assets.root.appendingPathComponent("data", isDirectory: true))
        if let labels = loaded.training.labels {
            return try Split.stratified(labels: labels, validationFraction: validationFraction, seed: config.seed).train
        }
        return try Split.random(count: loaded.training.count, validationFraction: validationFraction, seed: config.seed).train
    }
}
