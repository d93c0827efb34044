import MonaTensor

/// Result of comparing analytic gradients with central differences.
public struct GradientCheckResult: Sendable {
    /// Largest |analytic − numeric| − tolerance over all elements (≤ 0 means every element passed).
    public var worstExcess: Float = -.infinity
    public var detail = "no elements"
    public var passed: Bool { worstExcess <= 0 }
}

/// Central-difference gradient check of a scalar function of several tensors.
///
/// Float32 forward passes limit accuracy, so the step is `step`·max(1, |x|) and the comparison is
/// |analytic − numeric| ≤ atol + rtol·|numeric| + noise, where noise = 4·ε·|loss|/h is the resolution of a
/// Float32 difference quotient. Keep tensors small so that the loss (and the noise) stays small.
public func gradientCheck(_ inputs: [Tensor], step: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                          _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    let vars = inputs.map { $0.requiringGradient() }
    let analytic = gradients(of: f(vars), wrt: vars)
    var result = GradientCheckResult()
    for (k, x) in inputs.enumerated() {
        for i in 0..<x.count {
            let h = step * max(1, abs(x.data[i]))
            var plus = x, minus = x
            plus.withUnsafeMutableBufferPointer { $0[i] += h }
            minus.withUnsafeMutableBufferPointer { $0[i] -= h }
            var args = inputs
            args[k] = plus
            let lp = Double(withoutGradients { f(args) }.item)
            args[k] = minus
            let lm = Double(withoutGradients { f(args) }.item)
            let numeric = Float((lp - lm) / (2 * Double(h)))
            let a = analytic[k].data[i]
            let noise = Float(4 * Double(Float.ulpOfOne) * max(abs(lp), abs(lm)) / Double(h))
            let excess = abs(a - numeric) - (atol + rtol * abs(numeric) + noise)
            if excess > result.worstExcess || a.isNaN {
                result.worstExcess = a.isNaN ? .infinity : excess
                result.detail = "input \(k) element \(i): analytic \(a) vs numeric \(numeric)"
            }
        }
    }
    return result
}

/// A random tensor with a fixed seed, values uniform in [low, high).
public func rand(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, generator: &g)
}

/// Max absolute elementwise difference of two same-shaped tensors.
public func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxAbsDiff: \(a.shape) vs \(b.shape)")
    var m: Float = 0
    for i in 0..<a.count {
        let d = abs(a.data[i] - b.data[i])
        if d.isNaN { return .nan }
        m = max(m, d)
    }
    return m
}

extension Tensor {
    /// A smooth nonlinearity for gradient tests, so that a wrong gradient cannot hide behind linearity.
    public func mul2() -> Tensor { self * self }
}
