// swift-tools-version:6.0
import PackageDescription

// Kernels are compiled for AVX2/FMA (Haswell and later): Swift on Linux otherwise targets baseline x86-64,
// which was measured 2–4× slower on the SIMD loops. Override with MONA_TARGET_CPU=x86-64 for old CPUs.
let targetCPU = Context.environment["MONA_TARGET_CPU"] ?? "haswell"
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU, "-Ounchecked"])]
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
#else
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"])]
let cpuFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "MoNA",
    platforms: [.macOS(.v15)],  // Synchronization's Atomic/Mutex (worker pool)
    products: [
        .library(name: "MonaTensor", targets: ["MonaTensor"]),
        .library(name: "MonaFormats", targets: ["MonaFormats"]),
        .executable(name: "mona", targets: ["mona"]),
        .executable(name: "mona-bench", targets: ["mona-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
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
        .executableTarget(
            name: "mona",
            dependencies: ["MonaTensor", "MonaFormats",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: cpuFlags),
        // C reference loops that `mona-bench engine` compares the engine's kernels with.
        .target(name: "CKernelRef", cSettings: [.unsafeFlags(["-O3", "-march=native"])]),
        .executableTarget(
            name: "mona-bench",
            dependencies: ["MonaTensor", "CKernelRef", .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: kernelFlags),
        .testTarget(name: "MonaTensorTests", dependencies: ["MonaTensor"], swiftSettings: cpuFlags),
        .testTarget(name: "MonaFormatsTests", dependencies: ["MonaFormats", "MonaTensor"],
                    swiftSettings: cpuFlags),
    ],
    swiftLanguageModes: [.v6]
)
