import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor

/// How far a task's target data, as a freshly built model first sees it, lies from the body's source data: both
/// are passed through the body (the target through the new target embedder, as at the start of fine-tuning;
/// the source through the body's own frozen embedder), mean-pooled over tokens, and compared with
///
/// * OTDD — label-aware (the target's classes; k-means pseudo-labels of the targets, k = 10, for regression
///   and dense tasks, as ORCA does), debiased entropic OT with p = 2 (`Alignment/OTDD.swift`);
/// * MMD² with a ladder of Gaussian kernels (`Alignment/MMD.swift`), label-blind.
///
/// MoNA's analysis relates this gap to how much source knowledge fine-tuning keeps.
public struct TaskModalityGap: Sendable, Equatable, Codable {
    /// Label-aware OTDD (debiased).
    public var otdd: Double
    /// MMD² (multi-bandwidth Gaussian kernel).
    public var mmd: Double
    /// Whether every Sinkhorn problem of OTDD converged.
    public var converged: Bool
    /// Whether the target side of OTDD used true classes (false: k-means pseudo-labels).
    public var labelAware: Bool
    public var targetSamples: Int
    public var sourceSamples: Int

    public init(otdd: Double, mmd: Double, converged: Bool = true, labelAware: Bool, targetSamples: Int, sourceSamples: Int) {
        self.otdd = otdd
        self.mmd = mmd
        self.converged = converged
        self.labelAware = labelAware
        self.targetSamples = targetSamples
        self.sourceSamples = sourceSamples
    }

    /// The gap between pooled target features [M, D] with labels and pooled source features [N, D] with labels.
    public static func compute(target: Tensor, targetLabels: [Int], source: Tensor, sourceLabels: [Int],
                               labelAware: Bool = true, options: OTDDOptions = OTDDOptions()) -> TaskModalityGap {
        let g = modalityGap(source: source, sourceLabels: sourceLabels, target: target, targetLabels: targetLabels,
                            options: options)
        return TaskModalityGap(otdd: Double(g.otdd), mmd: Double(g.mmd), converged: g.converged, labelAware: labelAware,
                               targetSamples: target.shape[0], sourceSamples: source.shape[0])
    }

    /// Target samples through `model`'s embedder and body, mean-pooled over the non-prefix, non-padding tokens:
    /// [N, D], in evaluation mode, without gradients.
    public static func targetFeatures(_ model: CrossModalModel, _ data: LabeledDataset, batchSize: Int = 32) -> Tensor {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        return withoutGradients {
            let parts = BatchSampler.evaluation(count: data.count, batchSize: batchSize).batches(epoch: 0).map { idx in
                let (e, hidden) = model.hiddenStates(model.input(for: data.subset(idx)))   // hidden [B, T, D]
                let tokens = hidden.slice(axis: 1, start: e.prefixTokens, end: hidden.shape[1])
                let mask = e.mask.map { $0.slice(axis: 1, start: e.prefixTokens, end: $0.shape[1]) }
                return BertModel.meanPool(tokens, attentionMask: mask).detached()       // [B, D]
            }
            return Tensor.concat(parts, axis: 0)
        }
    }

    /// Source samples through the body's own embedder and the body, mean-pooled: [N, D].
    public static func sourceFeatures(_ body: TransformerBody, _ data: LabeledDataset, batchSize: Int = 32) -> Tensor {
        let wasTraining = body.isTraining
        body.eval()
        defer { body.train(wasTraining) }
        return withoutGradients {
            Tensor.concat(BatchSampler.evaluation(count: data.count, batchSize: batchSize).batches(epoch: 0).map {
                body.sourceFeatures(data.subset($0)).detached()
            }, axis: 0)
        }
    }

    /// The gap of `target` (training data of the model's task) for `model` as it is now against labelled
    /// `source` data of its body.
    public static func measure(model: CrossModalModel, target: LabeledDataset, source: LabeledDataset,
                               seed: UInt64 = 0, options: OTDDOptions = OTDDOptions()) -> TaskModalityGap {
        let labels = ORCAStage().targetLabels(target, seed: seed)
        return compute(target: targetFeatures(model, target), targetLabels: labels,
                       source: sourceFeatures(model.body, source), sourceLabels: source.labels ?? [],
                       labelAware: target.labels != nil, options: options)
    }

    /// The gap of a fit configuration's task and body: the data prepared as `fit` prepares it (limits,
    /// validation split, normalisation), the pretrained body, the target embedder initialised with `config.seed`
    /// exactly as fine-tuning would start (before any alignment), at most `maxTargetSamples` training samples,
    /// `sourcePerClass` source samples per class.
    public static func measure(config: FitConfig, assets: AssetRegistry = AssetRegistry(), maxTargetSamples: Int = 256,
                               sourcePerClass: Int = 20, options: OTDDOptions = OTDDOptions()) throws -> TaskModalityGap {
        let (spec, splits, normalizer) = try FitPipeline.prepareData(config, assets: assets)
        let body = try BodyCatalog.load(config.body, pretrained: true, seed: config.seed, assets: assets)
        var modelSpec = ModelSpec(bodyName: config.body, bodyFamily: body.family, bodyConfig: body.config, task: spec,
                                  maxTokens: config.model.maxTokens, patchSize: config.model.patchSize)
        modelSpec.inputMean = normalizer?.mean
        modelSpec.inputStd = normalizer?.std
        let model = CrossModalModel(spec: modelSpec, body: body, seed: config.seed)
        var target = splits.train
        if target.count > maxTargetSamples { target = target.subset(Array(0..<maxTargetSamples)) }
        var o = SourceTask.Options()
        o.alignmentPerClass = sourcePerClass
        o.analysisPerClass = 0
        o.seed = config.seed
        let source = try SourceTask.load(for: body, assets: assets, options: o).alignment
        return measure(model: model, target: target, source: source, seed: config.seed, options: options)
    }
}
