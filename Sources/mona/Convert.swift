import ArgumentParser
import Foundation
import MonaFormats
import MonaRunKit

/// `mona convert`: an ONNX export → a Hugging Face-named safetensors state dict.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an ONNX model's weights into a Hugging Face-named safetensors file.",
        discussion: """
        Anonymous MatMul weights are named after the node that consumes them and transposed to [out, in]; int8 \
        weights are dequantised. `--layout bert` gives BertModel names, `--layout dinov2` Dinov2Model names, \
        `--layout raw` every initializer under its file name.
        """)

    enum Layout: String, ExpressibleByArgument, CaseIterable { case bert, dinov2, raw }

    @Argument(help: "The .onnx file.") var input: String
    @Option(name: .shortAndLong, help: "Output .safetensors file (written atomically).") var output: String
    @Option(help: "Naming scheme: \(Layout.allCases.map(\.rawValue).joined(separator: ", ")).") var layout: Layout

    func run() throws {
        try reportingErrors(command: "convert", mode: .auto) {
            try checkExists(input, "input")
            let model = try ONNXModel(contentsOf: URL(fileURLWithPath: input))
            let state = switch layout {
            case .bert: try model.bertStateDict()
            case .dinov2: try model.dinov2StateDict()
            case .raw: try model.namedParameters()
            }
            try SafeTensors.save(state, metadata: ["format": "pt", "source": URL(fileURLWithPath: input).lastPathComponent],
                                 to: URL(fileURLWithPath: output))
            print(TerminalText.escaped("wrote \(state.count) tensors to \(output)"))
        }
    }
}
