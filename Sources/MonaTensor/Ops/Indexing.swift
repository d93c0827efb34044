// Integer indexing: index-select / index-add (whole slices), gather / scatter-add (element-wise, PyTorch
// semantics) and one-hot encoding. Each select/gather op's adjoint is the matching add, and vice versa, so
// gradients of any order stay inside this family. Indices are constants (never differentiated).

extension Tensor {
    /// The slices at `indices` along `axis` (`torch.index_select`; along axis 0 of a [V, D] table this is an
    /// embedding lookup). The output has `indices.count` entries on that axis; indices may repeat.
    ///
    /// Gradient: `indexAdd` of the output gradient. Precondition: every index is in `0..<shape[axis]`.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        precondition(rank > 0, "indexSelect: cannot index a 0-D tensor")
        let a = normalizeAxis(axis, op: "indexSelect")
        let n = shape[a]
        for (j, i) in indices.enumerated() {
            precondition(i >= 0 && i < n,
                         "indexSelect: index \(i) at position \(j) is out of range 0..<\(n) for axis \(axis) of shape \(shape)")
        }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape[a] = indices.count
        let src = self
        let out = Tensor.build(outShape) {
            indexSelectKernel(src.data, outer: outer, n: n, inner: inner, indices: indices, into: $0)
        }
        return Tensor.record(out, op: .indexSelect, inputs: [self]) { g, _ in
            [g.indexAdd(axis: a, indices: indices, size: n)]
        }
    }

    /// Zeros with `size` entries along `axis`, plus slice `j` of this tensor added at position `indices[j]`
    /// (repeated indices accumulate). The adjoint of `indexSelect`; this tensor has `indices.count` entries on
    /// `axis`.
    ///
    /// Gradient: `indexSelect` of the output gradient. Precondition: every index is in `0..<size`.
    public func indexAdd(axis: Int, indices: [Int], size: Int) -> Tensor {
        precondition(rank > 0, "indexAdd: cannot index a 0-D tensor")
        let a = normalizeAxis(axis, op: "indexAdd")
        precondition(shape[a] == indices.count && size >= 0,
                     "indexAdd: \(indices.count) indices for axis \(axis) of shape \(shape) (target size \(size))")
        for (j, i) in indices.enumerated() {
            precondition(i >= 0 && i < size,
                         "indexAdd: index \(i) at position \(j) is out of range 0..<\(size) for axis \(axis) of shape \(shape)")
        }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape[a] = size
        let src = self
        let out = Tensor.build(outShape) {
            indexAddKernel(src.data, outer: outer, k: indices.count, inner: inner, indices: indices, n: size, into: $0)
        }
        return Tensor.record(out, op: .indexAdd, inputs: [self]) { g, _ in
            [g.indexSelect(axis: a, indices: indices)]
        }
    }

    /// Element-wise gather (`torch.gather`): `out[m] = self[m with axis replaced by indices[m]]`.
    ///
    /// `indices` holds integers stored as Float, has this tensor's rank, and on every axis but `axis` is no
    /// longer than this tensor; the output has the shape of `indices`. Typical use: picking the logit of each
    /// row's label, `logits.gathered(alongAxis: 1, indices: labels /* [B, 1] */)`.
    ///
    /// Gradient: `scatterAdded` of the output gradient. Precondition: indices integral and in `0..<shape[axis]`.
    public func gathered(alongAxis axis: Int, indices: Tensor) -> Tensor {
        let a = checkElementIndices(indices, target: shape, axis: axis, op: "gathered")
        let index = indices.detached(), src = self, inShape = shape
        let out = Tensor.zeros(index.shape)
        gatherScatterKernel(big: UnsafeMutablePointer(mutating: src.data),  // only read when gathering
                            bigShape: inShape, small: out.storage.base, index: index.data,
                            indexShape: index.shape, axis: a, scatter: false)
        return Tensor.record(out, op: .gather, inputs: [self]) { g, _ in
            [g.scatterAdded(alongAxis: a, indices: index, shape: inShape)]
        }
    }

    /// Element-wise scatter-add onto zeros of `shape` (`torch.zeros(shape).scatter_add_(axis, indices, self)`):
    /// `out[m with axis replaced by indices[m]] += self[m]`. The adjoint of `gathered(alongAxis:indices:)`;
    /// `indices` has this tensor's shape.
    ///
    /// Gradient: `gathered` of the output gradient. Precondition: indices integral and in `0..<shape[axis]`.
    public func scatterAdded(alongAxis axis: Int, indices: Tensor, shape target: [Int]) -> Tensor {
        precondition(indices.shape == shape,
                     "scatterAdded: indices of shape \(indices.shape) for values of shape \(shape)")
        let a = checkElementIndices(indices, target: target, axis: axis, op: "scatterAdded")
        let index = indices.detached()
        let out = Tensor.zeros(target)
        gatherScatterKernel(big: out.storage.base, bigShape: target,
                            small: UnsafeMutablePointer(mutating: data),  // only read when scattering
                            index: index.data, indexShape: index.shape, axis: a, scatter: true)
        return Tensor.record(out, op: .scatterAdd, inputs: [self]) { g, _ in
            [g.gathered(alongAxis: a, indices: index)]
        }
    }

    /// Validates an element-wise index tensor against `target` and returns the normalised axis.
    private func checkElementIndices(_ indices: Tensor, target: [Int], axis: Int, op: String) -> Int {
        let r = target.count
        let a = axis < 0 ? axis + r : axis
        precondition(r > 0 && a >= 0 && a < r, "\(op): axis \(axis) is out of range for shape \(target)")
        precondition(indices.rank == r && (0..<r).allSatisfy { $0 == a || indices.shape[$0] <= target[$0] },
                     "\(op): indices of shape \(indices.shape) do not fit shape \(target) outside axis \(axis)")
        let limit = target[a]
        for i in 0..<indices.count {
            let v = indices.data[i]
            precondition(v >= 0 && v < Float(limit) && v == v.rounded(.towardZero),
                         "\(op): index \(v) at flat position \(i) of indices \(indices.shape) is not an integer in 0..<\(limit) (axis \(axis) of shape \(target))")
        }
        return a
    }

    /// One-hot rows: shape [labels.count, classes], 1 at column `labels[i]` of row `i`. A constant.
    /// Precondition: every label is in `0..<classes`.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        precondition(classes >= 0, "oneHot: negative class count \(classes)")
        let out = Tensor.zeros([labels.count, classes])
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < classes, "oneHot: label \(l) at position \(i) is out of range 0..<\(classes)")
            out.storage.base[i * classes + l] = 1
        }
        return out
    }
}
