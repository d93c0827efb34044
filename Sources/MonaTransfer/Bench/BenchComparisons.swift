import Foundation

/// The reference method against one other method on one task, paired by seed (runs with the same task and
/// seed share the data split). Differences are oriented so that positive = the reference is better, whatever
/// the metric's direction.
public struct BenchPairedDifference: Sendable {
    public var task: String
    public var reference: String
    public var method: String
    /// Seeds both methods finished, in suite order, and the oriented difference on each.
    public var seeds: [UInt64]
    public var differences: [Double]
    public var mean: Double { BenchStatistics.mean(differences) }
    /// Percentile bootstrap 95 % interval of the mean difference (nil for fewer than two pairs).
    public var interval: ConfidenceInterval?

    /// +1 when the interval lies above 0, −1 below, 0 when it holds 0; nil without an interval.
    public var verdict: Int? {
        guard let interval else { return nil }
        return interval.low > 0 ? 1 : (interval.high < 0 ? -1 : 0)
    }
}

/// Two methods across tasks: each task's mean difference (oriented, positive = `first` better).
public struct BenchPairwiseComparison: Sendable {
    public var first: String
    public var second: String
    /// Tasks where both have a result, and the oriented difference of their task means there (exactly 0 when
    /// the means tie).
    public var tasks: [String]
    public var differences: [Double]
    public var wins: Int { differences.filter { $0 > 0 }.count }
    public var ties: Int { differences.filter { $0 == 0 }.count }
    public var losses: Int { differences.filter { $0 < 0 }.count }
    /// Over the task differences; nil for no tasks.
    public var wilcoxon: WilcoxonResult?
    /// Holm-adjusted Wilcoxon p-value within the family of the reference's comparisons (nil for other pairs).
    public var holmPValue: Double?
    /// Counts by the per-task paired intervals (reference comparisons only): tasks whose interval lies above 0,
    /// holds 0, lies below 0; tasks with a single paired seed are not counted.
    public var intervalCounts: (wins: Int, ties: Int, losses: Int)?
}

/// The Friedman test and Nemenyi's critical difference over the tasks on which every compared method has a
/// result, or why they were not computed.
public struct BenchRankAnalysis: Sendable {
    public var tasks: [String]
    public var methods: [String]
    /// Tasks left out for a missing method.
    public var leftOut: [(task: String, missing: [String])]
    public var friedman: FriedmanResult?
    public var nemenyi: NemenyiResult?
    /// Why the Friedman test or the diagram is missing (nil when both are there).
    public var note: String?
}

/// Everything statistical about a benchmark beyond per-cell mean and sd.
public struct BenchComparisons: Sendable {
    /// The method the paired comparisons are about: the suite's reference when it has results, else `mona` when
    /// the suite has it, else the first method.
    public var reference: String?
    /// Every other method with results, MoNA's direct controls first.
    public var controls: [String]
    /// Per task and control (task-major, controls in order).
    public var paired: [BenchPairedDifference]
    /// The reference against each control first, then every other pair in suite order.
    public var pairwise: [BenchPairwiseComparison]
    public var ranks: BenchRankAnalysis

    /// Significance level of the Nemenyi test and of the intervals' complement.
    public static let alpha = 0.05

    /// MoNA's controls in the order the tables list them: warm-up only (is it the alignment or the extra
    /// embedder training?), vanilla fine-tuning, ORCA, the body-free model, then the expert baselines.
    public static let primaryControls = ["warmup-only", "finetune", "orca", "no-body", "expert", "minirocket"]

    /// Two means tie when they differ by at most this fraction of the larger magnitude (float noise of means that
    /// agree exactly in value); a tied difference counts as 0 in the signed-rank test.
    public static let tieTolerance = 1e-9

    /// `a − b` oriented so that positive = a better; 0 within `tieTolerance`.
    public static func orientedDifference(_ a: Double, _ b: Double, higherIsBetter: Bool) -> Double {
        let d = higherIsBetter ? a - b : b - a
        return abs(d) <= tieTolerance * max(abs(a), abs(b)) ? 0 : d
    }

