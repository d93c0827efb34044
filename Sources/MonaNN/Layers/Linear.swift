import MonaTensor

/// y = x·Wᵀ + b with W stored [out, in] (PyTorch / Hugging Face layout).
public final class Linear: Module {
    @Parameter public var weight: Tensor      // [out, in]
    private let _bias: Parameter?             // [out]; named "bias"

    public var bias: Tensor? { _bias?.value }
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Kaiming-uniform initialisation like `torch.nn.Linear` (bound 1/√in for weight and bias).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        _weight = Parameter(wrappedValue: Tensor.randomUniform([outFeatures, inFeatures], low: -bound, high: bound,
                                                               generator: &generator))
        _bias = bias ? Parameter(wrappedValue: Tensor.randomUniform([outFeatures], low: -bound, high: bound,
                                                                    generator: &generator)) : nil
        super.init()
    }

    /// Wraps given tensors (e.g. from a checkpoint).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        _weight = Parameter(wrappedValue: weight)
        _bias = bias.map { Parameter(wrappedValue: $0) }
        super.init()
    }

    /// x: [..., in] → [..., out]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear: input \(x.shape) does not end in \(inFeatures)")
        return Tensor.linear(x, weight: weight, bias: bias)
    }

    /// residual + (x·Wᵀ + b) in one GEMM (the residual and bias are written first, the product added into them).
    /// x: [..., in], residual: [..., out] → [..., out]
    public func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear: input \(x.shape) does not end in \(inFeatures)")
        return Tensor.linear(x, weight: weight, bias: bias, adding: residual)
    }
}
