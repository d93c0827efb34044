import Foundation
import MonaRunKit
import Testing
@testable import MonaTransfer

/// Golden values from `python3 bench/check_statistics.py` (SciPy 1.17.1; its output is quoted in docs/bench.md)
/// and hand-worked cases from Demšar (JMLR 2006).
private func close(_ a: Double?, _ b: Double, rel: Double = 1e-9, abs tolerance: Double = 1e-300) -> Bool {
    guard let a else { return false }
    return Swift.abs(a - b) <= max(rel * Swift.abs(b), tolerance)
}

/// Demšar's Table 6: AUC of C4.5, C4.5+m, C4.5+cf, C4.5+m+cf on 14 data sets (0.97501: the paper ranks C4.5+cf
/// ahead of C4.5+m+cf on the 13th set although both print as 0.975).
let demsarAUC: [[Double]] = [
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970],
]

@Suite struct StatDistributionGoldenTests {
    @Test func normalGammaChiSquare() {
        #expect(close(StatDistributions.normalCDF(-3.1), 0.0009676032132183563, rel: 1e-13))
        #expect(close(StatDistributions.normalCDF(1.2345), 0.8914916766373298, rel: 1e-14))
        #expect(close(StatDistributions.regularizedGammaP(2.5, 1.7), 0.36143007689620493, rel: 1e-13))
        #expect(close(StatDistributions.regularizedGammaQ(2.5, 1.7), 0.6385699231037951, rel: 1e-13))
        #expect(close(StatDistributions.regularizedGammaQ(0.5, 30), 9.485737571073857e-15, rel: 1e-11))
        let chi: [(Double, Double, Double)] = [(9.28, 3, 0.025790724198756772), (0.5, 1, 0.47950012218695337),
                                               (30, 10, 0.000856641210775301), (100, 50, 3.454931382984871e-05),
                                               (0.001, 2, 0.9995001249791693), (70, 6, 4.088868218955329e-13)]
        for (x, df, p) in chi {
            #expect(close(StatDistributions.chiSquareSurvival(x, degreesOfFreedom: df), p, rel: 1e-11), "chi2.sf(\(x), \(df))")
        }
        #expect(StatDistributions.chiSquareSurvival(0, degreesOfFreedom: 3) == 1)
        #expect(StatDistributions.chiSquareSurvival(1, degreesOfFreedom: 0).isNaN)
    }

