// Embedding lookup (row gather) and its adjoint, the scatter-add of gradient rows into a table.

extension Tensor {
    /// Looks up rows of `weight` ([V, D]): the result has shape `shape + [D]` (default `[indices.count, D]`).
    ///
    /// Backward: the gradient rows are scatter-added into a [V, D] table (`embeddingBackward`), accumulating
    /// repeated indices. That op's own backward is the gather again, so gradients of any order are exact.
    ///
    /// - Parameters:
    ///   - weight: the [V, D] table.
    ///   - indices: row numbers in 0..<V, row-major over `shape`.
    ///   - shape: the shape of the index array, e.g. [B, T]; its element count must equal `indices.count`.
    ///   - paddingIndex: as PyTorch's `padding_idx`: that row is looked up normally but receives no gradient.
    public static func embedding(weight: Tensor, indices: [Int], shape: [Int]? = nil,
                                 paddingIndex: Int? = nil) -> Tensor {
        let idxShape = shape ?? [indices.count]
        checkEmbeddingIndices(indices, shape: idxShape, table: weight.shape, op: "embedding")
        return gatherRows(weight, indices: indices, shape: idxShape, zeroing: nil, gradientSkips: paddingIndex)
    }

    /// Scatter-add of `gradient` ([..., D], one row per index) into a zero [vocabularySize, D] table: the adjoint
    /// of `embedding`. Rows whose index is `paddingIndex` are skipped. Differentiable (its backward is a gather).
    public static func embeddingBackward(_ gradient: Tensor, indices: [Int], vocabularySize: Int,
                                         paddingIndex: Int? = nil) -> Tensor {
        precondition(gradient.rank >= 1, "embeddingBackward: gradient must have rank ≥ 1, got \(gradient.shape)")
        let d = gradient.shape[gradient.rank - 1]
        let idxShape = Array(gradient.shape.dropLast())
        checkEmbeddingIndices(indices, shape: idxShape, table: [vocabularySize, d], op: "embeddingBackward")
        let out = Tensor.build([vocabularySize, d]) { table in
            table.update(repeating: 0, count: vocabularySize * d)
            let src = gradient.data
            // Each worker owns a band of columns, so repeated indices never race and the sum order is fixed.
            Parallel.forEachChunk(d, costPerItem: indices.count) { cols in
                indices.withUnsafeBufferPointer { idx in
                    for (k, row) in idx.enumerated() where row != paddingIndex {
                        let s = src + k * d, t = table + row * d
                        var j = cols.lowerBound
                        while j + 8 <= cols.upperBound {
                            RowKernels.store(RowKernels.load(t + j) + RowKernels.load(s + j), t + j)
                            j += 8
                        }
                        while j < cols.upperBound { t[j] += s[j]; j += 1 }
                    }
                }
            }
        }
        return record(out, op: .embeddingBackward, inputs: [gradient]) { g, _ in
            [gatherRows(g, indices: indices, shape: idxShape, zeroing: paddingIndex, gradientSkips: paddingIndex)]
        }
    }

    /// Gathers rows of `table` ([V, D]) → shape + [D]; rows whose index equals `zeroing` come out as zeros.
    /// Backward: scatter-add skipping `gradientSkips`.
    private static func gatherRows(_ table: Tensor, indices: [Int], shape: [Int], zeroing: Int?,
                                   gradientSkips: Int?) -> Tensor {
        let v = table.shape[0], d = table.shape[1]
        let out = Tensor.build(shape + [d]) { dst in
            let src = table.data
            Parallel.forEachChunk(indices.count, costPerItem: d) { r in
                for k in r {
                    let row = indices[k]
                    if row == zeroing {
                        (dst + k * d).update(repeating: 0, count: d)
                    } else {
                        (dst + k * d).update(from: src + row * d, count: d)
                    }
                }
            }
        }
        return record(out, op: .embedding, inputs: [table]) { g, _ in
            [embeddingBackward(g, indices: indices, vocabularySize: v, paddingIndex: gradientSkips)]
        }
    }

    private static func checkEmbeddingIndices(_ indices: [Int], shape: [Int], table: [Int], op: String) {
        precondition(table.count == 2, "\(op): table must be [V, D], got shape \(table)")
        let n = elementCount(shape, op: op)
        precondition(n == indices.count, "\(op): index shape \(shape) holds \(n) indices, got \(indices.count)")
        let v = table[0]
        for (k, i) in indices.enumerated() where i < 0 || i >= v {
            preconditionFailure("\(op): index \(i) at position \(k) is out of range for a table of shape \(table)")
        }
    }
}
