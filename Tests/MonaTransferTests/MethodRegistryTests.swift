import Foundation
import MonaData
import MonaRunKit
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// The method registry, strict option decoding, configuration trees, the run plan and the trainer's parts.
@Suite struct MethodRegistryTests {
    /// Values no option accepts, by kind (2.7 is a fine number, so only integers and flags and choices get it).
    static func hostile(_ kind: OptionKind) -> [String] {
        var values = ["inf", "-inf", "nan", ".nan", "-1", "1e308", "ture", ""]
        switch kind {
        case .integer, .bool, .choice, .text: values.append("2.7")
        case .number: break
        }
        if case .text = kind { values.removeAll { $0 == "ture" || $0 == "inf" || $0 == "nan" } }
        return values
    }

    /// Every key of every registered method (read from the registry, so new keys are covered automatically)
    /// rejects every hostile value class, and a misspelt key, with one line naming `method.<key>`.
    @Test func everyOptionOfEveryMethodRejectsHostileValues() throws {
        var checked = 0
        for entry in MethodCatalog.entries {
            _ = try MethodCatalog.make(MethodConfig(name: entry.name))           // the defaults are valid
            for option in entry.optionKeys {
                for value in Self.hostile(option.kind) {
                    let message = try rejection(method: entry.name, assignment: "method.\(option.key)=\(value)")
                    #expect(message.contains("method.\(option.key)"), "\(entry.name) \(option.key)=\(value): \(message)")
                    #expect(!message.contains("\n"))
                    checked += 1
                }
                let typo = String(option.key.dropLast()) + "q"
                guard !entry.optionKeys.contains(where: { $0.key == typo }) else { continue }
                let message = try rejection(method: entry.name, assignment: "method.\(typo)=1")
                #expect(message.contains("unknown option 'method.\(typo)'") && message.contains(option.key), "\(message)")
            }
            for (key, value) in entry.preset {
                let message = try rejection(method: entry.name, assignment: "method.\(key)=\(value)")
                #expect(message.contains("method.\(key)") && message.contains("fixed"), "\(message)")
            }
        }
        #expect(checked > 100)
    }

    /// The command line: a bad method option or config value exits with status 2 and one line naming the key.
    @Test func badOptionsExitWithStatus2() throws {
        let dir = TemporaryDirectory()
        for (assignment, key) in [("method.outerSteps=inf", "method.outerSteps"), ("method.outerSteps=2.7", "method.outerSteps"),
                                  ("method.alpah=0.1", "method.alpah"), ("method.analysis=ture", "method.analysis"),
                                  ("body=", "body"), ("training.epochs=nan", "training.epochs")] {
            let r = try runMona(["fit", "--task", "gunpoint", "--body", "tiny-bert", "--method", "mona", "--epochs", "1",
                                 "--set", assignment, "-o", dir.url.appendingPathComponent("run").path])
            #expect(r.status == 2, "\(assignment): status \(r.status), \(r.err)")
            let lines = r.err.split(separator: "\n")
            #expect(lines.count == 1 && r.err.contains(key), "\(assignment): \(r.err)")
        }
    }

    /// The error `validate` gives for one `--set` (failing the test when there is none).
    func rejection(method: String, assignment: String) throws -> String {
        do {
            let config = try FitConfig.resolve(layers: [("task", .string("gunpoint")), ("method.name", .string(method))],
                                               assignments: [assignment])
            try config.validate()
        } catch let TransferError.badConfig(message) {
            return message
        }
        Issue.record("\(method): --set \(assignment) was accepted")
        return ""
    }

