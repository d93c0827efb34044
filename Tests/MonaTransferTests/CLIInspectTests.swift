import Foundation
import MonaRunKit
import MonaTestSupport
import Testing

@Suite struct CLIInspectTests {
    /// `mona inspect --json` lists name, dtype and shape of every tensor for safetensors, ONNX and `.pt` files.
    @Test(arguments: [
        ("minilm-l6/model.safetensors", "safetensors", "embeddings.word_embeddings.weight", [30522, 384]),
        ("minilm-l3/paraphrase-MiniLM-L3-v2.onnx", "onnx", "model.0.auto_model.embeddings.word_embeddings.weight", [30522, 384]),
        ("data/pde/darcy_train_16.pt", "pytorch", "x", [1000, 16, 16]),
    ])
    func inspectListsTensors(file: String, format: String, name: String, shape: [Int]) throws {
        guard monaExecutable() != nil else {
            print("SKIPPED inspectListsTensors: the mona executable is not built next to the tests")
            return
        }
        guard assetExists(file) else {
            print("SKIPPED inspectListsTensors(\(file)): asset missing; run scripts/fetch-assets.sh and scripts/fetch-data.sh")
            return
        }
        let r = try runMona(["inspect", "--json", repositoryAssets.appendingPathComponent(file).path])
        #expect(r.status == 0, "\(r.err)")
        let json = try RunValue.parse(json: r.out)
        guard case .object(let top) = json, case .array(let tensors)? = top.first(where: { $0.0 == "tensors" })?.1,
              case .string(let fmt)? = top.first(where: { $0.0 == "format" })?.1 else {
            Issue.record("unexpected JSON: \(r.out.prefix(300))")
            return
        }
        #expect(fmt.lowercased().hasPrefix(format))
        let row = tensors.first { t in
            if case .object(let o) = t, case .string(let n)? = o.first(where: { $0.0 == "name" })?.1 { return n == name }
            return false
        }
        guard case .object(let o)? = row, case .array(let s)? = o.first(where: { $0.0 == "shape" })?.1,
              case .string(let dtype)? = o.first(where: { $0.0 == "dtype" })?.1 else {
            Issue.record("\(file): tensor \(name) not listed")
            return
        }
        #expect(s.compactMap { if case .number(let x) = $0 { Int(x) } else { nil } } == shape)
        #expect(!dtype.isEmpty)
    }

    /// A folder without a checkpoint, or a missing file, fails with a one-line cause and a non-zero status.
    @Test func inspectRejectsBadPaths() throws {
        guard monaExecutable() != nil else {
            print("SKIPPED inspectRejectsBadPaths: the mona executable is not built next to the tests")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mona-inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = try runMona(["inspect", dir.path])
        #expect(empty.status != 0)
        #expect(empty.err.contains("holds no checkpoint file"))
        let missing = try runMona(["inspect", dir.appendingPathComponent("nope.safetensors").path])
        #expect(missing.status != 0)
        #expect(missing.err.contains("no such file"))
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data([1, 2, 3]).write(to: junk)
        let bad = try runMona(["inspect", junk.path])
        #expect(bad.status != 0)
        #expect(bad.err.contains("junk.safetensors"))
    }
}
