import Foundation
import MonaTensor

/// Ridge regression with an unpenalised intercept and the regularisation strength chosen by efficient
/// leave-one-out cross-validation over a grid — scikit-learn's `RidgeCV` (`cv=None`, no scorer) semantics:
///
/// - X and Y are centred (the intercept is not penalised); for each α the closed-form leave-one-out residuals
///   are computed without refitting: through the n×n Gram matrix Xc·Xcᵀ when n ≤ d, through the d×d
///   covariance Xcᵀ·Xc otherwise;
/// - the score of α is minus the mean squared leave-one-out residual over all samples and targets;
/// - the first α with the highest score wins (grid order, strictly better replaces).
///
/// Everything runs in Double, as scikit-learn does. Each α costs one Cholesky factorisation of the n×n (or
/// d×d) system, its inverse diagonal and a solve.
public struct RidgeCV: Sendable {
    /// logspace(−3, 3, 10): MiniRocket's grid, with numpy's exponents (i · 6/9 − 3, the last exactly 3), so the
    /// chosen α prints as the reference's.
    public static let defaultAlphas: [Double] = (0..<10).map { pow(10, $0 == 9 ? 3 : Double($0) * (6.0 / 9.0) + -3) }

    /// The chosen α and the score (−mean squared LOO residual) of each α of `alphas`.
    public let alpha: Double
    public let alphas: [Double]
    public let scores: [Double]
    /// Coefficients [d, t] (row-major) and intercepts [t].
    public let coefficients: [Double]
    public let intercepts: [Double]
    public let featureCount: Int
    public let targetCount: Int

    /// Fits on features `x` [n, d] (row-major, Float) and targets `y` [n, t] (row-major, Double).
    public init(features x: [Float], samples n: Int, targets y: [Double], alphas: [Double] = RidgeCV.defaultAlphas) throws {
        guard n >= 2 else { throw TransferError.badTask("ridge: needs at least 2 training samples, got \(n)") }
        guard !alphas.isEmpty, alphas.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw TransferError.badConfig("ridge: alphas must be positive numbers, got \(alphas)")
        }
        guard x.count % n == 0, y.count % n == 0, !y.isEmpty else {
            throw TransferError.badTask("ridge: \(x.count) feature values and \(y.count) targets for \(n) samples")
        }
        guard x.allSatisfy({ $0.isFinite }), y.allSatisfy({ $0.isFinite }) else {
            throw TransferError.badTask("ridge: features or targets hold NaN or infinite values")
        }
        let d = x.count / n, t = y.count / n
        featureCount = d
        targetCount = t
        self.alphas = alphas

        // Centre features and targets.
        var xMean = [Double](repeating: 0, count: d), yMean = [Double](repeating: 0, count: t)
        for i in 0..<n {
            for j in 0..<d { xMean[j] += Double(x[i * d + j]) }
            for k in 0..<t { yMean[k] += y[i * t + k] }
        }
        for j in 0..<d { xMean[j] /= Double(n) }
        for k in 0..<t { yMean[k] /= Double(n) }
        var xc = DoubleMatrix(rows: n, cols: d)
        var yc = DoubleMatrix(rows: n, cols: t)
        for i in 0..<n {
            for j in 0..<d { xc.values[i * d + j] = Double(x[i * d + j]) - xMean[j] }
            for k in 0..<t { yc.values[i * t + k] = y[i * t + k] - yMean[k] }
        }

