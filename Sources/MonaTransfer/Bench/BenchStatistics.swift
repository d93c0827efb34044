import Foundation

/// The small statistics a benchmark table needs, in Double.
public enum BenchStatistics {
    /// Arithmetic mean (NaN for no values).
    public static func mean(_ x: [Double]) -> Double {
        x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count)
    }

    /// Sample standard deviation (n − 1 in the denominator); nil for fewer than two values.
    public static func standardDeviation(_ x: [Double]) -> Double? {
        guard x.count >= 2 else { return nil }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    /// Ranks 1…n (1 = smallest value, or the largest with `descending`); tied values share the average of the
    /// ranks they occupy ([10, 20, 20, 30] → [1, 2.5, 2.5, 4]). NaN values rank last, tied among themselves.
    public static func averageRanks(_ x: [Double], descending: Bool = false) -> [Double] {
        let order = x.indices.sorted { a, b in
            let (u, v) = (x[a], x[b])
            if u.isNaN != v.isNaN { return v.isNaN }
            if u.isNaN { return a < b }
            return descending ? u > v : u < v
        }
        var ranks = [Double](repeating: 0, count: x.count)
        var start = 0
        while start < order.count {
            var end = start
            func same(_ i: Int, _ j: Int) -> Bool {
                let (u, v) = (x[order[i]], x[order[j]])
                return u == v || (u.isNaN && v.isNaN)
            }
            while end + 1 < order.count && same(end + 1, start) { end += 1 }
            let rank = Double(start + end) / 2 + 1          // mean of positions start+1 … end+1
            for k in start...end { ranks[order[k]] = rank }
            start = end + 1
        }
        return ranks
    }

    /// Pearson correlation of `x` and `y`; nil when there are fewer than two pairs or a side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "pearson: \(x.count) x values for \(y.count) y values")
        guard x.count >= 2 else { return nil }
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's ρ: the Pearson correlation of the tie-averaged ranks. Pairs with a non-finite value are
    /// dropped first; nil when fewer than two pairs remain or either side is constant.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "spearman: \(x.count) x values for \(y.count) y values")
        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        return pearson(averageRanks(pairs.map(\.0)), averageRanks(pairs.map(\.1)))
    }
}
