import Foundation
import MonaBench
import MonaFormats
import MonaRunKit
@testable import MonaTransfer
import MonaTestSupport
import Testing

/// The `ablations` suite: MoNA's variants as columns, their configurations, and the guarantee that adding
/// variants changed nothing the `full` suite computes.
@Suite struct BenchAblationSuiteTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bench/full-suite-configs-seed0.txt")

    /// The configuration text the bench writes for a cell (`<output>/configs/…yaml`, the same text `mona fit`
    /// saves as the run's config.yaml).
    static func yaml(_ suite: BenchSuite, _ task: BenchTask, _ method: String, _ seed: UInt64) throws -> String {
        try ConfigFile.yaml(try suite.config(task: task, method: method, seed: seed).pairs())
    }

    /// Every seed-0 cell of `full`, as the pinned binary running the full suite wrote it (`mona bench --suite full
    /// --seeds 0 --executor print`, 2026-12-07), is byte for byte what this build writes: same config.yaml, same
    /// record hash, so the running suite's records stay finished. A deliberate change of the full suite's
    /// configurations (a new protocol) regenerates the fixture from that build's
    /// `mona bench --suite full --seeds 0 --executor print -o DIR` (DIR/configs/*.yaml, each under "# <stem>").
    @Test func fullSuiteConfigurationsAreUnchanged() throws {
        let text = try String(contentsOf: Self.fixture, encoding: .utf8)
        // "# <task>-<method>-seed0" lines, each followed by that cell's YAML.
        var lines: [String: [Substring]] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# ") {
                current = String(line.dropFirst(2))
                lines[current!] = []
            } else if let c = current {
                lines[c]!.append(line)
            }
        }
        let expected = lines.mapValues { $0.joined(separator: "\n") + "\n" }
        #expect(expected.count == 143)   // 16 tasks × 9 methods, fashion without an expert baseline
        let full = BenchSuite.full
        var seen = 0
        for run in full.runs where run.seed == 0 {
            guard full.resolvedMethod(task: run.task, method: run.method).flatMap(MethodCatalog.entry) != nil else { continue }
            let stem = "\(BenchRun.pathComponent(run.task.name))-\(run.method)-seed0"
            let want = try #require(expected[stem], "fixture has no \(stem)")
            let got = try Self.yaml(full, run.task, run.method, 0)
            #expect(got == want, "\(stem) changed")
            #expect(BenchRecordManifest.fnv1a64(Data(got.utf8)) == BenchRecordManifest.fnv1a64(Data(want.utf8)))
            seen += 1
        }
        #expect(seen == expected.count)
        #expect(full.variants.isEmpty && full.reference == nil)
    }

    /// The full suite's committed records (made by the pinned binary) are still finished cells for this build,
    /// and the ablation suite's `mona` cells accept the same records.
    @Test func committedFullSuiteRecordsStillMatch() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/results/full", isDirectory: true)
        var checked = 0
        for run in BenchSuite.full.runs {
            let dir = root.appendingPathComponent(run.relativePath, isDirectory: true)
            guard BenchRecordManifest.read(runDirectory: dir) != nil else { continue }
            let config = BenchSuite.full.config(task: run.task, method: run.method, seed: run.seed)
            #expect(BenchRecordManifest.matches(runDirectory: dir, config: config), "\(run.label) no longer matches")
            if BenchSuite.ablations.tasks.contains(run.task) && run.method == "mona" {
                #expect(BenchRecordManifest.matches(
                    runDirectory: dir, config: BenchSuite.ablations.config(task: run.task, method: "mona", seed: run.seed)))
            }
            checked += 1
        }
        // GunPoint's first 30-odd cells were committed when this test was written; more come as the suite runs.
        #expect(checked >= 30, "only \(checked) committed records found under \(root.path)")
    }

    /// A task's warm-up epochs reach the methods with a stage 0 (they were once overwritten by the task's
    /// option list, so `quick` ran 3 warm-up epochs instead of its 1); tasks at the default write no key.
    @Test func taskWarmupEpochsReachTheMethod() throws {
        let quick = BenchSuite.quick
        for method in ["mona", "warmup-only"] {
            let c = quick.config(task: quick.tasks[0], method: method, seed: 0)
            #expect(quick.tasks[0].warmupEpochs == 1 && c.method.warmupEpochs == 1)
            #expect(try Self.yaml(quick, quick.tasks[0], method, 0).contains("warmupEpochs: \"1\""))
            let plugin = try MethodCatalog.make(c.method).plugin
            if let m = plugin as? MoNAMethod { #expect(m.options.stage.warmupEpochs == 1) }
            if let w = plugin as? WarmupOnlyMethod { #expect(w.options.epochs == 1) }
            #expect(plugin is MoNAMethod || plugin is WarmupOnlyMethod)
        }
        #expect(quick.config(task: quick.tasks[0], method: "finetune", seed: 0).method.warmupEpochs == nil)
        #expect(BenchSuite.full.tasks.allSatisfy { $0.warmupEpochs == BenchTask.defaultWarmupEpochs })
        #expect(BenchSuite.full.config(task: BenchSuite.full.tasks[0], method: "mona", seed: 0).method.warmupEpochs == nil)
        let warmupOnly = try #require(try MethodCatalog.make(MethodConfig(name: "warmup-only")).plugin as? WarmupOnlyMethod)
        #expect(warmupOnly.options.epochs == BenchTask.defaultWarmupEpochs)
    }

    @Test func ablationSuiteUsesFullTasksOfThreeModalities() throws {
        let s = try #require(BenchSuite.named("ablations"))
        #expect(BenchSuite.builtInNames.contains("ablations"))
        #expect(s.tasks.count >= 4)
        let families = Set(s.tasks.compactMap(\.family))
        #expect(families.count >= 3, "families: \(families)")
        for t in s.tasks {
            // The full suite's task with its budget, seeds and probe interval, unchanged.
            let f = try #require(BenchSuite.full.tasks.first { $0.name == t.name })
            #expect(t == f)
            #expect(s.seeds(for: t) == BenchSuite.full.seeds(for: f))
        }
        #expect(s.analysisEvery == BenchSuite.full.analysisEvery && s.seeds == BenchSuite.full.seeds)
        #expect(s.methods == ["mona"] + BenchSuite.monaVariants.map(\.name))
        #expect(s.reference == "mona")
        #expect(Set(s.methods).count == s.methods.count)
        // The variants named in the issue: exact vs finite-difference, no warm-up, λ = 0, α ∈ {1e-3, 3e-2} (1e-2 is
        // the default), outer steps ∈ {25, 100} (50 is the default), the literal objective with λ ∈ {0.3, 1}.
        #expect(Set(s.methods) == ["mona", "mona-fd", "mona-no-warmup", "mona-lambda0", "mona-alpha1e-3", "mona-alpha3e-2",
                                   "mona-outer25", "mona-outer100", "mona-literal-l0.3", "mona-literal-l1"])
        let defaults = MoNAOptions()
        #expect(defaults.meta.alpha == 1e-2 && defaults.outerSteps == 50 && defaults.meta.lambda == 1
                && defaults.meta.outerGradientNormalization == .fixedRatio(1) && defaults.warmupEpochs == 3
                && defaults.meta.mode == .exact)
    }

    /// The default column is the full suite's configuration (its records count in both folders); every variant
    /// is that configuration plus its overrides, valid for the method, and saved so that it reads back equal.
    @Test func variantsResolveToValidSelfDescribingConfigs() throws {
        let s = BenchSuite.ablations
        for t in s.tasks {
            for seed in s.seeds(for: t) {
                let mona = s.config(task: t, method: "mona", seed: seed)
                #expect(mona == BenchSuite.full.config(task: t, method: "mona", seed: seed))
                #expect(try Self.yaml(s, t, "mona", seed) == Self.yaml(BenchSuite.full, t, "mona", seed))
                for v in s.variants {
                    let c = s.config(task: t, method: v.name, seed: seed)
                    #expect(s.resolvedMethod(task: t, method: v.name) == "mona")
                    #expect(c.method.name == "mona")
                    // Exactly mona's configuration with the overrides on top.
                    var expected = mona
                    expected.method.options.merge(v.options) { _, override in override }
                    #expect(c == expected)
                    try c.validate()
                    let spec = try MethodCatalog.make(c.method)
                    #expect(spec.name == "mona")
                    // Saved, the overrides are there as `method.<key>: value`, and the file decodes to the same
                    // configuration (so the bench recognises the record as finished).
                    let text = try Self.yaml(s, t, v.name, seed)
                    for (k, value) in v.options {
                        #expect(text.contains("  \(k): \(value)\n") || text.contains("  \(k): \"\(value)\"\n"),
                                "\(v.name): \(k) missing from\n\(text)")
                    }
                    let reread = try FitConfig.saved(pairs: try ConfigFile.parse(text))
                    #expect(reread == c)
                }
            }
        }
    }

    /// What each variant decodes to: the option it is about, and nothing else changed.
    @Test func variantsChangeTheirOptionOnly() throws {
        let s = BenchSuite.ablations
        let task = s.tasks[0]
        func options(_ column: String) throws -> MoNAOptions {
            let spec = try MethodCatalog.make(s.config(task: task, method: column, seed: 0).method)
            return try #require(spec.plugin as? MoNAMethod).options.stage
        }
        let base = try options("mona")
        #expect(base == MoNAOptions())
        func with(_ change: (inout MoNAOptions) -> Void) -> MoNAOptions {
            var o = base
            change(&o)
            return o
        }
        #expect(try options("mona-fd") == with { $0.meta.mode = .finiteDifference(epsilon: 0.01) })
        #expect(try options("mona-no-warmup") == with { $0.warmupEpochs = 0 })
        #expect(try options("mona-lambda0") == with { $0.meta.lambda = 0 })
        #expect(try options("mona-alpha1e-3") == with { $0.meta.alpha = 1e-3 })
        #expect(try options("mona-alpha3e-2") == with { $0.meta.alpha = 3e-2 })
        #expect(try options("mona-outer25") == with { $0.outerSteps = 25 })
        #expect(try options("mona-outer100") == with { $0.outerSteps = 100 })
        #expect(try options("mona-literal-l0.3") == with {
            $0.meta.lambda = 0.3
            $0.meta.outerGradientNormalization = .none
        })
        #expect(try options("mona-literal-l1") == with { $0.meta.outerGradientNormalization = .none })
        // The variants that share a registry preset's name compute what the preset computes.
        for preset in ["mona-fd", "mona-no-warmup", "mona-lambda0"] {
            var c = s.config(task: task, method: "mona", seed: 0).method
            c.name = preset
            let viaPreset = try #require(try MethodCatalog.make(c).plugin as? MoNAMethod).options
            let viaVariant = try #require(try MethodCatalog.make(s.config(task: task, method: preset, seed: 0).method).plugin
                                          as? MoNAMethod).options
            #expect(viaPreset == viaVariant, "\(preset)")
        }
    }

    @Test func badVariantsAreRejectedWithTheirKey() {
        #expect(throws: Never.self) { for v in BenchSuite.monaVariants { try v.validate() } }
        func message(_ v: BenchVariant) -> String {
            do { try v.validate(); return "" } catch { return "\(error)" }
        }
        let negative = message(BenchVariant("x", method: "mona", options: ["alpha": "-1"], summary: ""))
        #expect(negative.contains("variant x") && negative.contains("method.alpha") && negative.contains("> 0"))
        let unknown = message(BenchVariant("y", method: "mona", options: ["alhpa": "0.1"], summary: ""))
        #expect(unknown.contains("unknown option 'method.alhpa'"))
        let noMethod = message(BenchVariant("z", method: "no-such-method", options: [:], summary: ""))
        #expect(noMethod.contains("unknown method 'no-such-method'"))
        let word = message(BenchVariant("w", method: "mona", options: ["outerNormalization": "off"], summary: ""))
        #expect(word.contains("method.outerNormalization") && word.contains("none, fixed-ratio, minimum-ratio"))
    }

    /// A variant's option reaches the run even when the task's options set the same key (the variant is what
    /// the column is about), and a key the method lacks is kept so that the run fails naming it.
    @Test func variantOptionsComeLastAndAreNotFiltered() throws {
        var s = BenchSuite.micro
        s.methods = ["mona", "v"]
        s.variants = [BenchVariant("v", method: "mona", options: ["outerSteps": "7", "notAnOption": "1"], summary: "")]
        let t = s.tasks[0]
        #expect(t.options["outerSteps"] == "2")
        let c = s.config(task: t, method: "v", seed: 0)
        #expect(c.method.options["outerSteps"] == "7" && c.method.options["notAnOption"] == "1")
        #expect(s.config(task: t, method: "mona", seed: 0).method.options["outerSteps"] == "2")
        #expect(throws: TransferError.self) { try MethodCatalog.make(c.method) }
    }
}

