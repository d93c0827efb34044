import ArgumentParser
import CKernelRef
import Foundation
import MonaData
import MonaFormats
import MonaNN
import MonaTensor
import MonaTransfer

/// `mona-perf mona`: one MoNA outer step (exact and finite-difference meta-gradient) against one fine-tuning
/// step, in time and in peak memory, on MiniLM-L6.
struct MoNABench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mona",
        abstract: "Time and peak memory of one MoNA outer step (exact, finite-difference) relative to one fine-tuning step.",
        discussion: """
        MiniLM-L6 from .assets; target batch 16 series of length 1280 through the Conv1d patch embedder (patch \
        10 → 16×128 tokens), 2 classes; source batch of random token ids through the body's own embedder \
        (--source-batch × --source-tokens, 10 classes). Fine-tuning step: forward, backward to every parameter \
        (embedder, body, head), AdamW. MoNA outer step: MoNAStage.outerStep (θ′ = θ − α∇θL_task, L_align + \
        L_uniform of the source batch through θ′; the logged L_outer(θ) from source features at θ, which stage 1 \
        computes once for its whole pool — the step's share of that pass is added to its time), then Adam on the \
        embedder. Each MoNA variant is timed alternately with the fine-tuning step. Dropout off in all variants \
        (MoNA stage 1 runs in evaluation mode).

        Memory, two ways: (1) engine tensor memory — the peak of live tensor bytes during one step above the live \
        bytes before it (after one warm-up step, so optimizer state is not counted as the step's); (2) process \
        RSS — each variant in a fresh subprocess of mona-perf: VmHWM after one full step minus VmRSS before it \
        (after a warm-up step on a 2-sample batch). Targets: exact ≤ 3× time and ≤ 2.5× memory, \
        finite-difference ≤ 2× memory, each relative to the fine-tuning step.
        """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Fewer repetitions (for a smoke run).") var quick = false
    @Flag(help: "Skip the subprocess RSS measurement.") var noRss = false
    @Option(name: .customLong("source-batch"), help: "Source sequences per outer step.") var sourceBatch = 40
    @Option(name: .customLong("source-tokens"), help: "Tokens per source sequence.") var sourceTokens = 32
    @Option(help: ArgumentHelp("Measure one variant's RSS in this process and print it as JSON.", visibility: .hidden))
    var child: String?

    static let batch = 16, tokens = 128, patch = 10
    static let variants = ["finetune", "mona-exact", "mona-fd"]

    func run() throws {
        guard let bench = try Setup(sourceBatch: sourceBatch, sourceTokens: sourceTokens) else {
            throw ValidationError("MiniLM-L6 not found in .assets: run scripts/fetch-assets.sh bodies")
        }
        if let child {
            print(JSON.object(try bench.childMeasurement(child)).rendered)
            return
        }
        let budget = quick ? BenchBudget.quick : BenchBudget.full
        var seconds: [String: Double] = [:], engine: [String: Double] = [:], rss: [String: Double] = [:]
        var gflop: [String: Double] = [:]
        let batch = bench.target
        var steps: [String: () -> Void] = [:]
        for v in Self.variants {
            let prepared = try bench.prepare(v)
            let step = { prepared(batch) }
            step()                                                      // optimizer state, caches
            let base = TensorStorage.liveBytes.current, flops0 = BLAS.performedFLOPs
            TensorStorage.liveBytes.resetPeak()
            step()
            engine[v] = Double(TensorStorage.liveBytes.peak - base) / 1_048_576
            gflop[v] = Double(BLAS.performedFLOPs - flops0) / 1e9
            steps[v] = step
        }
        // Each MoNA variant timed alternately with the fine-tuning step (a steadier ratio on a shared machine).
        let ft = "finetune"
        var ratios: [String: Double] = [ft: 1], fineTuning: [Double] = [], paired: [String: Double] = [:]
        let share = bench.poolShareSeconds(budget)
        for v in Self.variants where v != ft {
            let (f, m) = budget.bestPair(steps[ft]!, steps[v]!)
            seconds[v] = m + share
            ratios[v] = (m + share) / f
            paired[v] = f
            fineTuning.append(f)
        }
        seconds[ft] = fineTuning.min()!
        if !noRss {
            for v in Self.variants { rss[v] = try childRSS(v) }
        }

        var table = Table("MoNA outer step vs fine-tuning step, MiniLM-L6, target \(Self.batch)×\(Self.tokens) tokens, "
                          + "source \(sourceBatch)×\(sourceTokens) tokens",
                          columns: ["variant", "ms/step", "× time", "GEMM GFLOP", "× GFLOP", "engine MB", "× engine",
                                    "RSS Δ MB", "× RSS"])
        var report: [(String, JSON)] = [("target_batch", .number(Double(Self.batch))), ("target_tokens", .number(Double(Self.tokens))),
                                        ("source_batch", .number(Double(sourceBatch))), ("source_tokens", .number(Double(sourceTokens)))]
        for v in Self.variants {
            let t = seconds[v]!, e = engine[v]!
            let tr = ratios[v]!, er = e / engine[ft]!
            let r = rss[v], rr = r.flatMap { x in rss[ft].map { x / $0 } }
            let f = gflop[v]!, fr = f / gflop[ft]!
            table.rows.append([v, format3(t * 1000), format3(tr), format3(f), format3(fr), format3(e), format3(er),
                               r.map(format3) ?? "", rr.map(format3) ?? ""])
            let key = v.replacingOccurrences(of: "-", with: "_")
            report += [("\(key)_ms", .number(t * 1000)), ("\(key)_time_ratio", .number(tr)),
                       ("\(key)_gemm_gflop", .number(f)), ("\(key)_gemm_flop_ratio", .number(fr)),
                       ("\(key)_engine_mb", .number(e)), ("\(key)_engine_ratio", .number(er))]
            if let r, let rr { report += [("\(key)_rss_mb", .number(r)), ("\(key)_rss_ratio", .number(rr))] }
        }
        let exactTime = ratios["mona-exact"]!
        let exactMem = engine["mona-exact"]! / engine[ft]!, fdMem = engine["mona-fd"]! / engine[ft]!
        let targets = [("exact time ≤ 3×", exactTime <= 3, "step time"),
                       ("exact memory ≤ 2.5×", exactMem <= 2.5, "engine tensor memory"),
                       ("finite-difference memory ≤ 2×", fdMem <= 2, "engine tensor memory")]
        for (name, ok, measure) in targets {
            table.notes.append("\(ok ? "met" : "MISSED"): \(name) (\(measure))")
            report.append((name.replacingOccurrences(of: " ", with: "_"), .bool(ok)))
        }
        report.append(("pool_share_ms", .number(share * 1000)))
        table.notes.append("MoNA ms/step includes \(format3(share * 1000)) ms, the step's share of stage 1's one-off "
                           + "L_outer(θ) features of the source pool (\(Setup.poolSize) samples in batches of "
                           + "\(sourceBatch), over T = \(Setup.outerSteps) steps); × time: each MoNA variant timed "
                           + "alternately with the fine-tuning step, "
                           + "whose time in that pair is its denominator ("
                           + paired.sorted { $0.key < $1.key }.map { "\($0.key): \(format3($0.value * 1000)) ms" }
                               .joined(separator: ", ") + "; the finetune row shows the best of them)")
        for (v, f) in paired { report.append(("\(v.replacingOccurrences(of: "-", with: "_"))_paired_finetune_ms", .number(f * 1000))) }
        table.notes.append("GEMM GFLOP: 2·m·n·k summed over the step's GEMMs (≈ 90% of its time): the arithmetic "
                           + "floor of × time, free of timing noise")
        table.notes.append("engine MB: peak live tensor bytes during one step above those before it; "
                           + "RSS Δ: VmHWM − VmRSS around one step in a fresh process")
        table.notes.append("threads: \(Engine.threadCount)")
        if json { print(JSON.object(report).rendered) } else { print(table.rendered) }
    }

    /// Runs `mona-perf mona --child <variant>` and returns its RSS delta in MB.
    func childRSS(_ variant: String) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["mona", "--child", variant, "--source-batch", "\(sourceBatch)", "--source-tokens", "\(sourceTokens)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0,
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let mb = obj["rss_delta_mb"] as? Double else {
            throw ValidationError("mona-perf mona --child \(variant) failed")
        }
        return mb
    }

    /// The model, batches and step closures.
    final class Setup {
        let model: CrossModalModel
        let task: TaskSpec
        let target: LabeledDataset
        let source: LabeledDataset

        init?(sourceBatch: Int, sourceTokens: Int) throws {
            guard let body = try? BodyCatalog.load("minilm-l6", pretrained: true, seed: 0, assets: AssetRegistry()) else { return nil }
            var g = SeededGenerator(seed: 7)
            let n = MoNABench.batch, length = MoNABench.tokens * MoNABench.patch
            target = try LabeledDataset(name: "bench", inputs: .series(Tensor.randomNormal([n, 1, length], generator: &g)),
                                        targets: .classes((0..<n).map { $0 % 2 }, names: ["a", "b"]))
            let ids = (0..<sourceBatch).map { _ in [101] + (1..<sourceTokens).map { _ in 1000 + Int(g.next() % 28000) } }
            source = try LabeledDataset(name: "source", inputs: .tokens(ids),
                                        targets: .classes((0..<sourceBatch).map { $0 % 10 }, names: (0..<10).map(String.init)))
            task = try TaskSpec.inferred(name: "bench", training: target)
            let spec = ModelSpec(bodyName: "minilm-l6", bodyFamily: body.family, bodyConfig: body.config, task: task,
                                 maxTokens: MoNABench.tokens)
            model = CrossModalModel(spec: spec, body: body, seed: 1)
            model.eval()
            precondition(model.tokenCount == MoNABench.tokens, "mona-perf mona: \(model.tokenCount) tokens, expected \(MoNABench.tokens)")
        }

        /// Sets the trainability `variant` needs and returns its step (one optimizer for all calls).
        func prepare(_ variant: String) throws -> (LabeledDataset) -> Void {
            var config = TrainingConfig()
            config.learningRate = 1e-5
            let model = self.model, task = self.task, source = self.source
            switch variant {
            case "finetune":
                model.unfreeze()
                let params = model.trainableParameters().map(\.parameter)
                let optimizer = try config.makeOptimizer(for: model)
                return { batch in
                    model.unfreeze()                                   // (MoNA's steps freeze the body)
                    let loss = task.lossValue(model(model.input(for: batch)), batch)
                    optimizer.step(gradientStore(of: loss, wrt: params.map(\.value)))
                }
            default:
                var o = MoNAOptions()
                if variant == "mona-fd" { o.meta.mode = .finiteDifference(epsilon: 0.01) }
                let stage = MoNAStage(options: o)
                let phi = stage.prepareOuterParameters(model)
                let optimizer = try config.makeOptimizer(for: model)
                // Stage 1 computes L_outer(θ)'s features once for the whole pool (MoNAStage.run); its share per
                // step is added to the timing by `poolShareSeconds`.
                let featuresAtTheta = TaskModalityGap.sourceFeatures(model.body, source, batchSize: source.count)
                return { batch in
                    _ = stage.prepareOuterParameters(model)
                    let r = stage.outerStep(model: model, phi: phi, task: task, targetBatch: batch, sourceBatch: source,
                                            sourceFeaturesAtTheta: featuresAtTheta)
                    var grads = Gradients()
                    for (p, g) in zip(phi, r.meta.phiGradients) { grads[p.parameter.value] = g }
                    optimizer.step(grads)
                }
            }
        }

        /// Source-pool size and T of MoNA's defaults (10 source classes × `sourcePerClass`; `outerSteps`).
        static let poolSize = 10 * MoNAOptions().source.alignmentPerClass
        static let outerSteps = MoNAOptions().outerSteps

        /// One outer step's share of stage 1's one-off pass of the source pool at θ (no graph): the time of one
        /// source batch's forward pass × batches in the pool / T.
        func poolShareSeconds(_ budget: BenchBudget) -> Double {
            let batches = (Self.poolSize + source.count - 1) / source.count
            let forward = budget.best { _ = TaskModalityGap.sourceFeatures(model.body, source, batchSize: source.count) }
            return forward * Double(batches) / Double(max(Self.outerSteps, 1))
        }

        /// One variant in this (fresh) process: warm-up on a 2-sample batch, then RSS around a full step.
        func childMeasurement(_ variant: String) throws -> [(String, JSON)] {
            guard MoNABench.variants.contains(variant) else { throw ValidationError("--child: unknown variant \(variant)") }
            let step = try prepare(variant)
            step(target.subset([0, 1]))
            let before = Self.status("VmRSS:")
            let base = TensorStorage.liveBytes.current
            TensorStorage.liveBytes.resetPeak()
            step(target)
            let hwm = Self.status("VmHWM:")
            return [("variant", .string(variant)), ("rss_before_mb", .number(before)), ("hwm_after_mb", .number(hwm)),
                    ("rss_delta_mb", .number(hwm - before)),
                    ("engine_peak_mb", .number(Double(TensorStorage.liveBytes.peak - base) / 1_048_576))]
        }

        /// A /proc/self/status field in MB.
        static func status(_ field: String) -> Double {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
                  let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
            return kb / 1024
        }
    }
}