    @Test func betaAndF() {
        #expect(close(StatDistributions.regularizedBeta(0.4, 2, 3), 0.5247999999999999, rel: 1e-13))   // = 0.5248 by hand
        #expect(close(StatDistributions.regularizedBeta(0.9, 0.5, 7), 0.9999999780702157, rel: 1e-13))
        let f: [(Double, Double, Double, Double)] = [(3.69, 3, 39, 0.01974409968948888), (0.2, 2, 5, 0.824974664479918),
                                                     (10, 6, 12, 0.00044117226794695925), (1.5, 10, 100, 0.15042975405634415),
                                                     (50, 6, 12, 8.476391714809527e-08)]
        for (x, d1, d2, p) in f { #expect(close(StatDistributions.fSurvival(x, d1, d2), p, rel: 1e-11), "f.sf(\(x), \(d1), \(d2))") }
        #expect(StatDistributions.fSurvival(.infinity, 3, 4) == 0)
    }

    @Test func nemenyiCriticalValues() {
        // SciPy: studentized_range.ppf(0.95, k, inf) / √2 for k = 2…12.
        let scipy = [1.9599639845400534, 2.343700586378409, 2.569031772546482, 2.7277743708703763, 2.8497054196100016,
                     2.9483200175296744, 3.030878449614413, 3.1017303413033805, 3.163683577053373, 3.2186536073291525,
                     3.268003924466142]
        // Demšar's Table 5(a), three decimals.
        let demsar = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
        for (i, q) in scipy.enumerated() {
            let k = i + 2
            let mine = BenchStatistics.nemenyiQ(alpha: 0.05, treatments: k)
            #expect(close(mine, q, rel: 1e-8), "k = \(k): \(mine) vs \(q)")
            if i < demsar.count { #expect(abs(mine - demsar[i]) < 1e-3) }
        }
        #expect(close(BenchStatistics.nemenyiQ(alpha: 0.10, treatments: 4), 2.2913414968880566, rel: 1e-8))
        #expect(close(StatDistributions.rangeCDF(3.5, groups: 5), 0.9036615360345732, rel: 1e-9))
    }
}

@Suite struct WilcoxonGoldenTests {
    func check(_ d: [Double], zeroMethod: WilcoxonResult.ZeroMethod = .wilcox, rPlus: Double, rMinus: Double, p: Double,
               method: WilcoxonResult.Method, _ comment: Comment) throws {
        let w = try #require(BenchStatistics.wilcoxonSignedRank(d, zeroMethod: zeroMethod))
        #expect(w.rPlus == rPlus && w.rMinus == rMinus, comment)
        #expect(w.statistic == min(rPlus, rMinus), comment)
        #expect(close(w.pValue, p, rel: 1e-12), "\(comment): p \(String(describing: w.pValue)) vs \(p)")
        #expect(w.method == method, comment)
    }

    @Test func matchesSciPy() throws {
        try check([0.02, 0.05, 0.01], rPlus: 6, rMinus: 0, p: 0.25, method: .exact, "three positive: 2 · 1/8")
        try check([0.12, -0.05, 0.31, 0.07, -0.02, 0.18, 0.26, 0.09], rPlus: 33, rMinus: 3, p: 0.0390625, method: .exact,
                  "n8 no ties")
        try check([0.5, -0.5, 1.0, 1.0, 0.0, 2.0, -1.5, 3.0, 2.0, 0.25], rPlus: 36.5, rMinus: 8.5, p: 0.109375,
                  method: .permutation, "n10 ties and a zero")
        try check((0..<20).map { Double(($0 * 7) % 11 - 5) * 0.1 }, rPlus: 82, rMinus: 89, p: 0.8783055968827609,
                  method: .asymptotic, "n20 ties and zeros")
        try check((1...60).map { Double(($0 * 37) % 101 - 50) }, rPlus: 922, rMinus: 848, p: 0.7800230211203725,
                  method: .asymptotic, "n60 integers")
        let d = demsarAUC.map { $0[1] - $0[0] }
        try check(d, rPlus: 71.5, rMinus: 6.5, p: 0.01075713311978963, method: .asymptotic, "Demšar C4.5+m − C4.5")
        // Demšar's worked example splits the two zero differences between the sides: R+ = 93, R− = 12 (p. 8).
        try check(d, zeroMethod: .zsplit, rPlus: 93, rMinus: 12, p: 0.01096849656422473, method: .asymptotic,
                  "Demšar, zsplit")
    }

    @Test func edgeCases() throws {
        #expect(BenchStatistics.wilcoxonSignedRank([]) == nil)
        #expect(BenchStatistics.wilcoxonSignedRank([1, .nan]) == nil)
        // All differences zero: every sign flip gives R+ = 0, p = 1 (n ≤ 13); undefined beyond (SciPy: NaN).
        let zeros = try #require(BenchStatistics.wilcoxonSignedRank([0, 0, 0]))
        #expect(zeros.pValue == 1 && zeros.method == .permutation && zeros.zeros == 3)
        #expect(try #require(BenchStatistics.wilcoxonSignedRank([Double](repeating: 0, count: 20))).pValue == nil)
        // One difference: R+ ∈ {0, 1} with probability ½ each → p = 1.
        #expect(try #require(BenchStatistics.wilcoxonSignedRank([0.3])).pValue == 1)
        // Symmetric in the sign of the differences.
        let a = try #require(BenchStatistics.wilcoxonSignedRank([0.12, -0.05, 0.31, 0.07, -0.02]))
        let b = try #require(BenchStatistics.wilcoxonSignedRank([-0.12, 0.05, -0.31, -0.07, 0.02]))
        #expect(a.pValue == b.pValue && a.statistic == b.statistic)
    }
}

@Suite struct FriedmanNemenyiGoldenTests {
    @Test func demsarExample() throws {
        let f = try #require(BenchStatistics.friedman(demsarAUC))
        #expect(f.blocks == 14 && f.treatments == 4 && f.degreesOfFreedom == 3)
        let ranks = [3.142857142857143, 2.0, 2.892857142857143, 1.9642857142857142]
        for (a, b) in zip(f.averageRanks, ranks) { #expect(close(a, b, rel: 1e-14)) }
        // Demšar: χ²_F = 9.28 and F_F = 3.69 (no tie correction).
        #expect(close(f.chiSquareUncorrected, 9.278571428571437, rel: 1e-12))
        #expect(abs(f.chiSquareUncorrected - 9.28) < 0.005)
        let paperF = BenchStatistics.imanDavenport(chiSquare: f.chiSquareUncorrected, blocks: 14, treatments: 4)
        #expect(close(paperF.f, 3.686313032089068, rel: 1e-11) && abs(paperF.f - 3.69) < 0.005)
        // SciPy's friedmanchisquare (tie-corrected) and the F form built on it.
        #expect(close(f.chiSquare, 10.228346456692925, rel: 1e-12))
        #expect(close(f.pValue, 0.016721580328441323, rel: 1e-10))
        #expect(close(f.imanDavenportF, 4.1851301115241695, rel: 1e-11))
        #expect(close(f.imanDavenportPValue, 0.011620659515310975, rel: 1e-9))

        // Nemenyi: CD = 2.569 √(4·5 / (6·14)) = 1.25; "even the best and the worst differ by less than CD" at
        // α = 0.05; at α = 0.10 (CD 1.12) C4.5 is worse than C4.5+m and C4.5+m+cf, C4.5+cf in both groups.
        let n05 = try #require(BenchStatistics.nemenyi(averageRanks: f.averageRanks, blocks: 14))
        #expect(close(n05.criticalDifference, 1.2535591471176057, rel: 1e-8))
        #expect(n05.cliques == [[3, 1, 2, 0]])
        let n10 = try #require(BenchStatistics.nemenyi(averageRanks: f.averageRanks, blocks: 14, alpha: 0.10))
        #expect(close(n10.criticalDifference, 1.1180601669815278, rel: 1e-8))
        #expect(n10.cliques == [[3, 1, 2], [2, 0]])
        #expect(n10.significant(0, 1) && n10.significant(0, 3) && !n10.significant(0, 2) && !n10.significant(1, 2))
        #expect(n10.pValue(0, 3) < 0.10 && n10.pValue(0, 2) > 0.10)
    }

    @Test func smallTableWithTies() throws {
        let f = try #require(BenchStatistics.friedman([[0.9, 0.8, 0.8], [0.7, 0.75, 0.6], [0.5, 0.5, 0.5],
                                                       [0.88, 0.81, 0.86], [0.6, 0.65, 0.61]]))
        for (a, b) in zip(f.averageRanks, [1.8, 1.9, 2.3]) { #expect(close(a, b, rel: 1e-14)) }
        #expect(close(f.chiSquare, 0.9333333333333371, rel: 1e-10))
        #expect(close(f.pValue, 0.6270890852730551, rel: 1e-10))
    }

    @Test func refusals() {
        #expect(BenchStatistics.friedman([[1, 2, 3]]) == nil)                 // one block
        #expect(BenchStatistics.friedman([[1, 2], [2, 1]]) == nil)            // two treatments (SciPy needs 3)
        #expect(BenchStatistics.friedman([[1, 2, 3], [1, 2]]) == nil)         // ragged
        // Every block ranks alike: χ² = N(k − 1), F infinite, p = 0.
        let f = BenchStatistics.friedman([[3, 2, 1], [3, 2, 1], [3, 2, 1]])!
        #expect(f.chiSquare == 6 && f.imanDavenportF == .infinity && f.imanDavenportPValue == 0)
        // Every block completely tied: the tie correction is 0, no statistic.
        #expect(BenchStatistics.friedman([[1, 1, 1], [2, 2, 2]])?.pValue == nil)
        #expect(BenchStatistics.nemenyi(averageRanks: [1], blocks: 3) == nil)
        // Separated methods over many blocks form no group.
        #expect(BenchStatistics.nemenyi(averageRanks: [1, 2, 3], blocks: 40)?.cliques == [])
        #expect(BenchStatistics.nemenyi(averageRanks: [2, 2, 2], blocks: 3)?.cliques == [[0, 1, 2]])
    }

    @Test func holmMatchesHand() {
        // Sorted 0.01, 0.03, 0.04, 0.5 → 4·0.01, 3·0.03, max(0.09, 2·0.04), max(0.09, 0.5).
        let h = BenchStatistics.holm([0.01, 0.04, 0.03, 0.5])
        for (a, b) in zip(h, [0.04, 0.09, 0.09, 0.5]) { #expect(close(a, b, rel: 1e-14)) }
        #expect(BenchStatistics.holm([nil, 0.2]) == [nil, 0.2])
    }
}

@Suite struct BootstrapGoldenTests {
    @Test func exactPercentileIntervals() throws {
        let cases: [([Double], Double, Double)] = [
            ([0.74, 0.8733333333333333, 0.8066666666666666], 0.7399999999999999, 0.8733333333333334),
            ([0.1, 0.4, 0.35, 0.2, 0.9], 0.18000000000000002, 0.66),
            ([0.52, 0.61, 0.48, 0.55, 0.7, 0.43, 0.66, 0.59], 0.50875, 0.62625),
        ]
        for (x, low, high) in cases {
            let ci = try #require(BenchStatistics.bootstrapMeanInterval(x))
            #expect(close(ci.low, low, rel: 1e-15) && close(ci.high, high, rel: 1e-15), "\(x): \(ci)")
        }
        #expect(BenchStatistics.bootstrapMeanInterval([0.5]) == nil)
        #expect(BenchStatistics.bootstrapMeanInterval([0.5, .nan]) == nil)
        // GunPoint, MoNA − scratch per seed (protocol 2): the 2.5 % atom is a resample whose differences cancel
        // exactly, computed as 2.2e-17. It must read as 0 (the interval holds 0), not as "excludes 0".
        let cancelling = [0.033333333333333326, 0.22666666666666668, 0.16666666666666674, 0.1466666666666666,
                          -0.06666666666666665]
        let snapped = try #require(BenchStatistics.bootstrapMeanInterval(cancelling))
        #expect(snapped.low == 0 && snapped.high > 0.18, "\(snapped)")
        let difference = BenchPairedDifference(task: "gunpoint", reference: "mona", method: "scratch", seeds: [0, 1, 2, 3, 4],
                                               differences: cancelling, interval: snapped)
        #expect(difference.verdict == 0)
        // Equal values: a point interval.
        #expect(BenchStatistics.bootstrapMeanInterval([0.3, 0.3, 0.3]) == ConfidenceInterval(low: 0.3, high: 0.3, level: 0.95))
    }

    @Test func exactDistributionWeights() {
        // n = 3: C(5, 3) = 10 multisets whose weights 3!/∏cᵢ! sum to 3³ = 27; the all-minimum corner has 1.
        let atoms = BenchStatistics.exactBootstrapMeans([1, 2, 4])
        #expect(atoms.count == 10 && atoms.reduce(0) { $0 + $1.weight } == 27)
        #expect(atoms.first?.mean == 1 && atoms.first?.weight == 1 && atoms.last?.mean == 4)
    }

    @Test func monteCarloIsSeededAndNearTheExactInterval() throws {
        // 12 values: beyond the exact limit, so 20 000 seeded resamples.
        let x = (0..<12).map { Double(($0 * 5) % 12) / 10 }
        let a = try #require(BenchStatistics.bootstrapMeanInterval(x, seed: 1))
        #expect(a == BenchStatistics.bootstrapMeanInterval(x, seed: 1))
        // Normal approximation of the bootstrap distribution: mean ± 1.96 · sd/√n (population sd), ±0.02.
        let m = BenchStatistics.mean(x)
        let sd = (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)).squareRoot()
        let half = 1.96 * sd / Double(x.count).squareRoot()
        #expect(abs(a.low - (m - half)) < 0.02 && abs(a.high - (m + half)) < 0.02, "\(a) vs ±\(half) around \(m)")
    }
}

/// The committed partial `full` suite (docs/results/full-partial-2026-11-28: 3 tasks × 7 methods × seeds 0–2)
/// through BenchResults → BenchComparisons, against bench/check_statistics.py.
@Suite struct BenchComparisonsGoldenTests {
    static let values: [(task: String, higher: Bool, cells: [(String, [Double])])] = [
        ("gunpoint", true, [
            ("scratch", [0.7733333333333333, 0.7133333333333334, 0.7333333333333333]),
            ("linear-probe", [0.49333333333333335, 0.5133333333333333, 0.5066666666666667]),
            ("fpt", [0.7333333333333333, 0.8066666666666666, 0.7133333333333334]),
            ("finetune", [0.7866666666666666, 0.7666666666666667, 0.76]),
            ("orca", [0.68, 0.8066666666666666, 0.9066666666666666]),
            ("warmup-only", [0.6466666666666666, 0.8, 0.76]),
            ("mona", [0.74, 0.8733333333333333, 0.8066666666666666])]),
        ("arrowhead", true, [
            ("scratch", [0.52, 0.5257142857142857, 0.5657142857142857]),
            ("linear-probe", [0.3942857142857143, 0.3028571428571429, 0.3028571428571429]),
            ("fpt", [0.5485714285714286, 0.29714285714285715, 0.3028571428571429]),
            ("finetune", [0.5257142857142857, 0.52, 0.56]),
            ("orca", [0.5257142857142857, 0.5314285714285715, 0.52]),
            ("warmup-only", [0.5142857142857142, 0.6228571428571429, 0.5485714285714286]),
            ("mona", [0.5485714285714286, 0.5657142857142857, 0.5542857142857143])]),
        ("darcy16", false, [
            ("scratch", [0.3603242113959462, 0.3052054300921918, 0.3817849712080868]),
            ("linear-probe", [0.5411005188495551, 0.5598515854508705, 0.5679613549220535]),
            ("fpt", [0.3137851980986331, 0.301300995073216, 0.3237623154295523]),
            ("finetune", [0.2479092166883745, 0.2371190469160667, 0.24002275333095277]),
            ("orca", [0.24074469781242847, 0.244177182648173, 0.267113946325552]),
            ("warmup-only", [0.24476363093294876, 0.24428769909284007, 0.26026549051205594]),
            ("mona", [0.2387194549792306, 0.2530216582137, 0.24771399282522968])]),
    ]

