import Foundation

/// Wilcoxon's signed-rank test of paired differences, two-sided, as SciPy's `scipy.stats.wilcoxon` computes it
/// with its defaults (`correction=False`, `method="auto"`; zeros dropped unless `zsplit`).
public struct WilcoxonResult: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// The exact null distribution of R+ (no ties, no zeros, n ≤ 50).
        case exact
        /// Every one of the 2ⁿ sign flips of the differences (ties or zeros, n ≤ 13).
        case permutation
        /// Normal approximation with the tie-corrected variance (n > 50, or ties/zeros with n > 13).
        case asymptotic
    }

    public enum ZeroMethod: String, Sendable {
        /// Zero differences are dropped before ranking (SciPy's default, Wilcoxon's own rule).
        case wilcox
        /// Zeros are ranked and half of their rank goes to each side (as in Demšar's worked example).
        case zsplit
    }

    /// Pairs given, and how many of them are zero.
    public var n: Int
    public var zeros: Int
    /// Rank sums of the positive and negative differences.
    public var rPlus: Double
    public var rMinus: Double
    /// min(R+, R−), SciPy's reported statistic.
    public var statistic: Double { min(rPlus, rMinus) }
    /// −|z| of the normal approximation (asymptotic only).
    public var z: Double?
    /// nil when it is undefined (every difference zero with n > 13).
    public var pValue: Double?
    public var method: Method
}

/// Friedman's test over blocks (tasks) × treatments (methods), with the Iman–Davenport F form.
public struct FriedmanResult: Sendable, Equatable {
    public var blocks: Int
    public var treatments: Int
    /// Average rank of each treatment (1 = best).
    public var averageRanks: [Double]
    /// χ²_F divided by the tie correction 1 − Σ(t³ − t) / (N k (k² − 1)), as SciPy's `friedmanchisquare`.
    public var chiSquare: Double
    /// Demšar's χ²_F = 12N / (k(k+1)) · (Σ R_j² − k(k+1)²/4), without the tie correction.
    public var chiSquareUncorrected: Double
    public var degreesOfFreedom: Int { treatments - 1 }
    public var pValue: Double?
    /// Iman–Davenport F_F = (N − 1) χ² / (N(k − 1) − χ²) from the tie-corrected χ², with (k − 1, (k − 1)(N − 1))
    /// degrees of freedom.
    public var imanDavenportF: Double
    public var imanDavenportPValue: Double?
}

/// Nemenyi's post-hoc test on average ranks: two methods differ significantly when their average ranks differ
/// by at least the critical difference CD = q_α √(k(k+1) / (6N)), q_α the studentized range quantile / √2.
public struct NemenyiResult: Sendable, Equatable {
    public var treatments: Int
    public var blocks: Int
    public var alpha: Double
    public var q: Double
    public var criticalDifference: Double
    public var averageRanks: [Double]
    /// Maximal groups of treatments (indices, best rank first) whose ranks all lie within less than CD of each
    /// other; singletons are left out. These are the bars of the critical-difference diagram.
    public var cliques: [[Int]]

    /// Whether treatments i and j differ significantly.
    public func significant(_ i: Int, _ j: Int) -> Bool {
        abs(averageRanks[i] - averageRanks[j]) >= criticalDifference
    }

    /// Nemenyi's p-value of treatments i and j: P(range of k normals ≥ |R_i − R_j| √2 / √(k(k+1)/(6N))).
    public func pValue(_ i: Int, _ j: Int) -> Double {
        let se = (Double(treatments * (treatments + 1)) / (6 * Double(blocks))).squareRoot()
        let q = abs(averageRanks[i] - averageRanks[j]) / se * 2.0.squareRoot()
        return max(0, 1 - StatDistributions.rangeCDF(q, groups: treatments))
    }
}

extension BenchStatistics {
    /// Ranks of the values with tie groups: (average ranks, sizes of the groups of equal values).
    static func ranksWithTies(_ x: [Double], descending: Bool = false) -> (ranks: [Double], ties: [Int]) {
        let ranks = averageRanks(x, descending: descending)
        var groups: [Double: Int] = [:]
        for v in x { groups[v, default: 0] += 1 }
        return (ranks, groups.values.filter { $0 > 1 }.sorted())
    }

