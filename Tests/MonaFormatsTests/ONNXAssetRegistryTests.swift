import Foundation
import Testing
@testable import MonaFormats

/// Where the tests find fetched assets: `$MONA_ASSETS`, else `.assets` at the package root.
enum TestAssets {
    static let registry: AssetRegistry = {
        if let env = ProcessInfo.processInfo.environment["MONA_ASSETS"], !env.isEmpty { return AssetRegistry() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".assets", isDirectory: true)
        return AssetRegistry(root: root)
    }()

    static func body(_ name: String) -> AssetRegistry.Body { try! registry.body(name) }

    /// Whether a body is installed; prints a visible SKIPPED line when it is not.
    static func available(_ name: String, for test: String) -> Bool {
        let b = body(name)
        if !b.isPresent { print("SKIPPED \(test): asset missing — \(b.missingMessage)") }
        return b.isPresent
    }
}

@Suite("Asset registry")
struct ONNXAssetRegistryTests {
    @Test func rootComesFromArgumentEnvironmentOrCurrentDirectory() {
        let explicit = URL(fileURLWithPath: "/data/assets")
        #expect(AssetRegistry(root: explicit, environment: ["MONA_ASSETS": "/x"]).root == explicit)
        #expect(AssetRegistry(environment: ["MONA_ASSETS": "/srv/mona"]).root.path == "/srv/mona")
        let cwd = FileManager.default.currentDirectoryPath
        #expect(AssetRegistry(environment: [:]).root.path == cwd + "/.assets")
        #expect(AssetRegistry(environment: ["MONA_ASSETS": ""]).root.path == cwd + "/.assets")
    }

    @Test func bodiesMapToFilesUnderTheRoot() throws {
        let registry = AssetRegistry(root: URL(fileURLWithPath: "/nowhere"))
        let l6 = try registry.body("minilm-l6")
        #expect(l6.modelType == "bert" && l6.format == .safetensors)
        #expect(l6.files.map(\.path) == ["/nowhere/minilm-l6/model.safetensors", "/nowhere/minilm-l6/config.json",
                                         "/nowhere/minilm-l6/vocab.txt"])
        let dino = try registry.body("dinov2-s14")
        #expect(dino.modelType == "dinov2" && dino.format == .onnx && dino.vocabulary == nil)
        #expect(dino.weights.path == "/nowhere/dinov2-s14/vit_s_focus.onnx")
        #expect(try registry.body("minilm-l3").vocabulary?.path == "/nowhere/minilm-l6/vocab.txt")
        #expect(registry.allBodies().map(\.name) == AssetRegistry.bodyNames)
        #expect(!dino.isPresent && dino.missingFiles == [dino.weights])
        #expect(dino.missingMessage.contains("scripts/fetch-assets.sh bodies"))
        #expect(throws: FormatError.self) { try dino.requirePresent() }
        do { _ = try registry.body("gpt-5"); Issue.record("no error") } catch {
            #expect("\(error)".contains("unknown body") && "\(error)".contains("minilm-l6"))
        }
    }
}
