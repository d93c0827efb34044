import MonaTestSupport
@testable import MonaTensor

/// One differentiable op in the engine's test table (after PyTorch's OpInfo): sample inputs, the call, and
/// optionally a reference composed of other ops where the op has a fused kernel. `OpTableTests` runs the same
/// checks on every entry.
///
/// Precision: the engine computes in Float32 only, so derivatives are compared with central differences of
/// Float32 evaluations (`gradientCheck`: step 1e-2·max(1, |x|), |analytic − numeric| ≤ atol + rtol·|numeric| +
/// the Float32 resolution of the difference quotient). Samples of piecewise ops (abs, ReLU, max, clamp, pooling)
/// keep every input at least 0.05 from a kink, so that the step never crosses one.
struct OpInfo: Sendable, CustomStringConvertible {
    struct Sample: Sendable {
        /// The differentiable inputs (everything else, e.g. indices or masks, is captured by `call`).
        var inputs: [Tensor]
        /// A composition of other ops with the same value, where the op has a fused kernel: values and gradients
        /// must agree.
        var reference: (@Sendable ([Tensor]) -> Tensor)? = nil
        var call: @Sendable ([Tensor]) -> Tensor
    }

    var name: String
    var samples: [Sample]
    /// Tolerances of the gradient checks (see above).
    var atol: Float = 2e-3
    var rtol: Float = 2e-2

    var description: String { name }

    init(_ name: String, _ samples: [Sample], atol: Float = 2e-3, rtol: Float = 2e-2) {
        self.name = name
        self.samples = samples
        self.atol = atol
        self.rtol = rtol
    }

    /// One sample.
    init(_ name: String, _ inputs: [Tensor], reference: (@Sendable ([Tensor]) -> Tensor)? = nil,
         atol: Float = 2e-3, rtol: Float = 2e-2, _ call: @escaping @Sendable ([Tensor]) -> Tensor) {
        self.init(name, [Sample(inputs: inputs, reference: reference, call: call)], atol: atol, rtol: rtol)
    }
}

// MARK: Sample values

