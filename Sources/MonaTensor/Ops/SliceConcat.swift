// Slicing, constant padding, concatenation and stacking. Slice and pad are each other's adjoint, so their
// backward rules (and concat's, which slices) stay differentiable to any order.

extension Tensor {
    /// The sub-tensor `ranges[i]` along each axis `i`; axes beyond `ranges.count` are taken whole.
    /// Materialised copy (returns `self` when every range is whole).
    ///
    /// Gradient: zero padding back to the input shape. Precondition: each range lies in `0...shape[i]`.
    public func slice(_ ranges: [Range<Int>]) -> Tensor {
        precondition(ranges.count <= rank, "slice: \(ranges.count) ranges \(ranges) for a tensor of shape \(shape)")
        var lower = [Int](repeating: 0, count: rank), extent = shape
        for (a, r) in ranges.enumerated() {
            precondition(r.lowerBound >= 0 && r.upperBound <= shape[a],
                         "slice: range \(r) is out of bounds for axis \(a) of shape \(shape)")
            lower[a] = r.lowerBound
            extent[a] = r.count
        }
        if extent == shape { return self }
        let src = self, inShape = shape
        let out = Tensor.build(extent) {
            copyBox(src.data, shape: inShape, origin: lower, into: $0, shape: extent,
                    origin: [Int](repeating: 0, count: extent.count), extent: extent)
        }
        let widths = (0..<rank).map { (before: lower[$0], after: inShape[$0] - lower[$0] - extent[$0]) }
        return Tensor.record(out, op: .slice, inputs: [self]) { g, _ in [g.padded(widths)] }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, range: Range<Int>) -> Tensor {
        let a = normalizeAxis(axis, op: "slice")
        precondition(rank > 0, "slice: cannot slice a 0-D tensor")
        var ranges = shape.map { 0..<$0 }
        ranges[a] = range
        return slice(ranges)
    }

    /// Elements `start..<end` along `axis`; negative `start`/`end` count from the end of the axis.
    public func slice(axis: Int, start: Int, end: Int) -> Tensor {
        let a = normalizeAxis(axis, op: "slice")
        precondition(rank > 0, "slice: cannot slice a 0-D tensor")
        let n = shape[a]
        let s = start < 0 ? start + n : start, e = end < 0 ? end + n : end
        precondition(s >= 0 && s <= e && e <= n,
                     "slice: start \(start), end \(end) are out of bounds for axis \(axis) of shape \(shape)")
        return slice(axis: a, range: s..<e)
    }

    /// `length` elements along `axis` from `start` (negative `start` counts from the end), like `torch.narrow`.
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = normalizeAxis(axis, op: "narrowed")
        precondition(rank > 0, "narrowed: cannot narrow a 0-D tensor")
        let s = start < 0 ? start + shape[a] : start
        precondition(length >= 0 && s >= 0 && s + length <= shape[a],
                     "narrowed: start \(start), length \(length) are out of bounds for axis \(axis) of shape \(shape)")
        return slice(axis: a, range: s..<(s + length))
    }

    /// Pads with the constant `value`: `widths[i]` elements before and after along axis `i`
    /// (one pair per axis, all ≥ 0).
    ///
    /// Gradient: the slice of the interior (the padding value is a constant).
    public func padded(_ widths: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        precondition(widths.count == rank, "padded: \(widths.count) width pairs for a tensor of shape \(shape)")
        precondition(widths.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "padded: negative padding \(widths) for a tensor of shape \(shape)")
        if widths.allSatisfy({ $0.before == 0 && $0.after == 0 }) { return self }
        let inShape = shape
        let outShape = (0..<rank).map { inShape[$0] + widths[$0].before + widths[$0].after }
        let lower = widths.map(\.before)
        let src = self
        let out = Tensor.build(outShape) { dst in
            dst.initialize(repeating: value, count: outShape.reduce(1, *))
            copyBox(src.data, shape: inShape, origin: [Int](repeating: 0, count: inShape.count),
                    into: dst, shape: outShape, origin: lower, extent: inShape)
        }
        let ranges = (0..<rank).map { lower[$0]..<(lower[$0] + inShape[$0]) }
        return Tensor.record(out, op: .pad, inputs: [self]) { g, _ in [g.slice(ranges)] }
    }

    /// Pads along one axis.
    public func padded(axis: Int, before: Int, after: Int, value: Float = 0) -> Tensor {
        let a = normalizeAxis(axis, op: "padded")
        var widths = [(before: Int, after: Int)](repeating: (0, 0), count: rank)
        widths[a] = (before, after)
        return padded(widths, value: value)
    }

    /// Joins tensors along an existing axis. All tensors have the same rank (≥ 1) and agree on every other axis;
    /// zero-size parts are allowed.
    ///
    /// Gradient: the matching slice of the output gradient for each input.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors to concatenate")
        let first = tensors[0]
        precondition(first.rank > 0, "concat: cannot concatenate 0-D tensors (shapes \(tensors.map(\.shape)))")
        let a = first.normalizeAxis(axis, op: "concat")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
        }
        if tensors.count == 1 { return first }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        var offsets: [Int] = [], off = 0
        for t in tensors { offsets.append(off); off += t.shape[a] }
        let out = Tensor.build(outShape) { dst in
            for (t, o) in zip(tensors, offsets) {
                var origin = [Int](repeating: 0, count: outShape.count)
                origin[a] = o
                copyBox(t.data, shape: t.shape, origin: [Int](repeating: 0, count: t.rank),
                        into: dst, shape: outShape, origin: origin, extent: t.shape)
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        return record(out, op: .concat, inputs: tensors) { g, c in
            (0..<sizes.count).map { i in
                c.needsGradient[i] ? g.slice(axis: a, range: offsets[i]..<(offsets[i] + sizes[i])) : nil
            }
        }
    }

    /// Joins tensors of one shape along a new axis at position `axis` (`0...rank`, negative counts from the end
    /// of the result).
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors to stack")
        precondition(tensors.allSatisfy { $0.shape == tensors[0].shape },
                     "stack: tensors have different shapes \(tensors.map(\.shape))")
        let r = tensors[0].rank
        let a = axis < 0 ? axis + r + 1 : axis
        precondition(a >= 0 && a <= r, "stack: axis \(axis) is out of range for tensors of shape \(tensors[0].shape)")
        return concat(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
    }

    /// Splits along `axis` into consecutive parts of the given sizes (which must add up to the axis size).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, op: "split")
        precondition(rank > 0 && sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(axis: a, range: start..<(start + n))
        }
    }

    /// Splits along `axis` into `count` parts of size ⌈n/count⌉ (the last may be smaller, and fewer parts are
    /// returned when the axis is too short), like `torch.chunk`.
    public func chunked(_ count: Int, axis: Int = 0) -> [Tensor] {
        let a = normalizeAxis(axis, op: "chunked")
        precondition(rank > 0 && count > 0, "chunked: cannot split axis \(axis) of shape \(shape) into \(count) parts")
        let n = shape[a]
        let size = Swift.max(1, (n + count - 1) / count)
        return stride(from: 0, to: Swift.max(n, 1), by: size).map { s in
            slice(axis: a, range: Swift.min(s, n)..<Swift.min(s + size, n))
        }
    }
}
