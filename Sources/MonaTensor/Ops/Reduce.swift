// Sum and mean along axes, and the sum-to-shape / expand pair that broadcasting's gradients use.

extension Tensor {
    /// Normalised, sorted, de-duplicated axes.
    func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
        Array(Set(axes.map { normalizeAxis($0, op: op) })).sorted()
    }

    /// Sum over `axes`; `keepingDims` leaves them as size 1.
    public func sum(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "sum")
        var keptShape = shape
        var cur = self.detached()
        // Reduce one axis at a time, from the last, on a [outer, n, inner] view.
        for a in ax.reversed() {
            let outer = keptShape[..<a].reduce(1, *), n = keptShape[a], inner = keptShape[(a + 1)...].reduce(1, *)
            keptShape[a] = 1
            let src = cur
            cur = Tensor.build(keptShape) { dst in sumMiddleAxis(src.data, outer: outer, n: n, inner: inner, into: dst) }
        }
        let outShape = keepingDims ? keptShape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let out = Tensor(storage: cur.storage, shape: outShape)
        let inShape = shape
        return Tensor.record(out, op: .sum, inputs: [self]) { g, _ in
            [g.reshaped(to: keptShape).expanded(to: inShape)]
        }
    }

    public func sum(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// Sum of all elements (0-D).
    public func sum() -> Tensor { sum(alongAxes: Array(0..<rank)).reshaped(to: []) }

    /// Mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDims: Bool = false) -> Tensor {
        let ax = normalizedAxes(axes, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        precondition(n > 0, "mean: reducing \(shape) over axes \(axes) averages zero elements")
        return sum(alongAxes: ax, keepingDims: keepingDims) * (1 / Float(n))
    }

    public func mean(alongAxis axis: Int, keepingDims: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDims: keepingDims)
    }

    /// Mean of all elements (0-D).
    public func mean() -> Tensor {
        precondition(count > 0, "mean: tensor of shape \(shape) is empty")
        return sum() * (1 / Float(count))
    }

    /// Sums this tensor down to `target`, a shape it was broadcast from (the adjoint of `expanded(to:)`).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Broadcast.shape(target, shape) == shape,
                     "sum(toShape:): \(target) does not broadcast to \(shape)")
        let off = rank - target.count
        var axes = Array(0..<off)
        for (i, d) in target.enumerated() where d == 1 && shape[i + off] != 1 { axes.append(i + off) }
        return sum(alongAxes: axes, keepingDims: true).reshaped(to: target)
    }

    /// Broadcasts to `target` (materialised). Gradient: `sum(toShape:)`.
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Broadcast.shape(shape, target) == target,
                     "expanded(to:): shape \(shape) cannot be broadcast to \(target)")
        let out = broadcastCopy(self, to: target)
        let inShape = shape
        return Tensor.record(out, op: .expand, inputs: [self]) { g, _ in [g.sum(toShape: inShape)] }
    }

    /// Same elements, new shape (one dimension may be -1). Shares storage.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0 && newShape.filter({ $0 == -1 }).count == 1,
                         "reshaped: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            target[i] = count / known
        }
        precondition(Tensor.elementCount(target, op: "reshaped") == count,
                     "reshaped: shape \(shape) (\(count) elements) cannot be viewed as \(newShape)")
        if target == shape { return self }
        let out = Tensor(storage: storage, shape: target)
        let inShape = shape
        return Tensor.record(out, op: .reshape, inputs: [self]) { g, _ in [g.reshaped(to: inShape)] }
    }

    public func reshaped(_ dims: Int...) -> Tensor { reshaped(to: dims) }

    /// Collapses all axes into one.
    public func flattened() -> Tensor { reshaped(to: [count]) }
}
