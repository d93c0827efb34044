// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels are compiled for the build machine's vector unit: Swift on Linux otherwise targets baseline x86-64,
// which was measured 2–4× slower on the SIMD loops. With AVX-512 (read from /proc/cpuinfo on Linux) the target
// is skylake-avx512, so the 16-lane kernels use 512-bit registers (exp and GELU measured 1.6–1.7× faster than
// with AVX2); otherwise haswell (AVX2/FMA). The binaries then need a CPU like the build machine: set
// MONA_TARGET_CPU (e.g. haswell, or x86-64 for old CPUs) to build for another one, or `none` for no flag.
// Not -Ounchecked: it strips the preconditions that are the engine's error policy (kernels use unsafe pointers,
// so they pay no bounds checks anyway).
func hostTargetCPU() -> String {
    #if os(Linux)
    let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
        let flags = Set(line.split(separator: " ").map(String.init))
        if avx512.allSatisfy(flags.contains) { return "skylake-avx512" }
    }
    #endif
    return "haswell"
}

// `-target-cpu` is an unsafe flag, and SwiftPM refuses to build a product whose targets carry one when the
// package is a dependency resolved by version ("contains unsafe build flags"). So the flag is only added when
// this package is not a checkout of another package's dependency: SwiftPM clones those into
// `<scratch>/checkouts/<name>` (Xcode: `SourcePackages/checkouts/<name>`; registry downloads go to
// `<scratch>/registry/downloads/…`), and reads the manifest with the directory `/` while it compares versions
// straight from git. Root builds and local `path:` dependencies keep the tuned kernels. An explicit
// MONA_TARGET_CPU applies everywhere (a version dependency then fails as above).
let isDependencyCheckout: Bool = {
    let directory = Context.packageDirectory
    return directory == "/" || directory.contains("/registry/downloads/")
        || URL(fileURLWithPath: directory).deletingLastPathComponent().lastPathComponent == "checkouts"
}()
let targetCPU: String? = {
    switch Context.environment["MONA_TARGET_CPU"] {
    case "none", "": return nil
    case let cpu?: return cpu
    case nil: return isDependencyCheckout ? nil : hostTargetCPU()
    }
}()
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = targetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []
#else
let cpuFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "MoNA",
    platforms: [.macOS(.v15)],  // Synchronization's Atomic/Mutex (worker pool)
    products: [
        .library(name: "MonaTensor", targets: ["MonaTensor"]),
        .library(name: "MonaJSON", targets: ["MonaJSON"]),
        .library(name: "MonaFormats", targets: ["MonaFormats"]),
        .library(name: "MonaData", targets: ["MonaData"]),
        .library(name: "MonaNN", targets: ["MonaNN"]),
        .library(name: "MonaRunKit", targets: ["MonaRunKit"]),
        .library(name: "MonaDistributed", targets: ["MonaDistributed"]),
        .library(name: "MonaTransfer", targets: ["MonaTransfer"]),
        .library(name: "MonaServe", targets: ["MonaServe"]),
        .executable(name: "mona", targets: ["mona"]),
        .executable(name: "mona-perf", targets: ["mona-perf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // OpenBLAS on Linux (Debian libopenblas-dev); Apple platforms use Accelerate instead.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // zlib (Debian zlib1g-dev) for DEFLATE in zip members and gzip files, behind MonaFormats' bounded wrapper.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // One ordered JSON value, strict parser and writer, shared by MonaFormats and MonaRunKit (no dependencies).
        .target(name: "MonaJSON", swiftSettings: cpuFlags),
        .target(
            name: "MonaTensor",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux]))],
            swiftSettings: cpuFlags),
        .target(
            name: "MonaFormats",
            dependencies: ["MonaTensor", "MonaJSON", "CZlib"],
            swiftSettings: cpuFlags),
        .target(name: "MonaData", dependencies: ["MonaTensor", "MonaFormats"], swiftSettings: cpuFlags),
        .target(name: "MonaNN", dependencies: ["MonaTensor", "MonaFormats"], swiftSettings: cpuFlags),
        // Run directories: atomic writes, JSONL metrics, SVG plots, Markdown reports, progress, YAML configs.
        // Configs are composed from libyaml's events (the CYaml module of the Yams package), with our own limits.
        .target(name: "MonaRunKit", dependencies: ["MonaJSON", .product(name: "Yams", package: "Yams")],
                swiftSettings: cpuFlags),
        // Open MPI, dlopen()ed at run time when a process is a rank of an mpirun job: no headers or libraries of it
        // are needed to build, and a machine without Open MPI builds, tests and runs single-process.
        .target(name: "CMPIShim", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The communicator (rank, size, all-reduce, broadcast, barrier): single-process and Open MPI.
        .target(name: "MonaDistributed", dependencies: ["CMPIShim"], swiftSettings: cpuFlags),
        // Cross-modal models, tasks, training, baselines, MoNA, ORCA and the source-knowledge analysis.
        .target(name: "MonaTransfer", dependencies: ["MonaNN", "MonaData", "MonaFormats", "MonaTensor", "MonaRunKit", "MonaJSON",
                                                     "MonaDistributed"],
                swiftSettings: cpuFlags),
        // `mona bench` orchestration: runs a suite's cells in this process or as `mona fit` child processes and
        // writes their shareable records (suites, records and aggregation stay in MonaTransfer).
        .target(name: "MonaBench", dependencies: ["MonaTransfer", "MonaRunKit", "MonaFormats"], swiftSettings: cpuFlags),
        // `mona serve`: the dashboard over run and benchmark folders, on a small HTTP server of its own over POSIX
        // sockets (no server framework: measured to add minutes to a clean build for what is a local tool).
        .target(name: "MonaServe", dependencies: ["MonaRunKit", "MonaJSON"], swiftSettings: cpuFlags),
        // Gradient checks and fixtures shared by the test targets (not a product).
        .target(name: "MonaTestSupport", dependencies: ["MonaTensor"], swiftSettings: cpuFlags),
        .executableTarget(
            name: "mona",
            dependencies: ["MonaTensor", "MonaFormats", "MonaData", "MonaNN", "MonaRunKit", "MonaTransfer", "MonaBench", "MonaServe",
                           "MonaDistributed", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: cpuFlags),
        // C reference loops that `mona-perf engine` compares the engine's kernels with.
        .target(name: "CKernelRef", cSettings: [.unsafeFlags(["-O3", "-march=native"])]),
        .executableTarget(
            name: "mona-perf",
            dependencies: ["MonaTensor", "MonaNN", "MonaFormats", "MonaData", "MonaRunKit", "MonaTransfer", "MonaServe", "CKernelRef",
                           "MonaDistributed", .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: cpuFlags),
        // Every reader of untrusted input as a byte → result function, for libFuzzer (scripts/fuzz.sh) and for
        // the test that replays saved crashing inputs.
        .target(name: "MonaFuzzHarnesses", dependencies: ["MonaFormats", "MonaData", "MonaRunKit", "MonaTransfer", "MonaTensor"],
                swiftSettings: cpuFlags),
        .testTarget(name: "MonaTensorTests", dependencies: ["MonaTensor", "MonaTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaJSONTests", dependencies: ["MonaJSON"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaServeTests", dependencies: ["MonaServe", "MonaRunKit", "MonaJSON", "MonaTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaRunKitTests", dependencies: ["MonaRunKit", "MonaJSON"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaTransferTests",
                    dependencies: ["MonaTransfer", "MonaBench", "MonaDistributed", "MonaNN", "MonaData", "MonaTensor", "MonaTestSupport", "MonaRunKit",
                                   "MonaFormats", "MonaFuzzHarnesses"],
                    swiftSettings: cpuFlags),
        .testTarget(name: "MonaNNTests", dependencies: ["MonaNN", "MonaTensor", "MonaFormats", "MonaTestSupport"],
                    swiftSettings: cpuFlags),
        .testTarget(name: "MonaFormatsTests", dependencies: ["MonaFormats", "MonaTensor", "MonaJSON"],
                    swiftSettings: cpuFlags),
        // Builds a package that depends on this one by version (runs `swift build` in a temporary directory).
        .testTarget(name: "PackageTests"),
        .testTarget(name: "MonaDataTests", dependencies: ["MonaData", "MonaTensor"], exclude: ["Fixtures"],
                    swiftSettings: cpuFlags),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer's entry point, only when scripts/fuzz.sh builds with MONA_FUZZ=1 (and --sanitize=fuzzer, which
// supplies `main`); ordinary builds do not see the target.
if Context.environment["MONA_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "MonaFuzz", dependencies: ["MonaFuzzHarnesses"],
                                             swiftSettings: cpuFlags + [.unsafeFlags(["-parse-as-library"])]))
}
