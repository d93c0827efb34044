import MonaData
import MonaTensor

/// Runs an expert baseline as a method's `Learner`: fits on the training split, selects on training/validation
/// only, records its validation metric (per epoch for the trained network, once for the closed-form experts)
/// as `finetune` validation records, and predicts any split.
final class ExpertLearner: Learner {
    /// Which expert: nil picks the task family's (`Experts.kind(for:)`).
    let kind: String?
    private(set) var model: (any ExpertModel)?

    init(kind: String?) { self.kind = kind }

    var summary: String { model?.summary ?? "expert baseline (not fitted)" }
    var parameterCount: Int { model?.parameterCount ?? 0 }

    func fit(task: TaskSpec, data: DataSplits, context: LearnerContext) throws -> TrainingState {
        var state = TrainingState(stage: "finetune", metric: task.metric.key, higherIsBetter: task.higherIsBetter,
                                  seed: context.seed)
        func record(epoch: Int, trainLoss: Double?, value: Double) throws {
            var fields: [(String, RecordValue)] = [("stage", .text("finetune")), ("epoch", .number(Double(epoch))),
                                                  ("step", .number(Double(epoch))), ("split", .text("validation"))]
            if let trainLoss { fields.append(("train_loss", .number(trainLoss))) }
            if value.isFinite { fields.append(("val_\(task.metric.key)", .number(value))) }
            try context.recorder.record(fields)
        }
        let fitted: any ExpertModel
        switch kind ?? Experts.kind(for: task) {
        case "minirocket":
            fitted = try MiniRocketModel.fit(train: data.train, validation: data.validation, task: task, seed: context.seed)
        case "kmer-logistic":
            fitted = try KmerLogisticModel.fit(train: data.train, validation: data.validation, task: task, seed: context.seed)
        case "resnet":
            var best: (epoch: Int, value: Double)?
            fitted = try ResidualConvNetModel.fit(
                train: data.train, validation: data.validation, task: task, seed: context.seed,
                epochs: max(context.training.epochs, 1)) { epoch, loss, value in
                    try record(epoch: epoch, trainLoss: loss, value: value)
                    if best.map({ task.higherIsBetter ? value > $0.value : value < $0.value }) ?? value.isFinite {
                        best = (epoch, value)
                    }
                }
            state.epoch = max(context.training.epochs, 1)
            state.step = state.epoch
            state.bestEpoch = best?.epoch
            state.bestMetric = best?.value
        default:
            throw TransferError.badConfig(
                "expert: no expert for \(task.input.rawValue) inputs with \(task.output.rawValue) outputs (task '\(task.name)')")
        }
        model = fitted
        if state.epoch == 0 {
            // Closed-form fit: one "epoch"; its validation metric is reported, nothing was selected by epoch.
            state.epoch = 1
            state.step = 1
            if data.validation.count > 0 {
                let value = task.metrics(predictions: try fitted.predict(data.validation), data: data.validation)[task.metric]
                if let value {
                    try record(epoch: 1, trainLoss: nil, value: value)
                    state.bestMetric = value
                }
            }
        }
        state.finished = true
        return state
    }

    func predict(_ data: LabeledDataset) throws -> Tensor {
        guard let model else { throw TransferError.badConfig("expert: predict called before fit") }
        return try model.predict(data)
    }
}
