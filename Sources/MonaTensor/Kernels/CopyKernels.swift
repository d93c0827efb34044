// Strided copy kernels behind permute, slice, pad and concat. Both reduce the copy to "rows": runs that are
// contiguous (or evenly strided) in source and destination, walked by an odometer over the remaining axes.

/// Calls `body(row, srcOffset, dstOffset)` for every index of the iteration space `dims` (row-major order),
/// with offsets advanced by `srcStrides` / `dstStrides`. Rows are split over threads in contiguous chunks;
/// `costPerRow` is the work per call (elements copied) for the parallel cut-off.
@inline(__always)
func forEachStridedRow(dims: [Int], srcStrides: [Int], dstStrides: [Int], costPerRow: Int,
                       _ body: (Int, Int, Int) -> Void) {
    let rows = dims.reduce(1, *)
    if rows == 0 { return }
    Parallel.forEachChunk(rows, costPerItem: max(costPerRow, 1)) { range in
        walkStridedRows(range, dims: dims, srcStrides: srcStrides, dstStrides: dstStrides, body)
    }
}

/// The serial part of `forEachStridedRow`: rows `range` only, starting the odometer at `range.lowerBound`.
@inline(__always)
func walkStridedRows(_ range: Range<Int>, dims: [Int], srcStrides: [Int], dstStrides: [Int],
                     _ body: (Int, Int, Int) -> Void) {
    let r = dims.count
    var idx = [Int](repeating: 0, count: r)
    var rem = range.lowerBound, so = 0, d0 = 0
    for d in stride(from: r - 1, through: 0, by: -1) {
        idx[d] = rem % dims[d]
        rem /= dims[d]
        so += idx[d] * srcStrides[d]
        d0 += idx[d] * dstStrides[d]
    }
    for row in range {
        body(row, so, d0)
        var d = r - 1
        while d >= 0 {
            idx[d] += 1
            so += srcStrides[d]; d0 += dstStrides[d]
            if idx[d] < dims[d] { break }
            so -= srcStrides[d] * dims[d]; d0 -= dstStrides[d] * dims[d]
            idx[d] = 0
            d -= 1
        }
    }
}

/// Copies `n` floats from `src` (step `ss`) to `dst` (step `ds`).
@inline(__always)
func copyRun(_ src: UnsafePointer<Float>, _ ss: Int, _ dst: UnsafeMutablePointer<Float>, _ ds: Int, _ n: Int) {
    if ss == 1 && ds == 1 {
        if n >= 16 { dst.update(from: src, count: n) } else { for i in 0..<n { dst[i] = src[i] } }
    } else {
        for i in 0..<n { dst[i * ds] = src[i * ss] }
    }
}

/// Writes `src` (contiguous, `shape`) with its axes permuted into `dst`: output axis i is input axis `perm[i]`.
///
/// Axes of size 1 are dropped and output axes that stay adjacent in the input are merged first. When the
/// innermost output axis is contiguous in the input (e.g. [B,T,H,D]→[B,H,T,D]) the copy is a sequence of block
/// copies; otherwise it is a cache-blocked 2-D transpose between the input's and the output's innermost axes.
func permuteCopy(_ src: UnsafePointer<Float>, shape: [Int], permutation perm: [Int],
                 into dst: UnsafeMutablePointer<Float>) {
    let total = shape.reduce(1, *)
    if total == 0 { return }
    let inStrides = Tensor.strides(of: shape)
    var dims: [Int] = [], strides: [Int] = []   // output order, input strides
    for a in perm where shape[a] != 1 {
        if let s = strides.last, s == inStrides[a] * shape[a] {
            dims[dims.count - 1] *= shape[a]
            strides[strides.count - 1] = inStrides[a]
        } else {
            dims.append(shape[a])
            strides.append(inStrides[a])
        }
    }
    let r = dims.count
    if r <= 1 { dst.update(from: src, count: total); return }   // the permutation moves nothing
    let outStrides = Tensor.strides(of: dims)
    if strides[r - 1] == 1 {
        let run = dims[r - 1]
        forEachStridedRow(dims: Array(dims[..<(r - 1)]), srcStrides: Array(strides[..<(r - 1)]),
                          dstStrides: Array(outStrides[..<(r - 1)]), costPerRow: run) { _, so, d0 in
            copyRun(src + so, 1, dst + d0, 1, run)
        }
        return
    }
    // Tiled transpose: rows = the axis that is contiguous in the input (p), columns = the last output axis.
    let p = strides.firstIndex(of: 1)!
    let rowsN = dims[p], colsN = dims[r - 1], colStride = strides[r - 1], rowOut = outStrides[p]
    let tile = 32
    let rowTiles = (rowsN + tile - 1) / tile
    var oDims: [Int] = [], oSrc: [Int] = [], oDst: [Int] = []
    for d in 0..<(r - 1) where d != p { oDims.append(dims[d]); oSrc.append(strides[d]); oDst.append(outStrides[d]) }
    // One extra iteration axis over row tiles, so that small outer spaces still parallelise.
    oDims.append(rowTiles); oSrc.append(tile); oDst.append(tile * rowOut)
    forEachStridedRow(dims: oDims, srcStrides: oSrc, dstStrides: oDst, costPerRow: tile * colsN) { row, so, d0 in
        let i0 = (row % rowTiles) * tile
        let rows = min(tile, rowsN - i0)
        var j0 = 0
        while j0 < colsN {
            let cols = min(tile, colsN - j0)
            let s = src + so + j0 * colStride, d = dst + d0 + j0
            for i in 0..<rows {
                let si = s + i, di = d + i * rowOut
                for j in 0..<cols { di[j] = si[j * colStride] }
            }
            j0 += tile
        }
    }
}

/// Copies the box of size `extent` at `srcOrigin` in a contiguous tensor of `srcShape` to `dstOrigin` in a
/// contiguous tensor of `dstShape` (all arrays have the same rank). Axes that are whole in both tensors are
/// merged into the copied runs.
func copyBox(_ src: UnsafePointer<Float>, shape srcShape: [Int], origin srcOrigin: [Int],
             into dst: UnsafeMutablePointer<Float>, shape dstShape: [Int], origin dstOrigin: [Int],
             extent: [Int]) {
    if extent.contains(0) { return }
    let ss = Tensor.strides(of: srcShape), ds = Tensor.strides(of: dstShape)
    var sBase = 0, dBase = 0
    for a in 0..<extent.count { sBase += srcOrigin[a] * ss[a]; dBase += dstOrigin[a] * ds[a] }
    var dims: [Int] = [], sStr: [Int] = [], dStr: [Int] = []
    for a in 0..<extent.count where extent[a] != 1 {
        if let s = sStr.last, let d = dStr.last, s == ss[a] * extent[a], d == ds[a] * extent[a] {
            dims[dims.count - 1] *= extent[a]
            sStr[sStr.count - 1] = ss[a]
            dStr[dStr.count - 1] = ds[a]
        } else {
            dims.append(extent[a]); sStr.append(ss[a]); dStr.append(ds[a])
        }
    }
    guard let run = dims.popLast(), let rs = sStr.popLast(), let rd = dStr.popLast() else {
        dst[dBase] = src[sBase]
        return
    }
    forEachStridedRow(dims: dims, srcStrides: sStr, dstStrides: dStr, costPerRow: run) { _, so, d0 in
        copyRun(src + sBase + so, rs, dst + dBase + d0, rd, run)
    }
}
