import ArgumentParser
import MonaTensor

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "Tensor-engine kernels.")

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Fewer repetitions (for a smoke run).") var quick = false

    func run() throws {
        Engine.configureFromEnvironment()
        print("engine benchmark: not yet implemented")
    }
}
