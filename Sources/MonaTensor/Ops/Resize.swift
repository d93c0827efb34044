// Image resizing with PyTorch `F.interpolate` semantics (align_corners=False, no antialias), on top of the
// separable resampling op pair that average pooling shares.

extension Tensor {
    /// Differentiable separable resampling of the last two axes: [..., H, W] → [..., oH, oW]. Backward is
    /// `resample2dAdjoint` with the same taps, whose backward is this op again.
    static func resample2d(_ x: Tensor, rows: ResampleTaps, cols: ResampleTaps, op: String) -> Tensor {
        precondition(x.rank >= 2 && x.shape[x.rank - 2] == rows.inSize && x.shape[x.rank - 1] == cols.inSize,
                     "\(op): input \(x.shape) does not end in [\(rows.inSize), \(cols.inSize)]")
        let lead = Array(x.shape.dropLast(2))
        let out = build(lead + [rows.outSize, cols.outSize]) {
            resampleKernel(x.data, $0, planes: lead.reduce(1, *), rows: rows, cols: cols)
        }
        return record(out, op: .resample2d, inputs: [x]) { g, _ in [resample2dAdjoint(g, rows: rows, cols: cols, op: op)] }
    }

    /// The adjoint of `resample2d`: [..., oH, oW] → [..., H, W].
    static func resample2dAdjoint(_ g: Tensor, rows: ResampleTaps, cols: ResampleTaps, op: String) -> Tensor {
        precondition(g.rank >= 2 && g.shape[g.rank - 2] == rows.outSize && g.shape[g.rank - 1] == cols.outSize,
                     "\(op) backward: gradient \(g.shape) does not end in [\(rows.outSize), \(cols.outSize)]")
        let lead = Array(g.shape.dropLast(2))
        let out = build(lead + [rows.inSize, cols.inSize]) {
            resampleAdjointKernel(g.data, $0, planes: lead.reduce(1, *), rows: rows, cols: cols)
        }
        return record(out, op: .resample2dAdjoint, inputs: [g]) { gg, _ in [resample2d(gg, rows: rows, cols: cols, op: op)] }
    }

    /// Bilinear resize of [N, C, H, W] to [N, C, height, width] (PyTorch `F.interpolate(mode="bilinear",
    /// align_corners=False)`: half-pixel centres, negative source coordinates clamped to 0, no antialias).
    public func resizedBilinear(to size: (height: Int, width: Int)) -> Tensor {
        resized(to: size, scaleFactor: nil, op: "resizedBilinear", taps: Tensor.linearTaps)
    }

    /// Bilinear resize by a scale factor: the output is ⌊H·sh⌋ × ⌊W·sw⌋ and source coordinates use 1/s, as
    /// PyTorch does when `interpolate` gets `scale_factor` (without `recompute_scale_factor`).
    public func resizedBilinear(scaleFactor: (height: Double, width: Double)) -> Tensor {
        resized(to: scaledSize(scaleFactor, op: "resizedBilinear"), scaleFactor: scaleFactor,
                op: "resizedBilinear", taps: Tensor.linearTaps)
    }

    /// Bicubic resize of [N, C, H, W] (PyTorch `mode="bicubic", align_corners=False`, A = −0.75, border pixels
    /// repeated, no antialias).
    public func resizedBicubic(to size: (height: Int, width: Int)) -> Tensor {
        resized(to: size, scaleFactor: nil, op: "resizedBicubic", taps: Tensor.cubicTaps)
    }

    /// Bicubic resize by a scale factor (PyTorch `scale_factor` semantics, as used by DINOv2's position-embedding
    /// interpolation).
    public func resizedBicubic(scaleFactor: (height: Double, width: Double)) -> Tensor {
        resized(to: scaledSize(scaleFactor, op: "resizedBicubic"), scaleFactor: scaleFactor,
                op: "resizedBicubic", taps: Tensor.cubicTaps)
    }

