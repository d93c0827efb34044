import MonaTensor

/// A lookup table [count, dimension].
public final class Embedding: Module {
    @Parameter public var weight: Tensor   // [count, d]

    public init(_ count: Int, _ dimension: Int, generator: inout SeededGenerator) {
        _weight = Parameter(wrappedValue: Tensor.randomNormal([count, dimension], generator: &generator))
        super.init()
    }

    /// ids (row-major, `shape` describes them) → [shape..., d]
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        Tensor.embedding(weight: weight, indices: ids, shape: shape)
    }
}

/// Inverted dropout; a no-op in evaluation mode. The generator is owned by the layer so runs are reproducible.
public final class Dropout: Module {
    /// The drop rate, in [0, 1) (a model option may override the body's own rate after construction).
    public var probability: Float {
        didSet { precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) not in [0, 1)") }
    }
    private var generator: SeededGenerator

    public init(_ probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) not in [0, 1)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
        super.init()
    }

    /// Whether the layer currently passes its input through unchanged (evaluation mode or probability 0).
    public var isIdentity: Bool { !isTraining || probability == 0 }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard !isIdentity else { return x }
        return x.dropout(probability: probability, generator: &generator, training: true)
    }

    /// Restarts the layer's random stream. Trainers reseed from (run seed, step) so that a resumed run draws the
    /// same masks as an uninterrupted one.
    public func reseed(_ seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }
}