    @Test func registryPresetsAndDefaults() throws {
        func make(_ name: String, _ options: [String: String] = [:]) throws -> MethodSpec {
            var c = MethodConfig(name: name)
            c.options = options
            return try MethodCatalog.make(c)
        }
        let names = Set(MethodCatalog.names.map(\.name))
        for n in ["finetune", "scratch", "linear-probe", "fpt", "warmup-only", "mona", "mona-fd", "mona-no-warmup",
                  "mona-lambda0", "orca", "orca-mmd"] {
            #expect(names.contains(n), "\(n) not registered")
        }
        let mona = try make("mona", ["alpha": "0.001", "metaGradient": "finite-difference", "outerNormalization": "none",
                                     "outerUpdates": "embedder+head", "outerSteps": "7"])
        let o = try #require(mona.stages.first as? MoNAStage).options
        #expect(o.meta.alpha == 0.001 && o.meta.mode == .finiteDifference(epsilon: 0.01) && o.outerSteps == 7)
        #expect(o.meta.outerGradientNormalization == OuterGradientNormalization.none && o.updatesHead)
        #expect((try make("mona-lambda0").stages.first as? MoNAStage)?.options.meta.lambda == 0)
        #expect((try make("mona-no-warmup").stages.first as? MoNAStage)?.options.warmupEpochs == 0)
        #expect((try make("mona-fd").stages.first as? MoNAStage)?.options.meta.mode == .finiteDifference(epsilon: 0.01))
        #expect((try make("orca-mmd").stages.first as? ORCAStage)?.options.distance == .mmd)
        #expect((try make("orca").stages.first as? ORCAStage)?.options.distance == .otdd)
        // The analysis default belongs to the method; the option overrides it.
        #expect(try make("mona").analysis != nil && make("orca").analysis != nil)
        #expect(try make("finetune").analysis == nil && make("finetune", ["analysis": "true"]).analysis?.every == 0)
        #expect(try make("mona", ["analysis": "false"]).analysis == nil)
        #expect(try make("scratch").body == .random && !make("scratch").pretrainedBody)
        #expect(try make("fpt").trainability == .frozenBody && make("linear-probe").trainability == .headOnly)
        #expect(try make("warmup-only", ["warmupEpochs": "2"]).stages.first is WarmupStage)
        // Options of another method are unknown here; a suite drops them with keepingKnownOptions.
        #expect(throws: TransferError.self) { try make("finetune", ["outerSteps": "3"]) }
        var shared = MethodConfig(name: "finetune")
        shared.options = ["outerSteps": "3", "analysis": "true"]
        #expect(shared.keepingKnownOptions().options == ["analysis": "true"])
        #expect(throws: TransferError.self) { try make("nope") }
    }

