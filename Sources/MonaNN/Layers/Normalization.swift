import MonaTensor

/// Layer normalisation over the last axis (biased variance, ε inside the square root, like PyTorch).
public final class LayerNorm: Module {
    @Parameter public var weight: Tensor   // [d]
    @Parameter public var bias: Tensor     // [d]
    public let epsilon: Float

    public init(_ dimension: Int, epsilon: Float = 1e-5) {
        _weight = Parameter(wrappedValue: .ones([dimension]))
        _bias = Parameter(wrappedValue: .zeros([dimension]))
        self.epsilon = epsilon
        super.init()
    }

    /// x: [..., d] → [..., d]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }
}
