import Foundation
import MonaDistributed
import MonaNN
import MonaTensor

// Data-parallel helpers over a `Communicator`: each rank holds the whole model and a shard of every batch;
// what the ranks computed on their shards is summed so that every rank applies the same update. With one rank
// every helper returns its input unchanged.

extension Communicator {
    /// Sums `gradients` over the ranks, in place, as one flat buffer in `parameters` order (one all-reduce per
    /// step). A parameter keeps "no gradient" only when no rank has one (an optimizer treats a missing gradient
    /// unlike a zero one, e.g. for weight decay), so a presence flag per parameter travels with the values.
    func allReduce(_ gradients: inout Gradients, parameters: [Parameter]) throws {
        guard isDistributed else { return }
        let counts = parameters.map { $0.value.count }
        var flat = [Float](repeating: 0, count: counts.reduce(parameters.count, +))
        var offset = parameters.count
        for (i, p) in parameters.enumerated() {
            if let g = gradients[p.value] {
                precondition(g.count == counts[i], "allReduce: gradient of \(g.shape) for a parameter of \(p.value.shape)")
                flat[i] = 1
                g.withUnsafeBufferPointer { src in
                    flat.withUnsafeMutableBufferPointer { dst in
                        if let s = src.baseAddress { (dst.baseAddress! + offset).update(from: s, count: counts[i]) }
                    }
                }
            }
            offset += counts[i]
        }
        try allReduceSum(&flat)
        offset = parameters.count
        for (i, p) in parameters.enumerated() {
            if flat[i] > 0 {
                gradients[p.value] = Tensor(Array(flat[offset..<(offset + counts[i])]), shape: p.value.shape)
            }
            offset += counts[i]
        }
    }

    /// Sums each tensor over the ranks (one all-reduce for the whole list).
    func allReduce(_ tensors: [Tensor]) throws -> [Tensor] {
        guard isDistributed else { return tensors }
        var flat: [Float] = []
        flat.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for t in tensors { t.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
        try allReduceSum(&flat)
        var offset = 0
        return tensors.map { t in
            defer { offset += t.count }
            return Tensor(Array(flat[offset..<(offset + t.count)]), shape: t.shape)
        }
    }

    /// The rows of all ranks' `local` blocks, stacked in rank order: rank r contributed rows `shard(of: total)`.
    /// (Every other rank adds zeros to a row, so the sum is exact.)
    func gatherRows(_ local: Tensor, total: Int) throws -> Tensor {
        guard isDistributed else { return local }
        let rows = shard(of: total)
        precondition(rows.isEmpty || local.shape.first == rows.count, "gatherRows: \(local.shape) for rows \(rows)")
        // The trailing shape, from the rank holding row 0 (a rank without rows has no output to read it from).
        var header = [Double](repeating: 0, count: 9)
        if !rows.isEmpty {
            let tail = local.shape.dropFirst()
            precondition(tail.count <= 8, "gatherRows: rank \(local.rank) output")
            header[0] = Double(tail.count)
            for (i, d) in tail.enumerated() { header[i + 1] = Double(d) }
        }
        try broadcast(&header, root: rank(holding: 0, of: total))
        let tail = (0..<Int(header[0])).map { Int(header[$0 + 1]) }
        let width = tail.reduce(1, *)
        var flat = [Float](repeating: 0, count: total * width)
        if !rows.isEmpty {
            local.withUnsafeBufferPointer { src in
                flat.withUnsafeMutableBufferPointer { dst in
                    if let s = src.baseAddress, src.count > 0 { (dst.baseAddress! + rows.lowerBound * width).update(from: s, count: src.count) }
                }
            }
        }
        try allReduceSum(&flat)
        return Tensor(flat, shape: [total] + tail)
    }

    /// The rank whose shard holds `row` of `total` rows.
    func rank(holding row: Int, of total: Int) -> Int {
        (0..<size).first { shardRange(count: total, rank: $0, size: size).contains(row) } ?? 0
    }

    /// Makes every rank start from rank 0's values of `parameters` and reports how far this rank's own values
    /// were from them (largest absolute difference; 0 when they were equal, as they should be when every rank
    /// built the model from the same seed and files).
    @discardableResult
    func synchronize(_ parameters: [(name: String, parameter: Parameter)]) throws -> Float {
        guard isDistributed else { return 0 }
        var flat: [Float] = []
        for (_, p) in parameters { p.value.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
        var root = flat
        try broadcast(&root, root: 0)
        var worst: Float = 0
        for i in flat.indices { worst = max(worst, abs(flat[i] - root[i])) }
        if worst != 0 || !worst.isFinite {
            var offset = 0
            for (_, p) in parameters {
                let n = p.value.count
                p.assign(Tensor(Array(root[offset..<(offset + n)]), shape: p.value.shape))
                offset += n
            }
        }
        return worst
    }

    /// Throws unless every rank holds the same values (compared through rank 0's checksum; cheap, no full copy).
    func checkIdentical(_ parameters: [(name: String, parameter: Parameter)], context: String) throws {
        guard isDistributed else { return }
        var sums = [0.0, 0.0]
        for (_, p) in parameters {
            p.value.withUnsafeBufferPointer { b in
                for (i, x) in b.enumerated() { sums[0] += Double(x); sums[1] += Double(x) * Double(i % 7 + 1) }
            }
        }
        var root = sums
        try broadcast(&root, root: 0)
        var mismatch = [root == sums ? 0.0 : 1.0]
        try allReduceSum(&mismatch)
        if mismatch[0] != 0 {
            throw TransferError.badConfig("\(context): the model parameters differ between ranks (\(Int(mismatch[0])) "
                                          + "of \(size) ranks differ from rank 0); data-parallel training needs every "
                                          + "rank to apply the same update")
        }
    }
}
