import Testing
@testable import MonaTensor

/// Central-difference gradient check of a scalar function of several tensors.
///
/// Float32 forward passes limit accuracy, so the default step is 1e-2·max(1,|x|) on smooth ops and the
/// comparison is on |analytic − numeric| ≤ atol + rtol·|numeric| + noise, where noise = 4·ε·|loss|/h is the
/// resolution of a Float32 difference quotient. Keep tensors small so that the loss (and the noise) stays small. Accumulation in the finite difference is done
/// in Double.
func checkGradients(_ inputs: [Tensor], step: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) -> Tensor) {
    let vars = inputs.map { $0.requiringGradient() }
    let loss = f(vars)
    let analytic = gradients(of: loss, wrt: vars)
    for (k, x) in inputs.enumerated() {
        var worst: (Float, Float, Int) = (0, 0, -1)
        var worstExcess: Float = -1
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
            // Float32 rounding of the two losses bounds what the difference quotient can resolve.
            let noise = Float(4 * Double(Float.ulpOfOne) * max(abs(lp), abs(lm)) / Double(h))
            let excess = abs(a - numeric) - (atol + rtol * abs(numeric) + noise)
            if excess > worstExcess { worstExcess = excess; worst = (a, numeric, i) }
        }
        #expect(worstExcess <= 0,
                "input \(k) element \(worst.2): analytic \(worst.0) vs numeric \(worst.1)",
                sourceLocation: sourceLocation)
    }
}

/// A random tensor with a fixed seed, values in roughly [-1, 1].
func rand(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, generator: &g)
}

/// Max absolute difference.
func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxAbsDiff: \(a.shape) vs \(b.shape)")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
    return m
}
