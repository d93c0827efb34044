// Loops for the transcendental elementwise ops (exp, log, tanh, σ, softplus, erf, GELU and their backward
// kernels), 16 lanes at a time.
//
// The function a loop applies is a type (`UnaryLaneFunction`), not a closure: the loops are generic over it, so
// specialisation inlines it into the loop body. Passed as a closure, it stayed an out-of-line call per vector
// that reloaded all its constants (measured: exp 1.3× slower). Tails go through the same function on a
// zero-padded vector, so a lane's result never depends on where it sits in the tensor.

typealias V16 = SIMD16<Float>

/// y = f(x) on 16 lanes.
protocol UnaryLaneFunction {
    static func apply(_ x: V16) -> V16
}

/// z = f(a, b) on 16 lanes.
protocol BinaryLaneFunction {
    static func apply(_ a: V16, _ b: V16) -> V16
}

@inline(__always) private func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) private func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Loads the `count` (< 16) floats at `p` into a zero-padded vector.
@inline(__always) private func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> V16 {
    var v = V16(repeating: 0)
    for k in 0..<count { v[k] = p[k] }
    return v
}

/// Stores the first `count` (≤ 16) lanes of `v` at `p`.
@inline(__always) private func storePartial(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 16 { store16(v, p); return }
    for k in 0..<count { p[k] = v[k] }
}

/// `F` applied to every element of `a` (same shape out). `cost` is the rough work per element in simple ops,
/// which decides when to split over threads.
func laneMap<F: UnaryLaneFunction>(_ a: Tensor, _: F.Type, cost: Int) -> Tensor {
    let out = TensorStorage(count: a.count)
    let pa = a.data, po = out.base
    Parallel.forEachChunk(a.count, costPerItem: cost) { r in
        var i = r.lowerBound
        while i + 16 <= r.upperBound {
            store16(F.apply(load16(pa + i)), po + i)
            i += 16
        }
        let rest = r.upperBound - i
        if rest > 0 {
            let y = F.apply(loadPartial(pa + i, rest))
            for k in 0..<rest { po[i + k] = y[k] }
        }
    }
    return Tensor(storage: out, shape: a.shape)
}

/// `F` applied to corresponding elements of `a` and `b`, broadcast to a common shape (backward kernels: a
/// gradient and an input or output of the same shape, so the copies are only a fallback).
func laneZip<F: BinaryLaneFunction>(_ a: Tensor, _ b: Tensor, _: F.Type, op: String, cost: Int) -> Tensor {
    let shape = a.shape == b.shape ? a.shape : Broadcast.shape(a.shape, b.shape, op: op)
    let x = a.shape == shape ? a : broadcastCopy(a, to: shape)
    let y = b.shape == shape ? b : broadcastCopy(b, to: shape)
    let out = TensorStorage(count: x.count)
    let px = x.data, py = y.data, po = out.base
    Parallel.forEachChunk(x.count, costPerItem: cost) { r in
        var i = r.lowerBound
        while i + 16 <= r.upperBound {
            store16(F.apply(load16(px + i), load16(py + i)), po + i)
            i += 16
        }
        let rest = r.upperBound - i
        if rest > 0 {
            let z = F.apply(loadPartial(px + i, rest), loadPartial(py + i, rest))
            for k in 0..<rest { po[i + k] = z[k] }
        }
    }
    return Tensor(storage: out, shape: shape)
}

/// The backward of z = g·gelu′(x) (exact GELU's gradient op) for the output gradient u, in one pass:
/// dg = u·gelu′(x), dx = u·g·gelu″(x). All three operands have one shape; either result may be skipped.
func geluGradientBackward(_ u: Tensor, _ g: Tensor, _ x: Tensor, wantG: Bool, wantX: Bool) -> (Tensor?, Tensor?) {
    precondition(u.shape == x.shape && g.shape == x.shape,
                 "geluGradientBackward: shapes \(u.shape), \(g.shape), \(x.shape) differ")
    let n = x.count
    let dg: TensorStorage? = wantG ? TensorStorage(count: n) : nil
    let dx: TensorStorage? = wantX ? TensorStorage(count: n) : nil
    let pu = u.data, pg = g.data, px = x.data
    let pdg = dg?.base, pdx = dx?.base
    @inline(__always) func block(_ i: Int, _ lanes: Int) {
        let full = lanes == 16
        let vu = full ? load16(pu + i) : loadPartial(pu + i, lanes)
        let vx = full ? load16(px + i) : loadPartial(px + i, lanes)
        let (d1, d2) = VectorMath.geluDerivatives(vx)
        if let pdg { storePartial(vu * d1, pdg + i, lanes) }
        if let pdx {
            let vg = full ? load16(pg + i) : loadPartial(pg + i, lanes)
            storePartial(vu * vg * d2, pdx + i, lanes)
        }
    }
    Parallel.forEachChunk(n, costPerItem: 16) { r in
        var i = r.lowerBound
        while i + 16 <= r.upperBound { block(i, 16); i += 16 }
        if i < r.upperBound { block(i, r.upperBound - i) }
    }
    return (dg.map { Tensor(storage: $0, shape: x.shape) }, dx.map { Tensor(storage: $0, shape: x.shape) })
}

/// The functions the lane loops apply (see `VectorMath` for their accuracy).
enum LaneKernels {
    enum Exp: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.exp(x) }
    }

    enum Log: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.log(x) }
    }

    enum Softplus: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.softplus(x) }
    }

    enum Tanh: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.tanh(x) }
    }

    enum Sigmoid: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.sigmoid(x) }
    }

    enum Erf: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.erf(x) }
    }

    /// g·(2/√π)·e^{−x²} for (g, x).
    enum ErfBackward: BinaryLaneFunction {
        @inline(__always) static func apply(_ g: V16, _ x: V16) -> V16 {
            g * VectorMath.exp(-(x * x)) * V16(repeating: 1.1283792)
        }
    }

    enum GELU: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.gelu(x) }
    }

    /// g·gelu′(x) for (g, x).
    enum GELUBackward: BinaryLaneFunction {
        @inline(__always) static func apply(_ g: V16, _ x: V16) -> V16 { g * VectorMath.geluDerivative(x) }
    }

    enum GELUSecondDerivative: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.geluSecondDerivative(x) }
    }

    enum GELUTanh: UnaryLaneFunction {
        @inline(__always) static func apply(_ x: V16) -> V16 { VectorMath.geluTanh(x) }
    }

    /// g·gelu_tanh′(x) for (g, x).
    enum GELUTanhBackward: BinaryLaneFunction {
        @inline(__always) static func apply(_ g: V16, _ x: V16) -> V16 { g * VectorMath.geluTanhDerivative(x) }
    }
}
