import Foundation

/// The parts of a training step `PhaseTimer` tells apart.
public enum TrainingPhase: String, CaseIterable, Sendable {
    /// Batch assembly: the subset of the training split and the model input tensors (normalisation is done once
    /// on whole splits, before training).
    case data
    /// The model and the loss.
    case forward
    /// Gradients of the loss and their accumulation over micro-batches.
    case backward
    /// The global gradient norm (NaN/Inf check) and clipping.
    case clipping
    /// The scheduled learning rate and the optimizer update.
    case optimizer
    /// End of an epoch: validation, checkpoints, the epoch record (not part of any step).
    case epochEnd = "epoch-end"
}

/// Wall-clock seconds per training phase, for profiling (`mona-perf pipeline`). Set `Trainer.phaseTimer` to
/// measure; when it is nil (the default) the trainer only tests the optional, so timing costs nothing.
/// `stepSeconds` is the whole optimizer step as the loop sees it (phases plus bookkeeping: metric records,
/// progress, checkpoint and interrupt checks), so `stepSeconds − forward − backward − clipping − optimizer` is the time
/// spent outside the model.
public final class PhaseTimer {
    public private(set) var seconds: [TrainingPhase: Double] = [:]
    /// Optimizer steps and training samples timed, and their total wall-clock seconds.
    public private(set) var steps = 0
    public private(set) var samples = 0
    public private(set) var stepSeconds = 0.0

    public init() {}

    /// Seconds of work that overlaps the phases above, by name: `checkpoints` (checkpoint writes, inside
    /// `epoch-end` or a step), `analysis` (source-knowledge probes, timed by `FitPipeline`).
    public private(set) var extra: [String: Double] = [:]

    /// Adds the time since `start` to the overlapping measure `name`.
    public func add(_ name: String, since start: UInt64) {
        extra[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Forgets everything measured so far (e.g. after a warm-up epoch).
    public func reset() {
        extra = [:]
        seconds = [:]
        steps = 0
        samples = 0
        stepSeconds = 0
    }

    /// Runs `body`, adding its duration to `phase`.
    @inline(__always)
    public func measure<T>(_ phase: TrainingPhase, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { seconds[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 }
        return try body()
    }

    /// A timestamp for `endStep(since:samples:)`.
    public func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One optimizer step over `samples` samples ended; it began at `start`.
    public func endStep(since start: UInt64, samples n: Int) {
        stepSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        steps += 1
        samples += n
    }

    /// Adds the time since `start` to `phase`.
    public func add(_ phase: TrainingPhase, since start: UInt64) {
        seconds[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Seconds of a phase (0 when not seen).
    public subscript(phase: TrainingPhase) -> Double { seconds[phase] ?? 0 }

    /// Step time outside forward, backward, clipping and the optimizer: data, bookkeeping and anything else.
    public var overheadSeconds: Double {
        stepSeconds - self[.forward] - self[.backward] - self[.clipping] - self[.optimizer]
    }
}

extension Trainer {
    /// `body`, timed as `phase` when a phase timer is set.
    @inline(__always)
    func timed<T>(_ phase: TrainingPhase, _ body: () throws -> T) rethrows -> T {
        guard let timer = phaseTimer else { return try body() }
        return try timer.measure(phase, body)
    }
}
