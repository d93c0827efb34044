import Foundation
import MonaTensor
import Testing
@testable import MonaTransfer

/// The trainer's profiling hook: counts what it should and changes nothing (no durations are checked here;
/// `mona-perf pipeline` reports them).
@Suite struct PhaseTimerTests {
    @Test func timingLeavesTrainingUnchangedAndCountsEveryStep() throws {
        let setup = try WaveSetup(dropout: 0.1)
        let config = setup.config(epochs: 3)
        let plain = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3)
        let timed = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3)
        let timer = PhaseTimer()
        timed.phaseTimer = timer
        var a = try plain.run(), b = try timed.run()
        a.elapsedSeconds = 0                                  // wall clock: differs between runs
        b.elapsedSeconds = 0
        #expect(a == b)
        #expect(weightsEqual(plain.model.stateDict(), timed.model.stateDict()))
        #expect(timer.steps == b.step && timer.samples == 3 * setup.splits.train.count)
        for phase in TrainingPhase.allCases { #expect(timer.seconds[phase] != nil, "\(phase) not timed") }
        timer.reset()
        #expect(timer.steps == 0 && timer.seconds.isEmpty)
    }
}