/// Two variants and the default through the bench on the micro budgets: records, the ablation section and
/// aggregation from copied records alone.
@Suite(.serialized) struct BenchAblationRunTests {
    static var suite: BenchSuite {
        var s = BenchSuite.micro
        s.name = "micro-ablations"
        s.tasks = [s.tasks[0]]
        s.methods = ["mona", "mona-lambda0", "mona-literal-l0.3"]
        s.variants = BenchSuite.monaVariants
        s.reference = "mona"
        s.seeds = [0, 1]
        return s
    }

    /// `outer_scale` of every MoNA outer-step record of a run.
    static func outerScales(_ runDirectory: URL) throws -> [Double] {
        let records = try MetricsLog.readOrdered(BenchRecordManifest.folder(in: runDirectory).appendingPathComponent("metrics.jsonl"))
        return records.filter { r in r.contains { $0.0 == "phase" && $0.1.stringValue == MoNAKeys.phase } }
            .compactMap { r in r.first { $0.0 == MoNAKeys.outerScale }?.1.doubleValue }
    }

    @Test func microAblationRunsRecordsAndAggregatesFromRecords() throws {
        guard assetsPresent(BenchRunnerTests.needed, test: "microAblationRunsRecordsAndAggregatesFromRecords") else { return }
        let assets = AssetRegistry(root: repositoryAssets)
        let suite = Self.suite
        let first = TemporaryDirectory()
        let outcomes = try BenchRunner(suite: suite, output: first.url, assets: assets).run()
        #expect(outcomes.count == 6)
        #expect(outcomes.allSatisfy { $0.status == .finished }, "\(outcomes.compactMap(\.error))")

        for o in outcomes {
            let m = try #require(BenchRecordManifest.read(runDirectory: o.directory))
            #expect(m.method == o.run.method && m.resolvedMethod == "mona")
            let saved = try #require(BenchRecordManifest.recordedConfig(runDirectory: o.directory))
            #expect(saved.method.name == "mona")
            let text = try String(contentsOf: BenchRecordManifest.folder(in: o.directory).appendingPathComponent("config.yaml"),
                                  encoding: .utf8)
            // The record says what ran: the overrides are in its config.yaml, the default has none of them.
            switch o.run.method {
            case "mona":
                #expect(saved.method.options["lambda"] == nil && saved.method.options["outerNormalization"] == nil)
            case "mona-lambda0":
                #expect(saved.method.options["lambda"] == "0" && text.contains("lambda"))
            default:
                #expect(saved.method.options["lambda"] == "0.3" && saved.method.options["outerNormalization"] == "none")
                #expect(text.contains("outerNormalization") && text.contains("none"))
            }
            // …and the run did it: the outer term's weight per outer step is λ without normalisation, 0 for λ = 0,
            // and the normalising factor ‖∇L_task‖/‖∇L_outer‖ for the default.
            let scales = try Self.outerScales(o.directory)
            #expect(scales.count == 2, "\(o.run.label): \(scales)")
            switch o.run.method {
            case "mona-lambda0": #expect(scales.allSatisfy { $0 == 0 })
            case "mona-literal-l0.3": #expect(scales.allSatisfy { abs($0 - 0.3) < 1e-6 })
            default: #expect(scales.allSatisfy { $0 > 0 && abs($0 - 0.3) > 1e-6 })
            }
        }

        // Aggregated from the run folders and, elsewhere, from the copied records alone: the same bytes.
        let second = TemporaryDirectory()
        let fm = FileManager.default
        for o in outcomes {
            let target = second.url.appendingPathComponent(o.run.relativePath, isDirectory: true)
            try fm.createDirectory(at: target, withIntermediateDirectories: true)
            try fm.copyItem(at: BenchRecordManifest.folder(in: o.directory), to: BenchRecordManifest.folder(in: target))
        }
        let again = try BenchRunner(suite: suite, output: second.url, assets: assets).run()
        #expect(again.map(\.status) == Array(repeating: .skipped, count: 6))
        let a = BenchResults.collect(suite: suite, output: first.url)
        let b = BenchResults.collect(suite: suite, output: second.url)
        try a.write(to: first.url)
        try b.write(to: second.url)
        for f in ["results.md", "results.csv", "results.json"] {
            let x = try Data(contentsOf: first.url.appendingPathComponent(f))
            let y = try Data(contentsOf: second.url.appendingPathComponent(f))
            #expect(x == y, "\(f) differs between the run folders and the records")
        }
        // Aggregating the same records twice is byte-identical (what `--no-run` on a fresh clone relies on).
        let before = try Data(contentsOf: second.url.appendingPathComponent("results.json"))
        try BenchResults.collect(suite: suite, output: second.url).write(to: second.url)
        #expect(try Data(contentsOf: second.url.appendingPathComponent("results.json")) == before)

        // The paired differences against the default, recomputed from the records' test values.
        func value(_ method: String, _ seed: Int) throws -> Double {
            let dir = second.url.appendingPathComponent("runs/gunpoint/\(method)/seed\(seed)")
            return try #require(BenchRunRecord(directory: dir)).testValue
        }
        let comparisons = BenchComparisons(results: b)
        #expect(comparisons.reference == "mona" && comparisons.controls == ["mona-lambda0", "mona-literal-l0.3"])
        for v in ["mona-lambda0", "mona-literal-l0.3"] {
            let d = [try value("mona", 0) - value(v, 0), try value("mona", 1) - value(v, 1)]
            let p = try #require(comparisons.paired.first { $0.task == "gunpoint" && $0.method == v })
            #expect(p.seeds == [0, 1] && p.reference == "mona")
            #expect(p.differences.count == 2)
            for (x, y) in zip(p.differences, d) { #expect(abs(x - y) < 1e-12 || (x == 0 && abs(y) < 1e-9)) }
        }

        // The ablation section: one row per variant with its overrides, after the test-metric table.
        let md = try String(contentsOf: second.url.appendingPathComponent("results.md"), encoding: .utf8)
        let section = try #require(md.range(of: "## Ablations of mona"))
        #expect(md.range(of: "## Test metric")!.lowerBound < section.lowerBound)
        #expect(md.contains("| mona-literal-l0.3 | lambda=0.3, outerNormalization=none |"))
        #expect(md.contains("| mona-lambda0 | lambda=0 |"))
        #expect(md.contains("| mona | — (defaults) | reference |"))
        let json = try RunValue.parse(json: try Data(contentsOf: second.url.appendingPathComponent("results.json")))
        let ablations = try #require(json["ablations"])
        #expect(ablations["reference"]?.stringValue == "mona")
        let variants = try #require(ablations["variants"]?.arrayValue)
        #expect(variants.map { $0["name"]?.stringValue } == ["mona-lambda0", "mona-literal-l0.3"])
        #expect(variants[1]["options"]?["outerNormalization"]?.stringValue == "none")
        #expect(variants[1]["paired"]?.arrayValue?.first?["n"]?.doubleValue == 2)
        let csv = try String(contentsOf: second.url.appendingPathComponent("results.csv"), encoding: .utf8)
        let row = try #require(csv.split(separator: "\n").first { $0.hasPrefix("gunpoint,gunpoint,mona-lambda0,") })
        #expect(row.contains(",mona,2,"))   // reference and paired_n
    }

    /// A suite without variants has no ablation section or key (the full suite's tables keep their form).
    @Test func suitesWithoutVariantsHaveNoAblationSection() {
        let cell = BenchCell(task: "t", method: "mona", metric: "accuracy", higherIsBetter: true, seeds: [0, 1],
                             values: [0.5, 0.6], runs: [], finalTrainLosses: [], sourceProbeAfter: [],
                             sourceProbeBefore: [], reuseCurves: [])
        var other = cell
        other.method = "finetune"
        other.values = [0.4, 0.55]
        let r = BenchResults(suite: "s", tasks: ["t"], methods: ["finetune", "mona"], cells: [cell, other], bodies: [:],
                             gaps: [:], failures: [])
        #expect(!r.markdown().contains("## Ablations"))
        #expect(r.json()["ablations"] == nil)
        var withVariant = r
        withVariant.variants = [BenchVariant("finetune", method: "finetune", options: [:], summary: "stand-in")]
        #expect(withVariant.markdown().contains("## Ablations of mona"))
        // An explicit reference is honoured.
        withVariant.reference = "finetune"
        #expect(BenchComparisons(results: withVariant).reference == "finetune")
    }
}

/// `mona bench --suite ablations` on the command line: the cells and their configurations, without running any.
@Suite struct BenchAblationCommandTests {
    @Test func printsEveryCellWithItsOverrides() throws {
        let dir = TemporaryDirectory()
        let out = dir.url.appendingPathComponent("ablations").path
        let r = try runMona(["bench", "--suite", "ablations", "--executor", "print", "-o", out])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        let s = BenchSuite.ablations
        #expect(lines.count == s.runs.count && s.runs.count == 10 * (5 + 3 + 3 + 3))
        let config = URL(fileURLWithPath: out).appendingPathComponent("configs/peptides-mona-literal-l0.3-seed2.yaml")
        let saved = try FitConfig.saved(pairs: try ConfigFile.load(config))
        #expect(saved.method.name == "mona" && saved.method.options["lambda"] == "0.3"
                && saved.method.options["outerNormalization"] == "none")
        #expect(lines.contains { $0.contains("--output \(out)/runs/advection/mona-outer100/seed1 ") })

        // Some columns only; a variant is known only to its suite.
        let some = try runMona(["bench", "--suite", "ablations", "--methods", "mona,mona-alpha1e-3", "--executor", "print",
                                "-o", dir.url.appendingPathComponent("some").path])
        #expect(some.status == 0 && some.out.split(separator: "\n").count == 2 * 14, "\(some.err)")
        let wrong = try runMona(["bench", "--suite", "full", "--methods", "mona-alpha1e-3", "--executor", "print",
                                 "-o", dir.url.appendingPathComponent("wrong").path])
        #expect(wrong.status == 2 && wrong.err.contains("--methods") && wrong.err.contains("mona-alpha1e-3"))
    }
}
