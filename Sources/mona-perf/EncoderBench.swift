import ArgumentParser
import CKernelRef
import Foundation
import MonaFormats
import MonaNN
import MonaTensor

/// `mona-perf encoder`: whole encoders forward+backward, against PyTorch CPU on the same machine in the same run.
struct EncoderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Encoder stacks forward+backward: MiniLM-L6 as loaded, and the PyTorch reference configuration.",
        discussion: """
        (a) MiniLM-L6 (post-LN BERT, 6 layers, d=384, 12 heads) from .assets, batch 16×128 tokens; (b) the \
        configuration PyTorch was measured with: 6 pre-LN layers, d=384, 6 heads, FFN 1536, GELU, no dropout, \
        batch 16×128, loss = mean of squared outputs, with and without an AdamW step. With --torch (default when \
        python3 can import torch), perf/torch_encoder.py runs the same configuration in PyTorch as a server \
        process whose steps alternate with ours, so the ratios compare steps taken under the same machine load.
        """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Fewer repetitions (for a smoke run).") var quick = false
    @Option(help: "Comma-separated thread counts to measure.") var threads = "1,2"
    @Option(help: "Run the PyTorch reference: auto, yes or no.") var torch = "auto"

    static let batch = 16, tokens = 128

    func run() throws {
        let budget = quick ? BenchBudget.quick : BenchBudget.full
        let counts = threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !counts.isEmpty else { throw ValidationError("--threads: expected e.g. 1,2") }
        var report: [(String, JSON)] = []
        var table = Table("Encoders forward+backward, batch \(Self.batch)×\(Self.tokens) tokens (tokens/s)",
                          columns: ["model", "threads", "ms/step", "tokens/s", "PyTorch tokens/s", "ratio"])
        let minilm = try? BertModel.pretrained("minilm-l6")
        if minilm == nil { table.notes.append("MiniLM-L6 skipped: run scripts/fetch-assets.sh bodies") }
        let reference = ReferenceStack(seed: 1)
        let runTorch = torch == "yes" || (torch == "auto" && torchAvailable())
        for t in counts {
            Engine.setThreadCount(t)
            let tokensPerStep = Double(Self.batch * Self.tokens)
            if let m = minilm {
                m.eval()   // dropout off: the timing covers the encoder, like the reference configuration
                var g = SeededGenerator(seed: 2)
                let ids = (0..<(Self.batch * Self.tokens)).map { _ in Int(g.next() % 30000) + 100 }
                let params = m.trainableParameters().map(\.parameter.value)
                let s = budget.best {
                    let h = m(ids: ids, batch: Self.batch, tokens: Self.tokens)
                    _ = gradients(of: (h * h).mean(), wrt: params)
                }
                table.rows.append(["MiniLM-L6 as loaded", "\(t)", format3(s * 1000), format3(tokensPerStep / s), "", ""])
                report.append(("minilm_fwd_bwd_tokens_per_s_\(t)t", .number(tokensPerStep / s)))
            }
            // Our steps and PyTorch's alternate (PyTorch runs as a server process), so that both see the same
            // machine load: on a shared machine, figures taken minutes apart are not comparable.
            let x = reference.input
            let opt = try AdamW(groups: [ParameterGroup(reference.namedParameters())], learningRate: 1e-4)
            let server = runTorch ? TorchServer(script: torchScript, threads: t) : nil
            if runTorch && server == nil { table.notes.append("PyTorch server failed to start at \(t) threads") }
            let best = interleavedBest(rounds: quick ? 2 : 5, [
                { timed { reference.step(x, optimizer: nil) } },
                { timed { reference.step(x, optimizer: opt) } },
                { server?.step("fwd") ?? .nan },
                { server?.step("adamw") ?? .nan },
            ])
            server?.stop()
            let (s, sa) = (best[0], best[1])
            let pt = server.map { _ in (fwdBwd: tokensPerStep / best[2], adamw: tokensPerStep / best[3]) }
            let ratio = pt.map { tokensPerStep / s / $0.fwdBwd }
            let ratioA = pt.map { tokensPerStep / sa / $0.adamw }
            table.rows.append(["reference fwd+bwd", "\(t)", format3(s * 1000), format3(tokensPerStep / s),
                               pt.map { format3($0.fwdBwd) } ?? "", ratio.map(format3) ?? ""])
            table.rows.append(["reference + AdamW", "\(t)", format3(sa * 1000), format3(tokensPerStep / sa),
                               pt.map { format3($0.adamw) } ?? "", ratioA.map(format3) ?? ""])
            report.append(("ref_fwd_bwd_tokens_per_s_\(t)t", .number(tokensPerStep / s)))
            report.append(("ref_adamw_tokens_per_s_\(t)t", .number(tokensPerStep / sa)))
            if let pt, let ratio, let ratioA {
                report.append(("torch_fwd_bwd_tokens_per_s_\(t)t", .number(pt.fwdBwd)))
                report.append(("torch_adamw_tokens_per_s_\(t)t", .number(pt.adamw)))
                report.append(("ref_vs_torch_fwd_bwd_\(t)t", .number(ratio)))
                report.append(("ref_vs_torch_adamw_\(t)t", .number(ratioA)))
            }
        }
        report.append(("load_average_1min", .number(loadAverage())))
        if !runTorch { table.notes.append("PyTorch not run (pip install torch to compare in the same run)") }
        let peak = peakResidentMegabytes()
        report.append(("peak_rss_mb", .number(peak)))
        table.notes.append("peak RSS \(format3(peak)) MB; ratio = engine / PyTorch tokens/s (target ≥ 1.25)")
        Engine.configureFromEnvironment()
        if json { print(JSON.object(report).rendered) } else { print(table.rendered) }
    }

    func torchAvailable() -> Bool {
        (try? shell(["python3", "-c", "import torch"])) != nil
    }

    var torchScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("perf/torch_encoder.py").path
    }

    func shell(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("\(args[0]) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Seconds taken by `body`.
    func timed(_ body: () -> Void) -> Double {
        let t0 = ref_now()
        body()
        return ref_now() - t0
    }

    /// Best seconds of each measurement after one warm-up call each, calling them in turn for `rounds` rounds.
    func interleavedBest(rounds: Int, _ measurements: [() -> Double]) -> [Double] {
        for m in measurements { _ = m() }
        var best = [Double](repeating: .infinity, count: measurements.count)
        for _ in 0..<rounds {
            for (i, m) in measurements.enumerated() { best[i] = min(best[i], m()) }
        }
        return best
    }

    func loadAverage() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = s.split(separator: " ").first, let x = Double(first) else { return .nan }
        return x
    }

    func peakResidentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kb / 1024
    }
}

