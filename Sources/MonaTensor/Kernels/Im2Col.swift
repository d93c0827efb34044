// Data-movement kernels behind convolution: im2col / col2im (an adjoint pair), the non-overlapping patch gather
// used by patchifier convolutions, and a batched last-two-axes transpose. All are pure gathers or scatter-adds.

/// Geometry of a 2-D sliding window over a batch of planes.
///
/// `outHeight`/`outWidth` is the grid of window positions. For a convolution it follows from the input size; a
/// transposed convolution passes its input's size instead (which `outputPadding` can make differ from the formula).
struct WindowGeometry2D: Sendable, Equatable {
    var batch: Int, channels: Int, height: Int, width: Int
    var kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D
    var outHeight: Int, outWidth: Int

    /// Number of window positions per plane.
    var positions: Int { outHeight * outWidth }
    /// Elements per window (per channel).
    var windowSize: Int { kernel.height * kernel.width }
    var inputShape: [Int] { [batch, channels, height, width] }
    var columnsShape: [Int] { [batch, channels * windowSize, positions] }

    /// PyTorch's output length of a sliding window: ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1.
    static func outputLength(_ n: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        let span = n + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }
}

/// Window positions `o` in `0..<count` whose source index `o·stride + offset` lies in `0..<size`.
@inline(__always)
func validWindowRange(offset: Int, stride: Int, size: Int, count: Int) -> Range<Int> {
    let lo = offset >= 0 ? 0 : min(count, (-offset + stride - 1) / stride)
    let last = size - 1 - offset
    let hi = last < 0 ? 0 : min(count, last / stride + 1)
    return lo < hi ? lo..<hi : lo..<lo
}

/// dst[0..<n] += src[0..<n].
@inline(__always)
func addRun(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
            + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] += src[i]; i += 1 }
}

/// dst[0..<n] += w · src[0..<n].
@inline(__always)
func axpyRun(_ dst: UnsafeMutablePointer<Float>, _ w: Float, _ src: UnsafePointer<Float>, _ n: Int) {
    let vw = SIMD8<Float>(repeating: w)
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
            .addingProduct(vw, UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self))
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { dst[i] += w * src[i]; i += 1 }
}

