// Inverted dropout with a seeded mask.

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `probability` and scales the survivors by
    /// 1/(1 − probability), so the expected value is unchanged and evaluation needs no rescaling.
    ///
    /// The mask is drawn from `generator` in row-major order (two 24-bit draws per 64-bit output), so the same
    /// seed gives the same mask on every platform and thread count. Backward: g·mask/(1 − p) (linear, so any
    /// order of derivative is exact). With `training == false` or `probability == 0` this returns `self` and
    /// draws nothing; with `probability == 1` the result is all zeros (as in PyTorch).
    public func dropout(probability: Float, generator: inout SeededGenerator, training: Bool = true) -> Tensor {
        precondition(probability >= 0 && probability <= 1,
                     "dropout: probability \(probability) is not in [0, 1] (input shape \(shape))")
        if !training || probability == 0 || count == 0 { return self }
        let mask = Tensor.dropoutMask(shape, probability: probability, generator: &generator)
        let out = binaryMap(self, mask, op: "dropout", { $0 * $1 }, { $0 * $1 })
        return Tensor.record(out, op: .dropout, inputs: [self]) { g, _ in [g * mask] }
    }

    /// The scaled keep-mask of inverted dropout: 1/(1 − p) with probability 1 − p, else 0.
    static func dropoutMask(_ shape: [Int], probability: Float, generator: inout SeededGenerator) -> Tensor {
        let scale: Float = probability < 1 ? 1 / (1 - probability) : 0
        // Drop when a 24-bit uniform integer u satisfies u < p·2²⁴ (exact: p = 1 drops everything).
        let threshold = UInt64((Double(probability) * 16_777_216).rounded(.up))
        let n = Tensor.elementCount(shape, op: "dropout")
        return Tensor.build(shape) { m in
            var i = 0
            while i + 2 <= n {
                let r = generator.next()
                m[i] = (r >> 40) < threshold ? 0 : scale
                m[i + 1] = ((r >> 8) & 0xFF_FFFF) < threshold ? 0 : scale
                i += 2
            }
            if i < n { m[i] = (generator.next() >> 40) < threshold ? 0 : scale }
        }
    }
}