    /// Wilcoxon's signed-rank test of the differences `d` (two-sided); nil for no differences or a non-finite one.
    /// Method choice as SciPy's "auto": n > 50 → asymptotic; no ties and no zeros → exact; n ≤ 13 →
    /// permutation over all sign flips; otherwise asymptotic. No continuity correction.
    public static func wilcoxonSignedRank(_ d: [Double], zeroMethod: WilcoxonResult.ZeroMethod = .wilcox) -> WilcoxonResult? {
        guard !d.isEmpty, d.allSatisfy(\.isFinite) else { return nil }
        let zeros = d.filter { $0 == 0 }.count
        let ranked = zeroMethod == .wilcox ? d.filter { $0 != 0 } : d
        let (ranks, ties) = ranksWithTies(ranked.map(abs))
        var rPlus = 0.0, rMinus = 0.0, zeroRanks = 0.0
        for (v, r) in zip(ranked, ranks) {
            if v > 0 { rPlus += r } else if v < 0 { rMinus += r } else { zeroRanks += r }
        }
        rPlus += zeroRanks / 2
        rMinus += zeroRanks / 2
        let count = Double(ranked.count)
        let hasTies = !ties.isEmpty

        var method: WilcoxonResult.Method
        if d.count > 50 { method = .asymptotic }
        else if !hasTies && zeros == 0 { method = .exact }
        else if d.count <= 13 { method = .permutation }
        else { method = .asymptotic }

        var result = WilcoxonResult(n: d.count, zeros: zeros, rPlus: rPlus, rMinus: rMinus, z: nil, pValue: nil,
                                    method: method)
        switch method {
        case .exact:
            // Counts of subsets of {1…n} by sum; exact in Double (at most 2^50).
            let m = ranked.count
            let maxSum = m * (m + 1) / 2
            var counts = [Double](repeating: 0, count: maxSum + 1)
            counts[0] = 1
            if m > 0 {
                for rank in 1...m {
                    for s in stride(from: maxSum, through: rank, by: -1) { counts[s] += counts[s - rank] }
                }
            }
            let total = pow(2.0, Double(m))
            let low = Int(rPlus.rounded(.down)), high = Int(rPlus.rounded(.up))
            let sf = counts[min(max(low, 0), maxSum)...].reduce(0, +) / total         // P(R+ ≥ ⌊R+⌋)
            let cdf = counts[...min(max(high, 0), maxSum)].reduce(0, +) / total       // P(R+ ≤ ⌈R+⌉)
            result.pValue = min(1, 2 * min(sf, cdf))
        case .permutation:
            // R+ under every sign flip: zeros stay zero (their half ranks are a constant), every non-zero
            // difference adds its rank or not. Doubled ranks are integers, so the counts are exact.
            let doubled = zip(ranked, ranks).filter { $0.0 != 0 }.map { Int(($0.1 * 2).rounded()) }
            let maxSum = doubled.reduce(0, +)
            var counts = [Double](repeating: 0, count: maxSum + 1)
            counts[0] = 1
            for r in doubled {
                for s in stride(from: maxSum, through: r, by: -1) { counts[s] += counts[s - r] }
            }
            let total = pow(2.0, Double(doubled.count))
            let observed = Int(((rPlus - zeroRanks / 2) * 2).rounded())
            let less = counts[...min(max(observed, 0), maxSum)].reduce(0, +) / total
            let greater = observed > maxSum ? 0 : counts[max(observed, 0)...].reduce(0, +) / total
            result.pValue = min(1, 2 * min(less, greater))
        case .asymptotic:
            let mean = count * (count + 1) / 4
            let tieTerm = ties.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
            let variance = (count * (count + 1) * (2 * count + 1) - tieTerm / 2) / 24
            if variance > 0 {
                let z = (rPlus - mean) / variance.squareRoot()
                result.z = -abs(z)
                result.pValue = min(1, 2 * StatDistributions.normalCDF(-abs(z)))
            }
        }
        return result
    }

