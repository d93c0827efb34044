// Loops for elementwise ops written as one SIMD8 function. Tails are computed through the same vector function
// (on a zero-padded vector), so a lane's result never depends on where it sits in the tensor.

typealias V8 = SIMD8<Float>

/// Applies `f` to every element of `a` (same shape out). `cost` is the rough work per element in simple
/// ops, used to decide when to split over threads.
@inline(__always)
func vectorMap(_ a: Tensor, cost: Int = 1, _ f: (V8) -> V8) -> Tensor {
    let n = a.count
    let out = TensorStorage(count: n)
    let pa = a.data, po = out.base
    Parallel.forEachChunk(n, costPerItem: cost) { r in
        var i = r.lowerBound
        while i + 8 <= r.upperBound {
            let v = UnsafeRawPointer(pa + i).loadUnaligned(as: V8.self)
            UnsafeMutableRawPointer(po + i).storeBytes(of: f(v), as: V8.self)
            i += 8
        }
        let rest = r.upperBound - i
        if rest > 0 {
            var v = V8(repeating: 0)
            for k in 0..<rest { v[k] = pa[i + k] }
            let y = f(v)
            for k in 0..<rest { po[i + k] = y[k] }
        }
    }
    return Tensor(storage: out, shape: a.shape)
}

/// Applies `f` elementwise to `a` and `b` with NumPy broadcasting.
@inline(__always)
func vectorZip(_ a: Tensor, _ b: Tensor, op: String, _ f: (V8, V8) -> V8) -> Tensor {
    binaryMap(a, b, op: op, f, { x, y in f(V8(repeating: x), V8(repeating: y))[0] })
}

/// `mask ≠ 0 ? a : b` with three-way broadcasting; a NaN mask gives NaN.
func selectKernel(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    let op = "where"
    let shape = Broadcast.shape(Broadcast.shape(mask.shape, a.shape, op: op), b.shape, op: op)
    // Materialise broadcast operands: `where` is not a hot op, and a flat loop keeps the kernel simple.
    let m = mask.shape == shape ? mask : broadcastCopy(mask, to: shape)
    let x = a.shape == shape ? a : broadcastCopy(a, to: shape)
    let y = b.shape == shape ? b : broadcastCopy(b, to: shape)
    let n = Tensor.elementCount(shape, op: op)
    let out = TensorStorage(count: n)
    let pm = m.data, px = x.data, py = y.data, po = out.base
    Parallel.forEachChunk(n) { r in
        var i = r.lowerBound
        while i + 8 <= r.upperBound {
            let vm = UnsafeRawPointer(pm + i).loadUnaligned(as: V8.self)
            let vx = UnsafeRawPointer(px + i).loadUnaligned(as: V8.self)
            let vy = UnsafeRawPointer(py + i).loadUnaligned(as: V8.self)
            let v = vy.replacing(with: vx, where: vm .!= V8(repeating: 0)).replacing(with: .nan, where: vm .!= vm)
            UnsafeMutableRawPointer(po + i).storeBytes(of: v, as: V8.self)
            i += 8
        }
        while i < r.upperBound {
            po[i] = pm[i].isNaN ? .nan : (pm[i] != 0 ? px[i] : py[i])
            i += 1
        }
    }
    return Tensor(storage: out, shape: shape)
}
