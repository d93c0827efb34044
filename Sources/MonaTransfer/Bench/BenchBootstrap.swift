import Foundation
import MonaTensor

/// A two-sided confidence interval.
public struct ConfidenceInterval: Sendable, Equatable {
    public var low: Double
    public var high: Double
    /// Coverage it was built for (0.95).
    public var level: Double

    public func contains(_ x: Double) -> Bool { low <= x && x <= high }
}

extension BenchStatistics {
    /// Samples up to this size are bootstrapped exactly (every multiset of resampled indices with its
    /// multinomial weight: C(2n−1, n) ≤ 92 378 of them); larger ones by `bootstrapResamples` seeded draws.
    public static let bootstrapExactLimit = 10
    public static let bootstrapResamples = 20_000

    /// Percentile bootstrap confidence interval of the mean: the α/2 and 1 − α/2 quantiles (inverse CDF: the
    /// smallest resample mean whose cumulative weight reaches p) of the bootstrap distribution of the mean.
    /// Deterministic: exact for n ≤ `bootstrapExactLimit`, else `bootstrapResamples` resamples drawn with
    /// `SeededGenerator(seed:)`. nil for fewer than two values or a non-finite one.
    ///
    /// With 3 values every corner of the distribution carries weight 1/27 > 2.5 %, so the 95 % interval is
    /// the values' range; a percentile interval undercovers at such sizes — read it as the seed spread.
    public static func bootstrapMeanInterval(_ x: [Double], level: Double = 0.95, seed: UInt64 = 0) -> ConfidenceInterval? {
        guard x.count >= 2, x.allSatisfy(\.isFinite), level > 0, level < 1 else { return nil }
        let pLow = (1 - level) / 2, pHigh = 1 - (1 - level) / 2
        let n = x.count
        if n <= bootstrapExactLimit {
            let atoms = exactBootstrapMeans(x)
            let total = atoms.reduce(0.0) { $0 + $1.weight }
            func quantile(_ p: Double) -> Double {
                var cumulative = 0.0
                for a in atoms {
                    cumulative += a.weight
                    if cumulative >= p * total { return a.mean }
                }
                return atoms[atoms.count - 1].mean
            }
            return snappedToZero(ConfidenceInterval(low: quantile(pLow), high: quantile(pHigh), level: level), x)
        }
        var generator = SeededGenerator(seed: seed)
        var means = [Double](repeating: 0, count: bootstrapResamples)
        for b in 0..<bootstrapResamples {
            var sum = 0.0
            for _ in 0..<n { sum += x[Int(generator.next() % UInt64(n))] }
            means[b] = sum / Double(n)
        }
        means.sort()
        func quantile(_ p: Double) -> Double {
            let index = Int((p * Double(bootstrapResamples)).rounded(.up)) - 1
            return means[min(max(index, 0), bootstrapResamples - 1)]
        }
        return snappedToZero(ConfidenceInterval(low: quantile(pLow), high: quantile(pHigh), level: level), x)
    }

    /// A bound that is zero up to rounding (a resample mean of accuracy differences that cancel exactly comes out
    /// as ±2.2e-17) becomes 0, so that "the interval excludes 0" is never decided by rounding.
    static func snappedToZero(_ interval: ConfidenceInterval, _ x: [Double]) -> ConfidenceInterval {
        let tolerance = 1e-9 * (x.map { abs($0) }.max() ?? 0)
        var i = interval
        if abs(i.low) <= tolerance { i.low = 0 }
        if abs(i.high) <= tolerance { i.high = 0 }
        return i
    }

    /// The exact bootstrap distribution of the mean: one atom per multiset of indices (counts c₀…c_{n−1}
    /// summing to n), weight n! / ∏ cᵢ! (integers, exact in Double for n ≤ 12), mean Σ cᵢ xᵢ / n; sorted by
    /// mean (stable, so equal means keep enumeration order).
    static func exactBootstrapMeans(_ x: [Double]) -> [(mean: Double, weight: Double)] {
        let n = x.count
        var factorial = [1.0]
        for i in 1...max(n, 1) { factorial.append(factorial[i - 1] * Double(i)) }
        var atoms: [(mean: Double, weight: Double)] = []
        var counts = [Int](repeating: 0, count: n)
        func visit(_ i: Int, _ left: Int) {
            if i == n - 1 {
                counts[i] = left
                var sum = 0.0, denominator = 1.0
                for j in 0..<n {
                    sum += Double(counts[j]) * x[j]
                    denominator *= factorial[counts[j]]
                }
                atoms.append((sum / Double(n), factorial[n] / denominator))
                return
            }
            for c in stride(from: left, through: 0, by: -1) {
                counts[i] = c
                visit(i + 1, left - c)
            }
        }
        visit(0, n)
        return atoms.enumerated().sorted { a, b in
            a.element.mean != b.element.mean ? a.element.mean < b.element.mean : a.offset < b.offset
        }.map(\.element)
    }
}
