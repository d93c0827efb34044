/// NumPy broadcasting rules.
public enum Broadcast {
    /// The broadcast shape of two shapes, or nil when they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Broadcast shape or a precondition failure naming the op and both shapes.
    public static func shape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        guard let s = shape(a, b) else {
            preconditionFailure("\(op): shapes \(a) and \(b) cannot be broadcast together")
        }
        return s
    }

    /// Strides for reading a tensor of `shape` as if it had shape `target` (0 on broadcast axes).
    public static func strides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = Tensor.strides(of: shape)
        let off = target.count - shape.count
        return (0..<target.count).map { i in
            i < off ? 0 : (shape[i - off] == 1 && target[i] != 1 ? 0 : own[i - off])
        }
    }
}

/// Iterates a broadcast binary operation: `body(outOffset, aOffset, bOffset, n, aStep, bStep)` is called for runs
/// of `n` output elements along the last axis (runs are contiguous in the output).
@inline(__always)
func forEachBroadcastRun(outShape: [Int], aStrides: [Int], bStrides: [Int],
                         _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let r = outShape.count
    if r == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = outShape[r - 1]
    let outer = outShape.dropLast().reduce(1, *)
    if inner == 0 || outer == 0 { return }
    var idx = [Int](repeating: 0, count: r - 1)
    var ao = 0, bo = 0
    for o in 0..<outer {
        body(o * inner, ao, bo, inner, aStrides[r - 1], bStrides[r - 1])
        var d = r - 2
        while d >= 0 {
            idx[d] += 1
            ao += aStrides[d]; bo += bStrides[d]
            if idx[d] < outShape[d] { break }
            ao -= aStrides[d] * outShape[d]; bo -= bStrides[d] * outShape[d]
            idx[d] = 0
            d -= 1
        }
    }
}
