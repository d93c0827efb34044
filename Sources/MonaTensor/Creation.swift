extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let n = elementCount(shape, op: "full")
        let s = TensorStorage(count: n)
        s.base.initialize(repeating: value, count: n)
        return Tensor(storage: s, shape: shape)
    }

    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(storage: TensorStorage(zeros: elementCount(shape, op: "zeros")), shape: shape)
    }

    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// Zeros / ones with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// `start, start+step, …` below `end` (1-D).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0 && step.isFinite && start.isFinite && end.isFinite,
                     "arange: need finite start/end and a non-zero step (got \(start), \(end), \(step))")
        let n = max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Float($0) * step })
    }

    /// Builds a tensor by calling `body` on a fresh uninitialised buffer of `count(shape)` elements.
    @inlinable public static func build(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let s = TensorStorage(count: elementCount(shape, op: "build"))
        body(s.base)
        return Tensor(storage: s, shape: shape)
    }

    // MARK: Seeded random tensors

    /// Normal(mean, std²) samples.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    generator: inout SeededGenerator) -> Tensor {
        build(shape) { p in
            for i in 0..<elementCount(shape, op: "randomNormal") {
                p[i] = mean + std * Float(generator.nextNormal())
            }
        }
    }

    /// Uniform samples in [low, high).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     generator: inout SeededGenerator) -> Tensor {
        build(shape) { p in
            for i in 0..<elementCount(shape, op: "randomUniform") {
                p[i] = low + (high - low) * generator.nextUnitFloat()
            }
        }
    }

    /// Bernoulli(p) samples as 0/1.
    public static func randomBernoulli(_ shape: [Int], probability: Float,
                                       generator: inout SeededGenerator) -> Tensor {
        precondition(probability >= 0 && probability <= 1, "randomBernoulli: probability \(probability) not in [0, 1]")
        return build(shape) { p in
            for i in 0..<elementCount(shape, op: "randomBernoulli") {
                p[i] = generator.nextUnitFloat() < probability ? 1 : 0
            }
        }
    }

    /// A random permutation of 0..<n (Fisher–Yates), as integers.
    public static func randomPermutation(_ n: Int, generator: inout SeededGenerator) -> [Int] {
        precondition(n >= 0, "randomPermutation: negative length \(n)")
        var a = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(generator.next() % UInt64(i + 1))
                a.swapAt(i, j)
            }
        }
        return a
    }
}
