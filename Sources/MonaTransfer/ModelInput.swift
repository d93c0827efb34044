import MonaData
import MonaTensor

/// One mini-batch as a cross-modal model consumes it.
public enum ModelInput {
    /// [B, C, L] series (C channels of length L).
    case series(Tensor)
    /// [B, C, H, W] images or fields.
    case fields(Tensor)
    /// Row-major token ids [B, T] with an optional 0/1 attention mask [B, T] (0 marks padding).
    case tokens(ids: [Int], batch: Int, length: Int, mask: Tensor?)

    /// Number of samples in the batch.
    public var batchSize: Int {
        switch self {
        case .series(let x), .fields(let x): return x.shape[0]
        case .tokens(_, let b, _, _): return b
        }
    }

    /// The per-sample shape: [C, L], [C, H, W] or [T].
    public var sampleShape: [Int] {
        switch self {
        case .series(let x), .fields(let x): return Array(x.shape.dropFirst())
        case .tokens(_, _, let t, _): return [t]
        }
    }

    /// The batch formed by `dataset`'s inputs. Token sequences are right-padded with `Vocabulary.paddingID` to
    /// the longest sequence in the batch (capped at `maxLength`; longer sequences are truncated) and masked.
    public init(_ dataset: LabeledDataset, maxLength: Int = .max) {
        switch dataset.inputs {
        case .series(let x): self = .series(x)
        case .fields(let x): self = .fields(x)
        case .tokens(let seqs):
            let t = max(1, min(maxLength, seqs.map(\.count).max() ?? 1))
            var ids = [Int](repeating: Vocabulary.paddingID, count: seqs.count * t)
            var mask = [Float](repeating: 0, count: seqs.count * t)
            for (i, s) in seqs.enumerated() {
                for (j, id) in s.prefix(t).enumerated() {
                    ids[i * t + j] = id
                    mask[i * t + j] = 1
                }
            }
            self = .tokens(ids: ids, batch: seqs.count, length: t, mask: Tensor(mask, shape: [seqs.count, t]))
        }
    }
}

/// What an embedder hands to the body: tokens, their padding mask, and how they map back onto the input.
public struct EmbeddedTokens {
    /// [B, T, D] token vectors.
    public var tokens: Tensor
    /// [B, T] 0/1 mask (nil when no token is padding).
    public var mask: Tensor?
    /// Leading special tokens (a CLS token) that dense heads skip.
    public var prefixTokens: Int
    /// The patch grid of 2-D inputs (rows × cols tokens after the prefix).
    public var grid: (rows: Int, cols: Int)?

    public init(tokens: Tensor, mask: Tensor? = nil, prefixTokens: Int = 0, grid: (rows: Int, cols: Int)? = nil) {
        self.tokens = tokens
        self.mask = mask
        self.prefixTokens = prefixTokens
        self.grid = grid
    }
}
