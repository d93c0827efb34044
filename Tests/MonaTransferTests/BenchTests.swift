import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaBench
import Testing
@testable import MonaTransfer

@Suite struct BenchStatisticsTests {
    @Test func ranksAverageTies() {
        #expect(BenchStatistics.averageRanks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4])
        #expect(BenchStatistics.averageRanks([10, 20, 20, 30], descending: true) == [4, 2.5, 2.5, 1])
        #expect(BenchStatistics.averageRanks([3, 1, 3, 3, 2]) == [4, 1, 4, 4, 2])
        #expect(BenchStatistics.averageRanks([.nan, 1, .nan]) == [2.5, 1, 2.5])     // NaN ranks last
        #expect(BenchStatistics.averageRanks([]) == [])
    }

    @Test func spearmanMatchesHandValues() throws {
        // y ranks [1, 2, 3.5, 5, 3.5]: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → ρ = 8 / √95.
        let rho = try #require(BenchStatistics.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]))
        #expect(abs(rho - 8 / 95.0.squareRoot()) < 1e-12)
        #expect(BenchStatistics.spearman([1, 2, 3], [10, 100, 1000]) == 1)           // monotone, not linear
        #expect(BenchStatistics.spearman([1, 2, 3], [3, 2, 1]) == -1)
        #expect(BenchStatistics.spearman([1, 2, 3], [4, 4, 4]) == nil)               // constant side
        #expect(BenchStatistics.spearman([1], [2]) == nil)
        // Ties on both sides: x ranks [1.5, 1.5, 3, 4], y ranks [1, 2.5, 2.5, 4]:
        // Σdxdy = 2.5·1.5 + … = (−1)(−1.5) + (−1)(0) + 0.5·0 + 1.5·1.5 = 3.75, Σdx² = 4.5, Σdy² = 4.5 → 3.75 / 4.5.
        let tied = try #require(BenchStatistics.spearman([1, 1, 2, 3], [5, 6, 6, 9]))
        #expect(abs(tied - 3.75 / 4.5) < 1e-12)
        // Non-finite pairs are dropped.
        #expect(BenchStatistics.spearman([1, .nan, 2, 3], [1, 5, 2, 3]) == 1)
    }

    @Test func meanAndSampleStandardDeviation() throws {
        #expect(BenchStatistics.mean([1, 2, 3, 4]) == 2.5)
        let sd = try #require(BenchStatistics.standardDeviation([1, 2, 3, 4]))
        #expect(abs(sd - (5.0 / 3).squareRoot()) < 1e-12)
        #expect(BenchStatistics.standardDeviation([7]) == nil)
    }
}

@Suite struct TaskModalityGapTests {
    func features(_ n: Int, shift: Float, seed: UInt64) -> (Tensor, [Int]) {
        var g = SeededGenerator(seed: seed)
        let x = Tensor.randomNormal([n, 4], generator: &g) + shift
        return (x, (0..<n).map { $0 % 3 })
    }

    @Test func identicalFeaturesHaveNoGap() {
        let (x, y) = features(30, shift: 0, seed: 1)
        let same = TaskModalityGap.compute(target: x, targetLabels: y, source: x, sourceLabels: y)
        #expect(abs(same.otdd) < 1e-3, "OTDD of identical sets: \(same.otdd)")
        #expect(abs(same.mmd) < 1e-5, "MMD of identical sets: \(same.mmd)")
        let (z, yz) = features(30, shift: 2, seed: 2)
        let apart = TaskModalityGap.compute(target: z, targetLabels: yz, source: x, sourceLabels: y)
        #expect(apart.otdd > 1, "OTDD of shifted sets: \(apart.otdd)")
        #expect(apart.mmd > 0.01)
        // A smaller shift is a smaller gap.
        let (w, yw) = features(30, shift: 0.5, seed: 2)
        #expect(TaskModalityGap.compute(target: w, targetLabels: yw, source: x, sourceLabels: y).otdd < apart.otdd)
        #expect(apart.targetSamples == 30 && apart.sourceSamples == 30)
    }

    @Test func measuredThroughAModel() throws {
        let body = microBertBody()
        let data = try waveDataset(count: 12)
        let spec = try TaskSpec.inferred(name: "waves", training: data)
        let model = CrossModalModel(spec: ModelSpec(bodyName: "micro", bodyFamily: body.family, bodyConfig: body.config,
                                                    task: spec, maxTokens: 4), body: body, seed: 0)
        let ids: [[Int]] = (0..<12).map { i in [1, 3 + i % 7, 2] }
        let labels: [Int] = (0..<12).map { i in i % 3 }
        let source = try LabeledDataset(name: "src", inputs: .tokens(ids), targets: .classes(labels, names: ["a", "b", "c"]))
        let f = TaskModalityGap.targetFeatures(model, data)
        #expect(f.shape == [12, 8])
        let gap = TaskModalityGap.measure(model: model, target: data, source: source)
        #expect(gap.otdd.isFinite && gap.otdd > 0 && gap.mmd > 0 && gap.labelAware)
    }
}