    /// Friedman's test of `scores` (one row per block, one column per treatment, larger = better); nil with
    /// fewer than 2 blocks or 3 treatments (SciPy's minimum), ragged rows or non-finite values.
    public static func friedman(_ scores: [[Double]]) -> FriedmanResult? {
        let n = scores.count
        guard n >= 2, let k = scores.first?.count, k >= 3, scores.allSatisfy({ $0.count == k && $0.allSatisfy(\.isFinite) })
        else { return nil }
        var rankSums = [Double](repeating: 0, count: k)
        var tieTerm = 0.0
        for row in scores {
            let (r, ties) = ranksWithTies(row, descending: true)
            for j in 0..<k { rankSums[j] += r[j] }
            tieTerm += ties.reduce(0.0) { $0 + Double($1 * ($1 * $1 - 1)) }
        }
        let N = Double(n), K = Double(k)
        let averages = rankSums.map { $0 / N }
        let uncorrected = 12 * N / (K * (K + 1)) * (averages.reduce(0) { $0 + $1 * $1 } - K * (K + 1) * (K + 1) / 4)
        let correction = 1 - tieTerm / (K * (K * K - 1) * N)
        let chi = correction > 0 ? uncorrected / correction : .nan
        let (f, fp) = imanDavenport(chiSquare: chi, blocks: n, treatments: k)
        return FriedmanResult(blocks: n, treatments: k, averageRanks: averages, chiSquare: chi,
                              chiSquareUncorrected: uncorrected,
                              pValue: chi.isFinite ? chiSquareSurvival(chi, k - 1) : nil,
                              imanDavenportF: f, imanDavenportPValue: fp)
    }

    static func chiSquareSurvival(_ x: Double, _ df: Int) -> Double {
        StatDistributions.chiSquareSurvival(x, degreesOfFreedom: Double(df))
    }

    /// Iman and Davenport's F_F = (N − 1) χ² / (N(k − 1) − χ²) and its p-value with (k − 1, (k − 1)(N − 1))
    /// degrees of freedom (F = ∞, p = 0 when every block ranks the treatments alike).
    public static func imanDavenport(chiSquare chi: Double, blocks n: Int, treatments k: Int) -> (f: Double, p: Double?) {
        guard chi.isFinite, n >= 2, k >= 2 else { return (.nan, nil) }
        let N = Double(n), K = Double(k)
        let denominator = N * (K - 1) - chi
        guard denominator > 1e-12 * N * (K - 1) else { return (.infinity, 0) }
        let f = (N - 1) * chi / denominator
        return (f, StatDistributions.fSurvival(f, K - 1, (K - 1) * (N - 1)))
    }

    /// Nemenyi's critical value q_α for k treatments: the studentized range quantile (infinite degrees of
    /// freedom) divided by √2 (Demšar's Table 5: 1.960, 2.343, 2.569 … for k = 2, 3, 4 … at α = 0.05).
    public static func nemenyiQ(alpha: Double = 0.05, treatments k: Int) -> Double {
        StatDistributions.rangeQuantile(alpha: alpha, groups: k) / 2.0.squareRoot()
    }

    /// Nemenyi's test on the average ranks of k ≥ 2 treatments over `blocks` ≥ 1 blocks.
    public static func nemenyi(averageRanks ranks: [Double], blocks: Int, alpha: Double = 0.05) -> NemenyiResult? {
        let k = ranks.count
        guard k >= 2, blocks >= 1, ranks.allSatisfy(\.isFinite), alpha > 0, alpha < 1 else { return nil }
        let q = nemenyiQ(alpha: alpha, treatments: k)
        let cd = q * (Double(k * (k + 1)) / (6 * Double(blocks))).squareRoot()
        let order = ranks.indices.sorted { ranks[$0] != ranks[$1] ? ranks[$0] < ranks[$1] : $0 < $1 }
        var cliques: [[Int]] = []
        var lastEnd = -1
        for i in order.indices {
            var end = i
            while end + 1 < order.count && ranks[order[end + 1]] - ranks[order[i]] < cd { end += 1 }
            // A clique that ends where the previous one ended lies inside it.
            if end > i && end > lastEnd { cliques.append(Array(order[i...end])) }
            lastEnd = max(lastEnd, end)
        }
        return NemenyiResult(treatments: k, blocks: blocks, alpha: alpha, q: q, criticalDifference: cd,
                             averageRanks: ranks, cliques: cliques)
    }

    /// Holm's step-down adjustment of a family of p-values (same order as given; nil entries stay nil and do
    /// not count towards the family size).
    public static func holm(_ p: [Double?]) -> [Double?] {
        let present = p.indices.filter { p[$0] != nil }.sorted { p[$0]! != p[$1]! ? p[$0]! < p[$1]! : $0 < $1 }
        var adjusted = [Double?](repeating: nil, count: p.count)
        var running = 0.0
        let m = present.count
        for (step, i) in present.enumerated() {
            running = max(running, min(1, Double(m - step) * p[i]!))
            adjusted[i] = running
        }
        return adjusted
    }
}