    static func results(drop: Set<String> = [], seeds: [UInt64] = [0, 1, 2]) -> BenchResults {
        var cells: [BenchCell] = []
        for (task, higher, methods) in values {
            for (m, v) in methods where !drop.contains("\(task)/\(m)") {
                let picked = seeds.map { v[Int($0)] }
                cells.append(BenchCell(task: task, method: m, metric: higher ? "accuracy" : "relative_l2", higherIsBetter: higher,
                                       seeds: seeds, values: picked, runs: seeds.map { "runs/\(task)/\(m)/seed\($0)" },
                                       finalTrainLosses: [], sourceProbeAfter: [], sourceProbeBefore: [], reuseCurves: []))
            }
        }
        return BenchResults(suite: "full", tasks: values.map(\.task), methods: BenchSuite.defaultMethods, cells: cells,
                            bodies: [:], gaps: [:], failures: [])
    }

    @Test func matchesSciPy() throws {
        let r = BenchComparisonsGoldenTests.results()
        let s = BenchComparisons(results: r)
        #expect(s.reference == "mona")
        #expect(s.controls == ["warmup-only", "finetune", "orca", "scratch", "linear-probe", "fpt"])
        // Per-cell intervals.
        let gm = try #require(r.cell("gunpoint", "mona")?.meanInterval)
        #expect(close(gm.low, 0.7399999999999999, rel: 1e-15) && close(gm.high, 0.8733333333333334, rel: 1e-15))
        let dft = try #require(r.cell("darcy16", "finetune")?.meanInterval)
        #expect(close(dft.low, 0.2371190469160667, rel: 1e-15) && close(dft.high, 0.2479092166883745, rel: 1e-15))
        // Paired differences (positive = MoNA better; darcy16 is lower-is-better).
        func paired(_ t: String, _ m: String) throws -> BenchPairedDifference {
            try #require(s.paired.first { $0.task == t && $0.method == m })
        }
        let golden: [(String, String, Double, Double, Double)] = [
            ("gunpoint", "warmup-only", 0.07111111111111108, 0.046666666666666634, 0.09333333333333338),
            ("gunpoint", "finetune", 0.03555555555555553, -0.046666666666666634, 0.10666666666666658),
            ("arrowhead", "orca", 0.030476190476190473, 0.02285714285714291, 0.03428571428571425),
            ("arrowhead", "fpt", 0.17333333333333334, 0.0, 0.26857142857142857),
            ("darcy16", "finetune", -0.0048013630275887675, -0.01590261129763329, 0.009189761709143901),
            ("darcy16", "scratch", 0.10261983555935485, 0.052183771878491825, 0.13407097838285711),
        ]
        for (t, m, mean, low, high) in golden {
            let p = try paired(t, m)
            #expect(close(p.mean, mean, rel: 1e-12), "\(t) \(m) mean \(p.mean)")
            #expect(close(p.interval?.low, low, rel: 1e-12, abs: 1e-15) && close(p.interval?.high, high, rel: 1e-12),
                    "\(t) \(m) \(String(describing: p.interval))")
        }
        #expect(try paired("gunpoint", "warmup-only").verdict == 1 && paired("gunpoint", "finetune").verdict == 0)
        // Across tasks: W/T/L and Wilcoxon over the three task means.
        let refPairs = s.pairwise.filter { $0.first == "mona" }
        #expect(refPairs.map(\.second) == s.controls)
        let wtl = refPairs.map { "\($0.wins)/\($0.ties)/\($0.losses)" }
        #expect(wtl == ["2/0/1", "2/0/1", "3/0/0", "3/0/0", "3/0/0", "3/0/0"])
        #expect(refPairs.map { $0.wilcoxon?.pValue } == [0.75, 0.5, 0.25, 0.25, 0.25, 0.25])
        #expect(refPairs.map { $0.wilcoxon?.statistic } == [2, 1, 0, 0, 0, 0])
        #expect(refPairs.map(\.holmPValue) == [1, 1, 1, 1, 1, 1])
        let ft = try #require(refPairs.first { $0.second == "finetune" })
        #expect(ft.intervalCounts?.wins == 0 && ft.intervalCounts?.ties == 3 && ft.intervalCounts?.losses == 0)
        #expect(s.pairwise.count == 21)                                          // 7 choose 2
        // Friedman and Nemenyi over the three tasks.
        let f = try #require(s.ranks.friedman)
        let ranks = [4.666666666666667, 7.0, 5.0, 2.6666666666666665, 3.6666666666666665, 3.3333333333333335, 1.6666666666666667]
        #expect(s.ranks.methods == BenchSuite.defaultMethods)
        for (a, b) in zip(f.averageRanks, ranks) { #expect(close(a, b, rel: 1e-14)) }
        #expect(close(f.chiSquare, 11.714285714285708, rel: 1e-12))
        #expect(close(f.pValue, 0.06865481937733309, rel: 1e-10))
        #expect(close(f.imanDavenportF, 3.7272727272727217, rel: 1e-11))
        #expect(close(f.imanDavenportPValue, 0.025022953628474273, rel: 1e-9))
        let n = try #require(s.ranks.nemenyi)
        #expect(close(n.q, 2.9483200175296744, rel: 1e-8) && close(n.criticalDifference, 5.200347701211409, rel: 1e-8))
        // CD 5.20: linear-probe (7.0) is the only pair that differs, from mona (1.67, gap 5.33); two groups.
        let names = n.cliques.map { $0.map { s.ranks.methods[$0] } }
        #expect(names == [["mona", "finetune", "warmup-only", "orca", "scratch", "fpt"],
                          ["finetune", "warmup-only", "orca", "scratch", "fpt", "linear-probe"]])
        #expect(n.significant(6, 1) && !n.significant(3, 1))
    }

    @Test func gracefulWithMissingCellsAndOneSeed() throws {
        // One seed: no intervals anywhere, the paired differences still have their means.
        let single = BenchComparisonsGoldenTests.results(seeds: [1])
        let s1 = BenchComparisons(results: single)
        #expect(single.cell("gunpoint", "mona")?.meanInterval == nil)
        #expect(s1.paired.allSatisfy { $0.interval == nil && $0.differences.count == 1 })
        #expect(s1.pairwise.first?.intervalCounts.map { $0.wins + $0.ties + $0.losses } == 0)
        let md = single.markdown()
        #expect(md.contains("Friedman χ²_F") && !md.contains("[0."))
        // A missing cell drops its task from the rank tests (and says so); two tasks are still enough.
        let gap = BenchComparisonsGoldenTests.results(drop: ["arrowhead/orca"])
        let s2 = BenchComparisons(results: gap)
        #expect(s2.ranks.tasks == ["gunpoint", "darcy16"] && s2.ranks.leftOut.first?.task == "arrowhead")
        #expect(s2.ranks.friedman?.blocks == 2 && s2.ranks.nemenyi != nil)
        #expect(s2.pairwise.first { $0.first == "mona" && $0.second == "orca" }?.tasks == ["gunpoint", "darcy16"])
        // Two missing cells in different tasks leave one complete task: no Friedman, no diagram, and why.
        let sparse = BenchComparisonsGoldenTests.results(drop: ["arrowhead/orca", "darcy16/fpt"])
        let s3 = BenchComparisons(results: sparse)
        #expect(s3.ranks.friedman == nil && s3.ranks.nemenyi == nil)
        #expect(s3.ranks.note?.contains("at least 2 tasks") == true)
        let text = sparse.markdown()
        #expect(text.contains("need at least 2 tasks on which every method has a result (here 1)"))
        #expect(text.contains("arrowhead (no orca)"))
    }

    @Test func writesTheDiagramAndTables() throws {
        let dir = TemporaryDirectory()
        let r = BenchComparisonsGoldenTests.results()
        try r.write(to: dir.url)
        let svg = try String(contentsOf: dir.url.appendingPathComponent("plots/cd-diagram.svg"), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("CD = 5.200") && svg.contains("mona (1.67)"))
        #expect(svg.components(separatedBy: "class=\"clique\"").count == 3)        // two group bars
        let csv = try String(contentsOf: dir.url.appendingPathComponent("results.csv"), encoding: .utf8)
        let header = try #require(csv.split(separator: "\n").first).split(separator: ",").map(String.init)
        let row = try #require(csv.split(separator: "\n").first { $0.hasPrefix("gunpoint,gunpoint,finetune,") })
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(row.count == header.count)
        func field(_ name: String) -> Double? { header.firstIndex(of: name).flatMap { $0 < row.count ? Double(row[$0]) : nil } }
        #expect(close(field("paired_diff"), 0.03555555555555553, rel: 1e-12))
        #expect(close(field("paired_ci95_low"), -0.046666666666666634, rel: 1e-12))
        #expect(close(field("ci95_high"), 0.7866666666666666, rel: 1e-15))
        let json = try RunValue.parse(json: try Data(contentsOf: dir.url.appendingPathComponent("results.json")))
        let stats = try #require(json["statistics"])
        #expect(stats["reference"]?.stringValue == "mona")
        #expect(close(stats["rank_tests"]?["friedman"]?["chi_square"]?.doubleValue, 11.714285714285708, rel: 1e-12))
        let report = try String(contentsOf: dir.url.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("plots/cd-diagram.svg") && report.contains("Paired differences: mona vs. each control"))
        // Aggregating again without a complete pair of tasks removes the stale diagram.
        try BenchComparisonsGoldenTests.results(drop: ["arrowhead/orca", "darcy16/fpt"]).write(to: dir.url)
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("plots/cd-diagram.svg").path))
    }

    @Test func dataPathsAreShownByDatasetName() {
        #expect(BenchTask.displayName("data/Wafer_TRAIN.ts") == "Wafer")
        #expect(BenchTask.displayName("/x/y/ECG200_TEST.arff") == "ECG200")
        #expect(BenchTask.displayName("data/ucr/Wafer") == "Wafer")
        #expect(BenchTask.displayName("data/ucr/Wafer/") == "Wafer")
        #expect(BenchTask.displayName("runs/heat.npz") == "heat")
        #expect(BenchTask.displayName("pde/darcy_train.pt") == "darcy")
        #expect(BenchTask.displayName("gunpoint") == "gunpoint")
        // Two paths to the same dataset name keep their full names; so does a clash with a catalog name.
        let names = BenchTask.displayNames(["a/Wafer_TRAIN.ts", "b/Wafer_TRAIN.ts", "data/Coffee_TRAIN.ts", "x/gunpoint.npz",
                                            "gunpoint"])
        #expect(names["a/Wafer_TRAIN.ts"] == "a/Wafer_TRAIN.ts" && names["data/Coffee_TRAIN.ts"] == "Coffee")
        #expect(names["x/gunpoint.npz"] == "x/gunpoint.npz" && names["gunpoint"] == "gunpoint")
        var r = BenchComparisonsGoldenTests.results()
        r.tasks[0] = "data/GunPoint_TRAIN.ts"
        for i in r.cells.indices where r.cells[i].task == "gunpoint" { r.cells[i].task = "data/GunPoint_TRAIN.ts" }
        let md = r.markdown()
        #expect(md.contains("| GunPoint |") && !md.contains("GunPoint_TRAIN"))
    }
}
