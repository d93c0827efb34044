// im2col / col2im (PyTorch's F.unfold / F.fold): the differentiable primitives that convolutions are built from.
// Each is the other's adjoint, so each one's backward is the other and gradients of any order stay in the pair.

/// A (height, width) pair of window parameters — kernel size, stride, padding, dilation. An integer literal sets
/// both (`stride: 2`), an array literal sets them apart (`kernel: [3, 5]`).
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
                      CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value for both axes.
    public init(_ both: Int) { self.init(both, both) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Size2D: expected [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    public var description: String { "(\(height), \(width))" }
}

extension WindowGeometry2D {
    /// The geometry of a convolution-style window over `inputShape` [N, C, H, W]: checks the parameters and
    /// that at least one window fits, naming `op` and the shapes otherwise.
    init(op: String, inputShape: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D) {
        precondition(inputShape.count == 4, "\(op): expected an input [N, C, H, W], got shape \(inputShape)")
        precondition(kernel.height >= 1 && kernel.width >= 1 && stride.height >= 1 && stride.width >= 1
                        && dilation.height >= 1 && dilation.width >= 1 && padding.height >= 0 && padding.width >= 0,
                     "\(op): need kernel, stride, dilation ≥ 1 and padding ≥ 0, got kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation)")
        let (h, w) = (inputShape[2], inputShape[3])
        precondition(h + 2 * padding.height >= dilation.height * (kernel.height - 1) + 1
                        && w + 2 * padding.width >= dilation.width * (kernel.width - 1) + 1,
                     "\(op): kernel \(kernel) with dilation \(dilation) does not fit input \(inputShape) padded by \(padding)")
        self.init(batch: inputShape[0], channels: inputShape[1], height: h, width: w,
                  kernel: kernel, stride: stride, padding: padding, dilation: dilation,
                  outHeight: Self.outputLength(h, kernel: kernel.height, stride: stride.height,
                                               padding: padding.height, dilation: dilation.height),
                  outWidth: Self.outputLength(w, kernel: kernel.width, stride: stride.width,
                                              padding: padding.width, dilation: dilation.width))
    }
}

extension Tensor {
    /// Differentiable im2col over an explicit geometry: [N, C, H, W] → [N, C·kH·kW, oH·oW].
    static func unfold(_ x: Tensor, _ g: WindowGeometry2D) -> Tensor {
        let out = build(g.columnsShape) { im2colKernel(x.data, $0, g) }
        return record(out, op: .im2col, inputs: [x]) { grad, _ in [fold(grad, g)] }
    }

    /// Differentiable col2im over an explicit geometry: [N, C·kH·kW, oH·oW] → [N, C, H, W] (overlaps add up).
    static func fold(_ cols: Tensor, _ g: WindowGeometry2D) -> Tensor {
        let out = build(g.inputShape) { col2imKernel(cols.data, $0, g) }
        return record(out, op: .col2im, inputs: [cols]) { grad, _ in [unfold(grad, g)] }
    }

    /// Sliding windows as columns (PyTorch `F.unfold`): [N, C, H, W] → [N, C·kH·kW, oH·oW].
    ///
    /// Row `(c·kH + i)·kW + j` holds `self[n, c, oh·sH − pH + i·dH, ow·sW − pW + j·dW]` for every window position
    /// (oh, ow), zero in the padding; oH = ⌊(H + 2pH − dH(kH − 1) − 1)/sH⌋ + 1, likewise oW. The backward is
    /// `col2im`.
    public func im2col(kernel: Size2D, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) -> Tensor {
        Tensor.unfold(self, WindowGeometry2D(op: "im2col", inputShape: shape, kernel: kernel, stride: stride,
                                             padding: padding, dilation: dilation))
    }

    /// Sums columns back into an image (PyTorch `F.fold`), the adjoint of `im2col`:
    /// [N, C·kH·kW, L] → [N, C, height, width], where L must be the number of windows over that image.
    public func col2im(outputSize: (height: Int, width: Int), kernel: Size2D, stride: Size2D = 1,
                       padding: Size2D = 0, dilation: Size2D = 1) -> Tensor {
        let kk = kernel.height * kernel.width
        precondition(rank == 3 && kk > 0 && shape[1] % kk == 0,
                     "col2im: expected columns [N, C·\(kernel.height)·\(kernel.width), L], got shape \(shape)")
        let g = WindowGeometry2D(op: "col2im", inputShape: [shape[0], shape[1] / kk, outputSize.height, outputSize.width],
                                 kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        precondition(g.positions == shape[2],
                     "col2im: columns \(shape) hold \(shape[2]) windows but an image of \(outputSize) has \(g.positions) (\(g.outHeight)×\(g.outWidth))")
        return Tensor.fold(self, g)
    }

    /// 1-D `im2col`: [N, C, L] → [N, C·k, oL].
    public func im2col1d(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        precondition(rank == 3, "im2col1d: expected an input [N, C, L], got shape \(shape)")
        return reshaped(to: [shape[0], shape[1], 1, shape[2]])
            .im2col(kernel: Size2D(1, kernel), stride: Size2D(1, stride), padding: Size2D(0, padding),
                    dilation: Size2D(1, dilation))
    }

    /// 1-D `col2im`: [N, C·k, oL] → [N, C, outputLength].
    public func col2im1d(outputLength: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        precondition(rank == 3 && kernel > 0 && shape[1] % kernel == 0,
                     "col2im1d: expected columns [N, C·\(kernel), L], got shape \(shape)")
        return col2im(outputSize: (1, outputLength), kernel: Size2D(1, kernel), stride: Size2D(1, stride),
                      padding: Size2D(0, padding), dilation: Size2D(1, dilation))
            .reshaped(to: [shape[0], shape[1] / kernel, outputLength])
    }
}
