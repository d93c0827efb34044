import ArgumentParser
import MonaTensor

@main
struct MonaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mona-perf",
        abstract: "Benchmarks of the MoNA engine. Prints a table, or one JSON object with --json.",
        version: monaVersion,
        subcommands: [EngineBench.self, EncoderBench.self, MoNABench.self, PipelineBench.self, ExpertBench.self,
                      DistributedBench.self, ServeBench.self],
        defaultSubcommand: EngineBench.self)
}