        var scores: [Double] = []
        var best: (score: Double, alpha: Double, coef: DoubleMatrix)?
        if n <= d {
            let gram = xc.multiplied(by: xc, transposeOther: true)               // [n, n]
            // Right-hand sides: the targets and a column of ones (for the intercept's correction).
            var rhs = DoubleMatrix(rows: n, cols: t + 1)
            for i in 0..<n {
                for k in 0..<t { rhs[i, k] = yc[i, k] }
                rhs[i, t] = 1
            }
            for alpha in alphas {
                var g = gram
                for i in 0..<n { g[i, i] += alpha }
                guard let chol = Cholesky(g) else {
                    throw TransferError.badTask("ridge: the regularised Gram matrix is not positive definite (α = \(alpha))")
                }
                let solved = chol.solve(rhs)                                     // [G⁻¹Y | G⁻¹1]
                let inverseDiagonal = chol.inverseDiagonal()
                var c = DoubleMatrix(rows: n, cols: t)
                var sum = 0.0
                for i in 0..<n {
                    // LOO residual of sample i: c_i / (G⁻¹_ii − (G⁻¹1)_i / n).
                    let denominator = inverseDiagonal[i] - solved[i, t] / Double(n)
                    for k in 0..<t {
                        c[i, k] = solved[i, k]
                        let r = solved[i, k] / denominator
                        sum += r * r
                    }
                }
                let score = -sum / Double(n * t)
                scores.append(score)
                if best == nil || score > best!.score {
                    best = (score, alpha, xc.multiplied(by: c, transposeSelf: true))  // Xcᵀ c: [d, t]
                }
            }
        } else {
            let cov = xc.multiplied(by: xc, transposeSelf: true)                 // [d, d]
            let xty = xc.multiplied(by: yc, transposeSelf: true)                 // [d, t]
            var xt = DoubleMatrix(rows: d, cols: n)
            for i in 0..<n { for j in 0..<d { xt[j, i] = xc[i, j] } }
            for alpha in alphas {
                var a = cov
                for j in 0..<d { a[j, j] += alpha }
                guard let chol = Cholesky(a) else {
                    throw TransferError.badTask("ridge: the regularised covariance is not positive definite (α = \(alpha))")
                }
                let w = chol.solve(xty)                                          // [d, t]
                let z = chol.solve(xt)                                           // A⁻¹ Xcᵀ: [d, n]
                let fitted = xc.multiplied(by: w)                                // [n, t]
                var sum = 0.0
                for i in 0..<n {
                    var h = 0.0
                    for j in 0..<d { h += xc[i, j] * z[j, i] }
                    let denominator = 1 - h - 1 / Double(n)
                    for k in 0..<t {
                        let r = (yc[i, k] - fitted[i, k]) / denominator
                        sum += r * r
                    }
                }
                let score = -sum / Double(n * t)
                scores.append(score)
                if best == nil || score > best!.score { best = (score, alpha, w) }
            }
        }
        guard let best, best.score.isFinite else {
            throw TransferError.badTask("ridge: leave-one-out errors are not finite (degenerate features?)")
        }
        self.scores = scores
        alpha = best.alpha
        coefficients = best.coef.values
        var intercepts = yMean
        for k in 0..<t {
            for j in 0..<d { intercepts[k] -= xMean[j] * best.coef.values[j * t + k] }
        }
        self.intercepts = intercepts
    }

    /// Predictions [n, t] (row-major) for features `x` [n, d].
    public func predict(features x: [Float], samples n: Int) -> [Double] {
        precondition(x.count == n * featureCount, "RidgeCV.predict: expected \(n)×\(featureCount) features")
        let xd = DoubleMatrix(rows: n, cols: featureCount, values: x.map(Double.init))
        var out = xd.multiplied(by: DoubleMatrix(rows: featureCount, cols: targetCount, values: coefficients))
        for i in 0..<n { for k in 0..<targetCount { out[i, k] += intercepts[k] } }
        return out.values
    }
}

/// scikit-learn's `RidgeClassifierCV`: classes coded ±1 (one column for two classes, +1 for class 1; one
/// column per class otherwise), a `RidgeCV` on those codes, and the class with the largest decision value
/// (for two classes: class 1 when the value is > 0).
public struct RidgeClassifierCV: Sendable {
    public let ridge: RidgeCV
    public let classCount: Int

    public init(features x: [Float], labels: [Int], classCount k: Int, alphas: [Double] = RidgeCV.defaultAlphas) throws {
        guard k >= 2 else { throw TransferError.badTask("ridge classifier: needs at least 2 classes, got \(k)") }
        guard labels.allSatisfy({ $0 >= 0 && $0 < k }) else {
            throw TransferError.badTask("ridge classifier: a label is outside 0..<\(k)")
        }
        classCount = k
        let n = labels.count
        let columns = k == 2 ? 1 : k
        var y = [Double](repeating: -1, count: n * columns)
        for (i, c) in labels.enumerated() {
            if k == 2 { y[i] = c == 1 ? 1 : -1 } else { y[i * k + c] = 1 }
        }
        ridge = try RidgeCV(features: x, samples: n, targets: y, alphas: alphas)
    }

    /// Decision values as [n, K] scores whose argmax is the predicted class (two classes: [−s, s]).
    public func decision(features x: [Float], samples n: Int) -> Tensor {
        let raw = ridge.predict(features: x, samples: n)
        if classCount == 2 {
            return Tensor((0..<n).flatMap { [Float(-raw[$0]), Float(raw[$0])] }, shape: [n, 2])
        }
        return Tensor(raw.map(Float.init), shape: [n, classCount])
    }
}
