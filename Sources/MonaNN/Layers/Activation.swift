import MonaTensor

extension TransformerConfig.Activation {
    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return x.gelu()
        case .geluTanh: return x.gelu(approximate: .tanh)
        case .relu: return x.relu()
        }
    }
}