    /// Linear resize of [N, C, L] to [N, C, length] (PyTorch `mode="linear", align_corners=False`).
    public func resizedLinear(to length: Int) -> Tensor {
        precondition(rank == 3, "resizedLinear: expected [N, C, L], got shape \(shape)")
        precondition(length >= 1 && shape[2] >= 1, "resizedLinear: cannot resize \(shape) to length \(length)")
        let taps = Tensor.linearTaps(inSize: shape[2], outSize: length, scaleFactor: nil)
        return Tensor.resample2d(reshaped(to: [shape[0], shape[1], 1, shape[2]]), rows: .identity(1), cols: taps,
                                 op: "resizedLinear").reshaped(to: [shape[0], shape[1], length])
    }

    // MARK: Implementation

    private func scaledSize(_ s: (height: Double, width: Double), op: String) -> (height: Int, width: Int) {
        precondition(rank == 4, "\(op): expected [N, C, H, W], got shape \(shape)")
        precondition(s.height > 0 && s.width > 0 && s.height.isFinite && s.width.isFinite,
                     "\(op): scale factor \(s) must be positive (input \(shape))")
        return (Int((Double(shape[2]) * s.height).rounded(.down)), Int((Double(shape[3]) * s.width).rounded(.down)))
    }

    private func resized(to size: (height: Int, width: Int), scaleFactor: (height: Double, width: Double)?,
                         op: String, taps: (Int, Int, Double?) -> ResampleTaps) -> Tensor {
        precondition(rank == 4, "\(op): expected [N, C, H, W], got shape \(shape)")
        precondition(size.height >= 1 && size.width >= 1 && shape[2] >= 1 && shape[3] >= 1,
                     "\(op): cannot resize \(shape) to \(size.height)×\(size.width) (both sizes must be positive)")
        return Tensor.resample2d(self, rows: taps(shape[2], size.height, scaleFactor?.height),
                                 cols: taps(shape[3], size.width, scaleFactor?.width), op: op)
    }

    /// PyTorch's source-coordinate scale: 1/scale_factor when given, else in/out (computed in Float, like its
    /// Float32 kernels).
    private static func coordinateScale(inSize: Int, outSize: Int, scaleFactor: Double?) -> Float {
        if let s = scaleFactor, s > 0 { return Float(1.0 / s) }
        return Float(inSize) / Float(outSize)
    }

    /// Linear interpolation taps, align_corners=False.
    static func linearTaps(inSize: Int, outSize: Int, scaleFactor: Double?) -> ResampleTaps {
        let scale = coordinateScale(inSize: inSize, outSize: outSize, scaleFactor: scaleFactor)
        return ResampleTaps(inSize: inSize, outSize: outSize) { o in
            let src = max(scale * (Float(o) + 0.5) - 0.5, 0)
            let i0 = min(Int(src), inSize - 1)
            let l1 = min(max(src - Float(i0), 0), 1)
            let i1 = i0 < inSize - 1 ? i0 + 1 : i0
            return [(i0, 1 - l1), (i1, l1)]
        }
    }

    /// Cubic convolution taps (Keys, A = −0.75), align_corners=False, indices clamped to the border.
    static func cubicTaps(inSize: Int, outSize: Int, scaleFactor: Double?) -> ResampleTaps {
        let scale = coordinateScale(inSize: inSize, outSize: outSize, scaleFactor: scaleFactor)
        let a: Float = -0.75
        // |x| ≤ 1 and 1 < |x| < 2 pieces of the cubic convolution kernel.
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return ResampleTaps(inSize: inSize, outSize: outSize) { o in
            let src = scale * (Float(o) + 0.5) - 0.5
            let i = min(Int(src.rounded(.down)), inSize - 1)
            let t = min(max(src - Float(i), 0), 1)
            let w = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            return (0..<4).map { j in (min(max(i - 1 + j, 0), inSize - 1), w[j]) }
        }
    }
}
