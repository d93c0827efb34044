/// Elementwise binary map with broadcasting. `vector` and `scalar` must compute the same function; the vector
/// form handles 8 lanes at a time, the scalar form the tails.
@inline(__always)
func binaryMap(_ a: Tensor, _ b: Tensor, op: String,
               _ vector: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>,
               _ scalar: (Float, Float) -> Float) -> Tensor {
    let outShape = a.shape == b.shape ? a.shape : Broadcast.shape(a.shape, b.shape, op: op)
    let out = TensorStorage(count: Tensor.elementCount(outShape, op: op))
    let pa = a.data, pb = b.data, po = out.base
    if a.shape == b.shape || (a.count == out.count && b.count == out.count) {
        Parallel.forEachChunk(out.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let va = UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Float>.self)
                let vb = UnsafeRawPointer(pb + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(po + i).storeBytes(of: vector(va, vb), as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound { po[i] = scalar(pa[i], pb[i]); i += 1 }
        }
        return Tensor(storage: out, shape: outShape)
    }
    let sa = Broadcast.strides(a.shape, to: outShape), sb = Broadcast.strides(b.shape, to: outShape)
    forEachBroadcastRun(outShape: outShape, aStrides: sa, bStrides: sb) { o, ao, bo, n, da, db in
        let x = pa + ao, y = pb + bo, z = po + o
        var i = 0
        if da == 1 && db == 1 {
            while i + 8 <= n {
                let va = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                let vb = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(z + i).storeBytes(of: vector(va, vb), as: SIMD8<Float>.self)
                i += 8
            }
        } else if da == 1 && db == 0 {
            let vb = SIMD8<Float>(repeating: y[0])
            while i + 8 <= n {
                let va = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(z + i).storeBytes(of: vector(va, vb), as: SIMD8<Float>.self)
                i += 8
            }
        } else if da == 0 && db == 1 {
            let va = SIMD8<Float>(repeating: x[0])
            while i + 8 <= n {
                let vb = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(z + i).storeBytes(of: vector(va, vb), as: SIMD8<Float>.self)
                i += 8
            }
        }
        while i < n { z[i] = scalar(x[i * da], y[i * db]); i += 1 }
    }
    return Tensor(storage: out, shape: outShape)
}

/// Elementwise unary map (same shape out).
@inline(__always)
func unaryMap(_ a: Tensor, _ vector: (SIMD8<Float>) -> SIMD8<Float>, _ scalar: (Float) -> Float) -> Tensor {
    let out = TensorStorage(count: a.count)
    let pa = a.data, po = out.base
    Parallel.forEachChunk(a.count) { r in
        var i = r.lowerBound
        while i + 8 <= r.upperBound {
            let va = UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(po + i).storeBytes(of: vector(va), as: SIMD8<Float>.self)
            i += 8
        }
        while i < r.upperBound { po[i] = scalar(pa[i]); i += 1 }
    }
    return Tensor(storage: out, shape: a.shape)
}
