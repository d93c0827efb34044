import MonaNN
import MonaTensor

/// Turns the body's hidden states into predictions: the head h_ψ.
open class PredictionHead: Module {
    override public init() { super.init() }

    /// hidden [B, T, D] (with the embedder's bookkeeping) → predictions for inputs of per-sample shape
    /// `sampleShape`.
    open func predict(_ hidden: Tensor, embedded: EmbeddedTokens, sampleShape: [Int]) -> Tensor {
        fatalError("PredictionHead subclasses implement predict")
    }
}

/// Mean over tokens (padding excluded) then a Linear layer: class logits [B, K] (classification, multi-label)
/// or regression values [B, K].
public final class PooledHead: PredictionHead {
    public let linear: Linear
    /// K.
    public let outputs: Int

    public init(width: Int, outputs: Int, generator: inout SeededGenerator) {
        linear = Linear(width, outputs, generator: &generator)
        self.outputs = outputs
        super.init()
    }

    override public func predict(_ hidden: Tensor, embedded: EmbeddedTokens, sampleShape: [Int]) -> Tensor {
        linear(meanPool(hidden, mask: embedded.mask))                                   // [B, K]
    }
}

/// Mean over tokens where `mask` is 1: [B, T, D] → [B, D].
public func meanPool(_ hidden: Tensor, mask: Tensor?) -> Tensor {
    BertModel.meanPool(hidden, attentionMask: mask)
}

/// Sequence-to-sequence output for 1-D inputs: each token predicts its own patch of p positions × C_out
/// channels (a Linear layer to p·C_out), the patches are laid end to end and cropped (or linearly resampled) to
/// the input length L: [B, C_out, L].
public final class DenseSequenceHead: PredictionHead {
    public let linear: Linear
    public let patchSize: Int
    public let outputChannels: Int

    public init(width: Int, patchSize: Int, outputChannels: Int, generator: inout SeededGenerator) {
        linear = Linear(width, patchSize * outputChannels, generator: &generator)
        self.patchSize = patchSize
        self.outputChannels = outputChannels
        super.init()
    }

    override public func predict(_ hidden: Tensor, embedded: EmbeddedTokens, sampleShape: [Int]) -> Tensor {
        let b = hidden.shape[0], pre = embedded.prefixTokens
        let h = pre == 0 ? hidden : hidden.slice(axis: 1, start: pre, end: hidden.shape[1])
        let t = h.shape[1], p = patchSize, c = outputChannels
        let y = linear(h).reshaped(to: [b, t, c, p]).permuted([0, 2, 1, 3]).reshaped(to: [b, c, t * p])   // [B, C, T·p]
        let l = sampleShape[sampleShape.count - 1]
        if t * p == l { return y }
        if t * p > l && t * p - l < p { return y.slice(axis: 2, start: 0, end: l) }    // drop the right padding
        return y.resizedLinear(to: l)
    }
}

/// Field-to-field output for 2-D inputs: each patch token predicts its p×p×C_out block (a Linear layer), the
/// blocks are put back in their grid positions and the field is resized (bilinear) to H×W when the embedder
/// had resized the input: [B, C_out, H, W].
public final class DenseFieldHead: PredictionHead {
    public let linear: Linear
    public let patchSize: Int
    public let outputChannels: Int

    public init(width: Int, patchSize: Int, outputChannels: Int, generator: inout SeededGenerator) {
        linear = Linear(width, patchSize * patchSize * outputChannels, generator: &generator)
        self.patchSize = patchSize
        self.outputChannels = outputChannels
        super.init()
    }

    override public func predict(_ hidden: Tensor, embedded: EmbeddedTokens, sampleShape: [Int]) -> Tensor {
        guard let grid = embedded.grid else { preconditionFailure("DenseFieldHead: the embedder gave no patch grid") }
        let b = hidden.shape[0], pre = embedded.prefixTokens, p = patchSize, c = outputChannels
        let h = pre == 0 ? hidden : hidden.slice(axis: 1, start: pre, end: hidden.shape[1])   // [B, r·c, D]
        precondition(h.shape[1] == grid.rows * grid.cols,
                     "DenseFieldHead: \(h.shape[1]) patch tokens for a \(grid.rows)×\(grid.cols) grid")
        let y = linear(h).reshaped(to: [b, grid.rows, grid.cols, c, p, p])
            .permuted([0, 3, 1, 4, 2, 5])                                               // [B, C, r, p, c, p]
            .reshaped(to: [b, c, grid.rows * p, grid.cols * p])
        let height = sampleShape[sampleShape.count - 2], width = sampleShape[sampleShape.count - 1]
        if y.shape[2] == height && y.shape[3] == width { return y }
        return y.resizedBilinear(to: (height, width))
    }
}
