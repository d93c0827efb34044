import MonaTensor

/// Multi-head scaled dot-product self-attention core (Q, K, V projections; no output projection).
/// Hugging Face names: `query`, `key`, `value`.
public final class SelfAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let heads: Int

    public init(dimension: Int, heads: Int, generator: inout SeededGenerator) {
        precondition(heads > 0 && dimension % heads == 0, "SelfAttention: width \(dimension) not divisible by \(heads) heads")
        query = Linear(dimension, dimension, generator: &generator)
        key = Linear(dimension, dimension, generator: &generator)
        value = Linear(dimension, dimension, generator: &generator)
        self.heads = heads
        super.init()
    }

    /// x: [B, T, D]; additiveMask: broadcastable to [B, H, T, T] (0 keep, large negative drop) → [B, T, D]
    public func callAsFunction(_ x: Tensor, additiveMask: Tensor? = nil) -> Tensor {
        precondition(x.rank == 3, "SelfAttention: input must be [batch, tokens, width], got \(x.shape)")
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let dh = d / heads
        func split(_ y: Tensor) -> Tensor {                         // [B, T, D] → [B, H, T, dh]
            y.reshaped(to: [b, t, heads, dh]).permuted([0, 2, 1, 3])
        }
        // The 1/√dh score scale is folded into the query projection: a product the size of the weight instead
        // of a pass over the [B, H, T, T] scores (and another in the backward pass).
        let scale = 1 / Float(dh).squareRoot()
        let q = split(Tensor.linear(x, weight: query.weight * scale, bias: query.bias.map { $0 * scale }))
        let k = split(key(x)), v = split(value(x))
        var scores = Tensor.matmul(q, k, transposeB: true)                                  // [B, H, T, T]
        if let m = additiveMask { scores = scores + m }
        let probs = scores.softmax(alongAxis: -1)                                           // [B, H, T, T]
        let context = Tensor.matmul(probs, v)                                               // [B, H, T, dh]
        return context.permuted([0, 2, 1, 3]).reshaped(to: [b, t, d])                       // [B, T, D]
    }

    /// Turns a [B, T] 0/1 attention mask into an additive mask [B, 1, 1, T] (−1e9 where 0: a large finite value
    /// keeps fully masked rows finite).
    public static func additiveMask(fromAttentionMask mask: Tensor) -> Tensor {
        precondition(mask.rank == 2, "additiveMask: attention mask must be [batch, tokens], got \(mask.shape)")
        return ((mask - 1) * 1e9).reshaped(to: [mask.shape[0], 1, 1, mask.shape[1]])
    }
}
