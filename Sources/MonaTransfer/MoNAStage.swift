import Foundation
import MonaData
import MonaDistributed
import MonaNN
import MonaTensor

/// MoNA's settings, decoded from `method.<key>` options (MoNAMethod.swift; docs/mona.md gives the reasons for each
/// default). The defaults declared here are the options' defaults.
///
/// | key | meaning | default |
/// |---|---|---|
/// | `alpha` | inner learning rate α | 1e-2 |
/// | `lambda` | weight λ of L_align + L_uniform (0 switches the source term off) | 1 |
/// | `innerSteps` | K | 1 |
/// | `t` | uniformity temperature | 2 |
/// | `outerSteps` | T, stage-1 outer steps | 50 |
/// | `sourceBatchSize` | labelled source samples per outer step | 40 |
/// | `targetBatchSize` | target samples per outer step | `training.batchSize` |
/// | `metaGradient` | `exact` or `finite-difference` | exact |
/// | `fdEpsilon` | finite-difference step (divided by ‖v‖) | 0.01 |
/// | `outerNormalization` | `none`, `fixed-ratio` or `minimum-ratio` | fixed-ratio |
/// | `outerRatio` | the ratio of those normalisations | 1 |
/// | `outerUpdates` | `embedder` or `embedder+head` | embedder |
/// | `outerLearningRate` | learning rate of the outer optimizer | warm-up rate, else `training.learningRate` |
/// | `sourcePerClass` | source samples per class kept for alignment | 40 |
/// | `sourceImageSize` | side of the source images for vision bodies | min(body image size, 112) |
///
/// | `warmupEpochs` | stage-0 epochs (`mona-no-warmup` fixes 0) | 3 |
/// | `warmupLearningRate` | stage-0 learning rate | `training.learningRate` |
public struct MoNAOptions: SourceAlignmentOptions, Equatable {
    public var meta = MetaGradientOptions()
    public var uniformityT: Float = 2
    public var outerSteps = 50
    public var sourceBatchSize = 40
    public var targetBatchSize: Int? = nil
    public var updatesHead = false
    public var outerLearningRate: Float? = nil
    public var warmupEpochs = 3
    public var warmupLearningRate: Float? = nil
    public var source = SourceTask.Options()

    public init() {}
}

/// One outer step's numbers.
public struct MoNAStepResult {
    public var meta: MetaGradientResult
    /// L_align and L_uniform of the source batch through the updated body θ′.
    public var align: Float
    public var uniform: Float
}

/// MoNA: stage 0 warm-up, then T meta-learning outer steps that update the embedder (optionally the
/// head) with ∇φ[λ·(L_align + L_uniform)(θ′(φ)) + L_task(φ, θ)], θ′ = θ − α∇θ L_task. The body is only ever
/// substituted through `withParameters`, never modified. Dropout is off during stage 1 (evaluation mode), which
/// the finite-difference mode needs (it compares calls at nearby θ). One record per outer step (stage and phase
/// `mona`): L_align, L_uniform, L_outer(θ′), L_outer(θ), the target loss, both gradient norms and their ratio.
public final class MoNAStage: SourceAlignmentStage<MoNAOptions>, AlignmentStage {
    public let name = "mona"

