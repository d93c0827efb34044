// Fused per-row kernels: softmax / log-softmax (forward and backward), LayerNorm (forward and backward) and the
// log-sum-exp rows of cross-entropy. A "row" is the reduced axis; a tensor is viewed as [outer, n, inner] and
// reduced over n. With inner == 1 rows are contiguous and vectorised along the row; otherwise eight neighbouring
// rows (columns of the inner axis) are processed together, one SIMD lane each.
//
// NaN policy: maxima are taken with ordered comparisons, so a NaN is skipped by the max but then reaches the sum
// through exp(NaN − m) = NaN, which makes the whole row NaN (never a silent finite value).

enum RowKernels {
    typealias V = SIMD8<Float>

    // MARK: Loads and stores

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Loads `lanes` (1…8) floats; the other lanes get `fill`.
    @inline(__always) static func load(_ p: UnsafePointer<Float>, lanes: Int, fill: Float) -> V {
        if lanes == 8 { return load(p) }
        var v = V(repeating: fill)
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == 8 { store(v, p); return }
        for l in 0..<lanes { p[l] = v[l] }
    }

    /// e^x for x ≤ 0: every exponential these kernels take is of a value minus its row's maximum or log-sum-exp.
    ///
    /// Relative error < 1.2e-7 (≈ 2 ulp); 0 below −87.34 (subnormal results) and at −∞; NaN stays NaN. Not valid
    /// for x > 88. Specialised from `VectorMath.exp`: no overflow handling, one 2ⁿ factor, a degree-6 polynomial
    /// fitted for this file, and `addingProduct`, which in a function this short compiles to real vector FMAs
    /// (checked in the disassembly). Softmax rows of 128 went from 1.9 to 0.65 ns per element with it.
    @inline(__always) static func expNonPositive(_ x: V) -> V {
        let lo = V(repeating: -87.33654)
        let under = x .< lo
        let xc = x.replacing(with: lo, where: under)
        // x = n·ln2 + r, |r| ≤ ln2/2; n by the 1.5·2²³ rounding trick (no float-to-int conversion, NaN-safe).
        let magic = V(repeating: 12_582_912)
        let t = magic.addingProduct(xc, V(repeating: 1.442695041))
        let fx = t - magic
        let r = xc.addingProduct(fx, V(repeating: -0.693359375)).addingProduct(fx, V(repeating: 2.12194440e-4))
        // e^r ≈ 1 + r + r²·P(r), P of degree 4 (relative approximation error 3e-9 on the interval).
        var p = V(repeating: 8.368712849915028e-3).addingProduct(V(repeating: 1.3814435806125402e-3), r)
        p = V(repeating: 4.166838899254799e-2).addingProduct(p, r)
        p = V(repeating: 1.666652113199234e-1).addingProduct(p, r)
        p = V(repeating: 4.999999403953552e-1).addingProduct(p, r)
        let y = (r + V(repeating: 1)).addingProduct(r * r, p)
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        return (y * scale).replacing(with: 0, where: under)
    }

    /// Largest of the eight lanes (ordered comparisons; NaN lanes are skipped).
    @inline(__always) static func laneMax(_ v: V) -> Float {
        var m = v[0]
        for l in 1..<8 where v[l] > m { m = v[l] }
        return m
    }

    /// Largest element of a contiguous row (−∞ for an empty or all-NaN row).
    @inline(__always) static func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = V(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 16 <= n {
            let a = load(x + i), b = load(x + i + 8)
            m0 = m0.replacing(with: a, where: a .> m0)
            m1 = m1.replacing(with: b, where: b .> m1)
            i += 16
        }
        if i + 8 <= n {
            let a = load(x + i)
            m0 = m0.replacing(with: a, where: a .> m0)
            i += 8
        }
        m0 = m0.replacing(with: m1, where: m1 .> m0)
        var m = laneMax(m0)
        while i < n {
            if x[i] > m { m = x[i] }
            i += 1
        }
        return m
    }

    /// Σ exp(x − m) over a contiguous row. Optionally stores the exponentials into `e`.
    @inline(__always) static func rowSumExp(_ x: UnsafePointer<Float>, _ n: Int, minus m: Float,
                                            storeInto e: UnsafeMutablePointer<Float>?) -> Float {
        let vm = V(repeating: m)
        var s0 = V(repeating: 0)
        var i = 0
        if let e {
            while i + 8 <= n {
                let a = expNonPositive(load(x + i) - vm)
                store(a, e + i)
                s0 += a
                i += 8
            }
        } else {
            while i + 8 <= n {
                s0 += expNonPositive(load(x + i) - vm)
                i += 8
            }
        }
        if i < n {
            // Tail padded with −∞, whose exponential is 0 (NaN only when m is −∞, i.e. the row is NaN anyway).
            let w = n - i
            let a = expNonPositive(load(x + i, lanes: w, fill: -.infinity) - vm)
            if let e { store(a, e + i, lanes: w) }
            s0 += a
        }
        return s0.sum()
    }

