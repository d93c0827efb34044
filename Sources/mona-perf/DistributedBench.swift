import ArgumentParser
import Foundation
import MonaDistributed
import MonaFormats
import MonaRunKit
import MonaTensor
import MonaTransfer

/// `mona-perf distributed`: data-parallel fine-tuning on this machine, 1 rank × T threads against T ranks × 1
/// thread (Open MPI), with the all-reduce's time per step and its share, and the cost model's projection for
/// clusters from the measured gradient size and step time.
struct DistributedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Data-parallel fine-tuning (MiniLM-L6 on GunPoint): 1 rank × 2 threads vs 2 ranks × 1 thread.",
        discussion: """
        Runs itself as worker processes: once alone with MONA_THREADS=2, once under \
        `mpirun --oversubscribe --allow-run-as-root -np 2` with MONA_THREADS=1 (alternating, --repeats times; the \
        best run of each counts, as the machine may be shared). Each worker fine-tunes the model as `mona fit` \
        builds it (no checkpoints), forgets the first epoch, and times the rest with the trainer's phase timer. \
        Reports samples/s, the all-reduce's time per step and share of the step, the bytes all-reduced per step, \
        and the projected scaling efficiency of the cost model in docs/distributed.md for 8 and 64 nodes at 10 and \
        100 Gbit/s.
        """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Internal: run one measurement in this process (as a rank under mpirun).") var worker = false
    @Option(name: .customLong("max-tokens"), help: "Token cap of the embedder.") var maxTokens = 64
    @Option(name: .customLong("batch-size"), help: "Global mini-batch size.") var batchSize = 16
    @Option(help: "Timed epochs (after one warm-up epoch).") var epochs = 2
    @Option(help: "Body (minilm-l6, or tiny-bert for a smoke run).") var body = "minilm-l6"
    @Option(help: "Measurements of each configuration (best counts).") var repeats = 2
    @Option(help: "Threads of the single process, and ranks of the MPI run.") var width = 2

    func run() throws {
        if worker { return try measureHere() }
        guard let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("needs Open MPI's mpirun (Debian: apt-get install openmpi-bin libopenmpi-dev)")
        }
        var alone: [String: Double]?, ranks: [String: Double]?
        for _ in 0..<max(1, repeats) {
            let a = try launch(mpirun: nil, ranks: 1, threads: width)
            let b = try launch(mpirun: mpirun, ranks: width, threads: 1)
            if alone == nil || a["samples_per_s"]! > alone!["samples_per_s"]! { alone = a }
            if ranks == nil || b["samples_per_s"]! > ranks!["samples_per_s"]! { ranks = b }
        }
        let one = alone!, many = ranks!
        let bytes = many["allreduce_bytes_per_step"]!
        let allreduce = many["allreduce_s_per_step"]!, step = many["step_s"]!
        var report: [(String, JSON)] = [
            ("body", .string(body)), ("tokens", .number(one["tokens"]!)), ("global_batch", .number(Double(batchSize))),
            ("steps_timed", .number(many["steps"]!)),
            ("one_rank_\(width)_threads_samples_per_s", .number(one["samples_per_s"]!)),
            ("\(width)_ranks_1_thread_samples_per_s", .number(many["samples_per_s"]!)),
            ("speedup", .number(many["samples_per_s"]! / one["samples_per_s"]!)),
            ("one_rank_step_ms", .number(1000 * one["step_s"]!)),
            ("ranks_step_ms", .number(1000 * step)),
            ("allreduce_ms_per_step", .number(1000 * allreduce)),
            ("allreduce_share_percent", .number(100 * allreduce / step)),
            ("allreduce_bytes_per_step", .number(bytes)),
            ("allreduce_transfer_ms", .number(1000 * many["allreduce_transfer_s"]!)),
            ("allreduce_wait_ms_per_step", .number(1000 * (allreduce - many["allreduce_transfer_s"]!))),
            // Bus bandwidth of the transfer alone: a 2-rank ring moves 2(N−1)/N·S = S bytes per rank.
            ("allreduce_bus_gbit_per_s", .number(many["allreduce_transfer_s"]! > 0
                ? 8 * 2 * Double(width - 1) / Double(width) * bytes / many["allreduce_transfer_s"]! / 1e9 : 0)),
            ("machine", .string("\(ProcessInfo.processInfo.activeProcessorCount) cores, shared with other jobs "
                                + "(load average \(loadAverage())) — expect noise of tens of percent")),
        ]
        // Projection: per-node batch and compute as measured on one process here; ring all-reduce of the gradient.
        let compute = one["step_s"]!
        var table = Table("Data-parallel fine-tuning of \(body) (batch \(batchSize), \(Int(one["tokens"]!)) tokens) on this machine",
                          columns: ["configuration", "samples/s", "step ms", "all-reduce ms", "all-reduce share"])
        table.rows.append(["1 rank × \(width) threads", format3(one["samples_per_s"]!), format3(1000 * one["step_s"]!), "0", "0 %"])
        table.rows.append(["\(width) ranks × 1 thread", format3(many["samples_per_s"]!), format3(1000 * step),
                           format3(1000 * allreduce), format3(100 * allreduce / step) + " %"])
        table.notes.append("all-reduce in the step includes waiting for the slower rank; the transfer alone (after a "
                           + "barrier) took \(format3(1000 * many["allreduce_transfer_s"]!)) ms")
        for nodes in [8, 64] {
            for gbit in [10.0, 100.0] {
                let e = CostModel.efficiency(nodes: nodes, gradientBytes: bytes, linkGbitPerS: gbit, computeSeconds: compute)
                report.append(("projected_efficiency_\(nodes)_nodes_\(Int(gbit))_gbit", .number(e)))
                table.notes.append("projection: \(nodes) nodes at \(Int(gbit)) Gbit/s, per-node step \(format3(1000 * compute)) ms: "
                                   + "all-reduce \(format3(1000 * CostModel.allReduceSeconds(nodes: nodes, bytes: bytes, linkGbitPerS: gbit))) ms, "
                                   + "efficiency \(format3(100 * e)) %")
            }
        }
        table.notes.append("all-reduce: \(format3(bytes / 1e6)) MB per step per rank; shared machine: figures are noisy")
        if json { print(JSON.object(report).rendered) } else { print(table.rendered) }
    }

    func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    /// Runs one worker (under mpirun when given) and returns rank 0's figures.
    func launch(mpirun: String?, ranks: Int, threads: Int) throws -> [String: Double] {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        let own = FileManager.default.isExecutableFile(atPath: me.path) ? me.path : Bundle.main.executablePath ?? me.path
        let args = ["distributed", "--worker", "--max-tokens", String(maxTokens), "--batch-size", String(batchSize),
                    "--epochs", String(epochs), "--body", body]
        let p = Process()
        if let mpirun {
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", String(ranks), own] + args
        } else {
            p.executableURL = URL(fileURLWithPath: own)
            p.arguments = args
        }
        // Variables of an enclosing mpirun would make the child join that job.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["MONA_THREADS"] = String(threads)
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw ValidationError("the \(ranks)-rank worker failed (status \(p.terminationStatus))")
        }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    /// One measurement in this process (one rank of the job under mpirun).
    func measureHere() throws {
        let comm = try LaunchEnvironment().makeCommunicator()
        let assets = AssetRegistry()
        var config = FitConfig(task: "gunpoint", body: body, method: "finetune", seed: 0)
        config.model.maxTokens = maxTokens
        config.training.batchSize = batchSize
        config.training.epochs = 1 + epochs
        guard FileManager.default.fileExists(atPath: assets.root.appendingPathComponent("data/ucr/GunPoint").path) else {
            throw ValidationError("needs .assets/data/ucr/GunPoint (scripts/fetch-data.sh ucr)")
        }
        let method = try MethodCatalog.make(config.method)
        let (spec, splits, normalizer) = try FitPipeline.prepareData(config, assets: assets)
        let (model, _) = try FitPipeline.makeModel(config: config, method: method, task: spec, normalizer: normalizer,
                                                   assets: assets)
        method.trainability.apply(to: model)
        let trainer = try Trainer(model: model, task: spec, splits: splits, config: config.training, seed: config.seed,
                                  stage: "finetune")
        trainer.communicator = comm
        let timer = PhaseTimer()
        trainer.phaseTimer = timer
        var bytesAtReset = 0, callsAtReset = 0
        trainer.interruptAfter = { state in
            if state.epoch == 1 && state.batchInEpoch == 0 {
                timer.reset()
                bytesAtReset = comm.statistics.allReduceBytes
                callsAtReset = comm.statistics.allReduceCalls
            }
            return false
        }
        try trainer.run()
        // The all-reduce inside a step also waits for the slowest rank. Its transfer alone: the same buffer after
        // a barrier, best of 5.
        var transfer = Double.infinity
        if comm.isDistributed {
            var buffer = [Float](repeating: 1, count: model.parameterCount(trainableOnly: true))
            for _ in 0..<5 {
                try comm.barrier()
                let t0 = DispatchTime.now().uptimeNanoseconds
                try comm.allReduceSum(&buffer)
                transfer = min(transfer, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
        }
        let steps = Double(max(timer.steps, 1))
        let figures: [(String, JSON)] = [
            ("ranks", .number(Double(comm.size))), ("threads", .number(Double(Engine.threadCount))),
            ("tokens", .number(Double(model.tokenCount))), ("steps", .number(Double(timer.steps))),
            ("samples_per_s", .number(Double(timer.samples) / timer.stepSeconds)),
            ("step_s", .number(timer.stepSeconds / steps)),
            ("allreduce_s_per_step", .number((timer.extra["allreduce"] ?? 0) / steps)),
            // Gradient all-reduces only (the loss sum and the validation's are small and counted apart here).
            ("allreduce_bytes_per_step", .number(Double(model.parameterCount(trainableOnly: true) * 4))),
            ("allreduce_bytes_total", .number(Double(comm.statistics.allReduceBytes - bytesAtReset))),
            ("allreduce_calls", .number(Double(comm.statistics.allReduceCalls - callsAtReset))),
            ("allreduce_transfer_s", .number(transfer.isFinite ? transfer : 0)),
        ]
        if comm.isRoot { print(JSON.object(figures).rendered) }
        try (comm as? MPICommunicator)?.finalize()
    }
}

/// The all-reduce cost model of docs/distributed.md: a ring all-reduce sends and receives 2(N−1)/N of the
/// gradient per node, plus 2(N−1) latency-bound hops; the step waits for it (no overlap with the backward pass).
enum CostModel {
    /// Per-hop latency: ~30 µs for TCP over 10 GbE, ~5 µs for 100 Gbit/s RDMA fabrics.
    static func latency(linkGbitPerS: Double) -> Double { linkGbitPerS >= 100 ? 5e-6 : 30e-6 }

    static func allReduceSeconds(nodes: Int, bytes: Double, linkGbitPerS: Double) -> Double {
        guard nodes > 1 else { return 0 }
        let n = Double(nodes)
        return 2 * (n - 1) / n * bytes / (linkGbitPerS * 1e9 / 8) + 2 * (n - 1) * latency(linkGbitPerS: linkGbitPerS)
    }

    /// Weak scaling (the per-node batch and its compute time stay as measured on one node).
    static func efficiency(nodes: Int, gradientBytes: Double, linkGbitPerS: Double, computeSeconds: Double) -> Double {
        computeSeconds / (computeSeconds + allReduceSeconds(nodes: nodes, bytes: gradientBytes, linkGbitPerS: linkGbitPerS))
    }
}