    public func run(model: CrossModalModel, data: DataSplits, context: AlignmentContext) throws {
        try WarmupStage(epochs: options.warmupEpochs, learningRate: options.warmupLearningRate)
            .run(model: model, data: data, context: context)
        guard options.outerSteps > 0 else { return }
        let src = try sourceTask(for: model, context: context)
        guard src.alignment.count >= 2 else { throw TransferError.badTask("MoNA: the source set has fewer than 2 samples") }
        let comm = context.communicator
        if comm.isDistributed {
            if options.meta.mode == .exact && options.meta.innerSteps > 1 {
                throw TransferError.badConfig("method.innerSteps \(options.meta.innerSteps): across \(comm.size) MPI ranks "
                                              + "the exact meta-gradient needs innerSteps 1 (or method.metaGradient finite-difference)")
            }
            try comm.synchronize(model.namedParameters())
        }
        try withTrainability(of: model) {
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            let phi = prepareOuterParameters(model)
            var config = context.training
            config.learningRate = options.outerLearningRate ?? options.warmupLearningRate ?? config.learningRate
            let optimizer = try config.makeOptimizer(for: model)
            let tb = min(options.targetBatchSize ?? config.batchSize, data.train.count)
            guard tb >= comm.size else {
                throw TransferError.badConfig("MoNA: the target batch (\(tb) samples) is smaller than the \(comm.size) MPI ranks "
                                              + "that share it; use fewer ranks or a larger method.targetBatchSize")
            }
            let sb = min(options.sourceBatchSize, src.alignment.count)
            let targets = BatchSampler(count: data.train.count, batchSize: tb, shuffle: true, dropLast: true,
                                       seed: context.seed ^ 0x6d6f_6e61)
            let sources = BatchSampler(count: src.alignment.count, batchSize: sb, shuffle: true, dropLast: true,
                                       seed: context.seed ^ 0x736f_7572)
            // θ is constant through stage 1, so the logged L_outer(θ) of every source batch can come from the
            // pool's features computed once, instead of a forward pass per outer step (cheaper once T·batch > pool).
            let featuresAtTheta: Tensor? = options.meta.measuresOuterLossBeforeStep
                && options.outerSteps * sb > src.alignment.count
                ? TaskModalityGap.sourceFeatures(model.body, src.alignment, batchSize: sb) : nil   // [N, D]
            var tEpoch = 0, sEpoch = 0
            var tQueue: [[Int]] = [], sQueue: [[Int]] = []
            context.recorder.beginStage(name, totalSteps: options.outerSteps)
            for step in 1...options.outerSteps {
                if tQueue.isEmpty { tQueue = targets.batches(epoch: tEpoch); tEpoch += 1 }
                if sQueue.isEmpty { sQueue = sources.batches(epoch: sEpoch); sEpoch += 1 }
                // Every rank draws the same batches and takes its shard of the target one; the source batch is
                // whole on every rank (L_align and L_uniform compare all its samples with each other).
                let targetRows = tQueue.removeFirst()
                let mine = Array(targetRows[comm.shard(of: targetRows.count)])
                let targetBatch = data.train.subset(mine)
                let sourceRows = sQueue.removeFirst()
                let r = try outerStep(model: model, phi: phi, task: context.task, targetBatch: targetBatch,
                                      sourceBatch: src.alignment.subset(sourceRows),
                                      sourceFeaturesAtTheta: featuresAtTheta?.indexSelect(axis: 0, indices: sourceRows),
                                      targetShare: Float(mine.count) / Float(targetRows.count),
                                      sumOverShards: { try comm.allReduce($0) })
                let m = r.meta
                guard m.taskLoss.isFinite, m.outerLoss.isFinite, m.phiGradients.allSatisfy({ globalNorm([$0]).isFinite }) else {
                    throw TransferError.nonFinite("mona: outer step \(step): non-finite loss or gradient "
                                                  + "(task \(m.taskLoss), outer \(m.outerLoss)); try a smaller method.alpha")
                }
                var grads = Gradients()
                for (p, g) in zip(phi, m.phiGradients) { grads[p.parameter.value] = g }
                optimizer.step(grads)
                let k = MoNAKeys.self
                try context.recorder.record([
                    ("stage", .text(name)), ("phase", .text(k.phase)), ("step", .number(Double(step))),
                    (k.align, .number(Double(r.align))), (k.uniform, .number(Double(r.uniform))),
                    (k.outerLoss, .number(Double(m.outerLoss))),
                    (k.outerLossBefore, .number(Double(m.outerLossBeforeStep))),
                    (k.outerDelta, .number(Double(m.outerLoss - m.outerLossBeforeStep))),
                    (k.targetLoss, .number(Double(m.taskLoss))),
                    (k.outerGradNorm, .number(Double(m.outerGradientNorm))),
                    (k.taskGradNorm, .number(Double(m.taskGradientNorm))),
                    (k.gradRatio, .number(Double(m.gradientRatio))),
                    (k.outerScale, .number(Double(m.outerScale))),
                ])
                context.recorder.progress(step: step, metrics: [("target_loss", Double(m.taskLoss)),
                                                                ("outer_loss", Double(m.outerLoss)),
                                                                ("grad_ratio", Double(m.gradientRatio))])
            }
            context.recorder.endStage(summary: [])
        }
    }

