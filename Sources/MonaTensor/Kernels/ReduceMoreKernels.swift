#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Max / min, arg-max, log-sum-exp and variance over the middle axis of a [outer, n, inner] view.
// NaN is sticky in every max/min: a lane takes v when v is better OR v is NaN, and nothing compares better than
// a NaN, so once NaN it stays NaN (SIMD min/max instructions would drop it).

private typealias V = SIMD8<Float>

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}
@inline(__always) private func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Max or min as a compile-time choice, so both kernels specialise without a sign multiply.
protocol ExtremumOrder {
    static func better(_ v: SIMD8<Float>, than acc: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>>
    static func better(_ v: Float, than acc: Float) -> Bool
    /// The identity: −∞ for max, +∞ for min.
    static var worst: Float { get }
}

enum MaxOrder: ExtremumOrder {
    @inline(__always) static func better(_ v: SIMD8<Float>, than acc: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> { v .> acc }
    @inline(__always) static func better(_ v: Float, than acc: Float) -> Bool { v > acc }
    static var worst: Float { -.infinity }
}

enum MinOrder: ExtremumOrder {
    @inline(__always) static func better(_ v: SIMD8<Float>, than acc: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> { v .< acc }
    @inline(__always) static func better(_ v: Float, than acc: Float) -> Bool { v < acc }
    static var worst: Float { .infinity }
}

@inline(__always) private func sticky<O: ExtremumOrder>(_ acc: V, _ v: V, _ o: O.Type) -> V {
    acc.replacing(with: v, where: O.better(v, than: acc) .| (v .!= v))
}
@inline(__always) private func sticky<O: ExtremumOrder>(_ acc: Float, _ v: Float, _ o: O.Type) -> Float {
    (O.better(v, than: acc) || v != v) ? v : acc
}

/// Extremum of one contiguous row. Four accumulators hide the compare/blend latency; the lanes are combined
/// through memory because reading lanes of a live vector makes LLVM split the loop into scalar pieces.
@inline(__always) private func rowExtremum<O: ExtremumOrder>(_ row: UnsafePointer<Float>, _ n: Int,
                                                             _ o: O.Type) -> Float {
    var a0 = V(repeating: O.worst), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    while i + 32 <= n {
        a0 = sticky(a0, load(row + i), o)
        a1 = sticky(a1, load(row + i + 8), o)
        a2 = sticky(a2, load(row + i + 16), o)
        a3 = sticky(a3, load(row + i + 24), o)
        i += 32
    }
    while i + 8 <= n { a0 = sticky(a0, load(row + i), o); i += 8 }
    a0 = sticky(sticky(a0, a1, o), sticky(a2, a3, o), o)
    var m = O.worst
    withUnsafeBytes(of: a0) { lanes in
        for l in 0..<8 { m = sticky(m, lanes.load(fromByteOffset: l * 4, as: Float.self), o) }
    }
    while i < n { m = sticky(m, row[i], o); i += 1 }
    return m
}

/// e^x for one scalar through the vector kernel (tails only; keeps results identical to the SIMD body).
@inline(__always) func vectorExp(_ x: Float) -> Float { VectorMath.exp(V(repeating: x))[0] }

/// Max or min (per `O`) over the middle axis → [outer, inner]. An empty axis gives `O.worst`.
func extremumMiddleAxis<O: ExtremumOrder>(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
                                          order o: O.Type, into dst: UnsafeMutablePointer<Float>) {
    if inner == 1 {
        Parallel.forEachChunk(outer, costPerItem: n) { r in
            for row in r { dst[row] = rowExtremum(src + row * n, n, o) }
        }
        return
    }
    let block = 64, blocks = (inner + block - 1) / block
    Parallel.forEachChunk(outer * blocks, costPerItem: n * block) { r in
        for job in r {
            let b = job / blocks, j0 = (job % blocks) * block, j1 = Swift.min(inner, j0 + block)
            let out = dst + b * inner
            for j in j0..<j1 { out[j] = O.worst }
            for k in 0..<n {
                let row = src + (b * n + k) * inner
                var j = j0
                while j + 8 <= j1 { store(sticky(load(out + j), load(row + j), o), out + j); j += 8 }
                while j < j1 { out[j] = sticky(out[j], row[j], o); j += 1 }
            }
        }
    }
}

/// Index of the first maximum (`sign` = 1) or minimum (`sign` = −1) over the middle axis → [outer, inner],
/// stored as Float. A NaN counts as the extremum (its first occurrence wins), as in NumPy and PyTorch.
func argExtremumMiddleAxis(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, sign: Float,
                           into dst: UnsafeMutablePointer<Float>) {
    Parallel.forEachChunk(outer, costPerItem: n * inner) { r in
        var best = [Float](repeating: 0, count: inner)
        for o in r {
            for j in 0..<inner { best[j] = src[o * n * inner + j] * sign; dst[o * inner + j] = 0 }
            for k in 1..<Swift.max(n, 1) {
                let row = src + (o * n + k) * inner
                for j in 0..<inner {
                    let v = row[j] * sign, b = best[j]
                    if b == b && (v > b || v != v) { best[j] = v; dst[o * inner + j] = Float(k) }
                }
            }
        }
    }
}

/// log Σ e^x over the middle axis → [outer, inner], stable: shifted by the (finite) max. A row of −∞ (or an
/// empty axis) gives −∞, a row containing +∞ gives +∞, a NaN gives NaN.
func logSumExpMiddleAxis(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
                         into dst: UnsafeMutablePointer<Float>) {
    extremumMiddleAxis(src, outer: outer, n: n, inner: inner, order: MaxOrder.self, into: dst)
    if inner == 1 {
        Parallel.forEachChunk(outer, costPerItem: n * 8) { r in
            for o in r {
                let row = src + o * n
                let shift = dst[o].isFinite ? dst[o] : 0
                let sv = V(repeating: shift)
                var acc = V(repeating: 0)
                var i = 0
                while i + 8 <= n { acc += VectorMath.exp(load(row + i) - sv); i += 8 }
                if i < n {
                    var t = V(repeating: -.infinity)
                    for l in 0..<(n - i) { t[l] = row[i + l] }
                    acc += VectorMath.exp(t - sv)
                }
                dst[o] = shift + logf(acc.sum())
            }
        }
        return
    }
    let block = 64, blocks = (inner + block - 1) / block
    Parallel.forEachChunk(outer * blocks, costPerItem: n * block * 8) { r in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { tmp in
            let shift = tmp.baseAddress!, sum = shift + block
            for job in r {
                let o = job / blocks, j0 = (job % blocks) * block, w = Swift.min(inner, j0 + block) - j0
                let out = dst + o * inner + j0
                for j in 0..<w { shift[j] = out[j].isFinite ? out[j] : 0; sum[j] = 0 }
                for k in 0..<n {
                    let row = src + (o * n + k) * inner + j0
                    var j = 0
                    while j + 8 <= w { store(load(sum + j) + VectorMath.exp(load(row + j) - load(shift + j)), sum + j); j += 8 }
                    while j < w { sum[j] += vectorExp(row[j] - shift[j]); j += 1 }
                }
                for j in 0..<w { out[j] = shift[j] + logf(sum[j]) }
            }
        }
    }
}

/// Σ (x − mean)² / `divisor` over the middle axis → [outer, inner] (two passes: mean, then squared deviations).
func varianceMiddleAxis(_ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int, divisor: Float,
                        into dst: UnsafeMutablePointer<Float>) {
    let invN = 1 / Float(n)
    if inner == 1 {
        Parallel.forEachChunk(outer, costPerItem: 2 * n) { r in
            for o in r {
                let row = src + o * n
                var acc = V(repeating: 0)
                var i = 0
                while i + 8 <= n { acc += load(row + i); i += 8 }
                var s = acc.sum()
                while i < n { s += row[i]; i += 1 }
                let mean = s * invN, mv = V(repeating: mean)
                acc = V(repeating: 0)
                i = 0
                while i + 8 <= n { let d = load(row + i) - mv; acc = acc.addingProduct(d, d); i += 8 }
                var q = acc.sum()
                while i < n { let d = row[i] - mean; q += d * d; i += 1 }
                dst[o] = q / divisor
            }
        }
        return
    }
    let block = 64, blocks = (inner + block - 1) / block
    Parallel.forEachChunk(outer * blocks, costPerItem: 2 * n * block) { r in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { tmp in
            let mean = tmp.baseAddress!
            for job in r {
                let o = job / blocks, j0 = (job % blocks) * block, w = Swift.min(inner, j0 + block) - j0
                let out = dst + o * inner + j0
                for j in 0..<w { mean[j] = 0; out[j] = 0 }
                for k in 0..<n {
                    let row = src + (o * n + k) * inner + j0
                    for j in 0..<w { mean[j] += row[j] }
                }
                for j in 0..<w { mean[j] *= invN }
                for k in 0..<n {
                    let row = src + (o * n + k) * inner + j0
                    var j = 0
                    while j + 8 <= w {
                        let d = load(row + j) - load(mean + j)
                        store(load(out + j).addingProduct(d, d), out + j)
                        j += 8
                    }
                    while j < w { let d = row[j] - mean[j]; out[j] += d * d; j += 1 }
                }
                for j in 0..<w { out[j] /= divisor }
            }
        }
    }
}
