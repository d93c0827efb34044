import Foundation
import MonaRunKit
import Testing
@testable import MonaTransfer

/// Spearman's test against SciPy (`python3 bench/check_statistics.py`, section "Spearman") and hand-worked
/// permutation counts.
@Suite struct SpearmanTestTests {
    private func close(_ a: Double?, _ b: Double, rel: Double = 1e-12) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= rel * max(abs(b), 1e-300)
    }

    @Test func matchesSciPy() throws {
        struct Case { var name: String; var x: [Double]; var y: [Double]; var rho: Double; var pT: Double; var pExact: Double? }
        let x9: [Double] = (0..<9).map { Double(($0 * 5) % 9) }
        let y9: [Double] = (0..<9).map { Double(($0 * $0) % 7) + 0.1 * Double($0) }
        let x13: [Double] = (0..<13).map { Double(($0 * 7) % 13) }
        let y13: [Double] = (0..<13).map { Double(($0 * 3) % 11) + 0.5 * Double($0) }
        let cases: [Case] = [
            Case(name: "n5 hand", x: [1, 2, 3, 4, 5], y: [2, 1, 4, 3, 5], rho: 0.7999999999999999,
                 pT: 0.10408803866182788, pExact: 0.13333333333333333),
            Case(name: "n6 ties", x: [0.3, 1.2, 1.2, 2.5, 4.0, 3.1], y: [0.9, 0.4, 0.7, 0.7, 0.1, 0.2],
                 rho: -0.8676470588235294, pT: 0.025116718400162802, pExact: 0.03888888888888889),
            Case(name: "n8", x: [12.5, 30.1, 7.2, 18.4, 22.0, 9.9, 41.3, 15.0], y: [0.61, 0.48, 0.66, 0.52, 0.57, 0.63, 0.35, 0.50],
                 rho: -0.9047619047619048, pT: 0.002008275505429469, pExact: 0.004563492063492064),
            Case(name: "n9", x: x9, y: y9, rho: 0.06666666666666667, pT: 0.8646897846262036, pExact: 0.8800925925925925),
            Case(name: "n13", x: x13, y: y13, rho: 0.34615384615384615, pT: 0.24662526251007172, pExact: nil),
        ]
        for c in cases {
            let s = try #require(BenchStatistics.spearmanTest(c.x, c.y), "\(c.name)")
            #expect(s.n == c.x.count, "\(c.name)")
            #expect(close(s.rho, c.rho), "\(c.name): ρ \(s.rho) vs \(c.rho)")
            #expect(close(s.tPValue, c.pT, rel: 1e-10), "\(c.name): p_t \(String(describing: s.tPValue)) vs \(c.pT)")
            if let e = c.pExact {
                #expect(close(s.exactPValue, e, rel: 1e-12), "\(c.name): p_exact \(String(describing: s.exactPValue)) vs \(e)")
                #expect(s.method == .exact && s.pValue == s.exactPValue)
            } else {
                #expect(s.exactPValue == nil && s.method == .tDistribution && s.pValue == s.tPValue)
            }
        }
    }

    @Test func handWorkedPermutationCounts() throws {
        // x = 1…5, y = [2, 1, 4, 3, 5]: Σd² = 4, ρ = 1 − 6·4 / (5·24) = 0.8. Pairings with ρ ≥ 0.8 are those with
        // Σd² ≤ 4: the identity, the 4 adjacent swaps and the 3 pairs of disjoint adjacent swaps — 8 of 120, so
        // the two-sided p is 2 · 8/120 = 2/15.
        let s = try #require(BenchStatistics.spearmanTest([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
        #expect(abs(s.rho - 0.8) < 1e-12)
        #expect(s.exactPValue == 2.0 * 8 / 120)
        // A perfect order of 4: one pairing of 24 at each end, p = 2/24; t approximation: |ρ| = 1 gives p = 0.
        let perfect = try #require(BenchStatistics.spearmanTest([1, 2, 3, 4], [10, 20, 30, 40]))
        #expect(perfect.rho == 1 && perfect.exactPValue == 2.0 / 24 && perfect.tPValue == 0)
        let reversed = try #require(BenchStatistics.spearmanTest([1, 2, 3, 4], [4, 3, 2, 1]))
        #expect(reversed.rho == -1 && reversed.exactPValue == 2.0 / 24)
        // t approximation by hand for n = 5, ρ = 0.8: t = 0.8 √(3 / 0.36) = 2.3094; P(|T₃| ≥ t) = I_{3/(3+t²)}(3/2, 1/2).
        let t2 = 0.64 * 3 / 0.36
        #expect(abs((s.tPValue ?? 0) - StatDistributions.regularizedBeta(3 / (3 + t2), 1.5, 0.5)) < 1e-15)
        // Too few pairs, constant sides, non-finite pairs dropped.
        #expect(BenchStatistics.spearmanTest([1, 2], [2, 1]) == nil)
        #expect(BenchStatistics.spearmanTest([1, 2, 3, 4], [5, 5, 5, 5]) == nil)
        #expect(BenchStatistics.spearmanTest([1, 2, 3], [1, 2]) == nil)
        let dropped = try #require(BenchStatistics.spearmanTest([1, .nan, 2, 3, 4], [1, 9, 2, 3, 4]))
        #expect(dropped.n == 4 && dropped.rho == 1)
    }
}

