import MonaData
import MonaTensor

/// What a task asks of a model: its input and output kinds, sizes, training loss and selection metric.
public struct TaskSpec: Codable, Sendable, Equatable {
    /// The input layout.
    public enum InputKind: String, Codable, Sendable {
        /// [C, L] series.
        case series
        /// [C, H, W] images or fields.
        case fields
        /// Token-id sequences.
        case tokens
    }

    /// What is predicted.
    public enum OutputKind: String, Codable, Sendable {
        /// One class of K (logits [B, K]).
        case classification
        /// Any subset of K labels (logits [B, K]).
        case multiLabel = "multi-label"
        /// K real values per sample.
        case regression
        /// A [C_out, L] sequence per sample (sequence to sequence, e.g. a 1-D PDE solution).
        case dense1D = "dense-1d"
        /// A [C_out, H, W] field per sample (field to field, e.g. Darcy flow).
        case dense2D = "dense-2d"
    }

    /// The training loss.
    public enum LossKind: String, Codable, Sendable {
        case crossEntropy = "cross-entropy"
        case binaryCrossEntropy = "bce"
        case mse
        case relativeL2 = "relative-l2"
    }

    /// Lower-case task name (a known task or the data file's stem).
    public var name: String
    public var input: InputKind
    public var output: OutputKind
    /// Per-sample input shape: [C, L], [C, H, W] or [T] (the longest training sequence).
    public var sampleShape: [Int]
    /// Token vocabulary size (token inputs only).
    public var vocabularySize: Int?
    /// Classes, labels, regression values per sample, or output channels of a dense task.
    public var outputs: Int
    /// Per-sample target shape for dense tasks ([C_out, L] or [C_out, H, W]).
    public var targetShape: [Int]?
    /// Class names (classification).
    public var classNames: [String]?
    public var loss: LossKind
    /// The metric used for model selection and early stopping.
    public var metric: MetricKind
    /// Every metric reported (the selection metric first).
    public var reportedMetrics: [MetricKind]

    /// Whether a larger `metric` is better.
    public var higherIsBetter: Bool { metric.higherIsBetter }

    public init(name: String, input: InputKind, output: OutputKind, sampleShape: [Int], vocabularySize: Int? = nil,
                outputs: Int, targetShape: [Int]? = nil, classNames: [String]? = nil, loss: LossKind,
                metric: MetricKind, reportedMetrics: [MetricKind]? = nil) {
        self.name = name
        self.input = input
        self.output = output
        self.sampleShape = sampleShape
        self.vocabularySize = vocabularySize
        self.outputs = outputs
        self.targetShape = targetShape
        self.classNames = classNames
        self.loss = loss
        self.metric = metric
        self.reportedMetrics = reportedMetrics ?? [metric]
    }

    /// The task a training set describes: inputs give the input kind and shape, targets the output kind
    /// (classes → classification with accuracy, macro-F1 and AUROC; multi-label → BCE and mAP; regression →
    /// MSE; fields → dense output with relative L2 loss and metric — the mean over samples of ‖pred − true‖ / ‖true‖,
    /// as FNO and PDEBench report it — plus MSE).
    public static func inferred(name: String, training: LabeledDataset, vocabularySize: Int? = nil) throws -> TaskSpec {
        let input: InputKind, shape: [Int]
        var vocab = vocabularySize
        switch training.inputs {
        case .series(let x): input = .series; shape = Array(x.shape.dropFirst())
        case .fields(let x): input = .fields; shape = Array(x.shape.dropFirst())
        case .tokens(let seqs):
            input = .tokens
            shape = [seqs.map(\.count).max() ?? 1]
            if vocab == nil { vocab = (seqs.lazy.compactMap { $0.max() }.max() ?? 1) + 1 }
        }
        switch training.targets {
        case .classes(_, let names):
            guard names.count >= 2 else {
                throw TransferError.badTask("\(name): classification needs at least 2 classes, found \(names.count)")
            }
            let metrics: [MetricKind] = [.accuracy, .macroF1, .auroc]
            return TaskSpec(name: name, input: input, output: .classification, sampleShape: shape, vocabularySize: vocab,
                            outputs: names.count, classNames: names, loss: .crossEntropy, metric: .accuracy,
                            reportedMetrics: metrics)
        case .multiLabel(let y):
            return TaskSpec(name: name, input: input, output: .multiLabel, sampleShape: shape, vocabularySize: vocab,
                            outputs: y.shape[1], loss: .binaryCrossEntropy, metric: .meanAveragePrecision)
        case .regression(let y):
            return TaskSpec(name: name, input: input, output: .regression, sampleShape: shape, vocabularySize: vocab,
                            outputs: y.rank == 1 ? 1 : y.shape[1], loss: .mse, metric: .mse, reportedMetrics: [.mse, .rmse])
        case .fields(let y):
            let target = Array(y.shape.dropFirst())
            let output: OutputKind
            switch (input, target.count) {
            case (.series, 2): output = .dense1D
            case (.fields, 3): output = .dense2D
            default:
                throw TransferError.badTask("\(name): dense targets \(target) do not match \(input.rawValue) inputs \(shape)")
            }
            return TaskSpec(name: name, input: input, output: output, sampleShape: shape, outputs: target[0],
                            targetShape: target, loss: .relativeL2, metric: .relativeL2,
                            reportedMetrics: [.relativeL2, .mse])
        case .none:
            throw TransferError.badTask("\(name): the training data has no targets")
        }
    }

