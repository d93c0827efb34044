import Foundation
import Testing

/// Another package can depend on MoNA's libraries by version. SwiftPM refuses unsafe flags (`-target-cpu`) in
/// the targets of a product that a dependency resolved by version provides, so Package.swift adds them only when
/// the package is not such a checkout. This test builds a snapshot of the working tree as a git repository
/// tagged 1.0.0, and a tiny package that requires `from: "1.0.0"` of it and runs a tensor op and a gradient
/// through MonaTensor. MoNA's own dependencies resolve as usual (git's URL rewriting applies to them).
@Suite(.serialized) struct DownstreamPackageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func versionDependencyBuildsAndRuns() throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("mona-downstream-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let mona = root.appendingPathComponent("MoNA"), app = root.appendingPathComponent("App")
        try snapshot(to: mona)
        try write(app.appendingPathComponent("Package.swift"), """
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(
                name: "App",
                dependencies: [.package(url: "file://\(mona.path)", from: "1.0.0")],
                targets: [.executableTarget(name: "Smoke", dependencies: [.product(name: "MonaTensor", package: "MoNA")])]
            )
            """)
        try write(app.appendingPathComponent("Sources/Smoke/main.swift"), """
            import MonaTensor
            let x = Tensor([1, 2, 3]).requiringGradient()
            let loss = (x * x).sum()
            let gradient = gradients(of: loss, wrt: [x])[0]
            let product = Tensor.matmul(Tensor([1, 2, 3, 4], shape: [2, 2]), Tensor([0, 1, 1, 0], shape: [2, 2]))
            print("loss \\(loss.item) gradient \\(gradient.scalars) product \\(product.scalars)")
            """)

        // Control: with the CPU flag forced on, SwiftPM rejects the version dependency, so the flag is what matters.
        let forced = try run(["swift", "build", "--disable-dependency-cache", "--manifest-cache", "none"], in: app,
                             environment: ["MONA_TARGET_CPU": "x86-64"])
        #expect(forced.status != 0)
        #expect(forced.output.contains("contains unsafe build flags"), "\(forced.output.suffix(2000))")

        let build = try run(["swift", "build", "--disable-dependency-cache", "--manifest-cache", "none"], in: app)
        #expect(build.status == 0, "\(build.output.suffix(4000))")
        guard build.status == 0 else { return }
        let resolved = try String(contentsOf: app.appendingPathComponent("Package.resolved"), encoding: .utf8)
        #expect(resolved.contains("\"version\" : \"1.0.0\""), "\(resolved)")
        let smoke = try run([".build/debug/Smoke"], in: app)
        #expect(smoke.status == 0)
        #expect(smoke.output.contains("loss 14.0 gradient [2.0, 4.0, 6.0] product [2.0, 1.0, 4.0, 3.0]"),
                "\(smoke.output)")
    }

    /// The working tree (tracked and untracked, not ignored files) as a fresh git repository tagged 1.0.0.
    func snapshot(to destination: URL) throws {
        let listing = try run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              in: Self.repository)
        #expect(listing.status == 0, "\(listing.output)")
        let fm = FileManager.default
        for path in listing.output.split(separator: "\0").map(String.init) {
            let source = Self.repository.appendingPathComponent(path)
            guard fm.fileExists(atPath: source.path) else { continue }   // deleted but not yet committed
            let target = destination.appendingPathComponent(path)
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: source, to: target)
        }
        let identity = ["-c", "user.name=MoNA tests", "-c", "user.email=tests@example.invalid", "-c",
                        "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
        for args in [["init", "-q"], ["add", "-A"], identity + ["commit", "-q", "-m", "snapshot"],
                     identity + ["tag", "1.0.0"]] {
            let r = try run(["git"] + args, in: destination)
            #expect(r.status == 0, "git \(args.joined(separator: " ")): \(r.output)")
        }
    }

    func write(_ url: URL, _ text: String) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Runs a command (looked up on PATH) and returns its exit status and combined output. MONA_TARGET_CPU is
    /// removed from the environment unless given, so that the package's own choice is what is tested.
    func run(_ command: [String], in directory: URL,
             environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = command[0].hasPrefix(".")
            ? directory.appendingPathComponent(command[0]) : URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command[0].hasPrefix(".") ? Array(command.dropFirst()) : command
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["MONA_TARGET_CPU"] = nil
        env.merge(extra) { $1 }
        process.environment = env
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("mona-downstream-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
    }
}
