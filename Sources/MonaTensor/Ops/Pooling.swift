// Pooling with PyTorch semantics (floor mode). Average pools are separable resamplings (see Resize.swift); max
// pooling records the argmax of every window in forward and is then a gather, whose adjoint is a scatter-add.

extension Tensor {
    /// 2-D average pooling of [N, C, H, W] (PyTorch `F.avg_pool2d`, count_include_pad=True: padded zeros count
    /// in the divisor kH·kW). `stride` defaults to `kernel`; padding is at most half the kernel.
    public func avgPool2d(kernel: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let geo = Tensor.poolGeometry(op: "avgPool2d", shape: shape, kernel: kernel, stride: stride ?? kernel,
                                      padding: padding)
        return Tensor.resample2d(
            self,
            rows: Tensor.windowMeanTaps(inSize: geo.height, outSize: geo.outHeight, kernel: kernel.height,
                                        stride: geo.stride.height, padding: padding.height),
            cols: Tensor.windowMeanTaps(inSize: geo.width, outSize: geo.outWidth, kernel: kernel.width,
                                        stride: geo.stride.width, padding: padding.width),
            op: "avgPool2d")
    }

    /// 1-D average pooling of [N, C, L] (count_include_pad=True); `stride` defaults to `kernel`.
    public func avgPool1d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        precondition(rank == 3, "avgPool1d: expected [N, C, L], got shape \(shape)")
        return reshaped(to: [shape[0], shape[1], 1, shape[2]])
            .avgPool2d(kernel: Size2D(1, kernel), stride: Size2D(1, stride ?? kernel), padding: Size2D(0, padding))
            .squeezingPoolRow()
    }

    /// 2-D max pooling of [N, C, H, W] (PyTorch `F.max_pool2d`, padding counts as −∞, NaN wins). The gradient
    /// goes to the first maximal element of each window. `stride` defaults to `kernel`.
    public func maxPool2d(kernel: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let geo = Tensor.poolGeometry(op: "maxPool2d", shape: shape, kernel: kernel, stride: stride ?? kernel,
                                      padding: padding)
        let map = PlaneIndexMap(inShape: shape, outShape: [geo.batch, geo.channels, geo.outHeight, geo.outWidth])
        let out = Tensor.build(map.outShape) { maxPoolKernel(data, $0, map.indices, geo) }
        return Tensor.record(out, op: .maxPool2d, inputs: [self]) { g, _ in [Tensor.planeScatterAdd(g, map)] }
    }

    /// 1-D max pooling of [N, C, L]; `stride` defaults to `kernel`.
    public func maxPool1d(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        precondition(rank == 3, "maxPool1d: expected [N, C, L], got shape \(shape)")
        return reshaped(to: [shape[0], shape[1], 1, shape[2]])
            .maxPool2d(kernel: Size2D(1, kernel), stride: Size2D(1, stride ?? kernel), padding: Size2D(0, padding))
            .squeezingPoolRow()
    }

    /// Adaptive average pooling of [N, C, H, W] to [N, C, height, width] (PyTorch `F.adaptive_avg_pool2d`):
    /// output i averages input ⌊i·H/oH⌋ ..< ⌈(i+1)·H/oH⌉, likewise along the width.
    public func adaptiveAvgPool2d(outputSize: (height: Int, width: Int)) -> Tensor {
        precondition(rank == 4, "adaptiveAvgPool2d: expected [N, C, H, W], got shape \(shape)")
        precondition(outputSize.height >= 1 && outputSize.width >= 1 && shape[2] >= 1 && shape[3] >= 1,
                     "adaptiveAvgPool2d: cannot pool \(shape) to \(outputSize.height)×\(outputSize.width) (sizes must be positive)")
        return Tensor.resample2d(self, rows: Tensor.adaptiveTaps(inSize: shape[2], outSize: outputSize.height),
                                 cols: Tensor.adaptiveTaps(inSize: shape[3], outSize: outputSize.width),
                                 op: "adaptiveAvgPool2d")
    }

    /// Adaptive average pooling of [N, C, L] to [N, C, outputSize].
    public func adaptiveAvgPool1d(outputSize: Int) -> Tensor {
        precondition(rank == 3, "adaptiveAvgPool1d: expected [N, C, L], got shape \(shape)")
        precondition(outputSize >= 1 && shape[2] >= 1,
                     "adaptiveAvgPool1d: cannot pool \(shape) to \(outputSize) (sizes must be positive)")
        return Tensor.resample2d(reshaped(to: [shape[0], shape[1], 1, shape[2]]), rows: .identity(1),
                                 cols: Tensor.adaptiveTaps(inSize: shape[2], outSize: outputSize),
                                 op: "adaptiveAvgPool1d").squeezingPoolRow()
    }

    // MARK: Implementation

    /// [N, C, 1, L] → [N, C, L].
    private func squeezingPoolRow() -> Tensor { reshaped(to: [shape[0], shape[1], shape[3]]) }

    private static func poolGeometry(op: String, shape: [Int], kernel: Size2D, stride: Size2D,
                                     padding: Size2D) -> WindowGeometry2D {
        precondition(shape.count == 4, "\(op): expected [N, C, H, W], got shape \(shape)")
        precondition(shape[2] >= 1 && shape[3] >= 1, "\(op): input \(shape) has an empty spatial axis")
        precondition(padding.height <= kernel.height / 2 && padding.width <= kernel.width / 2,
                     "\(op): padding \(padding) must be at most half of kernel \(kernel) (input \(shape))")
        return WindowGeometry2D(op: op, inputShape: shape, kernel: kernel, stride: stride, padding: padding,
                                dilation: 1)
    }

    /// Average over each window, padded positions counted: taps of weight 1/kernel on the in-range part.
    static func windowMeanTaps(inSize: Int, outSize: Int, kernel: Int, stride: Int, padding: Int) -> ResampleTaps {
        let w = 1 / Float(kernel)
        return ResampleTaps(inSize: inSize, outSize: outSize) { o in
            let start = o * stride - padding
            return (max(start, 0)..<min(start + kernel, inSize)).map { ($0, w) }
        }
    }

    /// PyTorch's adaptive bins: ⌊o·n/m⌋ ..< ⌈(o+1)·n/m⌉, each averaged.
    static func adaptiveTaps(inSize n: Int, outSize m: Int) -> ResampleTaps {
        ResampleTaps(inSize: n, outSize: m) { o in
            let start = o * n / m, end = ((o + 1) * n + m - 1) / m
            let w = 1 / Float(end - start)
            return (start..<end).map { ($0, w) }
        }
    }

    /// out[p, k] = x[p, indices[p, k]] for planes p (a gather within each plane); backward `planeScatterAdd`.
    static func planeGather(_ x: Tensor, _ map: PlaneIndexMap) -> Tensor {
        precondition(x.shape == map.inShape, "maxPool2d backward: tensor \(x.shape) should be \(map.inShape)")
        let out = build(map.outShape) { dst in
            let src = x.data, idx = map.indices, (inSize, outSize) = (map.inPlaneSize, map.outPlaneSize)
            Parallel.forEachChunk(map.planes, costPerItem: max(outSize, 1)) { r in
                for p in r {
                    let s = src + p * inSize, d = dst + p * outSize, ix = idx + p * outSize
                    for k in 0..<outSize { d[k] = s[Int(ix[k])] }
                }
            }
        }
        return record(out, op: .maxPoolGather, inputs: [x]) { g, _ in [planeScatterAdd(g, map)] }
    }

    /// The adjoint of `planeGather`: out[p, indices[p, k]] += g[p, k]; backward `planeGather`.
    static func planeScatterAdd(_ g: Tensor, _ map: PlaneIndexMap) -> Tensor {
        precondition(g.shape == map.outShape, "maxPool2d backward: gradient \(g.shape) should be \(map.outShape)")
        let out = build(map.inShape) { dst in
            let src = g.data, idx = map.indices, (inSize, outSize) = (map.inPlaneSize, map.outPlaneSize)
            Parallel.forEachChunk(map.planes, costPerItem: max(inSize + outSize, 1)) { r in
                for p in r {
                    let s = src + p * outSize, d = dst + p * inSize, ix = idx + p * outSize
                    d.update(repeating: 0, count: inSize)
                    for k in 0..<outSize { d[Int(ix[k])] += s[k] }
                }
            }
        }
        return record(out, op: .maxPoolScatter, inputs: [g]) { gg, _ in [planeGather(gg, map)] }
    }
}

