import Foundation

/// The answers a suite exists for — does MoNA beat its controls, does the pretrained body help, is more source
/// knowledge kept, does the modality gap predict the benefit — computed from the suite's cells alone (so that
/// re-aggregating the same run records reproduces them), with how much of the suite they rest on.
public struct BenchVerdict: Sendable {
    /// How much of the suite has results.
    public struct Coverage: Sendable {
        public var tasks: Int
        public var tasksWithResults: Int
        public var cells: Int
        public var cellsWithResults: Int
        public var runs: Int
        public var runsFinished: Int
        /// Per method with missing runs: the tasks where it has fewer runs than the suite asks for, with the runs
        /// it has there and the runs asked for.
        public var missing: [(method: String, tasks: [(task: String, finished: Int, expected: Int)])]
        public var complete: Bool { runs > 0 && runsFinished == runs }
    }

    /// Method `a` against `b` on one task: task means and their oriented difference (positive = a better), the
    /// same relative to b's mean, and the per-seed paired difference with its interval.
    public struct TaskDifference: Sendable {
        public var task: String
        public var family: String?
        public var meanA: Double
        public var meanB: Double
        public var difference: Double
        /// difference / |meanB| (nil when meanB is 0): comparable across metrics.
        public var relative: Double?
        public var paired: BenchPairedDifference?
    }

    /// Method `a` against `b` across tasks.
    public struct Comparison: Sendable {
        public var a: String
        public var b: String
        public var perTask: [TaskDifference]
        /// Wins/ties/losses of the task means and the signed-rank test of their differences.
        public var across: BenchPairwiseComparison
        public var holmPValue: Double?
        /// Size of the family the Holm adjustment ran over.
        public var holmFamily: Int
        public var tasks: Int { perTask.count }
        /// Paired intervals above 0 (a better), below 0, holding 0; tasks with one pair have none.
        public var intervalsAbove: Int { perTask.filter { ($0.paired?.verdict ?? 0) > 0 }.count }
        public var intervalsBelow: Int { perTask.filter { ($0.paired?.verdict ?? 0) < 0 }.count }
        public var intervalsHolding: Int { perTask.filter { $0.paired?.verdict == 0 }.count }
        public var withoutInterval: Int { perTask.filter { $0.paired?.verdict == nil }.count }
        /// Median over tasks of the relative difference.
        public var medianRelative: Double? { BenchVerdict.median(perTask.compactMap(\.relative)) }
        /// Per family (in order of first appearance): tasks where a's mean is better, and tasks.
        public var byFamily: [(family: String, wins: Int, tasks: Int)] {
            var order: [String] = [], counts: [String: (Int, Int)] = [:]
            for d in perTask {
                let f = d.family ?? "other"
                if counts[f] == nil { order.append(f) }
                let c = counts[f] ?? (0, 0)
                counts[f] = (c.0 + (d.difference > 0 ? 1 : 0), c.1 + 1)
            }
            return order.map { ($0, counts[$0]!.0, counts[$0]!.1) }
        }
    }

    /// Source linear-probe accuracy after fine-tuning, MoNA against fine-tuning on one task, paired by seed.
    public struct ReuseTask: Sendable {
        public var task: String
        public var before: Double?
        public var finetune: Double
        public var mona: Double
        /// mona − finetune per seed both measured (positive = MoNA kept more).
        public var paired: BenchPairedDifference
    }

    public struct Reuse: Sendable {
        public var perTask: [ReuseTask]
        /// Signed-rank test of the per-task mean paired differences.
        public var wilcoxon: WilcoxonResult?
        public var wins: Int { perTask.filter { $0.paired.mean > 0 }.count }
        public var losses: Int { perTask.filter { $0.paired.mean < 0 }.count }
        public var intervalsAbove: Int { perTask.filter { ($0.paired.verdict ?? 0) > 0 }.count }
        public var intervalsBelow: Int { perTask.filter { ($0.paired.verdict ?? 0) < 0 }.count }
        public var meanDifference: Double { BenchStatistics.mean(perTask.map(\.paired.mean)) }
    }

