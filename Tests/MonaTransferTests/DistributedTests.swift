import Foundation
import MonaDistributed
import MonaFormats
import MonaNN
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// The communicator without MPI: shards, the launch environment, the single-process identities, and a clear
/// error when the MPI library is missing.
@Suite struct CommunicatorTests {
    @Test func shardsCoverTheBatchInOrderWithSizesWithinOne() {
        for size in 1...5 {
            for count in 0...23 {
                let parts = (0..<size).map { shardRange(count: count, rank: $0, size: size) }
                #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == count)
                for (a, b) in zip(parts, parts.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                let sizes = parts.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1, "count \(count) over \(size): \(sizes)")
            }
        }
        // The last batch of an epoch is often short: 3 samples over 2 ranks are 1 + 2.
        #expect(shardRange(count: 3, rank: 0, size: 2) == 0..<1 && shardRange(count: 3, rank: 1, size: 2) == 1..<3)
    }

    @Test func launchEnvironmentReadsOpenMPIsVariables() {
        let alone = LaunchEnvironment([:])
        #expect(!alone.isMPI && alone.localSize == 1)
        let rank = LaunchEnvironment(["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"])
        #expect(rank.isMPI && rank.worldSize == 4 && rank.localSize == 2)
        #expect(rank.threadsPerRank(cores: 8, environment: [:]) == 4)
        #expect(rank.threadsPerRank(cores: 1, environment: [:]) == 1)
        #expect(rank.threadsPerRank(cores: 8, environment: ["MONA_THREADS": "3"]) == nil)   // the engine reads it
        #expect(!LaunchEnvironment(["OMPI_COMM_WORLD_SIZE": "zero"]).isMPI)
    }

    @Test func aMissingMPILibraryIsOneClearError() {
        do {
            _ = try MPICommunicator(library: "/nonexistent/libmpi.so.40")
            Issue.record("loading a missing library succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("/nonexistent/libmpi.so.40") && text.contains("openmpi-bin"), "\(text)")
        }
    }

    /// `mona fit` started as a rank (the launcher's variables) on a machine without the library: one line, exit 2.
    @Test func aRankWithoutTheMPILibraryExitsWithOneLine() throws {
        guard monaExecutable() != nil else { print("SKIPPED aRankWithoutTheMPILibraryExitsWithOneLine: mona not built"); return }
        let dir = TemporaryDirectory()
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["OMPI_COMM_WORLD_SIZE"] = "2"
        env["MONA_MPI_LIBRARY"] = "/nonexistent/libmpi.so.40"
        let r = try runMona(["fit", "--task", "gunpoint", "--body", "tiny-bert", "--output", dir.url.appendingPathComponent("run").path],
                            environment: env)
        let text = r.err
        #expect(r.status == 2, "\(text)")
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1 && text.hasPrefix("mona fit: error: ") && text.contains("/nonexistent/libmpi.so.40")
                && text.contains("openmpi-bin"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("run").path))
    }

    @Test func singleProcessCollectivesAreIdentities() throws {
        let c = LocalCommunicator()
        var x: [Float] = [1, 2, 3]
        try c.allReduceSum(&x)
        try c.broadcast(&x)
        #expect(x == [1, 2, 3] && c.shard(of: 7) == 0..<7 && !c.isDistributed && c.isRoot)
        let t = Tensor([1, 2, 3, 4], shape: [2, 2])
        #expect(try c.gatherRows(t, total: 2).scalars == t.scalars)
        #expect(try c.allReduce([t]).map(\.scalars) == [t.scalars])
    }

    @Test func dropoutRateOptionIsValidatedAndApplied() throws {
        var config = FitConfig(task: "gunpoint", body: "tiny-bert", method: "finetune", seed: 0)
        config.model.dropout = 1
        #expect(throws: TransferError.self) { try config.validate() }
        config.model.dropout = 0
        try config.validate()
        let data = try waveDataset(count: 8)
        let task = try TaskSpec.inferred(name: "waves", training: data, vocabularySize: nil)
        let method = try MethodCatalog.make(config.method)
        func rates(_ c: FitConfig) throws -> [Float] {
            let (model, _) = try FitPipeline.makeModel(config: c, method: method, task: task, normalizer: nil,
                                                       assets: AssetRegistry(root: repositoryAssets))
            return model.namedModules().compactMap { ($0.module as? Dropout)?.probability }
        }
        #expect(try rates(config).allSatisfy { $0 == 0 } && !(try rates(config)).isEmpty)
        config.model.dropout = nil
        #expect(try rates(config).contains { $0 > 0 })   // the body's own rate
    }
}

