import ArgumentParser
import MonaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if !canImport(Accelerate)
import CBLAS
#endif

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Tensor-engine kernels: worker pool, GEMM against direct BLAS, fused kernels against C loops, "
            + "and one transformer encoder layer.",
        discussion: "Every figure is the best of several timed calls, at each thread count of --threads.")

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Fewer repetitions (for a smoke run).") var quick = false
    @Option(help: "Comma-separated thread counts to measure.") var threads = "1,2"
    @Option(help: "Comma-separated parts to run: runtime, gemm, attention, kernels, layer.")
    var only = "runtime,gemm,attention,kernels,layer"

    func validate() throws {
        guard !threadCounts.isEmpty else { throw ValidationError("--threads: expected e.g. 1,2, got '\(threads)'") }
        let known: Set = ["runtime", "gemm", "attention", "kernels", "layer"]
        guard !parts.isEmpty, parts.isSubset(of: known) else {
            throw ValidationError("--only: expected parts among \(known.sorted().joined(separator: ", ")), got '\(only)'")
        }
    }

    private var parts: Set<String> { Set(only.split(separator: ",").map { String($0.filter { $0 != " " }) }) }

    private var threadCounts: [Int] {
        threads.split(separator: ",").compactMap { Int($0.filter { $0 != " " }) }.filter { $0 >= 1 }
    }

    func run() throws {
        let budget = quick ? BenchBudget.quick : BenchBudget.full
        let header = buildHeader()
        var report = header
        var tables: [Table] = []
        let sections: [(String, (BenchBudget) -> (Table, [(String, JSON)])?)] = [
            ("runtime", runtimeSection), ("gemm", gemmSection), ("attention", attentionSection),
            ("kernels", kernelSection), ("layer", layerSection),
        ]
        for (name, section) in sections where parts.contains(name) {
            guard let (table, json) = section(budget) else { continue }
            tables.append(table)
            report += json
        }
        Engine.configureFromEnvironment()

        if json {
            print(JSON.object(report).rendered)
        } else {
            for (k, v) in header { print("\(k): \(v.plain)") }
            for t in tables { print(""); print(t.rendered) }
        }
    }

    /// The worker pool against Dispatch on one elementwise pass (eˣ) of 512×384 floats.
    private func runtimeSection(_ budget: BenchBudget) -> (Table, [(String, JSON)])? {
        var table = Table("Per-op parallelism: y = eˣ (C loop), 512×384 floats, 2 chunks (µs per op)",
                          columns: ["case", "1 thread", "pool 2t", "Dispatch 2t", "pool speed-up", "Dispatch speed-up"])
        var rows: [JSON] = []
        for idle in [0, 200] {
            let r = benchRuntime(count: 512 * 384, idleMicroseconds: idle, budget: budget)
            let name = idle == 0 ? "back to back" : "after \(idle) µs idle"
            table.rows.append([name, format3(r.serial * 1e6), format3(r.pool * 1e6), format3(r.dispatch * 1e6),
                               format3(r.serial / r.pool) + "×", format3(r.serial / r.dispatch) + "×"])
            rows.append(.object([("idle_us", .number(Double(idle))), ("serial_us", .number(r.serial * 1e6)),
                                 ("pool_2t_us", .number(r.pool * 1e6)), ("dispatch_2t_us", .number(r.dispatch * 1e6))]))
        }
        return (table, [("per_op_parallelism", .array(rows))])
    }

    /// GEMM through the engine against direct OpenBLAS calls on the same buffers.
    private func gemmSection(_ budget: BenchBudget) -> (Table, [(String, JSON)])? {
        var table = Table("SGEMM GFLOP/s: Tensor.matmul vs cblas_sgemm on the same buffers",
                          columns: ["product", "threads", "engine", "direct", "engine/direct"])
        var rows: [JSON] = []
        var ratioMin = Double.infinity
        for t in threadCounts {
            Engine.setThreadCount(t)
            for s in GemmShape.encoder {
                let r = benchGemm(s, threads: t, budget: budget)
                ratioMin = min(ratioMin, r.ratio)
                table.rows.append([s.label, "\(t)", format3(r.engineGFLOPs), format3(r.directGFLOPs), format3(r.ratio)])
                rows.append(gemmJSONRow(r))
            }
        }
        table.notes.append("engine/direct min: \(format3(ratioMin)) (target ≥ 0.95)")
        return (table, [("gemm", .array(rows)), ("gemm_ratio_min", .number(ratioMin))])
    }

    /// Many small GEMMs (attention): the engine splits the batch over its pool.
    private func attentionSection(_ budget: BenchBudget) -> (Table, [(String, JSON)])? {
        var table = Table("Batched attention GEMMs GFLOP/s: engine vs a loop of cblas_sgemm calls (BLAS threaded)",
                          columns: ["product", "threads", "engine", "BLAS loop", "engine/loop"])
        var rows: [JSON] = []
        for t in threadCounts {
            Engine.setThreadCount(t)
            for s in GemmShape.attention {
                let r = benchGemm(s, threads: t, budget: budget)
                table.rows.append([s.label, "\(t)", format3(r.engineGFLOPs), format3(r.directGFLOPs), format3(r.ratio)])
                rows.append(gemmJSONRow(r))
            }
        }
        return (table, [("attention_gemm", .array(rows))])
    }

    /// Engine ops against C loops compiled -O3 -march=native.
    private func kernelSection(_ budget: BenchBudget) -> (Table, [(String, JSON)])? {
        var table = Table("Kernels, ns per element: engine op vs C loop (-O3 -march=native), both split over the pool",
                          columns: ["op", "threads", "engine", "C", "engine/C", "max |Δ|"])
        var rows: [JSON] = []
        for t in threadCounts {
            Engine.setThreadCount(t)
            for row in KernelRow.all {
                let r = benchKernel(row, threads: t, budget: budget)
                table.rows.append([row.name, "\(t)", format3(r.engineNsPerElement), format3(r.referenceNsPerElement),
                                   format3(r.ratio), "\(r.maxAbsDifference)"])
                rows.append(.object([
                    ("op", .string(row.name)), ("threads", .number(Double(t))),
                    ("engine_ns_per_element", .number(r.engineNsPerElement)),
                    ("c_ns_per_element", .number(r.referenceNsPerElement)), ("ratio", .number(r.ratio)),
                    ("max_abs_diff", .number(Double(r.maxAbsDifference))),
                ]))
            }
        }
        table.notes.append("C is built with -march=native; the engine's kernels for the CPU chosen in Package.swift "
                           + "(skylake-avx512 where the build machine has AVX-512, else haswell).")
        return (table, [("kernels", .array(rows))])
    }

    /// One pre-LN encoder layer, forward + backward, and the double-backward step.
    private func layerSection(_ budget: BenchBudget) -> (Table, [(String, JSON)])? {
        encoderLayerFigures(threadCounts: threadCounts, budget: budget).map { ($0.table, $0.json) }
    }

    private func gemmJSONRow(_ r: GemmResult) -> JSON {
        .object([
            ("product", .string(r.shape.label)), ("threads", .number(Double(r.threads))),
            ("engine_gflops", .number(r.engineGFLOPs)), ("direct_gflops", .number(r.directGFLOPs)),
            ("ratio", .number(r.ratio)),
        ])
    }

    /// Machine, build and library facts printed above the tables.
    private func buildHeader() -> [(String, JSON)] {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        #if compiler(>=6.3)
        let compiler = "Swift ≥ 6.3"
        #elseif compiler(>=6.2)
        let compiler = "Swift 6.2"
        #elseif compiler(>=6.1)
        let compiler = "Swift 6.1"
        #else
        let compiler = "Swift 6.0"
        #endif
        #if canImport(Accelerate)
        let blasConfig = "Accelerate"
        #else
        let blasConfig = String(cString: openblas_get_config())
        #endif
        return [
            ("mona_version", .string(monaVersion)),
            ("build", .string("\(configuration), \(compiler)")),
            ("machine_threads", .number(Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
            ("engine_threads_default", .number(Double(Engine.defaultThreadCount))),
            ("thread_counts", .array(threadCounts.map { .number(Double($0)) })),
            ("blas", .string(blasConfig)),
            ("blas_core", .string(BLAS.coreName)),
            ("load_average_1min", .number(loadAverage())),
            ("quick", .bool(quick)),
        ]
    }

    /// The 1-minute load average (other processes on a shared machine disturb the multi-thread figures).
    private func loadAverage() -> Double {
        var loads = [Double](repeating: .nan, count: 3)
        return getloadavg(&loads, 3) > 0 ? loads[0] : .nan
    }
}

extension JSON {
    /// The value as shown in the table header.
    var plain: String {
        switch self {
        case .string(let s): return s
        case .array(let a): return a.map(\.plain).joined(separator: ",")
        default: return rendered
        }
    }
}
