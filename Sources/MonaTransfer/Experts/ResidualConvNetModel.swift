import Foundation
import MonaData
import MonaNN
import MonaTensor

/// Dense-target expert for PDE tasks (field → field, 1-D or 2-D): a small residual convolutional network —
/// a 1×1 lift to `width` channels, residual blocks h + W₂·GELU(W₁ ⊛_d GELU(h)) with dilations 1, 2, 4, … (so
/// the receptive field covers the domain), and a 1×1 projection to the output channels. 1-D tasks run as 2-D
/// with height 1 (kernels 1×3, dilations along the length).
///
/// Trained with Adam (learning rate 1e-3, cosine decay, batch 16) on the task's loss for `epochs` passes —
/// the transformer methods' budget — keeping the weights of the best validation epoch.
public final class ResidualConvNet: Module {
    public let isOneDimensional: Bool
    public let lift: Conv2d
    public let mixers: [Conv2d]
    public let pointwise: [Conv2d]
    public let projection: Conv2d
    public let dilations: [Int]

    public init(inputChannels: Int, outputChannels: Int, spatial: [Int], width: Int = 32, generator g: inout SeededGenerator) {
        isOneDimensional = spatial.count == 1
        let extent = spatial.max() ?? 1
        var d = [1]
        while d.count < 8 && d.last! * 2 <= max(extent / 4, 1) { d.append(d.last! * 2) }
        while d.count < 3 { d.append(d.last! * 2) }
        dilations = d
        let k = isOneDimensional ? (1, 3) : (3, 3)
        lift = Conv2d(inputChannels, width, kernel: (1, 1), generator: &g)
        mixers = d.map { _ in Conv2d(width, width, kernel: k, generator: &g) }
        pointwise = d.map { _ in Conv2d(width, width, kernel: (1, 1), generator: &g) }
        projection = Conv2d(width, outputChannels, kernel: (1, 1), generator: &g)
        super.init()
    }

    /// x [B, C, L] or [B, C, H, W] → [B, C_out, L] or [B, C_out, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let input = isOneDimensional ? x.reshaped(to: [x.shape[0], x.shape[1], 1, x.shape[2]]) : x
        var h = lift(input)
        for (j, d) in dilations.enumerated() {
            // "Same" padding: d on each side of a dilated 3-tap axis, none across the height of a 1-D series.
            let dil = isOneDimensional ? Size2D(1, d) : Size2D(d, d)
            let pad = isOneDimensional ? Size2D(0, d) : Size2D(d, d)
            let m = mixers[j]
            let mixed = Tensor.conv2d(h.gelu(), m.weight, bias: m.bias, padding: pad, dilation: dil)
            h = h + pointwise[j](mixed.gelu())
        }
        let out = projection(h)
        return isOneDimensional ? out.reshaped(to: [out.shape[0], out.shape[1], out.shape[3]]) : out
    }
}

/// The fitted dense expert.
public struct ResidualConvNetModel: ExpertModel, @unchecked Sendable {
    public let network: ResidualConvNet
    public let bestEpoch: Int
    public let bestValidation: Double
    public let epochs: Int

    public var selected: [(String, Double)] {
        [("best_epoch", Double(bestEpoch)), ("epochs", Double(epochs)),
         ("parameters", Double(network.parameterCount()))]
    }

    public var parameterCount: Int { network.parameterCount() }

    public var summary: String {
        "residual dilated conv net (\(network.isOneDimensional ? "1-D" : "2-D"), \(network.dilations.count) blocks, "
            + "dilations \(network.dilations.map(String.init).joined(separator: ", ")))"
            + ", best validation epoch \(bestEpoch) of \(epochs)"
    }

    public static let batchSize = 16
    public static let learningRate: Float = 1e-3