    // MARK: Loss and metrics

    /// The training loss of `predictions` (the model's output for `batch`) against the batch's targets.
    public func lossValue(_ predictions: Tensor, _ batch: LabeledDataset) -> Tensor {
        switch (loss, batch.targets) {
        case (.crossEntropy, .classes(let y, _)):
            return Tensor.crossEntropy(logits: predictions, labels: y)
        case (.binaryCrossEntropy, .multiLabel(let y)):
            return Tensor.binaryCrossEntropyWithLogits(logits: predictions, targets: y)
        case (.mse, .regression(let y)):
            return Tensor.mseLoss(prediction: predictions, target: y.reshaped(to: predictions.shape))
        case (.mse, .fields(let y)):
            return Tensor.mseLoss(prediction: predictions, target: y)
        case (.relativeL2, .fields(let y)):
            return Tensor.relativeL2Loss(prediction: predictions, target: y)
        case (.relativeL2, .regression(let y)):
            return Tensor.relativeL2Loss(prediction: predictions, target: y.reshaped(to: predictions.shape))
        default:
            preconditionFailure("TaskSpec: loss \(loss.rawValue) does not fit the batch's targets")
        }
    }

    /// Every reported metric of `predictions` [N, …] (model outputs for all of `data`, in order) against `data`'s
    /// targets. Metrics undefined for the data (e.g. AUROC of a single-class split) are left out.
    public func metrics(predictions: Tensor, data: LabeledDataset) -> [MetricKind: Double] {
        var out: [MetricKind: Double] = [:]
        for m in reportedMetrics {
            if let v = metricValue(m, predictions: predictions, data: data) { out[m] = v }
        }
        return out
    }

    func metricValue(_ m: MetricKind, predictions p: Tensor, data: LabeledDataset) -> Double? {
        switch data.targets {
        case .classes(let y, _):
            switch m {
            case .accuracy: return Metrics.accuracy(predictions: Metrics.argmax(p), labels: y)
            case .errorRate: return Metrics.errorRate(predictions: Metrics.argmax(p), labels: y)
            case .macroF1: return Metrics.macroF1(predictions: Metrics.argmax(p), labels: y)
            case .auroc:
                if p.shape[1] == 2 {
                    let s = p.scalars
                    let margin = (0..<y.count).map { s[2 * $0 + 1] - s[2 * $0] }
                    return Metrics.auroc(scores: margin, positives: y.map { $0 == 1 })
                }
                return Metrics.macroAUROC(scores: p, labels: y)
            default: return nil
            }
        case .multiLabel(let t):
            return m == .meanAveragePrecision ? Metrics.meanAveragePrecision(scores: p, targets: t) : nil
        case .regression(let t), .fields(let t):
            let target = t.reshaped(to: p.shape)
            switch m {
            case .mse: return Metrics.mse(predictions: p, targets: target)
            case .rmse: return Metrics.rmse(predictions: p, targets: target)
            case .nrmse, .relativeL2:
                // Mean of per-sample relative L2 errors (MonaData's nRMSE), as the training loss and FNO report it.
                return Metrics.nRMSE(predictions: p, targets: target)
            default: return nil
            }
        case .none:
            return nil
        }
    }
}

extension MetricKind {
    /// The snake-case key used in metrics.jsonl (`test_<key>`) and reports.
    public var key: String {
        switch self {
        case .accuracy: return "accuracy"
        case .errorRate: return "error_rate"
        case .macroF1: return "macro_f1"
        case .auroc: return "auroc"
        case .meanAveragePrecision: return "map"
        case .mse: return "mse"
        case .rmse: return "rmse"
        case .nrmse: return "nrmse"
        case .relativeL2: return "relative_l2"
        }
    }
}
