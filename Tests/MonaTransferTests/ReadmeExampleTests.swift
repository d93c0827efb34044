import Foundation
import Testing
import MonaTransfer

/// The README's library example, with the built-in tiny random body so that it stays fast: if this stops
/// compiling, the README is out of date.
@Test func readmeLibraryExampleRuns() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mona-readme-\(getpid())")
    defer { try? FileManager.default.removeItem(at: dir) }
    guard FileManager.default.fileExists(atPath: ".assets/data/ucr/GunPoint/GunPoint_TRAIN.ts") else {
        print("SKIPPED: readmeLibraryExampleRuns needs GunPoint — run scripts/fetch-data.sh ucr")
        return
    }
    var config = FitConfig(task: "gunpoint", body: "tiny-bert", method: "finetune", seed: 0)
    config.training.epochs = 1
    config.model.maxTokens = 16
    let result = try FitPipeline(config: config, runDirectory: dir).fit()
    let accuracy = try #require(result.testMetric)
    #expect(accuracy >= 0 && accuracy <= 1)
}
