import Foundation
import MonaTensor
import Testing
@testable import MonaTransfer

/// `Trainer.lastCheckpointInterval` (what `mona bench` uses for runs whose checkpoints it deletes): the same
/// training, fewer writes, and a resume from what was written still ends where an uninterrupted run ends.
@Suite struct LeanCheckpointTests {
    @Test func sameTrainingFewerWritesStillResumable() throws {
        let setup = try WaveSetup(dropout: 0.1)
        var config = setup.config(epochs: 4)
        config.checkpointEvery = 0
        let full = TemporaryDirectory(), lean = TemporaryDirectory(), cut = TemporaryDirectory()
        let storeFull = CheckpointStore(directory: full.url), storeLean = CheckpointStore(directory: lean.url)
        let a = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                        checkpoints: storeFull)
        let b = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                        checkpoints: storeLean)
        b.lastCheckpointInterval = 1e9
        var sa = try a.run(), sb = try b.run()
        sa.elapsedSeconds = 0
        sb.elapsedSeconds = 0
        #expect(sa == sb)
        #expect(weightsEqual(a.model.stateDict(), b.model.stateDict()))
        #expect(storeFull.exists("last") && storeFull.exists("best"))
        #expect(!storeLean.exists("last") && !storeLean.exists("best"))     // a short run writes nothing

        // Interval 0: `last` (with the best weights found so far) at every epoch end but the final one. Stop after
        // epoch 2 and resume in a fresh trainer: the same end state and weights as the uninterrupted run.
        let storeCut = CheckpointStore(directory: cut.url)
        let c = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                        checkpoints: storeCut)
        c.lastCheckpointInterval = 0
        c.interruptAfter = { $0.epoch == 2 }   // the first call with epoch 2 is epoch 2's end, after its write
        #expect(throws: TrainingInterrupted.self) { try c.run() }
        let last = try #require(try storeCut.load("last"))
        #expect(last.state.epoch == 2 && storeCut.exists("best"))
        let d = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                        checkpoints: storeCut)
        d.lastCheckpointInterval = 0
        var sd = try d.run(resumingFrom: last)
        sd.elapsedSeconds = 0
        #expect(sd == sa)
        #expect(weightsEqual(d.model.stateDict(), a.model.stateDict()))
        #expect(try storeCut.load("last")?.state.epoch == 3)                 // the final epoch writes nothing
    }
}
