import Foundation
import MonaData
import MonaTensor
import Testing
@testable import MonaTransfer

@Suite struct NoBodyTests {
    /// `no-body`: the fine-tuning model's embedder and head, the body bypassed, nothing of it trained or saved.
    @Test func noBodyIsTheEmbedderAndHeadAlone() throws {
        let method = try MethodCatalog.make(MethodConfig(name: "no-body"))
        #expect(method.body == .identity && method.stages.isEmpty && method.trainability == .all && method.analysis == nil)
        var withOption = MethodConfig(name: "no-body")
        withOption.options = ["analysis": "true"]
        #expect(throws: TransferError.self) { try MethodCatalog.make(withOption) }

        let setup = try WaveSetup(dropout: 0)
        let full = setup.model()
        let body = microBertBody(width: 8, dropout: 0, seed: 11)
        var spec = full.spec
        spec.bodyIsIdentity = true
        let model = CrossModalModel(spec: spec, body: body, seed: 7)
        #expect(!model.namedParameters().contains { $0.name.hasPrefix("body.") })
        // The same embedder and head as the model with a body (same seed, initialised from the same body).
        #expect(weightsEqual(model.stateDict(), full.stateDict().filter { !$0.key.hasPrefix("body.") }))
        let input = model.input(for: setup.splits.train.subset([0, 1, 2]))
        let e = model.embedder(input)
        let direct = model.head.predict(e.tokens, embedded: e, sampleShape: input.sampleShape)
        #expect(model(input).scalars == direct.scalars)

        let dir = TemporaryDirectory()
        let store = CheckpointStore(directory: dir.url)
        let trainer = Trainer(model: model, task: setup.task, splits: setup.splits, config: setup.config(epochs: 2),
                              seed: 3, checkpoints: store)
        trainer.modelSpec = spec
        let state = try trainer.run()
        #expect(state.finished && state.bestEpoch != nil)
        // Reloaded from its checkpoint without a body, it predicts the same.
        let saved = try SavedModel.load(store.folder("best"))
        #expect(saved.spec.bodyIsIdentity == true && !saved.model.namedParameters().contains { $0.name.hasPrefix("body.") })
        model.eval()
        #expect(saved.model(input).scalars == model(input).scalars)
    }
}
