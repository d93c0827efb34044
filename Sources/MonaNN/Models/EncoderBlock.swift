import MonaTensor

/// A transformer encoder block: hidden states [B, T, D] and an optional additive attention mask → [B, T, D].
protocol EncoderBlock {
    func callAsFunction(_ x: Tensor, additiveMask: Tensor?) -> Tensor
}

extension Array where Element: EncoderBlock {
    /// Runs the blocks in order; `hook` sees the hidden state after each block (index, [B, T, D]).
    func run(_ x: Tensor, additiveMask: Tensor?, hook: ((Int, Tensor) -> Void)?) -> Tensor {
        var h = x
        for (i, block) in enumerated() {
            h = block(h, additiveMask: additiveMask)
            hook?(i, h)
        }
        return h
    }
}
