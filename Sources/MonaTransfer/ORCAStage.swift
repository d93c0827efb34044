import Foundation
import MonaData
import MonaDistributed
import MonaNN
import MonaTensor

/// ORCA's settings, decoded from `method.<key>` options (ORCAMethod.swift); the defaults declared here are the
/// options' defaults.
///
/// | key | meaning | default |
/// |---|---|---|
/// | `distance` | `otdd` (label-aware, debiased Sinkhorn, docs/mona.md) or `mmd` | otdd |
/// | `orcaSteps` | embedder optimisation steps | 50 |
/// | `orcaBatchSize` | target samples per step | 64 (capped at the training split) |
/// | `orcaLearningRate` | embedder learning rate | `training.learningRate` |
/// | `pseudoLabels` | k of the k-means pseudo-labels for non-class targets | 10 |
/// | `sourcePerClass` | source samples per class | 40 |
/// | `sourceImageSize` | side of the source images for vision bodies | min(body image size, 112) |
public struct ORCAOptions: SourceAlignmentOptions, Equatable {
    public enum Distance: String, Sendable, OptionChoice { case otdd, mmd }
    public var distance = Distance.otdd
    public var steps = 50
    public var batchSize = 64
    public var learningRate: Float? = nil
    public var pseudoLabelClusters = 10
    public var source = SourceTask.Options()
    public var otdd = OTDDOptions()

    public init() {}
}

/// ORCA's alignment stage: the embedder alone is trained to minimise the distance (label-aware OTDD, or MMD)
/// between mean-pooled embedded target features and mean-pooled source-embedder features of labelled source
/// data; regression, multi-label and dense targets get k-means pseudo-labels (k = 10, seeded). One record per
/// step (stage and phase `orca`). Fine-tuning follows in the pipeline.
public final class ORCAStage: SourceAlignmentStage<ORCAOptions>, AlignmentStage {
    public let name = "orca"

    /// Labels of the target samples for OTDD: the classes, or k-means pseudo-labels of the target values.
    public func targetLabels(_ data: LabeledDataset, seed: UInt64) -> [Int] {
        if let y = data.labels { return y }
        switch data.targets {
        case .regression(let y), .multiLabel(let y), .fields(let y):
            return kMeansPseudoLabels(targets: y, k: min(options.pseudoLabelClusters, data.count), seed: seed)
        default:
            return [Int](repeating: 0, count: data.count)
        }
    }

    /// Mean-pooled embedded target features [B, D] (padding excluded).
    public static func embeddedFeatures(_ model: CrossModalModel, _ batch: LabeledDataset) -> Tensor {
        let e = model.embedder(model.input(for: batch))
        let tokens = e.tokens.slice(axis: 1, start: e.prefixTokens, end: e.tokens.shape[1])
        let mask = e.mask.map { $0.slice(axis: 1, start: e.prefixTokens, end: $0.shape[1]) }
        return BertModel.meanPool(tokens, attentionMask: mask)
    }

    /// The distance being minimised, for source features prepared by `prepare`.
    public func distance(_ target: Tensor, labels: [Int], source: OTDDSource) -> Tensor {
        switch options.distance {
        case .otdd: return source.distance(to: target, labels: labels).distance
        case .mmd: return maximumMeanDiscrepancy(target, source.features)
        }
    }

    /// Source features through the source embedder, prepared for OTDD.
    public func prepare(_ model: CrossModalModel, _ src: SourceTask) -> OTDDSource {
        let features = withoutGradients { model.body.sourceEmbedderFeatures(src.alignment).detached() }
        return OTDDSource(features: features, labels: src.alignment.labels ?? [], options: options.otdd)
    }

    /// The distance of one target batch (`rows` of `batch`) and its gradients on `params`. With several ranks the
    /// distance is not a sum over samples (OTDD and MMD compare all of them), so each rank embeds its shard, the
    /// features are gathered, every rank computes the distance of the whole batch and its gradient on the
    /// features, backpropagates its own rows through its embedder, and the parameter gradients are summed —
    /// the same gradient as one process embedding the whole batch.
    func embedderGradients(_ model: CrossModalModel, params: [(name: String, parameter: Parameter)],
                           batch data: LabeledDataset, rows: [Int], labels: [Int], source: OTDDSource,
                           communicator comm: any Communicator) throws -> (Double, Gradients) {
        let weights = params.map(\.parameter.value)
        guard comm.isDistributed, rows.count >= comm.size else {
            let loss = distance(ORCAStage.embeddedFeatures(model, data.subset(rows)), labels: labels, source: source)
            return (Double(loss.item), gradientStore(of: loss, wrt: weights))
        }
        let mine = comm.shard(of: rows.count)
        let local = ORCAStage.embeddedFeatures(model, data.subset(Array(rows[mine])))        // [b, D]
        let all = try comm.gatherRows(local.detached(), total: rows.count).requiringGradient()  // [B, D]
        let loss = distance(all, labels: labels, source: source)
        let seed = gradients(of: loss, wrt: [all])[0].slice(axis: 0, start: mine.lowerBound, end: mine.upperBound)
        var g = gradientStore(of: (local * seed.detached()).sum(), wrt: weights)
        try comm.allReduce(&g, parameters: params.map(\.parameter))
        return (Double(loss.item), g)
    }

    public func run(model: CrossModalModel, data: DataSplits, context: AlignmentContext) throws {
        guard options.steps > 0 else { return }
        let src = try sourceTask(for: model, context: context)
        let prepared = prepare(model, src)
        let labels = targetLabels(data.train, seed: context.seed)
        let comm = context.communicator
        try comm.synchronize(model.namedParameters())
        try withTrainability(of: model) {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            model.freeze()
            model.unfreeze(matching: ["embedder.*"])
            let params = model.trainableParameters()
            var config = context.training
            if let lr = options.learningRate { config.learningRate = lr }
            let optimizer = try config.makeOptimizer(for: model)
            let sampler = BatchSampler(count: data.train.count, batchSize: min(options.batchSize, data.train.count),
                                       shuffle: true, dropLast: true, seed: context.seed ^ 0x6f72_6361)
            var queue: [[Int]] = [], epoch = 0
            context.recorder.beginStage(name, totalSteps: options.steps)
            for step in 1...options.steps {
                if queue.isEmpty { queue = sampler.batches(epoch: epoch); epoch += 1 }
                let idx = queue.removeFirst()
                let (value, gradients) = try embedderGradients(model, params: params, batch: data.train, rows: idx,
                                                               labels: idx.map { labels[$0] }, source: prepared,
                                                               communicator: comm)
                guard value.isFinite else { throw TransferError.nonFinite("orca: step \(step): the \(options.distance.rawValue) is \(value)") }
                optimizer.step(gradients)
                try context.recorder.record([("stage", .text(name)), ("phase", .text(ORCAStage.phase)),
                                             ("step", .number(Double(step))),
                                             (options.distance.rawValue, .number(value))])
                context.recorder.progress(step: step, metrics: [(options.distance.rawValue, value)])
            }
            context.recorder.endStage(summary: [])
        }
    }
}