/// The verdict on a small synthetic suite whose numbers are worked out by hand, written from run folders and
/// re-aggregated to the same bytes.
@Suite struct BenchVerdictTests {
    static let series = ["gunpoint", "arrowhead", "italypowerdemand", "basicmotions"]
    static let methods = ["scratch", "finetune", "orca", "warmup-only", "mona", "no-body", "expert"]

    static var suite: BenchSuite {
        var tasks = series.map { BenchTask($0, body: "minilm-l6", family: BenchTask.Family.series, seeds: [0, 1, 2]) }
        tasks.append(BenchTask("darcy16", body: "dinov2-s14", family: BenchTask.Family.dense, seeds: [0, 1, 2]))
        return BenchSuite(name: "verdict-test", tasks: tasks, methods: methods, seeds: [0, 1, 2])
    }

    /// Fine-tuning's accuracy on a series task is base + 0.01·seed; MoNA adds 0.05 + 0.01·seed (paired differences
    /// 0.05, 0.06, 0.07, mean 0.06); ORCA is fine-tuning − 0.01, warm-up only + 0.02; no-body 0.3, scratch 0.4; the
    /// expert 0.95 except on basicmotions (0.2). Darcy (relative L2, lower is better): fine-tuning 0.30 + 0.01·seed,
    /// MoNA 0.02 lower, ORCA 0.01 higher, warm-up only 0.005 lower, no-body 0.6, scratch 0.5, expert 0.4 (seed 2 missing).
    static let base = ["gunpoint": 0.70, "arrowhead": 0.60, "italypowerdemand": 0.80, "basicmotions": 0.50]
    /// Gaps chosen so that the relative benefit 0.06 / (base + 0.01) falls exactly as the gap rises.
    static let gap = ["gunpoint": 3.0, "arrowhead": 2.0, "italypowerdemand": 4.0, "basicmotions": 1.0, "darcy16": 5.0]

    static func value(_ task: String, _ method: String, _ seed: Int) -> Double? {
        let s = Double(seed)
        if task == "darcy16" {
            let ft = 0.30 + 0.01 * s
            switch method {
            case "finetune": return ft
            case "mona": return ft - 0.02
            case "orca": return ft + 0.01
            case "warmup-only": return ft - 0.005
            case "no-body": return 0.6
            case "scratch": return 0.5
            default: return seed == 2 ? nil : 0.4
            }
        }
        let ft = base[task]! + 0.01 * s
        switch method {
        case "finetune": return ft
        case "mona": return ft + 0.05 + 0.01 * s
        case "orca": return ft - 0.01
        case "warmup-only": return ft + 0.02
        case "no-body": return 0.3
        case "scratch": return 0.4
        default: return task == "basicmotions" ? 0.2 : 0.95
        }
    }

    /// Source probe after fine-tuning: fine-tuning 0.5 + 0.1·gap (so reuse rises with the gap), MoNA 0.02 more.
    static func probe(_ task: String, _ method: String) -> Double? {
        guard task != "darcy16", method == "finetune" || method == "mona" else { return nil }
        return 0.5 + 0.1 * gap[task]! + (method == "mona" ? 0.02 : 0)
    }

