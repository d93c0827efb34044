import MonaTensor

/// 2-D convolution layer, weight [out, in, kH, kW] (PyTorch layout).
public final class Conv2d: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), generator: inout SeededGenerator) {
        let bound = 1 / Float(inChannels * kernel.0 * kernel.1).squareRoot()
        _weight = Parameter(wrappedValue: Tensor.randomUniform([outChannels, inChannels, kernel.0, kernel.1],
                                                               low: -bound, high: bound, generator: &generator))
        _bias = Parameter(wrappedValue: Tensor.randomUniform([outChannels], low: -bound, high: bound, generator: &generator))
        self.stride = stride
        self.padding = padding
        super.init()
    }

    /// x: [B, Cin, H, W] → [B, Cout, H', W']
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight, bias: bias, stride: Size2D(stride.0, stride.1), padding: Size2D(padding.0, padding.1))
    }
}

/// 1-D convolution layer, weight [out, in, k].
public final class Conv1d: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                generator: inout SeededGenerator) {
        let bound = 1 / Float(inChannels * kernel).squareRoot()
        _weight = Parameter(wrappedValue: Tensor.randomUniform([outChannels, inChannels, kernel], low: -bound, high: bound,
                                                               generator: &generator))
        _bias = Parameter(wrappedValue: Tensor.randomUniform([outChannels], low: -bound, high: bound, generator: &generator))
        self.stride = stride
        self.padding = padding
        super.init()
    }

    /// x: [B, Cin, L] → [B, Cout, L']
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv1d(x, weight, bias: bias, stride: stride, padding: padding)
    }
}
