import Foundation

/// Where a fit run starts, decided once from the run directory's checkpoints before anything runs.
public enum RunPlan {
    /// Nothing saved: run the alignment stages (if any), then fine-tune.
    case fresh
    /// Start from the aligned model of a `mona align` run (`--from-aligned`) instead of running the stages.
    case fromAligned(Checkpoint, run: URL)
    /// The stages finished (`checkpoints/aligned/`) but fine-tuning had not saved a checkpoint yet.
    case afterAlignment(Checkpoint)
    /// Fine-tuning was interrupted: continue from `checkpoints/last/`.
    case midFineTuning(Checkpoint)
    /// Fine-tuning had finished (only the test evaluation and the report are redone).
    case finished(Checkpoint)

    /// The plan for a run directory holding `store`. Without `resume` a directory that already holds a run is
    /// an error (runs are never overwritten).
    /// (`.fromAligned` is chosen by the caller once the model to check the aligned checkpoint against exists.)
    public static func make(store: CheckpointStore, resume: Bool) throws -> RunPlan {
        let existing = store.exists("last") || store.exists("aligned") || store.exists("best")
        guard resume else {
            if existing {
                throw TransferError.badConfig("run directory \(store.directory.deletingLastPathComponent().path) already "
                                              + "holds a run; pass --resume to continue it or choose another --output")
            }
            return .fresh
        }
        if let last = try store.load("last"), last.state.stage == "finetune" {
            return last.state.finished ? .finished(last) : .midFineTuning(last)
        }
        if let aligned = try store.load("aligned") { return .afterAlignment(aligned) }
        return .fresh
    }

    /// The alignment stages run in this process.
    public var runsAlignment: Bool {
        if case .fresh = self { return true }
        return false
    }

    /// The fine-tuning checkpoint to continue from (nil: fine-tuning starts at step 0).
    public var fineTuningCheckpoint: Checkpoint? {
        switch self {
        case .midFineTuning(let c), .finished(let c): return c
        default: return nil
        }
    }

    /// For `truncateMetrics`: whether the kept log holds the alignment stages' records.
    public var keepsAlignmentRecords: Bool {
        switch self {
        case .fresh, .fromAligned: return false
        case .afterAlignment, .midFineTuning, .finished: return true
        }
    }

    /// Short name for messages and tests.
    public var name: String {
        switch self {
        case .fresh: return "fresh"
        case .fromAligned: return "from-aligned"
        case .afterAlignment: return "after-alignment"
        case .midFineTuning: return "mid-fine-tuning"
        case .finished: return "finished"
        }
    }
}