// MARK: - Open MPI

/// `mpirun` on this machine, or nil (then the MPI tests print a SKIPPED line naming the package to install).
let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

func mpiAvailable(_ test: String) -> Bool {
    guard mpirunPath != nil, monaExecutable() != nil else {
        print("SKIPPED \(test): needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev) and the built mona")
        return false
    }
    return true
}

/// A started `mpirun -np N mona …` (or plain `mona …` for N = 0), with its output collected in files.
final class MonaJob {
    let process = Process()
    let out: URL, err: URL

    init(ranks: Int, arguments: [String], in dir: URL, name: String) throws {
        guard let exe = monaExecutable(), let mpirun = mpirunPath else { throw CLITestError.noExecutable }
        // A nested mpirun (tests themselves started by one) would join the outer job: strip its variables.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["MONA_ASSETS"] = repositoryAssets.path
        env["MONA_THREADS"] = "1"
        if ranks == 0 {
            process.executableURL = exe
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: mpirun)
            process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", String(ranks), exe.path] + arguments
        }
        process.environment = env
        out = dir.appendingPathComponent("\(name).out")
        err = dir.appendingPathComponent("\(name).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    /// Waits at most `seconds`; a job still running then is killed (so a hang fails the test instead of CI).
    @discardableResult
    func wait(seconds: Double) -> (finished: Bool, status: Int32, out: String, err: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let finished = !process.isRunning
        if !finished {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let o = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return (finished, process.terminationStatus, o, e)
    }

    /// The process id of MPI rank `rank` of this job (a child of mpirun carrying OMPI_COMM_WORLD_RANK).
    func rankProcess(_ rank: Int) -> pid_t? {
        let parent = process.processIdentifier
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                  status.split(separator: "\n").contains(where: { $0 == "PPid:\t\(parent)" }),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let vars = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if vars.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}

/// Every parameter of checkpoint `name` of a run, and the fine-tuning state.
func checkpoint(_ run: URL, _ name: String = "last") throws -> Checkpoint {
    try #require(try CheckpointStore(directory: run.appendingPathComponent("checkpoints")).load(name))
}

/// ‖a − b‖ / ‖a‖ over every tensor of two state dicts with the same names and shapes.
func relativeDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Double {
    var num = 0.0, den = 0.0
    for (name, x) in a {
        guard let y = b[name], y.shape == x.shape else { return .infinity }
        for (p, q) in zip(x.scalars, y.scalars) {
            num += Double(p - q) * Double(p - q)
            den += Double(p) * Double(p)
        }
    }
    return a.count == b.count ? (num / max(den, 1e-30)).squareRoot() : .infinity
}

func testRecord(_ run: URL) throws -> [String: RunValue] {
    let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
    return try #require(records.last { $0["split"]?.stringValue == "test" })
}

/// Data-parallel `mona fit` under `mpirun --oversubscribe --allow-run-as-root -np 2`, against the same run on one
/// process. Serialized: the jobs share the machine's two cores.
@Suite(.serialized) struct DataParallelFitTests {
    /// Waves (19 training series after the validation split, so the last batch of 8 has 3: shards of 1 and 2),
    /// tiny BERT, no dropout (masks are per rank), 10 optimizer steps.
    func arguments(task: String, method: String, output: URL, extra: [String] = []) -> [String] {
        ["fit", "--task", task, "--body", "tiny-bert", "--method", method, "--epochs", "4", "--seed", "3",
         "--batch-size", "8", "--lr", "3e-3", "--max-tokens", "16", "--output", output.path, "--quiet",
         "--set", "model.dropout=0", "--set", "training.maxSteps=10"] + extra
    }

    func compare(method: String, extra: [String] = []) throws {
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        let one = dir.url.appendingPathComponent("one"), two = dir.url.appendingPathComponent("two")
        let a = try MonaJob(ranks: 0, arguments: arguments(task: task, method: method, output: one, extra: extra),
                            in: dir.url, name: "one").wait(seconds: 300)
        #expect(a.finished && a.status == 0, "1 process: \(a.err)")
        let b = try MonaJob(ranks: 2, arguments: arguments(task: task, method: method, output: two, extra: extra),
                            in: dir.url, name: "two").wait(seconds: 300)
        #expect(b.finished && b.status == 0, "2 ranks: \(b.err)")
        guard a.status == 0 && b.status == 0 else { return }
        // The same parameters after 10 steps (float sums in another order: within 1e-5 relative).
        let last1 = try checkpoint(one), last2 = try checkpoint(two)
        #expect(last1.state.step == 10 && last2.state.step == 10)
        let diff = relativeDifference(last1.model, last2.model)
        #expect(diff <= 1e-5, "\(method): parameters after 10 steps differ by \(diff) (relative)")
        // The same selection and test result; only rank 0 wrote the run directory (one result line).
        #expect(last1.state.bestEpoch == last2.state.bestEpoch)
        let t1 = try testRecord(one), t2 = try testRecord(two)
        #expect(t1["selected_epoch"]?.doubleValue == t2["selected_epoch"]?.doubleValue)
        #expect(t1["test_accuracy"]?.doubleValue == t2["test_accuracy"]?.doubleValue, "\(t1) vs \(t2)")
        let l1 = try #require(t1["test_loss"]?.doubleValue), l2 = try #require(t2["test_loss"]?.doubleValue)
        #expect(abs(l1 - l2) <= 1e-4 * max(1, abs(l1)))
        #expect(b.out.split(separator: "\n").filter { $0.hasPrefix("test ") }.count == 1, "\(b.out)")
        let timings = try JSONSerialization.jsonObject(with: Data(contentsOf: two.appendingPathComponent("timings.json")))
            as? [String: Any]
        #expect(timings?["ranks"] as? Double == 2 && (timings?["allreduce"] as? Double ?? 0) > 0, "\(String(describing: timings))")
    }

    @Test(.enabled(if: mpiAvailable("DataParallelFitTests.finetune")))
    func finetuneOnTwoRanksReproducesOneProcess() throws {
        try compare(method: "finetune")
    }

    @Test(.enabled(if: mpiAvailable("DataParallelFitTests.mona")
                   && assetsPresent("data/wordnet/data.noun", test: "DataParallelFitTests.mona")))
    func monaOnTwoRanksReproducesOneProcess() throws {
        // Warm-up 1 epoch, 4 outer steps with target batches of 8 (shards of 4), then fine-tuning.
        try compare(method: "mona", extra: ["--set", "method.warmupEpochs=1", "--set", "method.outerSteps=4",
                                            "--set", "method.sourceBatchSize=12", "--set", "method.sourcePerClass=3",
                                            "--set", "method.analysisPerClass=3"])
    }

    @Test(.enabled(if: mpiAvailable("DataParallelFitTests.orca")
                   && assetsPresent("data/wordnet/data.noun", test: "DataParallelFitTests.orca")))
    func orcaOnTwoRanksReproducesOneProcess() throws {
        try compare(method: "orca", extra: ["--set", "method.orcaSteps=4", "--set", "method.orcaBatchSize=8",
                                            "--set", "method.sourcePerClass=3"])
    }

    /// `mona align` (MoNA's warm-up and stage 1, then the validation of the aligned model) on 2 ranks against one
    /// process: the same aligned parameters and validation record, written once.
    @Test(.enabled(if: mpiAvailable("DataParallelFitTests.align")
                   && assetsPresent("data/wordnet/data.noun", test: "DataParallelFitTests.align")))
    func alignOnTwoRanksReproducesOneProcess() throws {
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        func args(_ out: URL) -> [String] {
            ["align", "--task", task, "--body", "tiny-bert", "--method", "mona", "--seed", "3", "--batch-size", "8",
             "--lr", "3e-3", "--max-tokens", "16", "--output", out.path, "--quiet", "--set", "model.dropout=0",
             "--set", "method.warmupEpochs=1", "--set", "method.outerSteps=4", "--set", "method.sourceBatchSize=12",
             "--set", "method.sourcePerClass=3", "--set", "method.analysisPerClass=3"]
        }
        let one = dir.url.appendingPathComponent("one"), two = dir.url.appendingPathComponent("two")
        let a = try MonaJob(ranks: 0, arguments: args(one), in: dir.url, name: "one").wait(seconds: 300)
        #expect(a.finished && a.status == 0, "1 process: \(a.err)")
        let b = try MonaJob(ranks: 2, arguments: args(two), in: dir.url, name: "two").wait(seconds: 300)
        #expect(b.finished && b.status == 0, "2 ranks: \(b.err)")
        guard a.status == 0 && b.status == 0 else { return }
        let diff = relativeDifference(try checkpoint(one, "aligned").model, try checkpoint(two, "aligned").model)
        #expect(diff <= 1e-5, "aligned parameters differ by \(diff) (relative)")
        func validation(_ run: URL) throws -> [String: RunValue] {
            let records = try MetricsLog.read(run.appendingPathComponent("metrics.jsonl"))
            return try #require(records.last { $0["stage"]?.stringValue == "aligned" && $0["split"]?.stringValue == "validation" })
        }
        let v1 = try validation(one), v2 = try validation(two)
        #expect(v1["val_accuracy"]?.doubleValue == v2["val_accuracy"]?.doubleValue, "\(v1) vs \(v2)")
        let l1 = try #require(v1["val_loss"]?.doubleValue), l2 = try #require(v2["val_loss"]?.doubleValue)
        #expect(abs(l1 - l2) <= 1e-4 * max(1, abs(l1)))
        // Rank 0 alone wrote: one log with one validation record of the aligned model, and one result line.
        let records = try MetricsLog.read(two.appendingPathComponent("metrics.jsonl"))
        #expect(records.filter { $0["stage"]?.stringValue == "aligned" }.count == 1)
        #expect(b.out.split(separator: "\n").filter { !$0.isEmpty }.count == 1, "\(b.out)")
    }

    /// A rank killed mid-epoch ends the job within seconds (no hang), leaves only whole checkpoints, and the run
    /// resumes — on one process — to the parameters of an uninterrupted run.
    @Test(.enabled(if: mpiAvailable("DataParallelFitTests.faults")))
    func aKilledRankEndsTheJobAndTheRunResumesOnAnotherRankCount() throws {
        let dir = TemporaryDirectory()
        let task = try wavesTask(in: dir.url)
        let run = dir.url.appendingPathComponent("run"), reference = dir.url.appendingPathComponent("reference")
        // 20 epochs of 3 steps (8 + 8 + 3 samples), a `last` checkpoint every 2 steps (mid-epoch).
        let long = ["--set", "training.maxSteps=60", "--set", "training.checkpointEvery=2"]
        func args(_ out: URL, resume: Bool = false) -> [String] {
            var a = arguments(task: task, method: "finetune", output: out, extra: long)
            if let i = a.firstIndex(of: "--epochs") { a[i + 1] = "20" }
            return a + (resume ? ["--resume"] : [])
        }
        let job = try MonaJob(ranks: 2, arguments: args(run), in: dir.url, name: "killed")
        // As soon as the first mid-epoch `last` checkpoint exists, freeze rank 1 (rank 0 then waits for it in the
        // next all-reduce, so the job is certainly mid-run), then kill it.
        let state = run.appendingPathComponent("checkpoints/last/state.json")
        let start = Date()
        var victim: pid_t?
        while job.process.isRunning && Date().timeIntervalSince(start) < 120 {
            if victim == nil { victim = job.rankProcess(1) }
            if let v = victim, FileManager.default.fileExists(atPath: state.path) {
                kill(v, SIGSTOP)
                break
            }
            usleep(2_000)
        }
        let rank1 = try #require(victim, "rank 1 not found: \(job.wait(seconds: 1).err)")
        #expect(job.process.isRunning, "the job ended before the kill")
        usleep(500_000)
        let killed = Date()
        kill(rank1, SIGKILL)
        let r = job.wait(seconds: 30)
        let seconds = Date().timeIntervalSince(killed)
        #expect(r.finished && seconds < 15, "the job took \(seconds) s to end after the kill")
        #expect(r.status != 0)
        #expect(r.err.contains("signal 9") || r.err.contains("Killed") || r.err.contains("killed"), "\(r.err)")
        // Only whole checkpoints: no partial folder, and `last` loads.
        let names = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
        #expect(!names.contains { $0.hasSuffix(".partial") }, "\(names)")
        let interrupted = try checkpoint(run)
        #expect(interrupted.state.step > 0 && interrupted.state.step < 60 && !interrupted.state.finished)

        // Resume on one process (another rank count) and compare with an uninterrupted run.
        let resumed = try MonaJob(ranks: 0, arguments: args(run, resume: true), in: dir.url, name: "resumed").wait(seconds: 600)
        #expect(resumed.finished && resumed.status == 0, "\(resumed.err)")
        let plain = try MonaJob(ranks: 0, arguments: args(reference), in: dir.url, name: "reference").wait(seconds: 600)
        #expect(plain.finished && plain.status == 0, "\(plain.err)")
        guard resumed.status == 0 && plain.status == 0 else { return }
        let a = try checkpoint(run), b = try checkpoint(reference)
        #expect(a.state.step == b.state.step && a.state.finished)
        let diff = relativeDifference(b.model, a.model)
        #expect(diff <= 1e-5, "resumed after the kill: parameters differ by \(diff) from the uninterrupted run")
    }
}
