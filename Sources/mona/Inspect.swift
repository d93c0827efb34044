import ArgumentParser
import Foundation
import MonaFormats
import MonaRunKit

/// `mona inspect`: list a checkpoint's tensors (name, dtype, shape).
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a checkpoint: safetensors, ONNX, PyTorch .pt/.bin, .npy or .npz.",
        discussion: """
        Files are read as untrusted input: nothing in them is executed (PyTorch pickles go through an \
        allow-listed interpreter). A directory is inspected through its model.safetensors.
        """)

    @Argument(help: "The checkpoint file (or a Hugging Face model directory).")
    var path: String

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        try reportingErrors(command: "inspect", mode: json ? .json : .auto) { try inspect() }
    }

    private func inspect() throws {
        var url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CommandError("\(path): no such file or directory")
        }
        if isDirectory.boolValue {
            // A model folder: its model.safetensors, else its only checkpoint file.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            let checkpoints = names.filter { n in [".safetensors", ".onnx", ".pt", ".bin", ".npz", ".npy"].contains { n.hasSuffix($0) } }
            if names.contains("model.safetensors") {
                url = url.appendingPathComponent("model.safetensors")
            } else if checkpoints.count == 1 {
                url = url.appendingPathComponent(checkpoints[0])
            } else {
                throw CommandError("\(path): a folder without model.safetensors; "
                    + (checkpoints.isEmpty ? "it holds no checkpoint file" : "name one of: \(checkpoints.sorted().joined(separator: ", "))"))
            }
        }
        let (format, tensors, metadata) = try listing(url)
        // Listings are not materialised, so shapes are only as sane as the file: add without overflowing.
        let total = tensors.reduce(0) { sum, t in
            let n = t.shape.reduce(1) { a, d in a.multipliedReportingOverflow(by: max(d, 0)).overflow ? Int.max : a * max(d, 0) }
            return sum.addingReportingOverflow(n).overflow ? Int.max : sum + n
        }
        if json {
            let rows: [RunValue] = tensors.map { t in
                .object([("name", .string(t.name)), ("dtype", .string(t.dtype)),
                         ("shape", .array(t.shape.map { .number(Double($0)) }))])
            }
            print(RunValue.object([("file", .string(url.path)), ("format", .string(format)), ("tensors", .array(rows)),
                                   ("elements", .number(Double(total)))]).json)
            return
        }
        let safe = { (s: String) in TerminalText.escaped(s) }
        print("\(safe(url.path)): \(format), \(tensors.count) tensors, \(total) elements")
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { print("  metadata \(safe(k)) = \(safe(v))") }
        let names = tensors.map { safe($0.name) }
        let width = min(72, names.map(\.count).max() ?? 4)
        for (t, n) in zip(tensors, names) {
            let name = n.padding(toLength: max(width, n.count), withPad: " ", startingAt: 0)
            print("  \(name)  \(safe(t.dtype).padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)")
        }
    }

    func listing(_ url: URL) throws -> (String, [TensorInfo], [String: String]) {
        if url.pathExtension.lowercased() == "onnx" {
            let model = try ONNXModel(contentsOf: url)
            let infos = model.initializers.map { TensorInfo(name: $0.name, dtype: "\($0.dataType)", shape: $0.shape) }
            return ("onnx (opset \(model.opset.map(String.init) ?? "unknown"))", infos, [:])
        }
        let archive = try TensorFile.inspect(contentsOf: url)
        return (archive.format.rawValue, archive.tensors, archive.metadata)
    }
}