    static func writeRuns(in dir: URL) throws {
        let suite = suite
        for run in suite.runs {
            guard let v = value(run.task.name, run.method, Int(run.seed)) else { continue }
            let folder = dir.appendingPathComponent(run.relativePath, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let metric = run.task.name == "darcy16" ? "relative_l2" : "accuracy"
            var lines: [String] = []
            if let p = probe(run.task.name, run.method) {
                lines.append(#"{"stage": "analysis", "point": "before-alignment", "step": 0, "linear_probe_accuracy": 0.9}"#)
                lines.append(#"{"stage": "analysis", "point": "after-finetune", "step": 30, "linear_probe_accuracy": \#(p)}"#)
            }
            lines.append(#"{"stage": "finetune", "epoch": 3, "step": 30, "split": "test", "test_loss": 0.5, "test_\#(metric)": \#(v), "selected_epoch": 2}"#)
            try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("metrics.jsonl"),
                                                              atomically: true, encoding: .utf8)
        }
    }

    static var gaps: [String: TaskModalityGap] {
        gap.mapValues { TaskModalityGap(otdd: $0, mmd: 0.1, labelAware: true, targetSamples: 10, sourceSamples: 10) }
    }

    @Test func handWorkedNumbers() throws {
        let dir = TemporaryDirectory()
        try BenchVerdictTests.writeRuns(in: dir.url)
        let r = BenchResults.collect(suite: BenchVerdictTests.suite, output: dir.url, gaps: BenchVerdictTests.gaps)
        let v = BenchVerdict(results: r, comparisons: BenchComparisons(results: r))

        #expect(v.coverage.runs == 105 && v.coverage.runsFinished == 104 && !v.coverage.complete)
        #expect(v.coverage.cells == 35 && v.coverage.cellsWithResults == 35)
        #expect(v.coverage.missing.count == 1 && v.coverage.missing[0].method == "expert"
                && v.coverage.missing[0].tasks.map { "\($0.task) \($0.finished)/\($0.expected)" } == ["darcy16 2/3"])

        #expect(v.versusControls.map(\.b) == ["warmup-only", "finetune", "orca"])
        let ft = try #require(v.versusControls.first { $0.b == "finetune" })
        #expect(ft.tasks == 5 && ft.across.wins == 5 && ft.across.losses == 0)
        #expect(ft.intervalsAbove == 5 && ft.intervalsBelow == 0 && ft.intervalsHolding == 0)
        // Five positive task differences: R+ = 15, p = 2 · 1/32; Holm over MoNA's 6 comparisons, each p = 0.0625
        // (every control loses or wins on all five tasks) → 6 · 0.0625.
        #expect(ft.across.wilcoxon?.pValue == 0.0625)
        #expect(ft.holmFamily == 6 && abs((ft.holmPValue ?? 0) - 0.375) < 1e-12)
        // Per-seed MoNA − fine-tuning on gunpoint: 0.05, 0.06, 0.07; the exact bootstrap interval of 3 values is
        // their range.
        let gp = try #require(ft.perTask.first { $0.task == "gunpoint" })
        #expect(abs(gp.difference - 0.06) < 1e-12 && abs((gp.relative ?? 0) - 0.06 / 0.71) < 1e-12)
        #expect(abs((gp.paired?.interval?.low ?? 0) - 0.05) < 1e-12 && abs((gp.paired?.interval?.high ?? 0) - 0.07) < 1e-12)
        // Relative differences 0.06/0.61, 0.06/0.71, 0.06/0.81, 0.06/0.51 and, on darcy (lower is better),
        // 0.02/0.31: the median is gunpoint's.
        #expect(abs((ft.medianRelative ?? 0) - 0.06 / 0.71) < 1e-12)
        #expect(ft.byFamily.map(\.family) == ["series", "dense"] && ft.byFamily[0].wins == 4 && ft.byFamily[1].wins == 1)

        // The body: fine-tuning and MoNA against no-body and scratch, 5 of 5 each; Holm over these 4: 4 · 0.0625.
        #expect(v.body.map { "\($0.a)-\($0.b)" } == ["finetune-no-body", "finetune-scratch", "mona-no-body", "mona-scratch"])
        for c in v.body {
            #expect(c.across.wins == 5 && c.holmFamily == 4 && abs((c.holmPValue ?? 0) - 0.25) < 1e-12)
        }
        // The expert is best on the three series tasks where it scores 0.95.
        #expect(v.expertTasks.count == 5 && v.expertBest == ["gunpoint", "arrowhead", "italypowerdemand"])
        #expect(v.expert?.across.wins == 2 && v.expert?.across.losses == 3)

        // Reuse: MoNA's probe 0.02 above fine-tuning's on the four series tasks, every seed.
        let u = try #require(v.reuse)
        #expect(u.perTask.count == 4 && u.wins == 4 && abs(u.meanDifference - 0.02) < 1e-12)
        #expect(u.perTask.allSatisfy { $0.paired.differences.count == 3 && $0.before == 0.9 })
        #expect(u.wilcoxon?.pValue == 0.125)

        // The gap: within minilm-l6 the benefit falls as the gap rises (ρ = −1, exact p = 2/24) and the reuse rises
        // (ρ = +1); dinov2-s14 has one task: too few.
        #expect(v.gap.map(\.body) == ["minilm-l6", "dinov2-s14"])
        let text = v.gap[0]
        #expect(text.benefit?.rho == -1 && text.benefit?.exactPValue == 2.0 / 24 && text.benefit?.n == 4)
        #expect(text.reuse?.rho == 1 && text.reuse?.n == 4)
        #expect(v.gap[1].benefitPoints.count == 1 && v.gap[1].benefit == nil && v.gap[1].reuse == nil)
        #expect(v.claims.count == 4)
        #expect(v.claims[0].reading == "same direction, not significant (Holm p = 0.3750)")
        #expect(v.claims[2].reading == "same direction, not significant (Wilcoxon p = 0.1250)")
        #expect(v.claims[3].reading == "the other way, not significant (Spearman p = 0.0833)")
    }

    @Test func generatedTextAndReproduction() throws {
        let dir = TemporaryDirectory()
        try BenchVerdictTests.writeRuns(in: dir.url)
        let plots = dir.url.appendingPathComponent("plots", isDirectory: true)
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        try "stale".write(to: plots.appendingPathComponent("gap-vs-reuse.svg"), atomically: true, encoding: .utf8)

        func aggregate() throws -> [String: Data] {
            let r = BenchResults.collect(suite: BenchVerdictTests.suite, output: dir.url, gaps: BenchVerdictTests.gaps)
            try r.write(to: dir.url)
            var files: [String: Data] = [:]
            for f in ["results.md", "results.json", "results.csv", "report.md", "plots/gap-vs-reuse-minilm-l6.svg",
                      "plots/gap-vs-benefit-minilm-l6.svg", "plots/gap-vs-benefit-dinov2-s14.svg"] {
                files[f] = try Data(contentsOf: dir.url.appendingPathComponent(f))
            }
            return files
        }
        let first = try aggregate()
        #expect(try aggregate() == first, "a second aggregation of the same runs differs")
        #expect(!FileManager.default.fileExists(atPath: plots.appendingPathComponent("gap-vs-reuse.svg").path))

        let md = String(decoding: first["results.md"]!, as: UTF8.self)
        #expect(md.contains("## Verdict (partial)\n"))
        #expect(md.contains("It rests on 104 of the suite's 105 runs (35 of 35 task × method cells, 5 of 5 tasks with any result)"))
        #expect(md.contains("runs finished of those asked for, where some are missing — expert: darcy16 2/3."))
        #expect(md.contains("**MoNA vs. fine-tuning** (5 tasks): MoNA's mean is better on 5 of 5 (time series 4 of 4, "
                            + "PDE fields 1 of 1), worse on 0; paired 95 % intervals over seeds: 5 above 0, 0 below 0, "
                            + "0 holding 0; median relative difference +8.5 % of fine-tuning's mean; Wilcoxon p = 0.0625 "
                            + "(Holm 0.3750 over MoNA's 6 comparisons): not distinguishable from noise (with 5 non-tied "
                            + "tasks no two-sided Wilcoxon p can be below 0.0625)."))
        #expect(md.contains("has the best mean of all methods with results on 3 of the 5 tasks where it ran "
                            + "(gunpoint, arrowhead, italypowerdemand)"))
        #expect(md.contains("**minilm-l6**: gap vs. MoNA − fine-tuning benefit: ρ = -1.000, n = 4, p = 0.0833 (exact)"))
        #expect(md.contains("**dinov2-s14**: gap vs. MoNA − fine-tuning benefit: too few tasks (n = 1 < 4); "
                            + "gap vs. reuse: too few tasks (n = 0 < 4)."))
        #expect(md.contains("MoNA's probe is higher on 4 of 4 tasks, lower on 0; mean difference +0.0200"))
        #expect(md.contains("Spearman ρ of gap vs. reuse, within each body (two bodies' gaps are not comparable): "
                            + "minilm-l6 1.0000 (p = 0.0833) over 4 tasks"))
        let report = String(decoding: first["report.md"]!, as: UTF8.self)
        #expect(report.contains("### Verdict (partial)") && report.contains("plots/gap-vs-benefit-minilm-l6.svg"))

        guard case .object(let json)? = try? RunValue.parse(json: first["results.json"]!),
              case .object(let verdict)? = json.first(where: { $0.0 == "verdict" })?.1 else {
            Issue.record("results.json has no verdict object")
            return
        }
        #expect(verdict.first { $0.0 == "complete" }?.1.boolValue == false)
        guard case .array(let versus)? = verdict.first(where: { $0.0 == "versus_controls" })?.1,
              case .object(let ft)? = versus.dropFirst().first else {
            Issue.record("verdict.versus_controls missing")
            return
        }
        #expect(ft.first { $0.0 == "b" }?.1.stringValue == "finetune")
        #expect(ft.first { $0.0 == "holm_p" }?.1.doubleValue.map { abs($0 - 0.375) < 1e-12 } == true)
    }

    @Test func suitesWithoutMonaOrWithVariantsHaveNoVerdict() {
        var r = BenchResults(suite: "x", tasks: ["gunpoint"], methods: ["finetune", "linear-probe"], cells: [], bodies: [:],
                             gaps: [:], failures: [])
        #expect(!r.hasVerdict && !r.markdown().contains("## Verdict"))
        r.methods = ["mona", "finetune"]
        #expect(r.hasVerdict && r.markdown().contains("## Verdict (partial)"))
        #expect(r.markdown().contains("Not answerable yet"))
    }
}
