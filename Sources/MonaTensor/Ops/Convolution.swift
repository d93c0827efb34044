// Convolutions (PyTorch semantics and layouts): im2col + GEMM + bias, and a transposed convolution as GEMM +
// col2im. Everything is composed of differentiable ops, so gradients of any order come for free.

extension Tensor {
    /// 2-D convolution (cross-correlation, as in PyTorch `F.conv2d`).
    ///
    /// - Parameters:
    ///   - input: [N, C, H, W].
    ///   - weight: [O, C/groups, kH, kW].
    ///   - bias: [O], optional.
    ///   - groups: channels are split into `groups` independent convolutions (`groups == C` is depthwise).
    /// - Returns: [N, O, oH, oW] with oH = ⌊(H + 2pH − dH(kH − 1) − 1)/sH⌋ + 1, likewise oW.
    ///
    /// Patchifiers (stride = kernel, no padding or dilation) gather patches and run one GEMM over all of them;
    /// other shapes use im2col and one GEMM per batch element and group (a 1×1 stride-1 kernel skips im2col).
    public static func conv2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                              padding: Size2D = 0, dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        let geo = checkedConvGeometry(op: "conv2d", input, weight, bias: bias, stride: stride, padding: padding,
                                      dilation: dilation, groups: groups)
        let isPointwise = geo.kernel == 1 && geo.stride == 1 && geo.padding == 0
        if groups == 1 && !isPointwise && geo.stride == geo.kernel && geo.padding == 0 && geo.dilation == 1 {
            let tokens = patchTokens(input, weight, bias: bias, geo)                // [N, L, O]
            return tokens.convSwappingLastTwoAxes()                                  // [N, O, L]
                .reshaped(to: [geo.batch, weight.shape[0], geo.outHeight, geo.outWidth])
        }
        return conv2dColumns(input, weight, bias: bias, geo, groups: groups)
    }

    /// 1-D convolution (PyTorch `F.conv1d`): input [N, C, L], weight [O, C/groups, k], bias [O] → [N, O, oL].
    public static func conv1d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                              padding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3,
                     "conv1d: expected input [N, C, L] and weight [O, C/groups, k], got \(input.shape) and \(weight.shape)")
        let (n, c, l) = (input.shape[0], input.shape[1], input.shape[2])
        let w = weight.shape
        let out = conv2d(input.reshaped(to: [n, c, 1, l]), weight.reshaped(to: [w[0], w[1], 1, w[2]]), bias: bias,
                         stride: Size2D(1, stride), padding: Size2D(0, padding), dilation: Size2D(1, dilation),
                         groups: groups)                                              // [N, O, 1, oL]
        return out.reshaped(to: [n, w[0], out.shape[3]])
    }

    /// Non-overlapping patch embedding: a convolution with stride = kernel = the weight's spatial size and no
    /// padding, returned as tokens. Equals `conv2d(input, weight, bias: bias, stride: [kH, kW])` flattened to
    /// [N, O, oH·oW] and transposed, without computing either rearrangement.
    ///
    /// input [N, C, H, W], weight [O, C, kH, kW], bias [O] → [N, oH·oW, O] (row-major patch order).
    public static func patchEmbedding2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 4,
                     "patchEmbedding2d: expected weight [O, C, kH, kW], got \(weight.shape) (input \(input.shape))")
        let k = Size2D(weight.shape[2], weight.shape[3])
        let geo = checkedConvGeometry(op: "patchEmbedding2d", input, weight, bias: bias, stride: k, padding: 0,
                                      dilation: 1, groups: 1)
        return patchTokens(input, weight, bias: bias, geo)
    }

    /// 1-D `patchEmbedding2d`: input [N, C, L], weight [O, C, k], bias [O] → [N, ⌊L/k⌋, O].
    public static func patchEmbedding1d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3,
                     "patchEmbedding1d: expected input [N, C, L] and weight [O, C, k], got \(input.shape) and \(weight.shape)")
        let w = weight.shape
        return patchEmbedding2d(input.reshaped(to: [input.shape[0], input.shape[1], 1, input.shape[2]]),
                                weight.reshaped(to: [w[0], w[1], 1, w[2]]), bias: bias)
    }

    /// 2-D transposed convolution (PyTorch `F.conv_transpose2d`), the adjoint of `conv2d` in its input.
    ///
    /// - Parameters:
    ///   - input: [N, Cin, H, W].
    ///   - weight: [Cin, Cout/groups, kH, kW].
    ///   - bias: [Cout], optional.
    ///   - outputPadding: extra size on the bottom/right of the output; must be below stride or dilation.
    /// - Returns: [N, Cout, oH, oW] with oH = (H − 1)·sH − 2pH + dH(kH − 1) + opH + 1, likewise oW.
    public static func convTranspose2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                       padding: Size2D = 0, outputPadding: Size2D = 0, dilation: Size2D = 1,
                                       groups: Int = 1) -> Tensor {
        let op = "convTranspose2d"
        precondition(input.rank == 4 && weight.rank == 4,
                     "\(op): expected input [N, Cin, H, W] and weight [Cin, Cout/groups, kH, kW], got \(input.shape) and \(weight.shape)")
        let (n, cin, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (coutG, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        precondition(groups >= 1 && cin % groups == 0 && weight.shape[0] == cin,
                     "\(op): input \(input.shape) and weight \(weight.shape) need weight.shape[0] = Cin divisible by groups = \(groups)")
        let cout = coutG * groups
        if let bias { precondition(bias.shape == [cout], "\(op): bias \(bias.shape) should be [\(cout)] for weight \(weight.shape) with groups \(groups)") }
        precondition(kh >= 1 && kw >= 1 && stride.height >= 1 && stride.width >= 1 && dilation.height >= 1
                        && dilation.width >= 1 && padding.height >= 0 && padding.width >= 0
                        && outputPadding.height >= 0 && outputPadding.width >= 0,
                     "\(op): need kernel, stride, dilation ≥ 1 and padding, outputPadding ≥ 0, got weight \(weight.shape), stride \(stride), padding \(padding), outputPadding \(outputPadding), dilation \(dilation)")
        precondition((outputPadding.height < stride.height || outputPadding.height < dilation.height)
                        && (outputPadding.width < stride.width || outputPadding.width < dilation.width),
                     "\(op): outputPadding \(outputPadding) must be smaller than stride \(stride) or dilation \(dilation)")
        let oh = (h - 1) * stride.height - 2 * padding.height + dilation.height * (kh - 1) + outputPadding.height + 1
        let ow = (w - 1) * stride.width - 2 * padding.width + dilation.width * (kw - 1) + outputPadding.width + 1
        precondition(h >= 1 && w >= 1 && oh >= 1 && ow >= 1,
                     "\(op): input \(input.shape) with weight \(weight.shape), stride \(stride), padding \(padding) gives an empty output \(oh)×\(ow)")
        // Window positions are the input pixels; each scatters its kernel-sized patch into the output.
        let geo = WindowGeometry2D(batch: n, channels: cout, height: oh, width: ow, kernel: Size2D(kh, kw),
                                   stride: stride, padding: padding, dilation: dilation, outHeight: h, outWidth: w)
        let cols = sharedWeightMatmul(weight.reshaped(to: [groups, cin / groups, coutG * kh * kw]),
                                      input.reshaped(to: [n, groups, cin / groups, h * w]),
                                      transposeW: true)                              // [N, G, Cout/G·kH·kW, H·W]
        let out = fold(cols.reshaped(to: [n, cout * kh * kw, h * w]), geo)          // [N, Cout, oH, oW]
        guard let bias else { return out }
        return out + bias.reshaped(to: [1, cout, 1, 1])
    }

    /// 1-D transposed convolution: input [N, Cin, L], weight [Cin, Cout/groups, k], bias [Cout] → [N, Cout, oL]
    /// with oL = (L − 1)·s − 2p + d(k − 1) + outputPadding + 1.
    public static func convTranspose1d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                                       padding: Int = 0, outputPadding: Int = 0, dilation: Int = 1,
                                       groups: Int = 1) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3,
                     "convTranspose1d: expected input [N, Cin, L] and weight [Cin, Cout/groups, k], got \(input.shape) and \(weight.shape)")
        let (n, c, l) = (input.shape[0], input.shape[1], input.shape[2])
        let w = weight.shape
        let out = convTranspose2d(input.reshaped(to: [n, c, 1, l]), weight.reshaped(to: [w[0], w[1], 1, w[2]]),
                                  bias: bias, stride: Size2D(1, stride), padding: Size2D(0, padding),
                                  outputPadding: Size2D(0, outputPadding), dilation: Size2D(1, dilation),
                                  groups: groups)                                    // [N, Cout, 1, oL]
        return out.reshaped(to: [n, out.shape[1], out.shape[3]])
    }

    // MARK: Implementation

    /// Validates a convolution's operands and returns its window geometry.
    static func checkedConvGeometry(op: String, _ input: Tensor, _ weight: Tensor, bias: Tensor?, stride: Size2D,
                                    padding: Size2D, dilation: Size2D, groups: Int) -> WindowGeometry2D {
        precondition(input.rank == 4 && weight.rank == 4,
                     "\(op): expected input [N, C, H, W] and weight [O, C/groups, kH, kW], got \(input.shape) and \(weight.shape)")
        let c = input.shape[1], o = weight.shape[0]
        precondition(groups >= 1 && c % groups == 0 && o % groups == 0 && weight.shape[1] == c / groups,
                     "\(op): input \(input.shape) and weight \(weight.shape) do not match for groups = \(groups) (weight must be [O, C/groups, kH, kW] with C and O divisible by groups)")
        if let bias { precondition(bias.shape == [o], "\(op): bias \(bias.shape) should be [\(o)] for weight \(weight.shape)") }
        return WindowGeometry2D(op: op, inputShape: input.shape, kernel: Size2D(weight.shape[2], weight.shape[3]),
                                stride: stride, padding: padding, dilation: dilation)
    }

    /// General path: im2col, then one GEMM per batch element and group with the shared weight.
    static func conv2dColumns(_ input: Tensor, _ weight: Tensor, bias: Tensor?, _ geo: WindowGeometry2D,
                              groups: Int) -> Tensor {
        let (n, c, o) = (geo.batch, geo.channels, weight.shape[0])
        let isPointwise = geo.kernel == 1 && geo.stride == 1 && geo.padding == 0
        // A 1×1 stride-1 kernel reads every pixel once in order: the input already is its column matrix.
        let cols = isPointwise ? input.reshaped(to: [n, c, geo.positions]) : unfold(input, geo)   // [N, C·kk, L]
        let k = c / groups * geo.windowSize
        let out = sharedWeightMatmul(weight.reshaped(to: [groups, o / groups, k]),
                                     cols.reshaped(to: [n, groups, k, geo.positions]),
                                     transposeW: false)                              // [N, G, O/G, L]
            .reshaped(to: [n, o, geo.outHeight, geo.outWidth])
        guard let bias else { return out }
        return out + bias.reshaped(to: [1, o, 1, 1])
    }

    /// Patchifier path (stride = kernel, no padding or dilation, one group): the patches are a permutation of
    /// the input, and one GEMM over all of them gives the tokens [N, oH·oW, O].
    static func patchTokens(_ input: Tensor, _ weight: Tensor, bias: Tensor?, _ geo: WindowGeometry2D) -> Tensor {
        let o = weight.shape[0]
        if geo.channels == 0 {   // no inputs to combine: the GEMM's inner dimension is empty
            let zeros = Tensor.zeros([geo.batch, geo.positions, o])
            return bias.map { zeros + $0 } ?? zeros
        }
        let patches = patchGather(input, geo)                                        // [N, L, C·kH·kW]
        let tokens = matmul(patches, weight.reshaped(to: [o, geo.channels * geo.windowSize]),
                            transposeB: true)                                        // [N, L, O]
        guard let bias else { return tokens }
        return tokens + bias
    }

    /// [N, C, H, W] → [N, oH·oW, C·kH·kW] for non-overlapping patches; backward `patchScatter`.
    static func patchGather(_ x: Tensor, _ g: WindowGeometry2D) -> Tensor {
        let out = build([g.batch, g.positions, g.channels * g.windowSize]) { patchGatherKernel(x.data, $0, g) }
        return record(out, op: .patchGather, inputs: [x]) { grad, _ in [patchScatter(grad, g)] }
    }

    /// The adjoint of `patchGather`: [N, oH·oW, C·kH·kW] → [N, C, H, W].
    static func patchScatter(_ patches: Tensor, _ g: WindowGeometry2D) -> Tensor {
        let out = build(g.inputShape) { p in
            if g.positions == 0 { p.update(repeating: 0, count: g.inputShape.reduce(1, *)); return }
            patchScatterKernel(patches.data, p, g)
        }
        return record(out, op: .patchScatter, inputs: [patches]) { grad, _ in [patchGather(grad, g)] }
    }

    /// [B, X, Y] → [B, Y, X] (materialised); its own adjoint. Kept private to convolutions.
    func convSwappingLastTwoAxes() -> Tensor {
        precondition(rank == 3, "convSwappingLastTwoAxes: expected rank 3, got shape \(shape)")
        let (b, x, y) = (shape[0], shape[1], shape[2])
        let src = self
        let out = Tensor.build([b, y, x]) { transposeLastTwoKernel(src.data, $0, batch: b, rows: x, cols: y) }
        return Tensor.record(out, op: .swapLastTwoAxes, inputs: [self]) { grad, _ in [grad.convSwappingLastTwoAxes()] }
    }
}
