// Separable linear resampling of planes: every output pixel is Σ wh·ww·x over a few taps per axis. Average
// pooling, adaptive average pooling and bilinear/bicubic interpolation are all this one kernel with different
// taps, and its adjoint (the transpose of the same sparse maps) is their backward.

/// For each output index of one axis, a short list of (input index, weight) taps, stored CSR-style.
final class ResampleTaps: @unchecked Sendable {
    let inSize: Int
    let outSize: Int
    /// `offsets[o]..<offsets[o + 1]` are the taps of output `o`.
    let offsets: UnsafeMutablePointer<Int>
    let indices: UnsafeMutablePointer<Int>
    let weights: UnsafeMutablePointer<Float>
    let tapCount: Int
    /// Output o reads input o with weight 1 (lets the kernels skip the pass).
    let isIdentity: Bool
    /// The number of taps when every output has the same number (selects unrolled loops), else 0.
    let uniformCount: Int

    /// Builds the taps by asking `taps(o)` for each output index (indices must be in `0..<inSize`).
    init(inSize: Int, outSize: Int, _ taps: (Int) -> [(index: Int, weight: Float)]) {
        let lists = (0..<outSize).map(taps)
        self.inSize = inSize
        self.outSize = outSize
        tapCount = lists.reduce(0) { $0 + $1.count }
        offsets = .allocate(capacity: outSize + 1)
        indices = .allocate(capacity: max(tapCount, 1))
        weights = .allocate(capacity: max(tapCount, 1))
        var t = 0
        for (o, list) in lists.enumerated() {
            offsets[o] = t
            for (i, w) in list {
                precondition(i >= 0 && i < inSize, "ResampleTaps: tap index \(i) outside 0..<\(inSize)")
                indices[t] = i
                weights[t] = w
                t += 1
            }
        }
        offsets[outSize] = t
        let first = lists.first?.count ?? 0
        uniformCount = lists.allSatisfy { $0.count == first } ? first : 0
        isIdentity = inSize == outSize && lists.enumerated().allSatisfy { o, l in
            l.count == 1 && l[0].index == o && l[0].weight == 1
        }
    }

    /// Output o = input o.
    static func identity(_ n: Int) -> ResampleTaps { ResampleTaps(inSize: n, outSize: n) { [(index: $0, weight: Float(1))] } }

    deinit {
        offsets.deallocate()
        indices.deallocate()
        weights.deallocate()
    }
}

/// [P, H, W] → [P, oH, oW]: out[p, oh, ow] = Σₐ Σ_b wₐ(oh)·w_b(ow)·x[p, iₐ, j_b]. Rows first (vectorised row
/// combinations), then columns.
func resampleKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int,
                    rows th: ResampleTaps, cols tw: ResampleTaps) {
    let (h, w, oh, ow) = (th.inSize, tw.inSize, th.outSize, tw.outSize)
    let cost = th.tapCount * w + tw.tapCount * oh + 1
    Parallel.forEachChunk(planes, costPerItem: cost) { r in
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: max(oh * w, 1))
        defer { tmp.deallocate() }
        for p in r {
            let x = src + p * h * w, y = dst + p * oh * ow
            let rowsOut: UnsafePointer<Float>
            if th.isIdentity {
                rowsOut = x
            } else {
                for o in 0..<oh {
                    let row = tmp + o * w
                    row.update(repeating: 0, count: w)
                    for t in th.offsets[o]..<th.offsets[o + 1] { axpyRun(row, th.weights[t], x + th.indices[t] * w, w) }
                }
                rowsOut = UnsafePointer(tmp)
            }
            if tw.isIdentity { y.update(from: rowsOut, count: oh * ow); continue }
            for o in 0..<oh { gatherTaps(rowsOut + o * w, into: y + o * ow, tw) }
        }
    }
}

/// The adjoint of `resampleKernel`: [P, oH, oW] → [P, H, W], each output's value scattered back to its taps.
func resampleAdjointKernel(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int,
                           rows th: ResampleTaps, cols tw: ResampleTaps) {
    let (h, w, oh, ow) = (th.inSize, tw.inSize, th.outSize, tw.outSize)
    let cost = th.tapCount * w + tw.tapCount * oh + 1
    Parallel.forEachChunk(planes, costPerItem: cost) { r in
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: max(oh * w, 1))
        defer { tmp.deallocate() }
        for p in r {
            let g = src + p * oh * ow, x = dst + p * h * w
            let rows: UnsafePointer<Float>
            if tw.isIdentity {
                rows = g
            } else {
                tmp.update(repeating: 0, count: oh * w)
                for o in 0..<oh { scatterTaps(g + o * ow, into: tmp + o * w, tw) }
                rows = UnsafePointer(tmp)
            }
            if th.isIdentity { x.update(from: rows, count: h * w); continue }
            x.update(repeating: 0, count: h * w)
            for o in 0..<oh {
                for t in th.offsets[o]..<th.offsets[o + 1] { axpyRun(x + th.indices[t] * w, th.weights[t], rows + o * w, w) }
            }
        }
    }
}

/// out[c] = Σ w·row[i] over the taps (i, w) of output c (sums in tap order, like PyTorch).
@inline(__always)
func gatherTaps(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ taps: ResampleTaps) {
    let idx = taps.indices, wt = taps.weights, off = taps.offsets, n = taps.outSize
    switch taps.uniformCount {
    case 2:
        for c in 0..<n {
            let k = 2 * c
            out[c] = wt[k] * row[idx[k]] + wt[k + 1] * row[idx[k + 1]]
        }
    case 4:
        for c in 0..<n {
            let k = 4 * c
            out[c] = wt[k] * row[idx[k]] + wt[k + 1] * row[idx[k + 1]] + wt[k + 2] * row[idx[k + 2]]
                + wt[k + 3] * row[idx[k + 3]]
        }
    default:
        for c in 0..<n {
            var s: Float = 0
            var k = off[c]
            let end = off[c + 1]
            while k < end { s += wt[k] * row[idx[k]]; k += 1 }
            out[c] = s
        }
    }
}

/// The adjoint of `gatherTaps`: row[i] += w·g[c] for the taps (i, w) of every output c (`row` pre-zeroed).
@inline(__always)
func scatterTaps(_ g: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>, _ taps: ResampleTaps) {
    let idx = taps.indices, wt = taps.weights, off = taps.offsets, n = taps.outSize
    switch taps.uniformCount {
    case 2:
        for c in 0..<n {
            let k = 2 * c, v = g[c]
            row[idx[k]] += wt[k] * v
            row[idx[k + 1]] += wt[k + 1] * v
        }
    default:
        for c in 0..<n {
            let v = g[c]
            var k = off[c]
            let end = off[c + 1]
            while k < end { row[idx[k]] += wt[k] * v; k += 1 }
        }
    }
}