    /// `onEpoch` receives (epoch, mean training loss, validation metric) after every epoch, e.g. to record them.
    public static func fit(train: LabeledDataset, validation: LabeledDataset, task: TaskSpec, seed: UInt64,
                           epochs: Int, width: Int = 32,
                           onEpoch: ((Int, Double, Double) throws -> Void)? = nil) throws -> ResidualConvNetModel {
        guard epochs >= 1 else { throw TransferError.badConfig("resnet expert: epochs must be ≥ 1, got \(epochs)") }
        guard let x = train.inputTensor, case .fields(let y) = train.targets, train.count > 0 else {
            throw TransferError.badTask("resnet expert: task '\(task.name)' needs series or field inputs with dense targets")
        }
        guard x.rank == y.rank, Array(x.shape.dropFirst(2)) == Array(y.shape.dropFirst(2)) else {
            throw TransferError.badTask("resnet expert: inputs \(x.shape) and targets \(y.shape) must share their spatial size")
        }
        var g = SeededGenerator(seed: seed).forked(0x7265_736e)
        let net = ResidualConvNet(inputChannels: x.shape[1], outputChannels: y.shape[1],
                                  spatial: Array(x.shape.dropFirst(2)), width: width, generator: &g)
        let params = net.trainableParameters()
        let optimizer = try Adam(groups: [ParameterGroup(params)], learningRate: learningRate)
        let sampler = BatchSampler(count: train.count, batchSize: batchSize, shuffle: true, seed: seed)
        let totalSteps = epochs * sampler.batchCount
        let schedule = CosineSchedule(warmupSteps: 0, totalSteps: totalSteps)
        var best: (epoch: Int, value: Double, weights: [String: Tensor])?
        var step = 0
        for epoch in 0..<epochs {
            net.train()
            var lossSum = 0.0
            for indices in sampler.batches(epoch: epoch) {
                let batch = train.subset(indices)
                let loss = task.lossValue(net(batch.inputTensor!), batch)
                guard loss.item.isFinite else {
                    throw TransferError.nonFinite("resnet expert: the training loss became \(loss.item) in epoch \(epoch + 1)")
                }
                let values = params.map(\.parameter.value)
                var grads = gradientStore(of: loss, wrt: values)
                _ = clipGradients(&grads, parameters: params.map(\.parameter), maxNorm: 1)
                optimizer.learningRate = learningRate * schedule.factor(at: step)
                optimizer.step(grads)
                step += 1
                lossSum += Double(loss.item) * Double(indices.count)
            }
            let evalData = validation.count > 0 ? validation : train
            let value = task.metrics(predictions: predict(net, evalData), data: evalData)[task.metric] ?? .nan
            try onEpoch?(epoch + 1, lossSum / Double(train.count), value)
            let better = best.map { task.higherIsBetter ? value > $0.value : value < $0.value } ?? value.isFinite
            if better {
                best = (epoch + 1, value, net.stateDict().mapValues { Tensor($0.scalars, shape: $0.shape) })
            }
        }
        guard let best else { throw TransferError.nonFinite("resnet expert: no finite validation metric in \(epochs) epochs") }
        _ = try net.load(stateDict: best.weights, strict: true, source: "best epoch")
        return ResidualConvNetModel(network: net, bestEpoch: best.epoch, bestValidation: best.value, epochs: epochs)
    }

    public func predict(_ data: LabeledDataset) throws -> Tensor {
        guard data.inputTensor != nil else { throw TransferError.badTask("resnet expert: \(data.name) has no input tensor") }
        return ResidualConvNetModel.predict(network, data)
    }

    /// Outputs for every sample, in batches of 64, without gradients.
    static func predict(_ net: ResidualConvNet, _ data: LabeledDataset) -> Tensor {
        net.eval()
        defer { net.train() }
        return withoutGradients {
            let n = data.count
            var parts: [Tensor] = []
            var start = 0
            while start < n {
                let end = min(n, start + 64)
                parts.append(net(data.subset(Array(start..<end)).inputTensor!))
                start = end
            }
            guard !parts.isEmpty else {
                // No samples: an empty batch of output fields.
                let spatial = data.inputTensor.map { Array($0.shape.dropFirst(2)) } ?? []
                return Tensor.zeros([0, net.projection.weight.shape[0]] + spatial)
            }
            return Tensor.concat(parts, axis: 0)
        }
    }
}