    /// The modality gap of one body's tasks against what it should predict; gaps of different bodies live in
    /// different feature spaces, so they are never ranked together.
    public struct GapBody: Sendable {
        public var body: String
        /// Tasks with a gap and a MoNA − fine-tuning benefit (relative to fine-tuning's mean).
        public var benefitPoints: [(task: String, gap: Double, benefit: Double)]
        /// Tasks with a gap and the source probe after fine-tuning of the reuse method.
        public var reusePoints: [(task: String, gap: Double, reuse: Double)]
        /// nil when fewer than `minimumCorrelationTasks` tasks (or a constant side).
        public var benefit: SpearmanResult?
        public var reuse: SpearmanResult?
    }

    /// One claim of the paper against what this suite measured.
    public struct Claim: Sendable {
        public var claim: String
        public var here: String
        public var reading: String
    }

    public var reference = "mona"
    public var coverage: Coverage
    /// MoNA against warm-up only, fine-tuning and ORCA (those with results).
    public var versusControls: [Comparison]
    /// Fine-tuning and MoNA against the body-free model and training from scratch.
    public var body: [Comparison]
    /// MoNA against the expert column, and the tasks where the expert has the best mean of all methods.
    public var expert: Comparison?
    public var expertBest: [String]
    public var expertTasks: [String]
    public var reuse: Reuse?
    public var gapMeasured: Bool
    public var gap: [GapBody]
    public var claims: [Claim]

    /// Correlations over fewer tasks are not reported (with 3 tasks no two-sided test can reach p < 0.3).
    public static let minimumCorrelationTasks = 4
    public static let controls = ["warmup-only", "finetune", "orca"]
    public static let bodyControls = ["no-body", "scratch"]
    /// Significance level of every "significant" in the verdict.
    public static let alpha = 0.05