    /// Σ x over a contiguous row.
    @inline(__always) static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = V(repeating: 0), s1 = V(repeating: 0)
        var i = 0
        while i + 16 <= n { s0 += load(x + i); s1 += load(x + i + 8); i += 16 }
        if i + 8 <= n { s0 += load(x + i); i += 8 }
        var s = (s0 + s1).sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x·y over a contiguous row.
    @inline(__always) static func rowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = V(repeating: 0), s1 = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            s0 += load(x + i) * load(y + i)
            s1 += load(x + i + 8) * load(y + i + 8)
            i += 16
        }
        if i + 8 <= n { s0 += load(x + i) * load(y + i); i += 8 }
        var s = (s0 + s1).sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// Mean of a contiguous row, summed relative to its first element: the offsets are small and exact, so a large
    /// common offset (|mean| ≫ spread) does not swamp the Float accumulator.
    @inline(__always) static func shiftedMean(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        if n == 0 { return .nan }
        let x0 = x[0], v0 = V(repeating: x0)
        var s0 = V(repeating: 0), s1 = V(repeating: 0)
        var i = 0
        while i + 16 <= n { s0 += load(x + i) - v0; s1 += load(x + i + 8) - v0; i += 16 }
        if i + 8 <= n { s0 += load(x + i) - v0; i += 8 }
        var s = (s0 + s1).sum()
        while i < n { s += x[i] - x0; i += 1 }
        return x0 + s / Float(n)
    }

    /// Lane-wise natural logarithm (scalar, used once per group of rows).
    @inline(__always) static func laneLog(_ v: V) -> V {
        var r = V()
        for l in 0..<8 { r[l] = Float(_log(Double(v[l]))) }
        return r
    }

    // MARK: Softmax

    /// Softmax (or log-softmax) of `x` viewed as [outer, n, inner] along n, into `y`.
    static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        outer: Int, n: Int, inner: Int, log: Bool) {
        if outer == 0 || n == 0 || inner == 0 { return }
        // Cost hints in units of one elementwise add (measured: ≈ 4 per element forward, 1–4 backward).
        if inner == 1 {
            Parallel.forEachChunk(outer, costPerItem: 4 * n) { r in
                for o in r { softmaxRow(x + o * n, y + o * n, n, log: log) }
            }
            return
        }
        let groups = (inner + 7) / 8
        Parallel.forEachChunk(outer * groups, costPerItem: 40 * n) { r in
            for job in r {
                let o = job / groups, j = (job % groups) * 8
                let w = min(8, inner - j)
                let base = o * n * inner + j
                var m = V(repeating: -.infinity)
                for k in 0..<n {
                    let v = load(x + base + k * inner, lanes: w, fill: 0)
                    m = m.replacing(with: v, where: v .> m)
                }
                var s = V(repeating: 0)
                if log {
                    for k in 0..<n { s += expNonPositive(load(x + base + k * inner, lanes: w, fill: 0) - m) }
                    let c = m + laneLog(s)
                    for k in 0..<n {
                        let p = base + k * inner
                        store(load(x + p, lanes: w, fill: 0) - c, y + p, lanes: w)
                    }
                } else {
                    for k in 0..<n {
                        let p = base + k * inner
                        let e = expNonPositive(load(x + p, lanes: w, fill: 0) - m)
                        store(e, y + p, lanes: w)
                        s += e
                    }
                    let inv = 1 / s
                    for k in 0..<n {
                        let p = base + k * inner
                        store(load(y + p, lanes: w, fill: 0) * inv, y + p, lanes: w)
                    }
                }
            }
        }
    }

    @inline(__always) static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                                             log: Bool) {
        let m = rowMax(x, n)
        if log {
            let s = rowSumExp(x, n, minus: m, storeInto: nil)
            let c = m + Float(_log(Double(s)))
            let vc = V(repeating: c)
            var i = 0
            while i + 8 <= n { store(load(x + i) - vc, y + i); i += 8 }
            while i < n { y[i] = x[i] - c; i += 1 }
        } else {
            let s = rowSumExp(x, n, minus: m, storeInto: y)
            let inv = 1 / s, vinv = V(repeating: inv)
            var i = 0
            while i + 8 <= n { store(load(y + i) * vinv, y + i); i += 8 }
            while i < n { y[i] *= inv; i += 1 }
        }
    }

    /// Backward of softmax (`y` = softmax output): dx = y·(g − Σ g·y). With `log` (`y` = log-softmax output):
    /// dx = g − exp(y)·Σ g.
    static func softmaxBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                outer: Int, n: Int, inner: Int, log: Bool) {
        if outer == 0 || n == 0 || inner == 0 { return }
        if inner == 1 {
            Parallel.forEachChunk(outer, costPerItem: (log ? 4 : 1) * n) { r in
                for o in r {
                    let yr = y + o * n, gr = g + o * n, dr = dx + o * n
                    var i = 0
                    if log {
                        let s = rowSum(gr, n), vs = V(repeating: s)
                        while i + 8 <= n {
                            store(load(gr + i) - expNonPositive(load(yr + i)) * vs, dr + i)
                            i += 8
                        }
                        if i < n {
                            let w = n - i
                            let v = load(gr + i, lanes: w, fill: 0) - expNonPositive(load(yr + i, lanes: w, fill: 0)) * vs
                            store(v, dr + i, lanes: w)
                        }
                    } else {
                        let s = rowDot(gr, yr, n), vs = V(repeating: s)
                        while i + 8 <= n {
                            let vy = load(yr + i)
                            store(vy * (load(gr + i) - vs), dr + i)
                            i += 8
                        }
                        while i < n { dr[i] = yr[i] * (gr[i] - s); i += 1 }
                    }
                }
            }
            return
        }
        let groups = (inner + 7) / 8
        Parallel.forEachChunk(outer * groups, costPerItem: 24 * n) { r in
            for job in r {
                let o = job / groups, j = (job % groups) * 8
                let w = min(8, inner - j)
                let base = o * n * inner + j
                var s = V(repeating: 0)
                if log {
                    for k in 0..<n { s += load(g + base + k * inner, lanes: w, fill: 0) }
                    for k in 0..<n {
                        let p = base + k * inner
                        let v = load(g + p, lanes: w, fill: 0) - expNonPositive(load(y + p, lanes: w, fill: 0)) * s
                        store(v, dx + p, lanes: w)
                    }
                } else {
                    for k in 0..<n {
                        let p = base + k * inner
                        s += load(g + p, lanes: w, fill: 0) * load(y + p, lanes: w, fill: 0)
                    }
                    for k in 0..<n {
                        let p = base + k * inner
                        let v = load(y + p, lanes: w, fill: 0) * (load(g + p, lanes: w, fill: 0) - s)
                        store(v, dx + p, lanes: w)
                    }
                }
            }
        }
    }

    // MARK: LayerNorm

    /// LayerNorm over contiguous rows of `d`: y = (x − mean)·rstd·w + b with rstd = 1/√(var + eps) (biased
    /// variance). Writes each row's mean and rstd for the backward pass. `w` and `b` are optional.
    static func layerNormForward(_ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>?, bias b: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                 rstd: UnsafeMutablePointer<Float>, rows: Int, d: Int, epsilon: Float) {
        if rows == 0 { return }
        Parallel.forEachChunk(rows, costPerItem: 2 * d) { r in
            for row in r {
                let xr = x + row * d, yr = y + row * d
                let mu = shiftedMean(xr, d)
                // Two passes over a row that sits in L1: the centred sum of squares avoids the cancellation of
                // E[x²] − E[x]² when |mean| ≫ std.
                let vmu = V(repeating: mu)
                var q0 = V(repeating: 0), q1 = V(repeating: 0)
                var i = 0
                while i + 16 <= d {
                    let a = load(xr + i) - vmu, c = load(xr + i + 8) - vmu
                    q0 += a * a; q1 += c * c
                    i += 16
                }
                if i + 8 <= d { let a = load(xr + i) - vmu; q0 += a * a; i += 8 }
                var q = (q0 + q1).sum()
                while i < d { let a = xr[i] - mu; q += a * a; i += 1 }
                let rs = 1 / (q / Float(d) + epsilon).squareRoot()
                mean[row] = mu
                rstd[row] = rs
                // (x − mu)·rs rather than x·rs − mu·rs, which cancels when |mean| ≫ std.
                let va = V(repeating: rs)
                i = 0
                switch (w, b) {
                case let (w?, b?):
                    while i + 8 <= d {
                        store((load(xr + i) - vmu) * va * load(w + i) + load(b + i), yr + i)
                        i += 8
                    }
                    while i < d { yr[i] = ((xr[i] - mu) * rs) * w[i] + b[i]; i += 1 }
                case let (w?, nil):
                    while i + 8 <= d { store(((load(xr + i) - vmu) * va) * load(w + i), yr + i); i += 8 }
                    while i < d { yr[i] = ((xr[i] - mu) * rs) * w[i]; i += 1 }
                case let (nil, b?):
                    while i + 8 <= d { store(((load(xr + i) - vmu) * va) + load(b + i), yr + i); i += 8 }
                    while i < d { yr[i] = (xr[i] - mu) * rs + b[i]; i += 1 }
                case (nil, nil):
                    while i + 8 <= d { store(((load(xr + i) - vmu) * va), yr + i); i += 8 }
                    while i < d { yr[i] = (xr[i] - mu) * rs; i += 1 }
                }
            }
        }
    }

    /// Rows per partial-sum block of the LayerNorm weight/bias gradients. Fixed (not derived from the thread
    /// count) so that results are bit-identical for any number of threads.
    static let layerNormBlockRows = 32

    /// LayerNorm backward from the saved row statistics. With x̂ = (x − mean)·rstd and ĝ = g·w:
    /// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), dw = Σ_rows g·x̂, db = Σ_rows g. Any output may be nil (not wanted).
    static func layerNormBackward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, weight w: UnsafePointer<Float>?,
                                  mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, d: Int,
                                  dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                  dbias: UnsafeMutablePointer<Float>?) {
        dweight?.update(repeating: 0, count: d)
        dbias?.update(repeating: 0, count: d)
        if rows == 0 || d == 0 { return }
        let blockRows = layerNormBlockRows
        let blocks = (rows + blockRows - 1) / blockRows
        // Per-block partial sums of dw and db, reduced in block order afterwards.
        let partialCount = (dweight == nil ? 0 : blocks * d) + (dbias == nil ? 0 : blocks * d)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: max(partialCount, 1))
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: partialCount)
        let pw: UnsafeMutablePointer<Float>? = dweight == nil ? nil : partial
        let pb: UnsafeMutablePointer<Float>? = dbias == nil ? nil : partial + (dweight == nil ? 0 : blocks * d)
        let invD = 1 / Float(d)

        Parallel.forEachChunk(blocks, costPerItem: blockRows * d * 3) { r in
            for blk in r {
                let bw = pw.map { $0 + blk * d }, bb = pb.map { $0 + blk * d }
                for row in (blk * blockRows)..<min(rows, (blk + 1) * blockRows) {
                    let xr = x + row * d, gr = g + row * d
                    let mu = mean[row], rs = rstd[row]
                    let vmu = V(repeating: mu), vrs = V(repeating: rs)
                    if let dx {
                        // Pass 1: Σ ĝ and Σ ĝ·x̂.
                        var s0 = V(repeating: 0), s1 = V(repeating: 0)
                        var i = 0
                        while i + 8 <= d {
                            let gh = w.map { load(gr + i) * load($0 + i) } ?? load(gr + i)
                            let xh = (load(xr + i) - vmu) * vrs
                            s0 += gh
                            s1 += gh * xh
                            i += 8
                        }
                        var sg = s0.sum(), sgx = s1.sum()
                        while i < d {
                            let gh = gr[i] * (w?[i] ?? 1), xh = (xr[i] - mu) * rs
                            sg += gh; sgx += gh * xh
                            i += 1
                        }
                        // Pass 2: dx, plus the dw/db partials while the row is hot.
                        let a = sg * invD, c = sgx * invD
                        let va = V(repeating: a), vc = V(repeating: c)
                        let dr = dx + row * d
                        i = 0
                        while i + 8 <= d {
                            let vg = load(gr + i)
                            let gh = w.map { vg * load($0 + i) } ?? vg
                            let xh = (load(xr + i) - vmu) * vrs
                            store(vrs * (gh - va - xh * vc), dr + i)
                            if let bw { store(load(bw + i) + vg * xh, bw + i) }
                            if let bb { store(load(bb + i) + vg, bb + i) }
                            i += 8
                        }
                        while i < d {
                            let gh = gr[i] * (w?[i] ?? 1), xh = (xr[i] - mu) * rs
                            dr[i] = rs * (gh - a - xh * c)
                            bw?[i] += gr[i] * xh
                            bb?[i] += gr[i]
                            i += 1
                        }
                    } else {
                        var i = 0
                        while i + 8 <= d {
                            let vg = load(gr + i)
                            if let bw { store(load(bw + i) + vg * ((load(xr + i) - vmu) * vrs), bw + i) }
                            if let bb { store(load(bb + i) + vg, bb + i) }
                            i += 8
                        }
                        while i < d {
                            bw?[i] += gr[i] * ((xr[i] - mu) * rs)
                            bb?[i] += gr[i]
                            i += 1
                        }
                    }
                }
            }
        }
        for blk in 0..<blocks {
            if let dweight, let pw { addRow(pw + blk * d, into: dweight, d) }
            if let dbias, let pb { addRow(pb + blk * d, into: dbias, d) }
        }
    }

    @inline(__always) static func addRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(load(dst + i) + load(src + i), dst + i); i += 8 }
        while i < n { dst[i] += src[i]; i += 1 }
    }
}
