// Axis permutation (materialised), transposes, and squeeze / unsqueeze (views via reshape).

extension Tensor {
    /// The tensor with its axes reordered: output axis `i` is input axis `axes[i]` (negative axes count from
    /// the end). The result is a contiguous copy, except that the identity permutation returns `self`.
    ///
    /// Gradient: the inverse permutation. Precondition: `axes` is a permutation of the tensor's axes.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank, "permuted: \(axes.count) axes \(axes) for a tensor of shape \(shape)")
        let perm = axes.map { normalizeAxis($0, op: "permuted") }
        precondition(Set(perm).count == rank, "permuted: \(axes) is not a permutation of the axes of \(shape)")
        if perm == Array(0..<rank) { return self }
        let src = self
        let out = Tensor.build(perm.map { shape[$0] }) {                  // [shape[perm[0]], …]
            permuteCopy(src.data, shape: src.shape, permutation: perm, into: $0)
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in perm.enumerated() { inverse[a] = i }
        return Tensor.record(out, op: .permute, inputs: [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Variadic form of `permuted(_:)`: `x.permuted(0, 2, 1, 3)`.
    public func permuted(_ axes: Int...) -> Tensor { permuted(axes) }

    /// Swaps the last two axes (a matrix transpose, batched over leading axes). Requires rank ≥ 2.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: need rank ≥ 2, got shape \(shape)")
        return transposed(-2, -1)
    }

    /// Swaps axes `a` and `b` (materialised copy).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        let i = normalizeAxis(a, op: "transposed"), j = normalizeAxis(b, op: "transposed")
        var perm = Array(0..<rank)
        perm.swapAt(i, j)
        return permuted(perm)
    }

    /// Removes axis `axis`, which must have size 1. Shares storage.
    public func squeezed(axis: Int) -> Tensor {
        let a = normalizeAxis(axis, op: "squeezed")
        precondition(rank > 0 && shape[a] == 1, "squeezed: axis \(axis) of shape \(shape) does not have size 1")
        var s = shape
        s.remove(at: a)
        return reshaped(to: s)
    }

    /// Removes every axis of size 1. Shares storage.
    public func squeezed() -> Tensor { reshaped(to: shape.filter { $0 != 1 }) }

    /// Inserts an axis of size 1 at position `axis` of the result (`0...rank`; negative counts from the end of
    /// the result, so -1 appends). Shares storage.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueezed: axis \(axis) is out of range for a tensor of shape \(shape)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(to: s)
    }
}