    public init(results r: BenchResults) {
        let withResults = r.methods.filter { m in r.cells.contains { $0.method == m } }
        let reference = r.reference.flatMap { withResults.contains($0) ? $0 : nil }
            ?? (withResults.contains("mona") ? "mona" : withResults.first)
        self.reference = reference
        let others = withResults.filter { $0 != reference }
        let primary = others.filter { m in BenchComparisons.primaryControls.contains(m) || m.hasPrefix("expert") }
            .sorted { a, b in
                let ia = BenchComparisons.primaryControls.firstIndex(of: a) ?? BenchComparisons.primaryControls.count
                let ib = BenchComparisons.primaryControls.firstIndex(of: b) ?? BenchComparisons.primaryControls.count
                return ia != ib ? ia < ib : (others.firstIndex(of: a)! < others.firstIndex(of: b)!)
            }
        let controls = primary + others.filter { !primary.contains($0) }
        self.controls = controls

        var paired: [BenchPairedDifference] = []
        if let reference {
            for t in r.tasks {
                paired += controls.compactMap { BenchComparisons.paired(r, task: t, reference, $0) }
            }
        }
        self.paired = paired

        var pairs: [(String, String)] = reference.map { ref in controls.map { (ref, $0) } } ?? []
        for (i, a) in withResults.enumerated() {
            for b in withResults[(i + 1)...] where a != reference && b != reference { pairs.append((a, b)) }
        }
        var pairwise: [BenchPairwiseComparison] = pairs.map { a, b in
            var c = BenchComparisons.acrossTasks(r, a, b)
            if a == reference {
                let verdicts = paired.filter { $0.method == b }.compactMap(\.verdict)
                c.intervalCounts = (verdicts.filter { $0 > 0 }.count, verdicts.filter { $0 == 0 }.count,
                                    verdicts.filter { $0 < 0 }.count)
            }
            return c
        }
        let family = pairwise.indices.filter { pairwise[$0].first == reference }
        let adjusted = BenchStatistics.holm(family.map { pairwise[$0].wilcoxon?.pValue })
        for (i, p) in zip(family, adjusted) { pairwise[i].holmPValue = p }
        self.pairwise = pairwise
        ranks = BenchComparisons.rankAnalysis(r, methods: withResults)
    }

    /// Method `a` against `b` on one task, paired by seed (nil when they share no seed with finite values).
    public static func paired(_ r: BenchResults, task: String, _ a: String, _ b: String) -> BenchPairedDifference? {
        guard let ca = r.cell(task, a), let cb = r.cell(task, b) else { return nil }
        var seeds: [UInt64] = [], d: [Double] = []
        for (s, v) in zip(ca.seeds, ca.values) {
            guard let j = cb.seeds.firstIndex(of: s), v.isFinite, cb.values[j].isFinite else { continue }
            seeds.append(s)
            d.append(orientedDifference(v, cb.values[j], higherIsBetter: ca.higherIsBetter))
        }
        guard !d.isEmpty else { return nil }
        return BenchPairedDifference(task: task, reference: a, method: b, seeds: seeds, differences: d,
                                     interval: BenchStatistics.bootstrapMeanInterval(d))
    }

    /// Method `a` against `b` across the tasks where both have a finite mean, with the signed-rank test of the
    /// task-mean differences (no Holm adjustment, no interval counts: those depend on the family).
    public static func acrossTasks(_ r: BenchResults, _ a: String, _ b: String) -> BenchPairwiseComparison {
        var tasks: [String] = [], d: [Double] = []
        for t in r.tasks {
            guard let ca = r.cell(t, a), let cb = r.cell(t, b), ca.mean.isFinite, cb.mean.isFinite else { continue }
            tasks.append(t)
            d.append(orientedDifference(ca.mean, cb.mean, higherIsBetter: ca.higherIsBetter))
        }
        return BenchPairwiseComparison(first: a, second: b, tasks: tasks, differences: d,
                                       wilcoxon: BenchStatistics.wilcoxonSignedRank(d))
    }

    /// Friedman + Nemenyi over the complete tasks (every method present with a finite mean).
    static func rankAnalysis(_ r: BenchResults, methods: [String]) -> BenchRankAnalysis {
        var complete: [String] = [], leftOut: [(task: String, missing: [String])] = [], scores: [[Double]] = []
        for t in r.tasks {
            let missing = methods.filter { !(r.cell(t, $0)?.mean.isFinite ?? false) }
            if missing.count == methods.count { continue }    // nothing ran: not a block at all
            guard missing.isEmpty else { leftOut.append((t, missing)); continue }
            complete.append(t)
            scores.append(methods.map { m in
                let c = r.cell(t, m)!
                return c.higherIsBetter ? c.mean : -c.mean
            })
        }
        var analysis = BenchRankAnalysis(tasks: complete, methods: methods, leftOut: leftOut, friedman: nil,
                                         nemenyi: nil, note: nil)
        guard methods.count >= 2 else {
            analysis.note = "rank tests need at least 2 methods with results (here \(methods.count))"
            return analysis
        }
        guard complete.count >= 2 else {
            analysis.note = "the Friedman test and the critical-difference diagram need at least 2 tasks on which every "
                + "method has a result (here \(complete.count))"
            return analysis
        }
        analysis.friedman = BenchStatistics.friedman(scores)
        var sums = [Double](repeating: 0, count: methods.count)
        for row in scores {
            for (j, x) in BenchStatistics.averageRanks(row, descending: true).enumerated() { sums[j] += x }
        }
        let averages = sums.map { $0 / Double(scores.count) }
        analysis.nemenyi = BenchStatistics.nemenyi(averageRanks: averages, blocks: complete.count, alpha: alpha)
        if analysis.friedman == nil {
            analysis.note = "the Friedman test needs at least 3 methods (here 2: the Wilcoxon test above is the comparison)"
        }
        return analysis
    }
}