@Suite(.serialized) struct BenchRunnerTests {
    /// The micro suite (two UCR tasks, finetune and linear-probe, seeds 0 and 1, tiny random body).
    static var suite: BenchSuite { BenchSuite.micro }

    static var needed: [String] { ["data/ucr/GunPoint", "data/ucr/ItalyPowerDemand", "data/wordnet"] }

    @Test func suitesReferToTasksByName() {
        #expect(BenchSuite.full.tasks.map(\.name) == ["gunpoint", "arrowhead", "italypowerdemand", "basicmotions",
                                                      "japanesevowels", "pigcvp", "peptides", "rrna16s", "spokenwords",
                                                      "burgers", "advection", "diffreact", "diffsorp", "darcy16",
                                                      "darcygen", "fashion"])
        #expect(BenchSuite.quick.methods.contains("mona") && BenchSuite.quick.methods.contains("warmup-only"))
        let c = BenchSuite.micro.config(task: BenchSuite.micro.tasks[0], method: "finetune", seed: 1)
        #expect(c.method.options["analysis"] == "true" && c.seed == 1 && c.training.patience == 1)
        #expect(throws: Never.self) { try c.validate() }
        #expect(BenchRun(task: BenchTask("x/y.ts"), method: "mona", seed: 2).relativePath == "runs/x_y.ts/mona/seed2")
    }

    @Test func unknownTaskIsReportedPerRun() throws {
        let dir = TemporaryDirectory()
        var s = BenchSuite.micro
        s.tasks = [BenchTask("no-such-task", body: "tiny-bert")]
        s.seeds = [0]
        let outcomes = try BenchRunner(suite: s, output: dir.url, assets: AssetRegistry(root: repositoryAssets)).run()
        #expect(outcomes.count == 2 && outcomes.allSatisfy { $0.status == .failed })
        #expect(outcomes[0].error?.contains("unknown task 'no-such-task'") == true)
    }

    @Test func microBenchAggregatesAndResumes() throws {
        // A missing asset skips visibly (a fresh clone runs `make test` before fetching the WordNet data).
        guard assetsPresent(BenchRunnerTests.needed, test: "microBenchAggregatesAndResumes") else { return }
        let dir = TemporaryDirectory()
        let assets = AssetRegistry(root: repositoryAssets)
        let suite = BenchRunnerTests.suite
        let runner = BenchRunner(suite: suite, output: dir.url, assets: assets)
        runner.keepCheckpoints = true   // the interrupted-run case below resumes from them
        let outcomes = try runner.run()
        #expect(outcomes.count == 8)
        #expect(outcomes.allSatisfy { $0.status == .finished }, "\(outcomes.compactMap(\.error))")

        let gaps = BenchGaps.measure(suite: suite, output: dir.url, assets: assets) { t, e in Issue.record("gap \(t): \(e)") }
        #expect(gaps.count == 2 && gaps.values.allSatisfy { $0.otdd.isFinite && $0.mmd.isFinite })
        let results = BenchResults.collect(suite: suite, output: dir.url, outcomes: outcomes, gaps: gaps)
        try results.write(to: dir.url, outcomes: outcomes)
        for f in ["results.md", "results.csv", "results.json", "report.md", "plots/metric-gunpoint.svg",
                  "plots/metric-italypowerdemand.svg", "plots/reuse-gunpoint.svg", "plots/gap-vs-reuse-tiny-bert.svg",
                  "plots/average-rank.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent(f).path), "missing \(f)")
        }

        #expect(results.markdown().contains("## Test metric at the final epoch"))
        let summary = results.summaryMarkdown()
        #expect(summary.contains("## Test metric\n") && summary.contains("## Test metric at the final epoch")
                && summary.contains("## Time per run") && !summary.contains("## Source knowledge reuse"))
        // Recompute every aggregate from the runs' metrics.jsonl, independently of BenchRunRecord.
        func testAccuracy(_ task: String, _ method: String, _ seed: Int, key: String = "test_accuracy") throws -> Double {
            let url = dir.url.appendingPathComponent("runs/\(task)/\(method)/seed\(seed)/metrics.jsonl")
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            for line in lines.reversed() {
                let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                if o["split"] as? String == "test", let x = o[key] as? Double { return x }
            }
            Issue.record("no test record in \(url.path)")
            return .nan
        }
        var means: [String: [String: Double]] = [:]
        for task in ["gunpoint", "italypowerdemand"] {
            for method in ["finetune", "linear-probe"] {
                let v = [try testAccuracy(task, method, 0), try testAccuracy(task, method, 1)]
                let mean = (v[0] + v[1]) / 2
                let std = ((v[0] - mean) * (v[0] - mean) + (v[1] - mean) * (v[1] - mean)).squareRoot()   // n − 1 = 1
                let cell = try #require(results.cell(task, method))
                #expect(cell.n == 2 && cell.metric == "accuracy" && cell.higherIsBetter)
                #expect(abs(cell.mean - mean) < 1e-12)
                #expect(abs((cell.standardDeviation ?? .nan) - std) < 1e-12)
                #expect(cell.runs == ["runs/\(task)/\(method)/seed0", "runs/\(task)/\(method)/seed1"])
                #expect(cell.finalTrainLosses.count == 2 && cell.sourceProbeAfter.count == 2)
                // The final epoch's test value (no selection) is read per seed and averaged.
                let finals = [try testAccuracy(task, method, 0, key: "test_final_accuracy"),
                              try testAccuracy(task, method, 1, key: "test_final_accuracy")]
                #expect(cell.finalValues == finals)
                #expect(abs((cell.meanFinalValue ?? .nan) - (finals[0] + finals[1]) / 2) < 1e-12)
                // Each run leaves timings.json; the cell's time is their mean.
                let totals = try (0..<2).map { seed -> Double in
                    let url = dir.url.appendingPathComponent("runs/\(task)/\(method)/seed\(seed)/timings.json")
                    let o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
                    return try #require(o["total"] as? Double)
                }
                #expect(abs((cell.meanSeconds ?? .nan) - (totals[0] + totals[1]) / 2) < 1e-9)
                means[task, default: [:]][method] = mean
                let csvRow = try #require(results.csv().split(separator: "\n").first { $0.hasPrefix("\(task),\(task),\(method),") })
                let header = results.csv().split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false)
                let column = try #require(header.firstIndex(of: "final_epoch_mean"))
                let field = csvRow.split(separator: ",", omittingEmptySubsequences: false)[column]
                #expect(abs((Double(field) ?? .nan) - (finals[0] + finals[1]) / 2) < 1e-12)
            }
        }
        var rankSum: [String: Double] = [:]
        for (_, m) in means {
            let (a, b) = (m["finetune"]!, m["linear-probe"]!)
            rankSum["finetune", default: 0] += a > b ? 1 : (a == b ? 1.5 : 2)
            rankSum["linear-probe", default: 0] += b > a ? 1 : (a == b ? 1.5 : 2)
        }
        for (method, sum) in rankSum { #expect(abs(results.averageRanks[method]!.rank - sum / 2) < 1e-12) }

        // The JSON lists the run directories and the same numbers.
        let json = try RunValue.parse(json: try Data(contentsOf: dir.url.appendingPathComponent("results.json")))
        let tasks = try #require(json["tasks"]?.arrayValue)
        #expect(tasks.count == 2)
        let gunpoint = try #require(tasks.first { $0["task"]?.stringValue == "gunpoint" })
        let ft = try #require(gunpoint["methods"]?.arrayValue?.first { $0["method"]?.stringValue == "finetune" })
        #expect(ft["runs"]?.arrayValue?.count == 2)
        #expect(abs((ft["mean"]?.doubleValue ?? .nan) - means["gunpoint"]!["finetune"]!) < 1e-12)
        let csv = try String(contentsOf: dir.url.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 5)

        // Resume: everything finished is skipped.
        let again = try BenchRunner(suite: suite, output: dir.url, assets: assets).run()
        #expect(again.filter { $0.status == .finished }.count == 0)
        #expect(again.filter { $0.status == .skipped }.count == 8)

        // An interrupted run (checkpoints, no test record) is the only one run again, from its checkpoints.
        let victim = dir.url.appendingPathComponent("runs/gunpoint/finetune/seed1/metrics.jsonl")
        let kept = try String(contentsOf: victim, encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("\"split\": \"test\"") }
        try AtomicFile.write(kept.joined(separator: "\n") + "\n", to: victim)
        try FileManager.default.removeItem(at: BenchRecordManifest.folder(in: victim.deletingLastPathComponent()))
        let third = try BenchRunner(suite: suite, output: dir.url, assets: assets).run()
        let rerun = third.filter { $0.status == .finished }
        #expect(rerun.count == 1 && rerun.first?.run.label == "gunpoint/finetune/seed1" && rerun.first?.resumed == true)
        #expect(abs((BenchRunRecord(directory: rerun[0].directory)?.testValue ?? .nan)
                    - (try testAccuracy("gunpoint", "finetune", 1))) < 1e-12)

        // A changed budget makes finished runs stale: they run again.
        var longer = suite
        longer.tasks[1].epochs = 2
        longer.methods = ["linear-probe"]
        longer.seeds = [0]
        let fourth = try BenchRunner(suite: longer, output: dir.url, assets: assets).run()
        #expect(fourth.map(\.status) == [.skipped, .finished])
    }
}