    /// Makes exactly the outer step's parameters trainable (embedder, optionally head) and returns them.
    public func prepareOuterParameters(_ model: CrossModalModel) -> [(name: String, parameter: Parameter)] {
        model.freeze()
        model.unfreeze(matching: options.updatesHead ? ["embedder.*", "head.*"] : ["embedder.*"])
        return model.trainableParameters()
    }

    /// The meta-gradient of one outer step (no update): θ′ from the target batch, L_align + L_uniform of the
    /// source batch through θ′, target loss at θ. `phi` are the outer step's parameters.
    ///
    /// - Parameter sourceFeaturesAtTheta: the pooled features [S, D] of `sourceBatch` through the body as it is
    ///   (θ, no graph), e.g. rows of `TaskModalityGap.sourceFeatures` of the whole source pool. When given, the
    ///   logged L_outer(θ) is computed from them instead of from one more forward pass of the source batch.
    public func outerStep(model: CrossModalModel, phi: [(name: String, parameter: Parameter)], task: TaskSpec,
                          targetBatch: LabeledDataset, sourceBatch: LabeledDataset,
                          sourceFeaturesAtTheta: Tensor? = nil) -> MoNAStepResult {
        outerStep(model: model, phi: phi, task: task, targetBatch: targetBatch, sourceBatch: sourceBatch,
                  sourceFeaturesAtTheta: sourceFeaturesAtTheta, targetShare: 1, sumOverShards: { $0 })
    }

    /// `outerStep` of one data-parallel rank (see `monaMetaGradient`): `targetBatch` is this rank's shard of the
    /// target batch, `targetShare` its fraction of the whole batch, `sumOverShards` sums tensors over the ranks.
    public func outerStep(model: CrossModalModel, phi: [(name: String, parameter: Parameter)], task: TaskSpec,
                          targetBatch: LabeledDataset, sourceBatch: LabeledDataset,
                          sourceFeaturesAtTheta: Tensor?, targetShare: Float,
                          sumOverShards: ([Tensor]) throws -> [Tensor]) rethrows -> MoNAStepResult {
        if let f = sourceFeaturesAtTheta {
            precondition(f.shape == [sourceBatch.count, model.body.width],
                         "outerStep: sourceFeaturesAtTheta has shape \(f.shape), expected [\(sourceBatch.count), \(model.body.width)]")
        }
        var metaOptions = options.meta
        let measuresBefore = metaOptions.measuresOuterLossBeforeStep
        if sourceFeaturesAtTheta != nil { metaOptions.measuresOuterLossBeforeStep = false }
        let phiNames = phi.map(\.name)
        let body = model.namedParameters().filter { $0.name.hasPrefix("body.") }
        let thetaNames = body.map(\.name)
        let input = model.input(for: targetBatch)
        let labels = sourceBatch.labels ?? []
        let t = options.uniformityT
        var parts: (Float, Float)?
        var meta = try monaMetaGradient(
            phi: phi.map(\.parameter.value), theta: body.map(\.parameter.value), options: metaOptions,
            innerLoss: { p, th in
                var subs = Dictionary(uniqueKeysWithValues: zip(phiNames, p))
                for (n, x) in zip(thetaNames, th) { subs[n] = x }
                return model.withParameters(subs) {
                    let loss = task.lossValue(model(input), targetBatch)
                    return targetShare == 1 ? loss : loss * targetShare
                }
            },
            outerLoss: { th in
                model.withParameters(Dictionary(uniqueKeysWithValues: zip(thetaNames, th))) {
                    let z = model.body.sourceFeatures(sourceBatch).l2NormalizedRows()      // [S, D]
                    let a = alignLoss(z, labels: labels), u = uniformLoss(z, t: t)
                    // The first call is at θ′ (the before-step measurement comes after it).
                    if parts == nil { parts = (a.item, u.item) }
                    return a + u
                }
            }, sumOverShards: sumOverShards)
        if measuresBefore, let f = sourceFeaturesAtTheta {
            meta.outerLossBeforeStep = withoutGradients {
                let z = f.detached().l2NormalizedRows()                                  // [S, D]
                return (alignLoss(z, labels: labels) + uniformLoss(z, t: t)).item
            }
        }
        return MoNAStepResult(meta: meta, align: parts?.0 ?? .nan, uniform: parts?.1 ?? .nan)
    }
}
