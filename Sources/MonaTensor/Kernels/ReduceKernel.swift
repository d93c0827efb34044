/// Sums a row-major tensor viewed as [outer, n, inner] over the middle axis → [outer, inner].
func sumMiddleAxis(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, into dst: UnsafeMutablePointer<Float>) {
    if inner == 1 {
        Parallel.forEachChunk(outer, costPerItem: n) { r in
            for o in r {
                let row = src + o * n
                var acc = SIMD8<Float>(repeating: 0)
                var i = 0
                while i + 8 <= n { acc += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
                var s = acc.sum()
                while i < n { s += row[i]; i += 1 }
                dst[o] = s
            }
        }
        return
    }
    Parallel.forEachChunk(outer * ((inner + 63) / 64), costPerItem: n * 64) { r in
        let blocks = (inner + 63) / 64
        for job in r {
            let o = job / blocks, j0 = (job % blocks) * 64, j1 = min(inner, j0 + 64)
            let out = dst + o * inner
            for j in j0..<j1 { out[j] = 0 }
            for k in 0..<n {
                let row = src + (o * n + k) * inner
                var j = j0
                while j + 8 <= j1 {
                    let v = UnsafeRawPointer(out + j).loadUnaligned(as: SIMD8<Float>.self)
                        + UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(out + j).storeBytes(of: v, as: SIMD8<Float>.self)
                    j += 8
                }
                while j < j1 { out[j] += row[j]; j += 1 }
            }
        }
    }
}

/// Copies `src` broadcast to `target` into a new contiguous tensor.
func broadcastCopy(_ src: Tensor, to target: [Int]) -> Tensor {
    let out = TensorStorage(count: Tensor.elementCount(target, op: "expand"))
    let ps = src.data, po = out.base
    let ss = Broadcast.strides(src.shape, to: target)
    forEachBroadcastRun(outShape: target, aStrides: ss, bStrides: ss) { o, so, _, n, d, _ in
        if d == 1 { (po + o).update(from: ps + so, count: n) } else { (po + o).update(repeating: ps[so], count: n) }
    }
    return Tensor(storage: out, shape: target)
}
