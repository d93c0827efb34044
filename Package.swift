// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels are compiled for the build machine's vector unit: Swift on Linux otherwise targets baseline x86-64,
// which was measured 2–4× slower on the SIMD loops. With AVX-512 (read from /proc/cpuinfo on Linux) the target
// is skylake-avx512, so the 16-lane kernels use 512-bit registers (exp and GELU measured 1.6–1.7× faster than
// with AVX2); otherwise haswell (AVX2/FMA). The binaries then need a CPU like the build machine: set
// MONA_TARGET_CPU (e.g. haswell, or x86-64 for old CPUs) to build for another one.
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
let targetCPU = Context.environment["MONA_TARGET_CPU"] ?? hostTargetCPU()
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
#else
let kernelFlags: [SwiftSetting] = []
let cpuFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "MoNA",
    platforms: [.macOS(.v15)],  // Synchronization's Atomic/Mutex (worker pool)
    products: [
        .library(name: "MonaTensor", targets: ["MonaTensor"]),
        .library(name: "MonaFormats", targets: ["MonaFormats"]),
        .library(name: "MonaData", targets: ["MonaData"]),
        .library(name: "MonaNN", targets: ["MonaNN"]),
        .library(name: "MonaRunKit", targets: ["MonaRunKit"]),
        .library(name: "MonaTransfer", targets: ["MonaTransfer"]),
        .executable(name: "mona", targets: ["mona"]),
        .executable(name: "mona-bench", targets: ["mona-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // OpenBLAS on Linux (Debian libopenblas-dev); Apple platforms use Accelerate instead.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "MonaTensor",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux]))],
            swiftSettings: kernelFlags),
        .target(
            name: "MonaFormats",
            dependencies: ["MonaTensor", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: cpuFlags),
        .target(name: "MonaData", dependencies: ["MonaTensor", "MonaFormats"], swiftSettings: cpuFlags),
        .target(name: "MonaNN", dependencies: ["MonaTensor", "MonaFormats"], swiftSettings: cpuFlags),
        // Run directories: atomic writes, JSONL metrics, SVG plots, Markdown reports, progress, YAML configs.
        .target(name: "MonaRunKit", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: cpuFlags),
        // Cross-modal models, tasks, training, baselines, MoNA, ORCA and the source-knowledge analysis.
        .target(name: "MonaTransfer", dependencies: ["MonaNN", "MonaData", "MonaFormats", "MonaTensor", "MonaRunKit"],
                swiftSettings: cpuFlags),
        // Gradient checks and fixtures shared by the test targets (not a product).
        .target(name: "MonaTestSupport", dependencies: ["MonaTensor"], swiftSettings: cpuFlags),
        .executableTarget(
            name: "mona",
            dependencies: ["MonaTensor", "MonaFormats", "MonaData", "MonaNN", "MonaRunKit", "MonaTransfer",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: cpuFlags),
        // C reference loops that `mona-bench engine` compares the engine's kernels with.
        .target(name: "CKernelRef", cSettings: [.unsafeFlags(["-O3", "-march=native"])]),
        .executableTarget(
            name: "mona-bench",
            dependencies: ["MonaTensor", "MonaNN", "MonaFormats", "MonaData", "MonaRunKit", "MonaTransfer", "CKernelRef", .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: kernelFlags),
        // Every reader of untrusted input as a byte → result function, for libFuzzer (scripts/fuzz.sh) and for
        // the test that replays saved crashing inputs.
        .target(name: "MonaFuzzHarnesses", dependencies: ["MonaFormats", "MonaData", "MonaRunKit", "MonaTransfer", "MonaTensor"],
                swiftSettings: cpuFlags),
        .testTarget(name: "MonaTensorTests", dependencies: ["MonaTensor", "MonaTestSupport"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaRunKitTests", dependencies: ["MonaRunKit"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaTransferTests",
                    dependencies: ["MonaTransfer", "MonaNN", "MonaData", "MonaTensor", "MonaTestSupport", "MonaRunKit",
                                   "MonaFormats", "MonaFuzzHarnesses"],
                    swiftSettings: cpuFlags),
        .testTarget(name: "MonaNNTests", dependencies: ["MonaNN", "MonaTensor", "MonaFormats", "MonaTestSupport"],
                    swiftSettings: cpuFlags),
        .testTarget(name: "MonaFormatsTests", dependencies: ["MonaFormats", "MonaTensor"],
                    swiftSettings: cpuFlags),
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