    static func median(_ x: [Double]) -> Double? {
        guard !x.isEmpty else { return nil }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    public init(results r: BenchResults, comparisons s: BenchComparisons) {
        let ref = reference
        let has = Set(r.cells.map(\.method))

        var missing: [(method: String, tasks: [(task: String, finished: Int, expected: Int)])] = []
        var runs = 0
        for m in r.methods {
            let short = r.tasks.compactMap { t -> (task: String, finished: Int, expected: Int)? in
                let have = r.cell(t, m)?.n ?? 0, want = r.expectedSeeds[t] ?? 1
                return have < want ? (t, have, want) : nil
            }
            if !short.isEmpty { missing.append((m, short)) }
        }
        for t in r.tasks { runs += (r.expectedSeeds[t] ?? 1) * r.methods.count }
        coverage = Coverage(tasks: r.tasks.count, tasksWithResults: Set(r.cells.map(\.task)).count,
                            cells: r.tasks.count * r.methods.count, cellsWithResults: r.cells.count,
                            runs: runs, runsFinished: r.cells.reduce(0) { $0 + $1.n }, missing: missing)

        // MoNA's comparisons carry the Holm adjustment of the statistics section (all of MoNA's comparisons)
        // when MoNA is the suite's reference; otherwise the family is the three below.
        let controlPairs = BenchVerdict.controls.filter { has.contains($0) && has.contains(ref) }.map { (ref, $0) }
        let family = s.reference == ref ? s.controls.map { (ref, $0) } : controlPairs
        versusControls = BenchVerdict.compare(r, family: family, reported: controlPairs)

        var bodyPairs: [(String, String)] = []
        for a in ["finetune", ref] where has.contains(a) {
            for b in BenchVerdict.bodyControls where has.contains(b) { bodyPairs.append((a, b)) }
        }
        body = BenchVerdict.compare(r, family: bodyPairs, reported: bodyPairs)

        let expertColumn = BenchSuite.expertColumn
        if has.contains(expertColumn) {
            expert = has.contains(ref) ? BenchVerdict.compare(r, family: family, reported: [(ref, expertColumn)]).first : nil
            expertTasks = r.tasks.filter { r.cell($0, expertColumn) != nil }
            expertBest = expertTasks.filter { t in
                let ranks = r.ranks(task: t)
                return ranks.count > 1 && ranks[expertColumn] == ranks.values.min()
            }
        } else {
            expert = nil
            expertTasks = []
            expertBest = []
        }

        var reuseTasks: [ReuseTask] = []
        for t in r.tasks {
            guard let m = r.cell(t, ref), let f = r.cell(t, "finetune") else { continue }
            var seeds: [UInt64] = [], d: [Double] = []
            for (seed, x) in zip(m.sourceProbeAfterSeeds, m.sourceProbeAfter) {
                guard let j = f.sourceProbeAfterSeeds.firstIndex(of: seed), x.isFinite, f.sourceProbeAfter[j].isFinite
                else { continue }
                seeds.append(seed)
                d.append(x - f.sourceProbeAfter[j])
            }
            guard !d.isEmpty, let a = m.meanSourceProbeAfter, let b = f.meanSourceProbeAfter else { continue }
            reuseTasks.append(ReuseTask(task: t, before: f.meanSourceProbeBefore, finetune: b, mona: a,
                                        paired: BenchPairedDifference(task: t, reference: ref, method: "finetune", seeds: seeds,
                                                                      differences: d,
                                                                      interval: BenchStatistics.bootstrapMeanInterval(d))))
        }
        reuse = reuseTasks.isEmpty ? nil
            : Reuse(perTask: reuseTasks, wilcoxon: BenchStatistics.wilcoxonSignedRank(reuseTasks.map(\.paired.mean)))

        gapMeasured = r.tasks.contains { r.gaps[$0]?.otdd.isFinite ?? false }
        let benefit = versusControls.first { $0.b == "finetune" }
        var bodies: [String] = []
        for t in r.tasks { if let b = r.bodies[t], !bodies.contains(b) { bodies.append(b) } }
        gap = bodies.compactMap { b in
            let tasks = r.tasks.filter { r.bodies[$0] == b }
            let benefitPoints = tasks.compactMap { t -> (task: String, gap: Double, benefit: Double)? in
                guard let g = r.gaps[t]?.otdd, g.isFinite,
                      let rel = benefit?.perTask.first(where: { $0.task == t })?.relative else { return nil }
                return (t, g, rel)
            }
            let reusePoints = r.gapReusePoints.filter { tasks.contains($0.task) }
            guard !benefitPoints.isEmpty || !reusePoints.isEmpty else { return nil }
            func test(_ x: [Double], _ y: [Double]) -> SpearmanResult? {
                x.count >= BenchVerdict.minimumCorrelationTasks ? BenchStatistics.spearmanTest(x, y) : nil
            }
            return GapBody(body: b, benefitPoints: benefitPoints, reusePoints: reusePoints,
                           benefit: test(benefitPoints.map(\.gap), benefitPoints.map(\.benefit)),
                           reuse: test(reusePoints.map(\.gap), reusePoints.map(\.reuse)))
        }
        claims = []
        claims = paperClaims()
    }

    /// Comparisons of `reported` (pairs a, b), each with its Holm adjustment over `family` (which holds them).
    static func compare(_ r: BenchResults, family: [(String, String)], reported: [(String, String)]) -> [Comparison] {
        let across = family.map { BenchComparisons.acrossTasks(r, $0.0, $0.1) }
        let holm = BenchStatistics.holm(across.map { $0.wilcoxon?.pValue })
        return reported.compactMap { a, b in
            guard let i = family.firstIndex(where: { $0 == (a, b) }) else { return nil }
            let perTask = across[i].tasks.map { t -> TaskDifference in
                let ca = r.cell(t, a)!, cb = r.cell(t, b)!
                let d = BenchComparisons.orientedDifference(ca.mean, cb.mean, higherIsBetter: ca.higherIsBetter)
                return TaskDifference(task: t, family: r.families[t], meanA: ca.mean, meanB: cb.mean, difference: d,
                                      relative: cb.mean == 0 ? nil : d / abs(cb.mean),
                                      paired: BenchComparisons.paired(r, task: t, a, b))
            }
            return Comparison(a: a, b: b, perTask: perTask, across: across[i], holmPValue: holm[i], holmFamily: family.count)
        }
    }

    /// Direction and significance of a comparison in a few words.
    static func reading(wins: Int, losses: Int, tasks: Int, p: Double?, pName: String = "p") -> String {
        guard tasks > 0 else { return "not measured here" }
        let pText = p.map { "\(pName) = " + BenchResults.pValue($0) } ?? "no test"
        if let p, p < alpha {
            return wins > losses ? "confirmed (\(pText))" : "contradicted: significantly the other way (\(pText))"
        }
        if wins > losses { return "same direction, not significant (\(pText))" }
        if losses > wins { return "the other way, not significant (\(pText))" }
        return "no direction (as many wins as losses; \(pText))"
    }

    /// The paper's claims this suite can check, each with the numbers measured here.
    func paperClaims() -> [Claim] {
        var out: [Claim] = []
        for (name, label) in [("finetune", "vanilla fine-tuning"), ("orca", "ORCA")] {
            let c = versusControls.first { $0.b == name }
            let here = c.map { c in
                "better mean on \(c.across.wins) of \(c.tasks) tasks; paired intervals: \(c.intervalsAbove) above 0, "
                    + "\(c.intervalsBelow) below; median relative difference \(BenchVerdict.percent(c.medianRelative))"
            } ?? "no tasks with both"
            out.append(Claim(claim: "MoNA outperforms \(label) across tasks",
                             here: here,
                             reading: BenchVerdict.reading(wins: c?.across.wins ?? 0, losses: c?.across.losses ?? 0,
                                                           tasks: c?.tasks ?? 0, p: c?.holmPValue, pName: "Holm p")))
        }
        let here = reuse.map { u in
            "higher source probe after fine-tuning on \(u.wins) of \(u.perTask.count) tasks, mean "
                + "\(BenchResults.signed(u.meanDifference)); paired intervals: \(u.intervalsAbove) above 0, \(u.intervalsBelow) below"
        } ?? "no task with the probe measured for both"
        out.append(Claim(claim: "MoNA keeps more source knowledge than fine-tuning", here: here,
                         reading: BenchVerdict.reading(wins: reuse?.wins ?? 0, losses: reuse?.losses ?? 0,
                                                       tasks: reuse?.perTask.count ?? 0, p: reuse?.wilcoxon?.pValue,
                                                       pName: "Wilcoxon p")))
        let tested = gap.filter { $0.reuse != nil }
        let gapHere: String
        let gapReading: String
        if !gapMeasured {
            gapHere = "modality gap not measured in this aggregation"
            gapReading = "not measured here"
        } else if tested.isEmpty {
            gapHere = "no body has \(BenchVerdict.minimumCorrelationTasks) tasks with gap and reuse ("
                + gap.map { "\($0.body): \($0.reusePoints.count)" }.joined(separator: ", ") + ")"
            gapReading = "too few tasks"
        } else {
            gapHere = tested.map { g in
                "\(g.body): ρ = \(String(format: "%+.3f", g.reuse!.rho)) (n = \(g.reuse!.n), p = \(BenchResults.pValue(g.reuse!.pValue)))"
            }.joined(separator: "; ")
            // The paper's direction is a negative correlation.
            let negative = tested.filter { $0.reuse!.rho < 0 }.count, positive = tested.filter { $0.reuse!.rho > 0 }.count
            let p = tested.compactMap { $0.reuse?.pValue }.min()
            gapReading = tested.count == 1
                ? BenchVerdict.reading(wins: negative, losses: positive, tasks: 1, p: p, pName: "Spearman p")
                : "per body above (\(negative) of \(tested.count) bodies negative)"
        }
        out.append(Claim(claim: "a larger modality gap means less source knowledge reuse (negative ρ)",
                         here: gapHere, reading: gapReading))
        return out
    }

    /// A relative difference as a signed percentage (`+4.2 %`).
    static func percent(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%+.1f %%", x * 100)
    }
}
