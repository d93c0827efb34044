import ArgumentParser
import MonaTensor

@main
struct Mona: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mona",
        abstract: "Cross-modality transfer learning: reuse a pretrained transformer on ECG, sensors, PDEs, DNA, protein or audio.",
        discussion: """
        MoNA meta-learns the target embedder so that fine-tuning reuses the pretrained body's source knowledge.
        Subcommands arrive as the pipeline grows; see README.md.
        """,
        version: monaVersion,
        subcommands: [
            Fit.self,
            Align.self,
            Evaluate.self,
            Predict.self,
            Inspect.self,
            DataCommand.self,
            Convert.self,
            Bodies.self,
            Generate.self,
            Analyze.self,
            BenchCommand.self,
            Serve.self,
        ])
}
