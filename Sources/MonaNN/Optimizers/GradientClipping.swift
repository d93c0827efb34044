import MonaTensor

/// Global L2 norm √(Σ x²) over all elements of `tensors`; NaN or infinite if any element is.
public func globalNorm(_ tensors: [Tensor]) -> Float {
    var total = 0.0
    for t in tensors { t.withUnsafeBufferPointer { total += sumOfSquares($0) } }
    return Float(total.squareRoot())
}

/// Global L2 norm of the gradients of `parameters` (those without a gradient count as zero).
public func gradientNorm(_ gradients: Gradients, parameters: [Parameter]) -> Float {
    globalNorm(parameters.compactMap { gradients[$0.value] })
}

/// Scales the gradients of `parameters` in place by maxNorm / (norm + 1e-6) when `norm` (their global norm, from
/// `gradientNorm`) exceeds `maxNorm`, as PyTorch's `clip_grad_norm_` does. A non-finite norm leaves them as they
/// are, for the caller to report.
public func scaleGradients(_ gradients: inout Gradients, parameters: [Parameter], norm: Float, maxNorm: Float) {
    guard norm > maxNorm, norm.isFinite else { return }
    let scale = maxNorm / (norm + 1e-6)
    withoutGradients {
        for p in parameters { if let g = gradients[p.value] { gradients[p.value] = g * scale } }
    }
}

/// Clips the gradients of `parameters` to global norm `maxNorm` (see `scaleGradients`); returns the norm before
/// clipping.
@discardableResult
public func clipGradients(_ gradients: inout Gradients, parameters: [Parameter], maxNorm: Float) -> Float {
    let norm = gradientNorm(gradients, parameters: parameters)
    scaleGradients(&gradients, parameters: parameters, norm: norm, maxNorm: maxNorm)
    return norm
}

/// Σ x²: blocks of 2048 summed in 16 Float lanes (FMA), blocks added in Double — as accurate as a Double loop for a
/// norm, and about 10× faster on a 22 M-parameter body (training computes it every step).
func sumOfSquares(_ b: UnsafeBufferPointer<Float>) -> Double {
    guard let base = b.baseAddress else { return 0 }
    let n = b.count
    var total = 0.0
    var i = 0
    while i < n {
        let end = min(i + 2048, n)
        var acc = SIMD16<Float>()
        var j = i
        while j + 16 <= end {
            let v = UnsafeRawPointer(base + j).loadUnaligned(as: SIMD16<Float>.self)
            acc.addProduct(v, v)
            j += 16
        }
        var block = Double(acc.sum())
        while j < end {
            block += Double(base[j]) * Double(base[j])
            j += 1
        }
        total += block
        i = end
    }
    return total
}
