import MonaTensor

// Bench-local stand-ins for the pending ops, so that the pending rows and the encoder layer can be compiled and
// run before the real ops merge: `swift build -c release -Xswiftc -DMONA_PENDING_OPS -Xswiftc -DMONA_PENDING_STANDINS`.
// Simple, unfused versions (LayerNorm is composed of several passes); delete this file once the ops exist.

#if MONA_PENDING_STANDINS
extension Tensor {
    /// Elementwise e^x.
    func exp() -> Tensor {
        let out = standInMap(self) { VectorMath.exp($0) }
        return Tensor.record(out, op: "exp", inputs: [self]) { g, c in [g * c.output] }
    }

    /// Softmax over the last axis (only `axis: -1` is supported here).
    func softmax(alongAxis axis: Int) -> Tensor {
        precondition(axis == -1 || axis == rank - 1, "stand-in softmax: last axis only")
        let n = shape[rank - 1], rows = count / n
        let src = data
        let out = Tensor.build(shape) { dst in
            Parallel.forEachChunk(rows, costPerItem: n * 8) { r in
                for row in r {
                    let x = src + row * n, y = dst + row * n
                    var m = -Float.infinity
                    for i in 0..<n where x[i] > m { m = x[i] }
                    var s: Float = 0
                    var i = 0
                    let vm = SIMD8<Float>(repeating: m)
                    while i + 8 <= n {
                        let e = VectorMath.exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - vm)
                        UnsafeMutableRawPointer(y + i).storeBytes(of: e, as: SIMD8<Float>.self)
                        s += e.sum()
                        i += 8
                    }
                    while i < n { y[i] = VectorMath.exp(SIMD8(repeating: x[i] - m))[0]; s += y[i]; i += 1 }
                    let inv = 1 / s
                    for j in 0..<n { y[j] *= inv }
                }
            }
        }
        return Tensor.record(out, op: "softmax", inputs: [self]) { g, c in
            let y = c.output
            return [y * (g - (g * y).sum(alongAxis: -1, keepingDims: true))]
        }
    }

    /// 1/√x elementwise.
    private func rsqrt() -> Tensor {
        let out = standInMap(self) { 1 / $0.squareRoot() }
        return Tensor.record(out, op: "rsqrt", inputs: [self]) { g, c in
            let y = c.output
            return [g * y * y * y * -0.5]
        }
    }

    /// LayerNorm over the last axis, composed of differentiable ops.
    func layerNorm(weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
        let mean = self.mean(alongAxis: -1, keepingDims: true)
        let centred = self - mean
        let variance = (centred * centred).mean(alongAxis: -1, keepingDims: true)
        return centred * (variance + epsilon).rsqrt() * weight + bias
    }

    /// x·Φ(x) (erf form). Its backward uses `geluDerivative`, whose own backward is a constant: enough for
    /// second-order gradients.
    func gelu() -> Tensor {
        let out = standInMap(self) { x in x * standInPhi(x) }
        let x = self
        return Tensor.record(out, op: "gelu", inputs: [self]) { g, _ in [g * x.geluDerivative()] }
    }

    private func geluDerivative() -> Tensor {
        let out = standInMap(self) { x in standInPhi(x) + x * standInDensity(x) }
        let x = self
        return Tensor.record(out, op: "geluDerivative", inputs: [self]) { g, _ in
            [g * withoutGradients { standInMap(x) { x in standInDensity(x) * (2 - x * x) } }]
        }
    }

    /// Permutes axes: result axis i is input axis `perm[i]`.
    func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "stand-in permuted: \(perm) for shape \(shape)")
        let outShape = perm.map { shape[$0] }
        let inStrides = Tensor.strides(of: shape)
        let srcStrides = perm.map { inStrides[$0] }
        let src = data
        let inner = outShape.last ?? 1, innerStride = srcStrides.last ?? 1
        let outer = count / max(inner, 1)
        let out = Tensor.build(outShape) { dst in
            Parallel.forEachChunk(outer, costPerItem: inner) { r in
                for o in r {
                    var rem = o, offset = 0
                    for ax in stride(from: outShape.count - 2, through: 0, by: -1) {
                        offset += (rem % outShape[ax]) * srcStrides[ax]
                        rem /= outShape[ax]
                    }
                    let d = dst + o * inner
                    for i in 0..<inner { d[i] = src[offset + i * innerStride] }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Tensor.record(out, op: "permute", inputs: [self]) { g, _ in [g.permuted(inverse)] }
    }
}

private func standInMap(_ a: Tensor, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
    let src = a.data, n = a.count
    return Tensor.build(a.shape) { dst in
        Parallel.forEachChunk(n) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = f(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self))
                UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound { dst[i] = f(SIMD8(repeating: src[i]))[0]; i += 1 }
        }
    }
}

/// Standard normal CDF Φ(x) via erf (Abramowitz–Stegun 7.1.26).
private func standInPhi(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let z = x * 0.70710678
    let a = z.replacing(with: -z, where: z .< 0)
    let t = 1 / (1 + 0.3275911 * a)
    var p = SIMD8<Float>(repeating: 1.061405429)
    p = p * t - 1.453152027
    p = p * t + 1.421413741
    p = p * t - 0.284496736
    p = p * t + 0.254829592
    var e = 1 - p * t * VectorMath.exp(-a * a)
    e.replace(with: -e, where: z .< 0)
    return 0.5 * (1 + e)
}

/// Standard normal density φ(x).
private func standInDensity(_ x: SIMD8<Float>) -> SIMD8<Float> {
    0.3989422804 * VectorMath.exp(-0.5 * x * x)
}
#endif