/// Six pre-LN encoder layers (d = 384, 6 heads, FFN 1536, GELU, no dropout): DINOv2 blocks with layer scale 1.
final class ReferenceStack: Module {
    let layers: [Dinov2Layer]
    let input: Tensor

    init(seed: UInt64) {
        var c = TransformerConfig(hiddenSize: 384, layers: 6, heads: 6, intermediateSize: 1536)
        c.layerNormEpsilon = 1e-5
        let model = Dinov2Model(config: c, seed: seed)
        layers = model.encoder.layer
        var g = SeededGenerator(seed: seed + 1)
        input = Tensor.randomNormal([EncoderBench.batch, EncoderBench.tokens, 384], generator: &g)
        super.init()
    }

    /// loss = mean(y²); backward to every parameter; optionally one optimizer step.
    func step(_ x: Tensor, optimizer: Optimizer?) {
        var h = x
        for l in layers { h = l(h) }
        let params = namedParameters().map(\.parameter.value)
        let store = gradientStore(of: (h * h).mean(), wrt: params)
        optimizer?.step(store)
    }
}

/// perf/torch_encoder.py --serve: one PyTorch process that runs a training step per request and reports its
/// seconds, so that its steps can be interleaved with ours.
final class TorchServer {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    init?(script: String, threads: Int) {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--serve", "\(threads)"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        guard readLine() == "ready" else { stop(); return nil }
    }

    /// Runs one step ("fwd" or "adamw") in PyTorch; its seconds, or NaN when the server is gone.
    func step(_ kind: String) -> Double {
        guard process.isRunning else { return .nan }
        input.fileHandleForWriting.write(Data((kind + "\n").utf8))
        return readLine().flatMap(Double.init) ?? .nan
    }

    func stop() {
        if process.isRunning {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    private func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<i], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...i)
                return line.trimmingCharacters(in: .whitespaces)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