/// Unfolds [N, C, H, W] into columns [N, C·kH·kW, oH·oW]; row (c, i, j) holds input[c, oh·sH − pH + i·dH,
/// ow·sW − pW + j·dW] (zero where that falls in the padding).
func im2colKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry2D) {
    let planes = g.batch * g.channels, kk = g.windowSize, rowLength = g.positions
    let (kH, kW) = (g.kernel.height, g.kernel.width)
    let (sH, sW) = (g.stride.height, g.stride.width)
    let (oH, oW, H, W) = (g.outHeight, g.outWidth, g.height, g.width)
    Parallel.forEachChunk(planes, costPerItem: max(1, kk * rowLength)) { r in
        for p in r {
            let plane = src + p * H * W
            for i in 0..<kH {
                let offH = i * g.dilation.height - g.padding.height
                let rowsOK = validWindowRange(offset: offH, stride: sH, size: H, count: oH)
                for j in 0..<kW {
                    let offW = j * g.dilation.width - g.padding.width
                    let cols = validWindowRange(offset: offW, stride: sW, size: W, count: oW)
                    let out = dst + (p * kk + i * kW + j) * rowLength
                    for oh in 0..<oH {
                        let o = out + oh * oW
                        guard rowsOK.contains(oh), !cols.isEmpty else { o.update(repeating: 0, count: oW); continue }
                        let s = plane + (oh * sH + offH) * W + offW
                        if cols.lowerBound > 0 { o.update(repeating: 0, count: cols.lowerBound) }
                        if sW == 1 {
                            (o + cols.lowerBound).update(from: s + cols.lowerBound, count: cols.count)
                        } else {
                            for ow in cols { o[ow] = s[ow * sW] }
                        }
                        if cols.upperBound < oW { (o + cols.upperBound).update(repeating: 0, count: oW - cols.upperBound) }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2colKernel`: scatter-adds columns [N, C·kH·kW, oH·oW] back into [N, C, H, W].
func col2imKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry2D) {
    let planes = g.batch * g.channels, kk = g.windowSize, rowLength = g.positions
    let (kH, kW) = (g.kernel.height, g.kernel.width)
    let (sH, sW) = (g.stride.height, g.stride.width)
    let (oH, oW, H, W) = (g.outHeight, g.outWidth, g.height, g.width)
    Parallel.forEachChunk(planes, costPerItem: max(1, kk * rowLength)) { r in
        for p in r {
            let plane = dst + p * H * W
            plane.update(repeating: 0, count: H * W)
            for i in 0..<kH {
                let offH = i * g.dilation.height - g.padding.height
                let rowsOK = validWindowRange(offset: offH, stride: sH, size: H, count: oH)
                for j in 0..<kW {
                    let offW = j * g.dilation.width - g.padding.width
                    let cols = validWindowRange(offset: offW, stride: sW, size: W, count: oW)
                    if cols.isEmpty { continue }
                    let row = src + (p * kk + i * kW + j) * rowLength
                    for oh in rowsOK {
                        let c = row + oh * oW
                        let d = plane + (oh * sH + offH) * W + offW
                        if sW == 1 {
                            addRun(d + cols.lowerBound, c + cols.lowerBound, cols.count)
                        } else {
                            for ow in cols { d[ow * sW] += c[ow] }
                        }
                    }
                }
            }
        }
    }
}

/// Non-overlapping patches (kernel = stride, no padding or dilation): [N, C, H, W] → [N, oH·oW, C·kH·kW], one
/// row per patch in (c, i, j) order — the flattened weight layout, so one GEMM with the weight gives tokens.
/// Trailing rows/columns that do not fill a patch are dropped, as in PyTorch.
func patchGatherKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry2D) {
    let (kH, kW, oH, oW, H, W, C) = (g.kernel.height, g.kernel.width, g.outHeight, g.outWidth, g.height, g.width,
                                     g.channels)
    let rowLength = C * kH * kW
    Parallel.forEachChunk(g.batch * oH, costPerItem: max(1, oW * rowLength)) { r in
        for job in r {
            let n = job / oH, oh = job % oH
            for ow in 0..<oW {
                let out = dst + ((n * oH + oh) * oW + ow) * rowLength
                for c in 0..<C {
                    let s = src + ((n * C + c) * H + oh * kH) * W + ow * kW
                    for i in 0..<kH { (out + (c * kH + i) * kW).update(from: s + i * W, count: kW) }
                }
            }
        }
    }
}

/// The adjoint of `patchGatherKernel`: [N, oH·oW, C·kH·kW] → [N, C, H, W], zeros where no patch reaches.
func patchScatterKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: WindowGeometry2D) {
    let (kH, kW, oH, oW, H, W, C) = (g.kernel.height, g.kernel.width, g.outHeight, g.outWidth, g.height, g.width,
                                     g.channels)
    let rowLength = C * kH * kW
    let covered = oH * kH == H && oW * kW == W
    Parallel.forEachChunk(g.batch * oH, costPerItem: max(1, oW * rowLength)) { r in
        for job in r {
            let n = job / oH, oh = job % oH
            if !covered {
                // This job owns input rows [oh·kH, oh·kH + kH) of every channel, plus the uncovered tail rows
                // when it is the last patch row.
                let rowEnd = oh == oH - 1 ? H : (oh + 1) * kH
                for c in 0..<C {
                    (dst + ((n * C + c) * H + oh * kH) * W).update(repeating: 0, count: (rowEnd - oh * kH) * W)
                }
            }
            for ow in 0..<oW {
                let row = src + ((n * oH + oh) * oW + ow) * rowLength
                for c in 0..<C {
                    let d = dst + ((n * C + c) * H + oh * kH) * W + ow * kW
                    for i in 0..<kH { (d + i * W).update(from: row + (c * kH + i) * kW, count: kW) }
                }
            }
        }
        // With no patch row at all (oH == 0) nothing above runs; the caller zero-fills that case.
    }
}

/// [B, X, Y] → [B, Y, X] in 32×32 tiles.
func transposeLastTwoKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                            batch: Int, rows: Int, cols: Int) {
    let tile = 32
    let tilesR = (rows + tile - 1) / tile, tilesC = (cols + tile - 1) / tile
    Parallel.forEachChunk(batch * tilesR * tilesC, costPerItem: tile * tile) { r in
        for job in r {
            let b = job / (tilesR * tilesC), t = job % (tilesR * tilesC)
            let r0 = (t / tilesC) * tile, c0 = (t % tilesC) * tile
            let r1 = min(rows, r0 + tile), c1 = min(cols, c0 + tile)
            let s = src + b * rows * cols, d = dst + b * rows * cols
            for i in r0..<r1 {
                for j in c0..<c1 { d[j * rows + i] = s[i * cols + j] }
            }
        }
    }
}
