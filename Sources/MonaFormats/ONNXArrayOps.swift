import MonaTensor

/// Layout helpers for checkpoint conversion (not differentiable, run once at load time). Callers validate shapes
/// first: these functions assume their arguments are consistent.
enum ONNXArrayOps {
    /// Axes of `t` reordered by `perm` (a permutation of 0..<rank), materialised.
    static func permuted(_ t: Tensor, _ perm: [Int]) -> Tensor {
        let shape = t.shape
        let outShape = perm.map { shape[$0] }
        let inStrides = Tensor.strides(of: shape)
        let stepStrides = perm.map { inStrides[$0] }   // input stride of each output axis
        let n = t.count
        let rank = shape.count
        let src = t.data
        return Tensor.build(outShape) { out in
            guard n > 0 else { return }
            if rank == 2 {
                let rows = outShape[0], cols = outShape[1]
                let s0 = stepStrides[0], s1 = stepStrides[1]
                for i in 0..<rows { for j in 0..<cols { out[i * cols + j] = src[i * s0 + j * s1] } }
                return
            }
            var index = [Int](repeating: 0, count: rank)
            var offset = 0
            for k in 0..<n {
                out[k] = src[offset]
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    offset += stepStrides[axis]
                    if index[axis] < outShape[axis] { break }
                    offset -= stepStrides[axis] * outShape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// A 2-D tensor transposed: [r, c] → [c, r].
    static func transposed(_ t: Tensor) -> Tensor { permuted(t, [1, 0]) }

    /// Rows `range` of the leading axis (a copy): shape [n, …] → [range.count, …].
    static func rows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let inner = t.shape.dropFirst().reduce(1, *)
        var shape = t.shape
        shape[0] = range.count
        let src = t.data + range.lowerBound * inner
        return Tensor.build(shape) { out in
            if range.count * inner > 0 { out.update(from: src, count: range.count * inner) }
        }
    }

    /// Tensors concatenated along `axis`; all other dimensions must agree.
    static func concatenated(_ parts: [Tensor], axis: Int) -> Tensor {
        var shape = parts[0].shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *)
        return Tensor.build(shape) { out in
            var o = 0
            for i in 0..<outer {
                for p in parts {
                    let chunk = p.shape[axis...].reduce(1, *)
                    if chunk > 0 { (out + o).update(from: p.data + i * chunk, count: chunk) }
                    o += chunk
                }
            }
        }
    }

    /// Elementwise map into a fresh tensor.
    static func mapped(_ t: Tensor, _ f: (Float) -> Float) -> Tensor {
        let src = t.data
        return Tensor.build(t.shape) { out in for i in 0..<t.count { out[i] = f(src[i]) } }
    }
}
