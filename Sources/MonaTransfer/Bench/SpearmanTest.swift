import Foundation

/// Spearman's rank correlation with a two-sided test of ρ = 0.
public struct SpearmanResult: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// Every pairing of the y ranks with the x ranks (n ≤ `BenchStatistics.spearmanExactLimit`).
        case exact
        /// t = ρ √((n − 2) / (1 − ρ²)) against Student's t with n − 2 degrees of freedom.
        case tDistribution = "t-distribution"
    }

    /// Pairs with finite values on both sides.
    public var n: Int
    public var rho: Double
    /// Two-sided p-value of the t approximation: SciPy's `spearmanr(x, y).pvalue` (nil for n < 3).
    public var tPValue: Double?
    /// Two-sided exact permutation p-value, 2 · min(P(ρ* ≤ ρ), P(ρ* ≥ ρ)) over all n! pairings, capped at 1:
    /// SciPy's `permutation_test(..., permutation_type="pairings", n_resamples=inf)` (nil beyond the limit).
    public var exactPValue: Double?

    /// The p-value to report: exact when it was enumerated, else the t approximation.
    public var pValue: Double? { exactPValue ?? tPValue }
    public var method: Method { exactPValue != nil ? .exact : .tDistribution }
}

extension BenchStatistics {
    /// Up to this many pairs the permutation distribution of ρ is enumerated (9! = 362 880 pairings); the t
    /// approximation is poor at such sizes.
    public static let spearmanExactLimit = 9

    /// Spearman's ρ of `x` and `y` with its two-sided p-values; pairs with a non-finite value are dropped first.
    /// nil when fewer than three pairs remain or either side is constant.
    public static func spearmanTest(_ x: [Double], _ y: [Double]) -> SpearmanResult? {
        guard x.count == y.count else { return nil }
        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        guard pairs.count >= 3, let rho = spearman(pairs.map(\.0), pairs.map(\.1)) else { return nil }
        let n = pairs.count
        var result = SpearmanResult(n: n, rho: rho, tPValue: nil, exactPValue: nil)
        let df = Double(n - 2)
        if abs(rho) >= 1 {
            result.tPValue = 0
        } else {
            // Two-sided Student t tail: P(|T| ≥ t) = I_{df / (df + t²)}(df / 2, 1 / 2).
            let t2 = rho * rho * df / (1 - rho * rho)
            result.tPValue = StatDistributions.regularizedBeta(df / (df + t2), df / 2, 0.5)
        }
        if n <= spearmanExactLimit {
            result.exactPValue = spearmanExactPValue(averageRanks(pairs.map(\.0)), averageRanks(pairs.map(\.1)))
        }
        return result
    }

    /// Two-sided permutation p-value of the rank correlation: only Σ rx·ry changes between pairings (the rank
    /// means and spreads are fixed), so it stands for ρ. Ties of the statistic within a relative 1e-12 count
    /// as equal, as SciPy's tolerance does.
    static func spearmanExactPValue(_ rx: [Double], _ ry: [Double]) -> Double {
        let n = rx.count
        func statistic(_ y: [Double]) -> Double { zip(rx, y).reduce(0) { $0 + $1.0 * $1.1 } }
        let observed = statistic(ry)
        let tolerance = 1e-12 * max(1, abs(observed))
        var less = 0.0, greater = 0.0, total = 0.0
        // Heap's algorithm over the y ranks.
        var y = ry
        var c = [Int](repeating: 0, count: n)
        func count() {
            let s = statistic(y)
            total += 1
            if s <= observed + tolerance { less += 1 }
            if s >= observed - tolerance { greater += 1 }
        }
        count()
        var i = 0
        while i < n {
            if c[i] < i {
                y.swapAt(i % 2 == 0 ? 0 : c[i], i)
                count()
                c[i] += 1
                i = 0
            } else {
                c[i] = 0
                i += 1
            }
        }
        return min(1, 2 * min(less, greater) / total)
    }
}
