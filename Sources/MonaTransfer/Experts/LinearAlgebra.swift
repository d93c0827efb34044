import MonaTensor

/// A dense row-major Double matrix: just enough linear algebra for the closed-form experts (ridge with
/// leave-one-out selection), with the products on BLAS.
struct DoubleMatrix {
    var rows: Int
    var cols: Int
    var values: [Double]

    init(rows: Int, cols: Int, values: [Double]? = nil) {
        self.rows = rows
        self.cols = cols
        self.values = values ?? [Double](repeating: 0, count: rows * cols)
    }

    subscript(i: Int, j: Int) -> Double {
        get { values[i * cols + j] }
        set { values[i * cols + j] = newValue }
    }

    /// op(self) · op(other).
    func multiplied(by other: DoubleMatrix, transposeSelf: Bool = false, transposeOther: Bool = false) -> DoubleMatrix {
        let m = transposeSelf ? cols : rows, k = transposeSelf ? rows : cols
        let n = transposeOther ? other.rows : other.cols
        precondition(k == (transposeOther ? other.cols : other.rows), "DoubleMatrix: inner dimensions differ")
        var out = DoubleMatrix(rows: m, cols: n)
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { c in
                    guard let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else { return }
                    BLAS.dgemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k, a: pa, lda: cols,
                               b: pb, ldb: other.cols, c: pc, ldc: n)
                }
            }
        }
        return out
    }
}

/// Cholesky factor L (lower triangular, row-major) of a symmetric positive-definite matrix, with the solves
/// ridge needs. Returns nil when the matrix is not numerically positive definite.
struct Cholesky {
    let n: Int
    private(set) var factor: [Double]

    init?(_ a: DoubleMatrix) {
        precondition(a.rows == a.cols, "Cholesky: matrix must be square")
        let n = a.rows
        self.n = n
        var l = a.values
        let ok: Bool = l.withUnsafeMutableBufferPointer { p in
            for j in 0..<n {
                let rj = p.baseAddress! + j * n
                var d = rj[j]
                for k in 0..<j { d -= rj[k] * rj[k] }
                guard d > 0, d.isFinite else { return false }
                let djj = d.squareRoot()
                rj[j] = djj
                for i in (j + 1)..<max(n, j + 1) {
                    let ri = p.baseAddress! + i * n
                    var s = ri[j]
                    for k in 0..<j { s -= ri[k] * rj[k] }
                    ri[j] = s / djj
                }
            }
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { p[i * n + j] = 0 } }
            return true
        }
        guard ok else { return nil }
        factor = l
    }

    /// A⁻¹ B for B [n, m] (row-major).
    func solve(_ b: DoubleMatrix) -> DoubleMatrix {
        precondition(b.rows == n, "Cholesky.solve: \(b.rows) rows for an \(n)×\(n) system")
        var x = b
        let m = b.cols
        factor.withUnsafeBufferPointer { l in
            x.values.withUnsafeMutableBufferPointer { v in
                // L y = b (forward), then Lᵀ x = y (backward); one right-hand side column at a time.
                for col in 0..<m {
                    for i in 0..<n {
                        var s = v[i * m + col]
                        for k in 0..<i { s -= l[i * n + k] * v[k * m + col] }
                        v[i * m + col] = s / l[i * n + i]
                    }
                    for i in stride(from: n - 1, through: 0, by: -1) {
                        var s = v[i * m + col]
                        for k in (i + 1)..<max(n, i + 1) { s -= l[k * n + i] * v[k * m + col] }
                        v[i * m + col] = s / l[i * n + i]
                    }
                }
            }
        }
        return x
    }

    /// The diagonal of A⁻¹: (A⁻¹)_ii = Σ_k (L⁻¹)_ki², with L⁻¹ computed column by column.
    func inverseDiagonal() -> [Double] {
        var diag = [Double](repeating: 0, count: n)
        var col = [Double](repeating: 0, count: n)
        factor.withUnsafeBufferPointer { l in
            // Column i of L⁻¹: solve L z = e_i (z_k = 0 for k < i).
            for i in 0..<n {
                var s = 0.0
                col[i] = 1 / l[i * n + i]
                s += col[i] * col[i]
                if i + 1 < n {
                    for k in (i + 1)..<n {
                        var t = 0.0
                        for j in i..<k { t -= l[k * n + j] * col[j] }
                        col[k] = t / l[k * n + k]
                        s += col[k] * col[k]
                    }
                }
                diag[i] = s
            }
        }
        return diag
    }
}