/// Per-plane element indices (the argmax of each pooling window), shared by a gather and its scatter adjoint.
final class PlaneIndexMap: @unchecked Sendable {
    let inShape: [Int], outShape: [Int]
    let planes: Int, inPlaneSize: Int, outPlaneSize: Int
    /// [planes, outPlaneSize] indices into each input plane; written once by the forward kernel.
    let indices: UnsafeMutablePointer<Int32>

    init(inShape: [Int], outShape: [Int]) {
        self.inShape = inShape
        self.outShape = outShape
        planes = inShape[0] * inShape[1]
        inPlaneSize = inShape[2] * inShape[3]
        outPlaneSize = outShape[2] * outShape[3]
        precondition(inPlaneSize <= Int(Int32.max), "maxPool2d: plane of \(inShape) too large for 32-bit indices")
        indices = .allocate(capacity: max(planes * outPlaneSize, 1))
    }

    deinit { indices.deallocate() }
}

/// Max over each window of [N, C, H, W] into `dst`, recording the in-plane index of the winner (the first
/// maximum; a NaN replaces any number so that NaN propagates, as in PyTorch).
func maxPoolKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                   _ indices: UnsafeMutablePointer<Int32>, _ g: WindowGeometry2D) {
    let (h, w, oh, ow) = (g.height, g.width, g.outHeight, g.outWidth)
    let (kh, kw, sh, sw, ph, pw) = (g.kernel.height, g.kernel.width, g.stride.height, g.stride.width,
                                    g.padding.height, g.padding.width)
    Parallel.forEachChunk(g.batch * g.channels, costPerItem: max(oh * ow * kh * kw, 1)) { r in
        for p in r {
            let x = src + p * h * w, y = dst + p * oh * ow, ix = indices + p * oh * ow
            for i in 0..<oh {
                let h0 = max(i * sh - ph, 0), h1 = min(i * sh - ph + kh, h)
                for j in 0..<ow {
                    let w0 = max(j * sw - pw, 0), w1 = min(j * sw - pw + kw, w)
                    var best = h0 * w + w0
                    var m = x[best]
                    for a in h0..<h1 {
                        for b in w0..<w1 {
                            // Selects rather than branches: the comparison is unpredictable on real data.
                            let k = a * w + b, v = x[k]
                            let better = v > m || v.isNaN
                            m = better ? v : m
                            best = better ? k : best
                        }
                    }
                    y[i * ow + j] = m
                    ix[i * ow + j] = Int32(best)
                }
            }
        }
    }
}