    /// docs/transfer.md holds the registry's table as generated (so the docs cannot drift from the code).
    @Test func docsTableComesFromTheRegistry() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/transfer.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        // Methods registered by other tests (`test-…`) are not documented.
        let table = MethodCatalog.markdownTable().split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("| `test-") }.joined(separator: "\n")
        #expect(text.contains(table), "regenerate the methods table in docs/transfer.md:\n\(table)")
    }

    @Test func setIsAppliedToTheTreeNotToYAMLText() throws {
        let base: [(String, RunValue)] = [("task", .string("gunpoint")), ("training.epochs", .number(3))]
        let c = try FitConfig.resolve(layers: base, assignments: ["task=a: b # c", "training.learningRate=3e-4",
                                                                  "output=runs/x", "method.name=mona",
                                                                  "method.lambda=0.5"])
        #expect(c.task == "a: b # c" && c.training.epochs == 3 && c.training.learningRate == 3e-4)
        #expect(c.output == "runs/x" && c.method.name == "mona" && c.method.options["lambda"] == "0.5")
        func message(_ assignment: String) -> String {
            do { _ = try FitConfig.resolve(layers: base, assignments: [assignment]) } catch let TransferError.badConfig(m) {
                return m
            } catch { return "\(error)" }
            return "accepted"
        }
        #expect(message("body=") == "body: expected non-empty text, got nothing")
        #expect(message("training.epochs=2.7") == "training.epochs: expected an integer, got 2.7")
        #expect(message("training.epochs=1e308").hasPrefix("training.epochs: expected an integer"))
        #expect(message("training.learningRate=.inf").hasPrefix("training.learningRate: expected a finite number"))
        #expect(message("training.clipNorm=") == "training.clipNorm: expected a finite number, got nothing")
        #expect(message("training.optimizer=adamx").contains("one of adamw, adam, sgd"))
        #expect(message("data.normalize=ture") == "data.normalize: expected true or false, got 'ture'")
        #expect(message("seed=-1").hasPrefix("seed: expected a non-negative integer"))
        #expect(message("training=5").hasPrefix("training: expected a mapping"))
        #expect(message("nope=1").hasPrefix("unknown option 'nope'"))
        #expect(message("training.epochs.x=1").contains("cannot be set under it"))
    }

    @Test func runPlanIsDecidedUpFront() throws {
        let dir = TemporaryDirectory()
        let store = CheckpointStore(directory: dir.url.appendingPathComponent("checkpoints"))
        #expect(try RunPlan.make(store: store, resume: false).name == "fresh")
        #expect(try RunPlan.make(store: store, resume: true).name == "fresh")
        let weights = ["w": Tensor([1, 2], shape: [2])]
        var aligned = TrainingState(stage: "aligned", metric: "accuracy", higherIsBetter: true, seed: 0)
        aligned.finished = true
        try store.save("aligned", model: weights, state: aligned)
        #expect(throws: TransferError.self) { try RunPlan.make(store: store, resume: false) }
        let afterAlignment = try RunPlan.make(store: store, resume: true)
        #expect(afterAlignment.name == "after-alignment" && afterAlignment.keepsAlignmentRecords
                && afterAlignment.fineTuningCheckpoint == nil && !afterAlignment.runsAlignment)
        var last = TrainingState(stage: "finetune", metric: "accuracy", higherIsBetter: true, seed: 0)
        last.step = 7
        try store.save("last", model: weights, state: last)
        let mid = try RunPlan.make(store: store, resume: true)
        #expect(mid.name == "mid-fine-tuning" && mid.fineTuningCheckpoint?.state.step == 7)
        last.finished = true
        try store.save("last", model: weights, state: last)
        #expect(try RunPlan.make(store: store, resume: true).name == "finished")
    }

    @Test func trainerStepAndEndOfEpochEachDoTheirPart() throws {
        let setup = try WaveSetup(dropout: 0)
        let dir = TemporaryDirectory()
        let store = CheckpointStore(directory: dir.url)
        let recorder = MemoryRecorder()
        var config = setup.config(epochs: 2)
        config.checkpointEvery = 0
        let trainer = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: config, seed: 3,
                              checkpoints: store, recorder: recorder)
        var state = TrainingState(stage: "finetune", metric: "accuracy", higherIsBetter: true, seed: 3)
        let before = trainer.model.stateDict()
        let batches = trainer.batches(epoch: 0)
        let schedule = config.makeSchedule(totalSteps: trainer.totalSteps)
        try trainer.step(&state, batches: batches, schedule: schedule)
        #expect(state.step == 1 && state.batchInEpoch == 1 && state.epochSamples == batches[0].count)
        #expect(state.epochLossSum > 0 && state.epoch == 0)
        #expect(!weightsEqual(before, trainer.model.stateDict()))
        #expect(recorder.records.last?.text("split") == "train" && recorder.records.last?.number("step") == 1)
        #expect(!store.exists("last"))

        // The validation split has 6 samples: `auto` selects on the validation loss.
        #expect(trainer.selectionRule == .loss)
        try trainer.endEpoch(&state)
        #expect(state.epoch == 1 && state.batchInEpoch == 0 && state.epochSamples == 0 && state.epochLossSum == 0)
        #expect(state.bestEpoch == 1 && state.bestLoss != nil && state.selectedOn == "loss")
        let record = try #require(recorder.records.last)
        #expect(record.text("split") == "validation" && record.number("val_loss") == state.bestLoss)
        #expect(store.exists("best") && store.exists("last") && !state.finished)
    }

    @Test func selectionRules() throws {
        let setup = try WaveSetup(dropout: 0)
        let trainer = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: setup.config(), seed: 3)
        #expect(SelectionSetting.auto.resolved(validationCount: 49) == .loss)
        #expect(SelectionSetting.auto.resolved(validationCount: 50) == .metric)
        #expect(SelectionSetting.metric.resolved(validationCount: 6) == .metric)
        // Loss rule: a lower loss wins even at a lower accuracy; the metric rule breaks ties by loss only.
        #expect(trainer.isImprovement(0.5, loss: 0.3, over: 0.9, loss: 0.4, rule: .loss))
        #expect(!trainer.isImprovement(0.9, loss: 0.5, over: 0.5, loss: 0.4, rule: .loss))
        #expect(!trainer.isImprovement(0.5, loss: 0.3, over: 0.9, loss: 0.4, rule: .metric))
        #expect(trainer.isImprovement(0.9, loss: 0.3, over: 0.9, loss: 0.4, rule: .metric))
        #expect(!trainer.isImprovement(.nan, loss: 0.1, over: nil, loss: nil, rule: .loss))
    }

    /// An observer's error stops training and reaches the caller (nothing swallows it).
    @Test func observerErrorsPropagate() throws {
        struct Broken: Error {}
        final class Failing: TrainingObserver {
            var calls = 0
            func afterStep(_ model: CrossModalModel, _ state: TrainingState) throws {
                calls += 1
                if state.step == 3 { throw Broken() }
            }
        }
        let setup = try WaveSetup(dropout: 0)
        let trainer = try Trainer(model: setup.model(), task: setup.task, splits: setup.splits, config: setup.config(), seed: 3)
        let observer = Failing()
        trainer.observers = [observer]
        #expect(throws: Broken.self) { try trainer.run() }
        #expect(observer.calls == 3)
    }
}
