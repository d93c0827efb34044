// Kernels for the backward passes of the LayerNorm and softmax gradient ops (see Ops/LayerNorm.swift and
// Ops/Softmax.swift): what a second backward pass (the backward of a create-graph gradient) runs per row.

extension RowKernels {
    // MARK: LayerNorm

    /// y = (x − mean)·rstd·w (w optional) for contiguous rows of `d`, from saved row statistics.
    static func normalizeRows(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                              weight w: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, rows: Int, d: Int) {
        if rows == 0 || d == 0 { return }
        Parallel.forEachChunk(rows, costPerItem: d) { r in
            for row in r {
                let xr = x + row * d, yr = y + row * d
                let mu = mean[row], rs = rstd[row]
                let vmu = V(repeating: mu), vrs = V(repeating: rs)
                var i = 0
                if let w {
                    while i + 8 <= d { store((load(xr + i) - vmu) * vrs * load(w + i), yr + i); i += 8 }
                    while i < d { yr[i] = (xr[i] - mu) * rs * w[i]; i += 1 }
                } else {
                    while i + 8 <= d { store((load(xr + i) - vmu) * vrs, yr + i); i += 8 }
                    while i < d { yr[i] = (xr[i] - mu) * rs; i += 1 }
                }
            }
        }
    }

    /// Backward of o = J(x)·(g·w), the LayerNorm input gradient (J = r·(I − 1/D − x̂x̂ᵀ/D) the symmetric
    /// Jacobian of x̂, r = rstd; w optional), for the output gradient u. With v = g·w and dv = J·u:
    ///
    ///     dg = w·dv,  dw = Σ_rows g·dv
    ///     dx = −r·(mean(u·o)·x̂ + mean(v·x̂)·dv + mean(u·x̂)·o)
    ///
    /// `o` is the op's output. Every result may be nil (not wanted); `dweight` needs `w`.
    static func layerNormGradientBackward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                          weight w: UnsafePointer<Float>?, output o: UnsafePointer<Float>,
                                          _ u: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                          rstd: UnsafePointer<Float>, rows: Int, d: Int,
                                          dx: UnsafeMutablePointer<Float>?, dg: UnsafeMutablePointer<Float>?,
                                          dweight: UnsafeMutablePointer<Float>?) {
        dweight?.update(repeating: 0, count: d)
        if rows == 0 || d == 0 || (dx == nil && dg == nil && dweight == nil) { return }
        let invD = 1 / Float(d)
        // Per-block partial sums of dw, reduced in block order: bit-identical for any thread count.
        let blockRows = layerNormBlockRows
        let blocks = (rows + blockRows - 1) / blockRows
        let partial: UnsafeMutablePointer<Float>? = dweight == nil ? nil : .allocate(capacity: blocks * d)
        defer { partial?.deallocate() }
        partial?.initialize(repeating: 0, count: blocks * d)
        @inline(__always) func loadV(_ gr: UnsafePointer<Float>, _ i: Int) -> V {
            w.map { load(gr + i) * load($0 + i) } ?? load(gr + i)
        }
        Parallel.forEachChunk(blocks, costPerItem: blockRows * d * 4) { r in
            for blk in r {
                let pw = partial.map { $0 + blk * d }
                for row in (blk * blockRows)..<min(rows, (blk + 1) * blockRows) {
                    let off = row * d
                    let xr = x + off, gr = g + off, or = o + off, ur = u + off
                    let mu = mean[row], rs = rstd[row]
                    let vmu = V(repeating: mu), vrs = V(repeating: rs)
                    // Pass 1: Σu, Σu·x̂, Σv·x̂, Σu·o.
                    var su = V(repeating: 0), sux = su, svx = su, suo = su
                    var i = 0
                    while i + 8 <= d {
                        let xh = (load(xr + i) - vmu) * vrs, vu = load(ur + i)
                        su += vu
                        sux += vu * xh
                        svx += loadV(gr, i) * xh
                        suo += vu * load(or + i)
                        i += 8
                    }
                    var tu = su.sum(), tux = sux.sum(), tvx = svx.sum(), tuo = suo.sum()
                    while i < d {
                        let xh = (xr[i] - mu) * rs
                        tu += ur[i]; tux += ur[i] * xh; tvx += gr[i] * (w?[i] ?? 1) * xh; tuo += ur[i] * or[i]
                        i += 1
                    }
                    let mu1 = tu * invD, mux = tux * invD, mvx = tvx * invD, muo = tuo * invD
                    // Pass 2: dv, then dg, the dw partials and dx.
                    let vm1 = V(repeating: mu1), vmux = V(repeating: mux), vmvx = V(repeating: mvx)
                    let vmuo = V(repeating: muo)
                    i = 0
                    while i + 8 <= d {
                        let xh = (load(xr + i) - vmu) * vrs
                        let dv = vrs * (load(ur + i) - vm1 - xh * vmux)
                        if let dg { store(w.map { dv * load($0 + i) } ?? dv, dg + off + i) }
                        if let pw { store(load(pw + i) + load(gr + i) * dv, pw + i) }
                        if let dx { store(-vrs * (vmuo * xh + vmvx * dv + vmux * load(or + i)), dx + off + i) }
                        i += 8
                    }
                    while i < d {
                        let xh = (xr[i] - mu) * rs
                        let dv = rs * (ur[i] - mu1 - xh * mux)
                        dg?[off + i] = dv * (w?[i] ?? 1)
                        pw?[i] += gr[i] * dv
                        dx?[off + i] = -rs * (muo * xh + mvx * dv + mux * or[i])
                        i += 1
                    }
                }
            }
        }
        if let dweight, let partial {
            for blk in 0..<blocks { addRow(partial + blk * d, into: dweight, d) }
        }
    }

    // MARK: Softmax

    /// Backward of o = y·(g − Σ g·y) (the softmax gradient for output y and output gradient g) with respect to
    /// y, for the output gradient u, over contiguous rows of `n`: dy = u·(g − Σ g·y) − g·Σ u·y. (With respect to
    /// g it is the softmax gradient of u, `softmaxBackward`.)
    static func softmaxGradientBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ u: UnsafePointer<Float>,
                                        _ dy: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        if rows == 0 || n == 0 { return }
        Parallel.forEachChunk(rows, costPerItem: 3 * n) { r in
            for row in r {
                let yr = y + row * n, gr = g + row * n, ur = u + row * n, dr = dy + row * n
                let s = rowDot(gr, yr, n), t = rowDot(ur, yr, n)
                let vs = V(repeating: s), vt = V(repeating: t)
                var i = 0
                while i + 8 <= n {
                    let vg = load(gr + i)
                    store(load(ur + i) * (vg - vs) - vg * vt, dr + i)
                    i += 8
                }
                while i < n { dr[i] = ur[i] * (gr[i] - s) - gr[i] * t; i += 1 }
            }
        }
    }
}