/// Uniform in [low, high).
private func u(_ shape: [Int], _ seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> Tensor {
    rand(shape, seed: seed, low: low, high: high)
}

/// Values in ±[0.2, 1.2): at least 0.2 from zero (for abs, ReLU, division, sign-dependent rules).
private func awayFromZero(_ shape: [Int], _ seed: UInt64) -> Tensor {
    let m = u(shape, seed, 0.2, 1.2).scalars, s = u(shape, seed + 1000).scalars
    return Tensor(zip(m, s).map { $1 < 0 ? -$0 : $0 }, shape: shape)
}

/// Distinct values (a shuffled ramp with gaps of 0.15) for max/min reductions and pooling: no ties, no kink
/// within a step.
private func distinct(_ shape: [Int], _ seed: UInt64) -> Tensor {
    let n = shape.reduce(1, *)
    var g = SeededGenerator(seed: seed)
    let ramp = (0..<n).map { Float($0) * 0.15 - Float(n) * 0.075 }.shuffled(using: &g)
    return Tensor(ramp, shape: shape)
}

// MARK: The table

enum OpTable {
    static let entries: [OpInfo] = arithmetic + unary + reductions + shapes + linearAlgebra + network + losses
        + derivatives

    static let arithmetic: [OpInfo] = [
        OpInfo("add (broadcast)", [u([2, 3], 1), u([3], 2)]) { $0[0] + $0[1] },
        OpInfo("sub (broadcast)", [u([2, 3], 3), u([2, 1], 4)]) { $0[0] - $0[1] },
        OpInfo("mul (broadcast)", [u([2, 3], 5), u([1, 3], 6)]) { $0[0] * $0[1] },
        OpInfo("div (broadcast)", [u([2, 3], 7), awayFromZero([3], 8)]) { $0[0] / $0[1] },
        OpInfo("addScalar", [u([4], 9)]) { $0[0] + 2.5 },
        OpInfo("mulScalar", [u([4], 10)]) { $0[0] * -1.5 },
        OpInfo("scalar / tensor", [awayFromZero([4], 11)]) { 2 / $0[0] },
        OpInfo("neg", [u([4], 12)]) { -$0[0] },
        OpInfo("pow (scalar exponent)", [u([5], 13, 0.3, 2)]) { $0[0].pow(2.5) },
        OpInfo("pow (tensor exponent)", [u([2, 3], 14, 0.3, 2), u([2, 3], 15, -1, 2)]) { Tensor.pow($0[0], $0[1]) },
        OpInfo("maximum (elementwise)", [distinct([2, 3], 16), distinct([2, 3], 17) + 0.07]) {
            Tensor.maximum($0[0], $0[1])
        },
        OpInfo("minimum (elementwise)", [distinct([2, 3], 18), distinct([2, 3], 19) + 0.07]) {
            Tensor.minimum($0[0], $0[1])
        },
        {
            let mask = Tensor([1, 0, 0, 1, 1, 0], shape: [2, 3])
            return OpInfo("where", [u([2, 3], 20), u([2, 3], 21)]) { Tensor.`where`(mask, $0[0], $0[1]) }
        }(),
    ]

    static let unary: [OpInfo] = [
        OpInfo("abs", [awayFromZero([6], 30)]) { $0[0].abs() },
        OpInfo("squared", [u([6], 31)], reference: { $0[0] * $0[0] }) { $0[0].squared() },
        OpInfo("sqrt", [u([6], 32, 0.3, 2)]) { $0[0].sqrt() },
        OpInfo("rsqrt", [u([6], 33, 0.3, 2)], reference: { 1 / $0[0].sqrt() }) { $0[0].rsqrt() },
        OpInfo("exp", [u([6], 34)]) { $0[0].exp() },
        OpInfo("log", [u([6], 35, 0.3, 2)]) { $0[0].log() },
        OpInfo("softplus", [u([6], 36, -3, 3)], reference: { ($0[0].exp() + 1).log() }) { $0[0].softplus() },
        OpInfo("tanh", [u([6], 37, -2, 2)]) { $0[0].tanh() },
        OpInfo("sigmoid", [u([6], 38, -3, 3)], reference: { 1 / ((-$0[0]).exp() + 1) }) { $0[0].sigmoid() },
        OpInfo("relu", [awayFromZero([6], 39)]) { $0[0].relu() },
        OpInfo("erf", [u([6], 40, -2, 2)]) { $0[0].erf() },
        OpInfo("gelu (erf)", [u([6], 41, -3, 3)],
               reference: { 0.5 * $0[0] * (($0[0] * Float(0.5.squareRoot())).erf() + 1) }) { $0[0].gelu() },
        OpInfo("gelu (tanh)", [u([6], 42, -3, 3)], reference: { t in
            let x = t[0], inner = (x + 0.044715 * x * x * x) * Float((2 / Double.pi).squareRoot())
            return 0.5 * x * (inner.tanh() + 1)
        }) { $0[0].gelu(approximate: .tanh) },
        OpInfo("clamp", [Tensor([-1.3, -0.6, 0.1, 0.45, 0.9, 1.6])]) { $0[0].clamped(min: -0.5, max: 1) },
    ]

    static let reductions: [OpInfo] = [
        OpInfo("sum", [
            OpInfo.Sample(inputs: [u([2, 3, 2], 50)]) { $0[0].sum(alongAxes: [0, 2]) },
            OpInfo.Sample(inputs: [u([2, 3], 51)]) { $0[0].sum(alongAxis: 1, keepingDims: true) },
            OpInfo.Sample(inputs: [u([3], 52)]) { $0[0].sum() },
        ]),
        OpInfo("mean", [u([2, 3, 2], 53)]) { $0[0].mean(alongAxes: [1]) },
        OpInfo("maximum along axes", [
            OpInfo.Sample(inputs: [distinct([3, 4], 54)]) { $0[0].maximum(alongAxis: 1) },
            OpInfo.Sample(inputs: [distinct([2, 3, 2], 55)]) { $0[0].maximum(alongAxes: [0, 2], keepingDims: true) },
        ]),
        OpInfo("minimum along axes", [distinct([3, 4], 56)]) { $0[0].minimum(alongAxis: 0) },
        OpInfo("logSumExp", [u([3, 4], 57, -2, 2)], reference: { $0[0].exp().sum(alongAxis: 1).log() }) {
            $0[0].logSumExp(alongAxis: 1)
        },
        OpInfo("variance", [u([3, 4], 58)], reference: { t in
            let c = t[0] - t[0].mean(alongAxis: 1, keepingDims: true)
            return (c * c).sum(alongAxis: 1) / 3
        }) { $0[0].variance(alongAxis: 1, unbiased: true) },
        OpInfo("standardDeviation", [u([3, 4], 59)], reference: { $0[0].variance(alongAxis: 0).sqrt() }) {
            $0[0].standardDeviation(alongAxis: 0)
        },
    ]

    static let shapes: [OpInfo] = [
        OpInfo("reshape", [u([2, 3], 70)]) { $0[0].reshaped(to: [3, 2]).mul2() },
        OpInfo("permute", [u([2, 3, 2], 71)]) { $0[0].permuted(2, 0, 1).mul2() },
        OpInfo("expand", [u([2, 1], 72)]) { $0[0].expanded(to: [2, 3]).mul2() },
        OpInfo("slice", [u([3, 4], 73)]) { $0[0].slice(axis: 1, range: 1..<3).mul2() },
        OpInfo("pad", [u([2, 3], 74)]) { $0[0].padded(axis: 1, before: 1, after: 2, value: 0.5).mul2() },
        OpInfo("concat", [u([2, 2], 75), u([2, 3], 76)]) { Tensor.concat([$0[0], $0[1]], axis: 1).mul2() },
        OpInfo("indexSelect", [u([4, 2], 77)]) { $0[0].indexSelect(axis: 0, indices: [3, 0, 3]).mul2() },
        OpInfo("indexAdd", [u([3, 2], 78)]) { $0[0].indexAdd(axis: 0, indices: [1, 1, 3], size: 4).mul2() },
        {
            let idx = Tensor([2, 0, 1, 1, 0, 2], shape: [3, 2])
            return OpInfo("gather", [u([3, 3], 79)]) { $0[0].gathered(alongAxis: 1, indices: idx).mul2() }
        }(),
        {
            let idx = Tensor([2, 0, 1, 1, 0, 2], shape: [3, 2])
            return OpInfo("scatterAdd", [u([3, 2], 80)]) {
                $0[0].scatterAdded(alongAxis: 1, indices: idx, shape: [3, 3]).mul2()
            }
        }(),
    ]

    static let linearAlgebra: [OpInfo] = [
        OpInfo("matmul", [
            OpInfo.Sample(inputs: [u([2, 3], 90), u([3, 4], 91)]) { Tensor.matmul($0[0], $0[1]) },
            OpInfo.Sample(inputs: [u([2, 2, 3], 92), u([2, 3, 2], 93)]) { Tensor.matmul($0[0], $0[1]) },
            OpInfo.Sample(inputs: [u([2, 3, 2], 94), u([4, 2], 95)]) { Tensor.matmul($0[0], $0[1], transposeB: true) },
            OpInfo.Sample(inputs: [u([3, 2], 96), u([3, 4], 97)]) { Tensor.matmul($0[0], $0[1], transposeA: true) },
        ]),
        OpInfo("linear", [u([2, 2, 3], 98), u([4, 3], 99), u([4], 100), u([2, 2, 4], 101)],
               reference: { Tensor.matmul($0[0], $0[1], transposeB: true) + $0[2] + $0[3] }) {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2], adding: $0[3])
        },
    ]

    static let network: [OpInfo] = [
        OpInfo("softmax", [
            OpInfo.Sample(inputs: [u([3, 4], 110, -2, 2)], reference: { t in
                let e = t[0].exp()
                return e / e.sum(alongAxis: -1, keepingDims: true)
            }) { $0[0].softmax(alongAxis: -1) },
            OpInfo.Sample(inputs: [u([2, 3, 2], 111, -2, 2)]) { $0[0].softmax(alongAxis: 1) },
        ]),
        OpInfo("logSoftmax", [u([3, 4], 113, -2, 2)],
               reference: { $0[0] - $0[0].logSumExp(alongAxis: -1, keepingDims: true) }) {
            $0[0].logSoftmax(alongAxis: -1)
        },
        OpInfo("layerNorm (affine)", [u([3, 5], 114, -2, 2), u([5], 115, 0.5, 1.5), u([5], 116)], reference: { t in
            let x = t[0], c = x - x.mean(alongAxis: -1, keepingDims: true)
            return c / ((c * c).mean(alongAxis: -1, keepingDims: true) + 1e-5).sqrt() * t[1] + t[2]
        }) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
        OpInfo("layerNorm (no affine)", [u([3, 5], 117, -2, 2)]) { $0[0].layerNorm() },
        OpInfo("dropout", [u([4, 4], 118)]) { x in
            var g = SeededGenerator(seed: 7)        // the same mask on every call
            return x[0].dropout(probability: 0.4, generator: &g)
        },
        OpInfo("embedding", [u([4, 3], 119)], reference: { $0[0].indexSelect(axis: 0, indices: [2, 0, 2, 3]) }) {
            Tensor.embedding(weight: $0[0], indices: [2, 0, 2, 3])
        },
        OpInfo("embeddingBackward", [u([4, 3], 120)],
               reference: { $0[0].indexAdd(axis: 0, indices: [2, 0, 2, 3], size: 5) }) {
            Tensor.embeddingBackward($0[0], indices: [2, 0, 2, 3], vocabularySize: 5)
        },
        OpInfo("conv2d (im2col)", [u([1, 2, 4, 4], 121), u([3, 2, 3, 3], 122), u([3], 123)], reference: { t in
            let cols = t[0].im2col(kernel: 3, stride: 1, padding: 1).transposed(1, 2)   // [N, L, C·9]
            let y = Tensor.matmul(cols, t[1].reshaped(to: [3, 18]), transposeB: true)    // [N, L, O]
            return y.transposed(1, 2).reshaped(to: [1, 3, 4, 4]) + t[2].reshaped(to: [1, 3, 1, 1])
        }) { Tensor.conv2d($0[0], $0[1], bias: $0[2], stride: 1, padding: 1) },
        OpInfo("conv2d (patches)", [u([2, 2, 4, 4], 124), u([3, 2, 2, 2], 125), u([3], 126)], reference: { t in
            let cols = t[0].im2col(kernel: 2, stride: 2).transposed(1, 2)                // [N, 4, 8]
            let y = Tensor.matmul(cols, t[1].reshaped(to: [3, 8]), transposeB: true) + t[2]
            return y.transposed(1, 2).reshaped(to: [2, 3, 2, 2])
        }) { Tensor.conv2d($0[0], $0[1], bias: $0[2], stride: 2) },
        OpInfo("conv2d (grouped, strided, dilated)", [u([1, 4, 5, 5], 127), u([2, 2, 2, 2], 128)]) {
            Tensor.conv2d($0[0], $0[1], stride: 2, padding: 1, dilation: 2, groups: 2)
        },
        OpInfo("conv1d", [u([2, 2, 6], 129), u([3, 2, 3], 130), u([3], 131)]) {
            Tensor.conv1d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1)
        },
        OpInfo("patchEmbedding2d", [u([1, 2, 4, 4], 132), u([3, 2, 2, 2], 133), u([3], 134)], reference: { t in
            Tensor.conv2d(t[0], t[1], bias: t[2], stride: 2).reshaped(to: [1, 3, 4]).transposed(1, 2)
        }) { Tensor.patchEmbedding2d($0[0], $0[1], bias: $0[2]) },
        OpInfo("convTranspose2d", [u([1, 2, 3, 3], 135), u([2, 3, 2, 2], 136), u([3], 137)]) {
            Tensor.convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1)
        },
        OpInfo("convTranspose1d", [u([1, 2, 4], 138), u([2, 2, 3], 139)]) {
            Tensor.convTranspose1d($0[0], $0[1], stride: 2)
        },
        OpInfo("im2col", [u([1, 2, 4, 4], 140)]) { $0[0].im2col(kernel: 2, stride: 1, padding: 1, dilation: 2).mul2() },
        OpInfo("col2im", [u([1, 8, 9], 141)]) {
            $0[0].col2im(outputSize: (4, 4), kernel: 2, stride: 1, padding: 0, dilation: 1).mul2()
        },
        OpInfo("maxPool2d", [distinct([1, 2, 4, 4], 142)]) { $0[0].maxPool2d(kernel: 2, stride: 2).mul2() },
        OpInfo("maxPool2d (overlapping, padded)", [distinct([1, 1, 5, 5], 143)]) {
            $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1).mul2()
        },
        OpInfo("avgPool2d", [u([1, 2, 4, 4], 144)]) { $0[0].avgPool2d(kernel: 2, stride: 2).mul2() },
        OpInfo("adaptiveAvgPool2d", [u([1, 2, 5, 4], 145)]) { $0[0].adaptiveAvgPool2d(outputSize: (2, 3)).mul2() },
        OpInfo("adaptiveAvgPool2d (global)", [u([2, 2, 3, 3], 146)],
               reference: { $0[0].mean(alongAxes: [2, 3], keepingDims: true) }) {
            $0[0].adaptiveAvgPool2d(outputSize: (1, 1))
        },
        OpInfo("resizedBilinear", [u([1, 2, 3, 3], 147)]) { $0[0].resizedBilinear(to: (5, 4)).mul2() },
        OpInfo("resizedBicubic", [u([1, 1, 4, 4], 148)]) { $0[0].resizedBicubic(to: (3, 6)).mul2() },
        OpInfo("resizedLinear", [u([1, 2, 4], 149)]) { $0[0].resizedLinear(to: 7).mul2() },
    ]

    static let losses: [OpInfo] = [
        OpInfo("crossEntropy", [
            OpInfo.Sample(inputs: [u([3, 4], 160, -2, 2)], reference: { t in
                let labels = Tensor([1, 3, 0], shape: [3, 1])
                return -t[0].logSoftmax(alongAxis: -1).gathered(alongAxis: 1, indices: labels).mean()
            }) { Tensor.crossEntropy(logits: $0[0], labels: [1, 3, 0]) },
            OpInfo.Sample(inputs: [u([4, 3], 161, -2, 2)]) {
                Tensor.crossEntropy(logits: $0[0], labels: [2, -100, 0, 1], labelSmoothing: 0.1, reduction: .sum)
            },
        ]),
        OpInfo("binaryCrossEntropyWithLogits", [u([2, 3], 162, -3, 3), u([2, 3], 163, 0, 1), u([3], 164, 0.5, 2)],
               reference: { t in
                   let (x, y, w) = (t[0], t[1], t[2])
                   let logSigmoid = -((-x).exp() + 1).log(), logOneMinus = -(x.exp() + 1).log()
                   return -(w * y * logSigmoid + (1 - y) * logOneMinus).mean()
               }) { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], posWeight: $0[2]) },
        OpInfo("mseLoss", [u([2, 3], 165), u([2, 3], 166)], reference: { ($0[0] - $0[1]).squared().mean() }) {
            Tensor.mseLoss(prediction: $0[0], target: $0[1])
        },
        OpInfo("l1Loss", [awayFromZero([2, 3], 167), Tensor.zeros([2, 3])],
               reference: { ($0[0] - $0[1]).abs().mean() }) { Tensor.l1Loss(prediction: $0[0], target: $0[1]) },
        OpInfo("relativeL2Loss", [u([2, 3], 168), awayFromZero([2, 3], 169)], reference: { t in
            let e = (t[0] - t[1]).squared().sum(alongAxis: 1).sqrt(), n = t[1].squared().sum(alongAxis: 1).sqrt()
            return (e / n).mean()
        }) { Tensor.relativeL2Loss(prediction: $0[0], target: $0[1]) },
    ]

    /// First derivatives as ops of their own: the ops their backward rules record are then checked to first order
    /// (and their own backward rules, which third derivatives run through, to second order).
    static let derivatives: [OpInfo] = [
        derivative("gelu′ (erf)", [u([6], 180, -3, 3)]) { $0[0].gelu() },
        derivative("gelu′ (tanh)", [u([6], 181, -3, 3)]) { $0[0].gelu(approximate: .tanh) },
        derivative("softmax′", [u([2, 4], 182, -2, 2)]) { $0[0].softmax(alongAxis: -1) },
        derivative("logSoftmax′", [u([2, 4], 183, -2, 2)]) { $0[0].logSoftmax(alongAxis: -1) },
        derivative("layerNorm′", [u([2, 5], 184, -2, 2), u([5], 185, 0.5, 1.5), u([5], 186)]) {
            $0[0].layerNorm(weight: $0[1], bias: $0[2])
        },
        derivative("maxPool2d′", [distinct([1, 1, 4, 4], 187)]) { $0[0].maxPool2d(kernel: 2, stride: 2).mul2() },
        {
            // maxPool2d's backward scatters the output gradient g into the input's shape; the backward of that
            // scatter gathers (maxPoolGather). Here the gather's input h is the op's input, so that its own
            // backward rule is checked to first order.
            let x = distinct([1, 1, 4, 4], 196), g = u([1, 1, 2, 2], 197)
            return OpInfo("maxPool2d backward′ (gather)", [u([1, 1, 4, 4], 198)]) { h in
                withGradients(enabled: true) {
                    let xv = x.requiringGradient(), gv = g.requiringGradient()
                    let scattered = gradients(of: xv.maxPool2d(kernel: 2, stride: 2), wrt: [xv], createGraph: true,
                                              seed: gv)[0]
                    return gradients(of: (scattered * h[0]).sum(), wrt: [gv], createGraph: true)[0].mul2()
                }
            }
        }(),
        derivative("binaryCrossEntropyWithLogits′", [u([2, 3], 188, -3, 3), u([2, 3], 189, 0, 1)]) {
            Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1])
        },
        derivative("relativeL2Loss′", [u([2, 3], 190), awayFromZero([2, 3], 191)]) {
            Tensor.relativeL2Loss(prediction: $0[0], target: $0[1])
        },
        derivative("crossEntropy′", [u([3, 4], 192, -2, 2)]) { Tensor.crossEntropy(logits: $0[0], labels: [1, 3, 0]) },
        derivative("tanh′", [u([5], 193, -2, 2)]) { $0[0].tanh() },
        derivative("sigmoid′", [u([5], 194, -3, 3)]) { $0[0].sigmoid() },
        derivative("erf′", [u([5], 195, -2, 2)]) { $0[0].erf() },
    ]

    /// The op x ↦ ∇ₓ ⟨f(x), r⟩ (gradients of all inputs, concatenated flat), for a fixed random r.
    static func derivative(_ name: String, _ inputs: [Tensor],
                           _ f: @escaping @Sendable ([Tensor]) -> Tensor) -> OpInfo {
        let r = withoutGradients { u(f(inputs).shape, 999) }
        return OpInfo(name, inputs) { xs in
            withGradients(enabled: true) {
                let vars = xs.map { $0.requiresGrad ? $0 : $0.requiringGradient() }
                let g = gradients(of: (f(vars) * r).sum(), wrt: vars, createGraph: true)
                return Tensor.concat(g.map { $0.flattened() })
            }
        }
    }
}
