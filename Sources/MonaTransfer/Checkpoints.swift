import Foundation
import MonaFormats
import MonaRunKit
import MonaTensor

/// Where training stands: everything besides the weights and optimizer buffers that a resumed run needs to
/// continue exactly as an uninterrupted one would. Random streams are not stored because they are derived:
/// the sampler's order from (seed, epoch), dropout masks from (seed, step).
public struct TrainingState: Codable, Sendable, Equatable {
    /// The stage being trained (`finetune`, `warmup`, …).
    public var stage: String
    /// Epochs completed.
    public var epoch = 0
    /// The next mini-batch within epoch `epoch` (0 at an epoch boundary).
    public var batchInEpoch = 0
    /// Summed training loss (× samples) and samples of the epoch in progress, so a resumed epoch reports the
    /// same mean training loss.
    public var epochLossSum = 0.0
    public var epochSamples = 0
    /// Optimizer steps taken in this stage.
    public var step = 0
    /// The optimizer's own step counter (Adam's bias correction).
    public var optimizerSteps = 0
    /// Key of the selection metric (`accuracy`, `relative_l2`, …) and its direction.
    public var metric: String
    public var higherIsBetter: Bool
    /// Best validation value so far, and when it was reached.
    public var bestMetric: Double?
    /// Validation loss at the best epoch (breaks ties of the metric, common on small validation sets).
    public var bestLoss: Double?
    public var bestEpoch: Int?
    public var bestStep: Int?
    /// What selection compared (`metric` or `loss`, `SelectionRule`); nil before the first validation.
    public var selectedOn: String?
    /// Epochs since the validation metric last improved (for early stopping).
    public var epochsWithoutImprovement = 0
    /// Training of this stage has ended (all epochs or steps done, or stopped early).
    public var finished = false
    public var stoppedEarly = false
    /// The run's seed and how random streams derive from it.
    public var seed: UInt64
    public var randomStreams = "sampler order: seed + epoch; dropout masks: seed + step"
    /// Wall-clock seconds spent training so far (not part of the reproducible state).
    public var elapsedSeconds = 0.0

    public init(stage: String, metric: String, higherIsBetter: Bool, seed: UInt64) {
        self.stage = stage
        self.metric = metric
        self.higherIsBetter = higherIsBetter
        self.seed = seed
    }
}

/// A saved checkpoint.
public struct Checkpoint {
    public var model: [String: Tensor]
    /// Optimizer buffers keyed `<parameter>/<index>` (only in `last` checkpoints).
    public var optimizer: [String: Tensor]?
    public var state: TrainingState
}

/// Named checkpoints in a folder, each a sub-folder `<name>/` with `model.safetensors` (plain parameter names,
/// loadable on their own), `optimizer.safetensors` (when given), `state.json`, and a copy of the run's
/// `preprocessing.json` when the run (the folder above) has one.
///
/// Saving is atomic as a whole: the files go to `<name>.partial/`, the old folder is moved aside to
/// `<name>.old/`, the new one renamed into place, and the old one removed. A run killed at any point leaves
/// either the previous or the new checkpoint readable (`load` falls back to `<name>.old/`).
public struct CheckpointStore: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func folder(_ name: String) -> URL { directory.appendingPathComponent(name, isDirectory: true) }

    /// Writes checkpoint `name`.
    public func save(_ name: String, model: [String: Tensor], optimizer: [String: Tensor]? = nil,
                     state: TrainingState, modelSpec: ModelSpec? = nil) throws {
        let fm = FileManager.default
        let final = folder(name)
        let partial = directory.appendingPathComponent(name + ".partial", isDirectory: true)
        let old = directory.appendingPathComponent(name + ".old", isDirectory: true)
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            if fm.fileExists(atPath: partial.path) { try fm.removeItem(at: partial) }
            try fm.createDirectory(at: partial, withIntermediateDirectories: true)
            var metadata = ["format": "mona-checkpoint", "stage": state.stage, "step": String(state.step)]
            if let spec = modelSpec { metadata["model_spec"] = try jsonString(spec) }
            try SafeTensors.save(model, metadata: metadata, to: partial.appendingPathComponent("model.safetensors"))
            if let optimizer {
                try SafeTensors.save(optimizer, to: partial.appendingPathComponent("optimizer.safetensors"))
            }
            try jsonData(state).write(to: partial.appendingPathComponent("state.json"), options: .atomic)
            if let spec = modelSpec {
                try jsonData(spec).write(to: partial.appendingPathComponent("model.json"), options: .atomic)
            }
            // The run's input settings go with the weights, so that a checkpoint copied elsewhere still reads
            // new files as its training data was read (`mona predict`).
            let settings = directory.deletingLastPathComponent().appendingPathComponent(InputPreprocessing.fileName)
            if fm.fileExists(atPath: settings.path) {
                try fm.copyItem(at: settings, to: partial.appendingPathComponent(InputPreprocessing.fileName))
            }
            if fm.fileExists(atPath: old.path) { try fm.removeItem(at: old) }
            if fm.fileExists(atPath: final.path) { try fm.moveItem(at: final, to: old) }
            try fm.moveItem(at: partial, to: final)
            if fm.fileExists(atPath: old.path) { try fm.removeItem(at: old) }
        } catch {
            // Nothing half-written stays behind (a full disk would otherwise keep an empty `.partial/`).
            try? fm.removeItem(at: partial)
            if let e = error as? TransferError { throw e }
            throw TransferError.badCheckpoint("cannot write checkpoint \(final.path): \(describeIOError(error))")
        }
    }

    /// Whether checkpoint `name` (or its moved-aside previous version) exists.
    public func exists(_ name: String) -> Bool { resolved(name) != nil }

    func resolved(_ name: String) -> URL? {
        let fm = FileManager.default
        for url in [folder(name), directory.appendingPathComponent(name + ".old", isDirectory: true)]
        where fm.fileExists(atPath: url.appendingPathComponent("state.json").path) {
            return url
        }
        return nil
    }

    /// Reads checkpoint `name`; nil if there is none.
    public func load(_ name: String) throws -> Checkpoint? {
        guard let url = resolved(name) else { return nil }
        do {
            let model = try SafeTensors.load(contentsOf: url.appendingPathComponent("model.safetensors"))
            let optURL = url.appendingPathComponent("optimizer.safetensors")
            let optimizer = FileManager.default.fileExists(atPath: optURL.path) ? try SafeTensors.load(contentsOf: optURL) : nil
            let state = try TrainingState.read(url.appendingPathComponent("state.json"))
            return Checkpoint(model: model, optimizer: optimizer, state: state)
        } catch let e as TransferError {
            throw e
        } catch {
            throw TransferError.badCheckpoint("cannot read checkpoint \(url.path): \(error)")
        }
    }

    /// The model spec saved with checkpoint `name`, if any.
    public func modelSpec(_ name: String) throws -> ModelSpec? {
        guard let url = resolved(name) else { return nil }
        let file = url.appendingPathComponent("model.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try ModelSpec.read(file)
    }

    /// Deletes checkpoint `name`.
    public func remove(_ name: String) throws {
        for suffix in ["", ".partial", ".old"] {
            let url = directory.appendingPathComponent(name + suffix, isDirectory: true)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        }
    }
}

func jsonData<T: Encodable>(_ value: T) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try e.encode(value)
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(value), as: UTF8.self)
}
