import ArgumentParser
import Foundation
import MonaFormats

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
        var url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path): no such file or directory")
        }
        if isDirectory.boolValue { url = url.appendingPathComponent("model.safetensors") }
        let (format, tensors, metadata) = try listing(url)
        let total = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        if json {
            let rows = tensors.map { t in
                "{\"name\":\(jsonString(t.name)),\"dtype\":\(jsonString(t.dtype)),\"shape\":[\(t.shape.map(String.init).joined(separator: ","))]}"
            }
            print("{\"file\":\(jsonString(url.path)),\"format\":\(jsonString(format)),\"tensors\":[\(rows.joined(separator: ","))],\"elements\":\(total)}")
            return
        }
        print("\(url.path): \(format), \(tensors.count) tensors, \(total) elements")
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { print("  metadata \(k) = \(v)") }
        let width = min(72, tensors.map(\.name.count).max() ?? 4)
        for t in tensors {
            let name = t.name.padding(toLength: max(width, t.name.count), withPad: " ", startingAt: 0)
            print("  \(name)  \(t.dtype.padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)")
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

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
