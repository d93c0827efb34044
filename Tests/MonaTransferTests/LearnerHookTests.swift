import Foundation
import MonaData
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// A nearest-class-mean classifier on raw series: the smallest model-replacing method, to show that the hook
/// gets the run's split, is evaluated once on the test split and writes what every method writes.
final class NearestMeanLearner: Learner {
    var means: [[Float]] = []
    var summary: String { "nearest class mean of the raw series (\(means.count) classes)" }
    var parameterCount: Int { means.reduce(0) { $0 + $1.count } }

    func fit(task: TaskSpec, data: DataSplits, context: LearnerContext) throws -> TrainingState {
        guard case .series(let x) = data.train.inputs, let y = data.train.labels else {
            throw TransferError.badTask("nearest mean: series classification only")
        }
        let n = x.shape[0], d = x.count / n, s = x.scalars
        means = Array(repeating: Array(repeating: 0, count: d), count: task.outputs)
        var counts = Array(repeating: 0, count: task.outputs)
        for i in 0..<n {
            counts[y[i]] += 1
            for j in 0..<d { means[y[i]][j] += s[i * d + j] }
        }
        for c in 0..<task.outputs where counts[c] > 0 { means[c] = means[c].map { $0 / Float(counts[c]) } }
        let v = try Evaluation(predictions: predict(data.validation), task: task, data: data.validation)
        try context.recorder.record([("stage", .text("finetune")), ("epoch", .number(1)), ("step", .number(1)),
                                     ("split", .text("validation")), ("val_loss", .number(v.loss))])
        var state = TrainingState(stage: "finetune", metric: task.metric.key, higherIsBetter: task.higherIsBetter,
                                  seed: context.seed)
        state.epoch = 1
        state.step = 1
        state.bestEpoch = 1
        state.bestMetric = v.metrics[task.metric]
        state.finished = true
        return state
    }

    /// Class scores: minus the squared distance to each class mean.
    func predict(_ data: LabeledDataset) throws -> Tensor {
        guard case .series(let x) = data.inputs else { throw TransferError.badTask("nearest mean: series only") }
        let n = x.shape[0], d = x.count / n, s = x.scalars
        var out: [Float] = []
        for i in 0..<n {
            for m in means {
                var distance: Float = 0
                for j in 0..<d { distance += (s[i * d + j] - m[j]) * (s[i * d + j] - m[j]) }
                out.append(-distance)
            }
        }
        return Tensor(out, shape: [n, means.count])
    }
}

struct NearestMeanMethod: TransferMethod {
    static let summary = "test only: nearest class mean on the raw series"
    init(options: NoOptions) {}
    func makeLearner(task: TaskSpec, context: LearnerContext) throws -> (any Learner)? { NearestMeanLearner() }
}

@Suite struct LearnerHookTests {
    @Test func aLearnerReplacesTheModelUnderTheSameLifecycle() throws {
        MethodCatalog.register(.create("test-nearest-mean", NearestMeanMethod.self))
        let dir = TemporaryDirectory()
        let config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "test-nearest-mean", seed: 1)
        let run = dir.url.appendingPathComponent("run")
        let result = try FitPipeline(config: config, runDirectory: run).fit()
        let accuracy = try #require(result.testMetric)
        #expect(accuracy >= 0 && accuracy <= 1 && result.parameterCount > 0 && result.state.bestEpoch == 1)
        let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
        let test = try #require(records.first { $0["split"]?.stringValue == "test" })
        #expect(test["test_accuracy"]?.doubleValue == accuracy && test["test_final_accuracy"]?.doubleValue == accuracy)
        #expect(records.contains { $0["split"]?.stringValue == "validation" })
        for file in ["config.yaml", "predictions.csv", "report.md", "timings.json", "plots/loss.svg"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "\(file) missing")
        }
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("nearest class mean of the raw series"))
        // A learner run writes no checkpoint (resume runs it again).
        let store = CheckpointStore(directory: run.appendingPathComponent("checkpoints"))
        #expect(!store.exists("best") && !store.exists("last"))
    }
}
