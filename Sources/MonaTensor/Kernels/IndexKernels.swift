// Gather / scatter-add kernels. Indices are validated by the ops before these run.

/// `dst[o, j, :] = src[o, indices[j], :]` on a [outer, n, inner] view of `src` → [outer, k, inner].
func indexSelectKernel(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, indices: [Int],
                       into dst: UnsafeMutablePointer<Float>) {
    let k = indices.count
    if outer * k * inner == 0 { return }
    indices.withUnsafeBufferPointer { ix in
        Parallel.forEachChunk(outer * k, costPerItem: inner) { r in
            for row in r {
                let o = row / k, j = row % k
                copyRun(src + (o * n + ix[j]) * inner, 1, dst + row * inner, 1, inner)
            }
        }
    }
}

/// `dst` (zeroed here, [outer, n, inner]) `[o, indices[j], :] += src[o, j, :]` for `src` of [outer, k, inner].
/// Repeated indices accumulate; the work is split over (outer, inner block) so writes never overlap.
func indexAddKernel(_ src: UnsafePointer<Float>, outer: Int, k: Int, inner: Int, indices: [Int], n: Int,
                    into dst: UnsafeMutablePointer<Float>) {
    dst.initialize(repeating: 0, count: outer * n * inner)
    if outer * k * inner == 0 { return }
    let block = 256
    let blocks = (inner + block - 1) / block
    indices.withUnsafeBufferPointer { ix in
        Parallel.forEachChunk(outer * blocks, costPerItem: k * Swift.min(inner, block)) { r in
            for job in r {
                let o = job / blocks, c0 = (job % blocks) * block, c1 = Swift.min(inner, c0 + block)
                for j in 0..<k {
                    let s = src + (o * k + j) * inner, d = dst + (o * n + ix[j]) * inner
                    var c = c0
                    while c + 8 <= c1 {
                        let v = UnsafeRawPointer(d + c).loadUnaligned(as: SIMD8<Float>.self)
                            + UnsafeRawPointer(s + c).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(d + c).storeBytes(of: v, as: SIMD8<Float>.self)
                        c += 8
                    }
                    while c < c1 { d[c] += s[c]; c += 1 }
                }
            }
        }
    }
}

/// Element-wise gather (`torch.gather`) or its adjoint scatter-add, over the index tensor's shape.
///
/// For every position `m` of `indexShape` the "big" tensor (shape `bigShape`) is addressed at `m` with axis
/// `axis` replaced by `index[m]`. Gather reads big → small; scatter-add accumulates small → big (serially, as
/// indices may repeat). `index` holds validated integers stored as Float.
func gatherScatterKernel(big: UnsafeMutablePointer<Float>, bigShape: [Int], small: UnsafeMutablePointer<Float>,
                         index: UnsafePointer<Float>, indexShape: [Int], axis: Int, scatter: Bool) {
    let r = indexShape.count
    let count = indexShape.reduce(1, *)
    if count == 0 { return }
    let bigStrides = Tensor.strides(of: bigShape)
    let axisStride = bigStrides[axis]
    var walk = bigStrides
    walk[axis] = 0
    let run = indexShape[r - 1], runStride = walk[r - 1]
    let outerDims = Array(indexShape[..<(r - 1)])
    let smallStrides = Array(Tensor.strides(of: indexShape)[..<(r - 1)])
    let body: (Int, Int, Int) -> Void = { _, bo, so in
        for i in 0..<run {
            let at = bo + i * runStride + Int(index[so + i]) * axisStride
            if scatter { big[at] += small[so + i] } else { small[so + i] = big[at] }
        }
    }
    if scatter {
        // Serial: two index entries may hit the same element.
        walkStridedRows(0..<outerDims.reduce(1, *), dims: outerDims, srcStrides: Array(walk[..<(r - 1)]),
                        dstStrides: smallStrides, body)
    } else {
        forEachStridedRow(dims: outerDims, srcStrides: Array(walk[..<(r - 1)]), dstStrides: smallStrides,
                          costPerRow: run, body)
    }
}
