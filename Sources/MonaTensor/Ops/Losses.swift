#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Losses. Each returns a 0-D mean by default (`reduction:` chooses none / mean / sum) and is differentiable twice:
// backward rules are composed of differentiable ops when a graph of the gradient is requested, and fused kernels
// otherwise.

/// How a loss combines its per-element (or per-sample) values.
public enum LossReduction: Sendable {
    /// No reduction: one loss per element (per row for cross-entropy, per sample for relative L2).
    case none
    /// The mean (0-D). An empty set of terms gives NaN, as in PyTorch.
    case mean
    /// The sum (0-D).
    case sum
}

extension Tensor {
    // MARK: Cross-entropy

    /// Cross-entropy between `logits` and integer class labels, with a fused, overflow-free log-softmax.
    ///
    /// Matches `torch.nn.functional.cross_entropy(logits, labels, ignore_index:, label_smoothing:, reduction:)`
    /// for [N, C] logits. Any rank ≥ 1 is accepted with the classes on the **last** axis (e.g. [B, T, C] token
    /// logits with B·T labels); `.none` then returns the leading shape ([B, T]).
    ///
    /// - Parameters:
    ///   - logits: [..., C] unnormalised scores.
    ///   - labels: one class in 0..<C per row (row-major), or `ignoreIndex`.
    ///   - ignoreIndex: rows with this label contribute 0 and are left out of the mean (PyTorch default −100;
    ///     nil = no label is ignored). If every row is ignored, `.mean` gives NaN (0/0, as PyTorch) and the
    ///     gradient is all zeros, so a NaN metric flags the batch without poisoning the parameters.
    ///   - labelSmoothing: ε in [0, 1]: the target is (1 − ε)·onehot + ε/C.
    ///   - reduction: `.mean` over non-ignored rows (default), `.sum`, or `.none`.
    /// Logits of any finite size (±1e4 and beyond) give finite losses; NaN in a row gives NaN for that row.
    /// Gradient: (softmax(logits) − target)·weight per row; differentiable again (the Hessian goes through softmax).
    public static func crossEntropy(logits: Tensor, labels: [Int], ignoreIndex: Int? = -100,
                                    labelSmoothing: Float = 0, reduction: LossReduction = .mean) -> Tensor {
        precondition(logits.rank >= 1, "crossEntropy: logits must have rank ≥ 1 ([N, C]), got shape \(logits.shape)")
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
                     "crossEntropy: labelSmoothing \(labelSmoothing) is not in [0, 1]")
        let c = logits.shape[logits.rank - 1]
        let rowShape = Array(logits.shape.dropLast())
        let rows = rowShape.reduce(1, *)
        precondition(labels.count == rows,
                     "crossEntropy: \(labels.count) labels for logits of shape \(logits.shape) (\(rows) rows)")
        var valid = 0
        for (r, y) in labels.enumerated() {
            if y == ignoreIndex { continue }
            precondition(y >= 0 && y < c,
                         "crossEntropy: label \(y) at row \(r) is out of range for logits of shape \(logits.shape)")
            valid += 1
        }
        let eps = labelSmoothing
        let lse = TensorStorage(count: rows), perRow = TensorStorage(count: rows)
        let x = logits.data
        labels.withUnsafeBufferPointer { lab in
            Parallel.forEachChunk(rows, costPerItem: 4 * max(c, 1)) { r in
                for row in r {
                    let xr = x + row * c
                    let m = RowKernels.rowMax(xr, c)
                    let s = RowKernels.rowSumExp(xr, c, minus: m, storeInto: nil)
                    let l = m + Float(_log(Double(s)))
                    lse.base[row] = l
                    let y = lab[row]
                    if y == ignoreIndex { perRow.base[row] = 0; continue }
                    var loss = l - xr[y]
                    if eps > 0 { loss = (1 - eps) * loss + eps * (l - RowKernels.rowSum(xr, c) / Float(c)) }
                    perRow.base[row] = loss
                }
            }
        }
        // Per-row factor of the reduction: 0 for ignored rows.
        let meanScale: Float = reduction == .mean ? (valid > 0 ? 1 / Float(valid) : 0) : 1
        let coefficients = labels.map { $0 == ignoreIndex ? Float(0) : meanScale }
        let out: Tensor
        switch reduction {
        case .none:
            out = Tensor(storage: perRow, shape: rowShape)
        case .sum, .mean:
            var total = 0.0
            for r in 0..<rows { total += Double(perRow.base[r]) }
            out = Tensor(reduction == .sum ? Float(total) : Float(total / Double(valid)))
        }
        return record(out, op: .crossEntropy, inputs: [logits]) { g, _ in
            if !GradMode.isEnabled {
                return [Tensor.build(logits.shape) { dx in
                    crossEntropyBackward(logits.data, lse: lse.base, labels: labels, coefficients: coefficients,
                                         gradient: g.data, perRowGradient: reduction == .none,
                                         smoothing: eps, rows: rows, classes: c, into: dx)
                }]
            }
            // Composed: (softmax − target)·(g·coefficient), all differentiable in logits and g.
            let target = Tensor.build(logits.shape) { t in
                t.update(repeating: eps / Float(c), count: rows * c)
                for (r, y) in labels.enumerated() where y != ignoreIndex { t[r * c + y] += 1 - eps }
            }
            let coef = Tensor(coefficients, shape: rowShape + [1])
            let rowWeight = reduction == .none ? g.reshaped(to: rowShape + [1]) * coef : g * coef   // [..., 1]
            return [(logits.softmax(alongAxis: -1) - target) * rowWeight]
        }
    }

    /// dx[r, :] = (exp(x − lse) − target)·w_r with w_r = coefficient_r · g (g per row or one scalar).
    private static func crossEntropyBackward(_ x: UnsafePointer<Float>, lse: UnsafePointer<Float>, labels: [Int],
                                             coefficients: [Float], gradient: UnsafePointer<Float>,
                                             perRowGradient: Bool, smoothing eps: Float, rows: Int, classes c: Int,
                                             into dx: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        Parallel.forEachChunk(rows, costPerItem: 4 * max(c, 1)) { r in
            for row in r {
                let xr = x + row * c, dr = dx + row * c
                let coef = coefficients[row]
                if coef == 0 { dr.update(repeating: 0, count: c); continue }
                let w = coef * gradient[perRowGradient ? row : 0]
                let vl = V(repeating: lse[row]), vw = V(repeating: w), vs = V(repeating: eps / Float(c) * w)
                var i = 0
                while i + 8 <= c {
                    RowKernels.store(RowKernels.expNonPositive(RowKernels.load(xr + i) - vl) * vw - vs, dr + i)
                    i += 8
                }
                if i < c {
                    let k = c - i
                    let v = RowKernels.expNonPositive(RowKernels.load(xr + i, lanes: k, fill: 0) - vl) * vw - vs
                    RowKernels.store(v, dr + i, lanes: k)
                }
                dr[labels[row]] -= (1 - eps) * w
            }
        }
    }

    // MARK: Binary cross-entropy with logits

    /// Binary cross-entropy on logits, the numerically stable form of `torch.nn.BCEWithLogitsLoss`:
    /// ℓ = (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), with softplus(z) = max(z, 0) + log1p(exp(−|z|)).
    ///
    /// - Parameters:
    ///   - logits: any shape.
    ///   - targets: same shape, values usually in [0, 1] (soft targets allowed); differentiable too.
    ///   - posWeight: optional weight of positive examples, broadcastable to `logits` (usually [C]).
    ///   - reduction: `.mean` over all elements (default), `.sum`, or `.none` (same shape as `logits`).
    /// Finite for logits of any size (±1e4 gives no inf/NaN). Gradient in x: (1 − t) − l·σ(−x) (σ(x) − t without
    /// `posWeight`); differentiable again.
    public static func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, posWeight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) -> Tensor {
        precondition(targets.shape == logits.shape,
                     "binaryCrossEntropyWithLogits: targets shape \(targets.shape) differs from logits shape \(logits.shape)")
        if let posWeight {
            precondition(Broadcast.shape(posWeight.shape, logits.shape) == logits.shape,
                         "binaryCrossEntropyWithLogits: posWeight shape \(posWeight.shape) does not broadcast to logits shape \(logits.shape)")
        }
        let pw = posWeight.map { broadcastCopy($0, to: logits.shape) }
        let out = Tensor.build(logits.shape) { o in
            let x = logits.data, t = targets.data, p = pw?.data
            Parallel.forEachChunk(logits.count, costPerItem: 60) { r in
                for i in r {
                    let l = p.map { 1 + ($0[i] - 1) * t[i] } ?? 1
                    o[i] = (1 - t[i]) * x[i] + l * stableSoftplus(-x[i])
                }
            }
        }
        var inputs = [logits, targets]
        if let posWeight { inputs.append(posWeight) }
        let elementwise = record(out, op: .bceWithLogits, inputs: inputs) { g, c in
            let needPW = c.needsGradient.count > 2 && c.needsGradient[2]
            var grads: [Tensor?] = Array(repeating: nil, count: c.needsGradient.count)
            if !GradMode.isEnabled && !c.needsGradient[1] && !needPW {
                // Fused: dx = g·((1 − t) − l·σ(−x)).
                grads[0] = Tensor.build(logits.shape) { dx in
                    let x = logits.data, t = targets.data, p = pw?.data, gp = g.data
                    Parallel.forEachChunk(logits.count, costPerItem: 30) { r in
                        for i in r {
                            let l = p.map { 1 + ($0[i] - 1) * t[i] } ?? 1
                            dx[i] = gp[i] * ((1 - t[i]) - l * stableSigmoid(-x[i]))
                        }
                    }
                }
                return grads
            }
            let x = logits, t = targets
            let weightMinusOne = posWeight.map { $0 - 1 }                    // broadcastable to logits
            if c.needsGradient[0] {
                if let weightMinusOne {
                    let l = weightMinusOne * t + 1
                    grads[0] = g * ((1 - t) - l * (-x).lossSigmoid())
                } else {
                    grads[0] = g * (x.lossSigmoid() - t)
                }
            }
            if c.needsGradient[1] {
                grads[1] = weightMinusOne.map { g * ($0 * (-x).lossSoftplus() - x) } ?? -(g * x)
            }
            if needPW, let posWeight {
                grads[2] = (g * t * (-x).lossSoftplus()).sum(toShape: posWeight.shape)
            }
            return grads
        }
        return elementwise.lossReduced(reduction)
    }

    // MARK: Regression losses

    /// Mean squared error (prediction − target)²; shapes must match. `.none` keeps the shape.
    public static func mseLoss(prediction: Tensor, target: Tensor, reduction: LossReduction = .mean) -> Tensor {
        precondition(prediction.shape == target.shape,
                     "mseLoss: prediction shape \(prediction.shape) differs from target shape \(target.shape)")
        let d = prediction - target
        return (d * d).lossReduced(reduction)
    }

    /// Mean absolute error |prediction − target|; shapes must match. The gradient at a tie is 0 (as PyTorch).
    public static func l1Loss(prediction: Tensor, target: Tensor, reduction: LossReduction = .mean) -> Tensor {
        precondition(prediction.shape == target.shape,
                     "l1Loss: prediction shape \(prediction.shape) differs from target shape \(target.shape)")
        return (prediction - target).lossAbs().lossReduced(reduction)
    }

    /// Relative L2 error per sample, ‖prediction − target‖₂ / ‖target‖₂ over all axes but the first, then reduced
    /// over samples (mean by default) — the metric and training loss of FNO / PDEBench (Darcy flow, Burgers).
    ///
    /// Shapes must match, with the sample axis first ([B, ...]). A sample whose target is all zeros gives inf (or
    /// NaN if the prediction is zero too). Where the error norm is exactly 0 the gradient is taken as 0 (the
    /// subgradient PyTorch's `norm` uses).
    public static func relativeL2Loss(prediction: Tensor, target: Tensor, reduction: LossReduction = .mean) -> Tensor {
        precondition(prediction.shape == target.shape && prediction.rank >= 1,
                     "relativeL2Loss: prediction shape \(prediction.shape) and target shape \(target.shape) must match, with a sample axis first")
        let b = prediction.shape[0]
        let m = b == 0 ? 0 : prediction.count / b
        let error = (prediction - target).reshaped(to: [b, m]).lossRowNorm()      // [B]
        let scale = target.reshaped(to: [b, m]).lossRowNorm()                    // [B]
        return (error / scale).lossReduced(reduction)
    }
}

// MARK: Private differentiable helpers (names prefixed to stay out of other op families' way)

/// log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|). NaN stays NaN.
@inline(__always) private func stableSoftplus(_ x: Float) -> Float {
    x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
}

/// 1 / (1 + e^−x), saturating to exactly 0 or 1 without overflow. NaN stays NaN.
@inline(__always) private func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

extension Tensor {
    fileprivate func lossReduced(_ reduction: LossReduction) -> Tensor {
        switch reduction {
        case .none: return self
        case .sum: return sum()
        case .mean: return count == 0 ? Tensor(Float.nan) : mean()
        }
    }

    /// σ(x); backward g·y·(1 − y) with the output, so it is differentiable again.
    fileprivate func lossSigmoid() -> Tensor {
        let one = SIMD8<Float>(repeating: 1)
        let out = unaryMap(self, { one / (one + VectorMath.exp(-$0)) }, { stableSigmoid($0) })
        return Tensor.record(out, op: .lossSigmoid, inputs: [self]) { g, c in
            let y = c.output
            return [g * y * (1 - y)]
        }
    }

    /// softplus(x) = log(1 + eˣ); backward g·σ(x).
    fileprivate func lossSoftplus() -> Tensor {
        let x = self
        let out = unaryMap(self, { v in
            var r = SIMD8<Float>()
            for l in 0..<8 { r[l] = stableSoftplus(v[l]) }
            return r
        }, { stableSoftplus($0) })
        return Tensor.record(out, op: .lossSoftplus, inputs: [self]) { g, _ in [g * x.lossSigmoid()] }
    }

    /// |x|; backward g·sign(x) (sign(0) = 0, sign(NaN) = NaN), a constant factor, so differentiable again.
    fileprivate func lossAbs() -> Tensor {
        let x = self
        let out = unaryMap(self, { v in
            v.replacing(with: -v, where: v .< SIMD8<Float>(repeating: 0))
        }, { $0 < 0 ? -$0 : $0 })
        return Tensor.record(out, op: .lossAbs, inputs: [self]) { g, _ in
            let sign = Tensor.build(x.shape) { s in
                let p = x.data
                for i in 0..<x.count { s[i] = p[i] > 0 ? 1 : (p[i] < 0 ? -1 : (p[i] == 0 ? 0 : .nan)) }
            }
            return [g * sign]
        }
    }

    /// Euclidean norm of each row of a [B, M] tensor → [B]. Backward: g·x/‖x‖ (0 where ‖x‖ = 0), written with
    /// the output so that it is differentiable again.
    fileprivate func lossRowNorm() -> Tensor {
        let b = shape[0], m = shape[1]
        let x = self
        let out = Tensor.build([b]) { o in
            let p = x.data
            Parallel.forEachChunk(b, costPerItem: m) { r in
                for row in r {
                    // Float partial sums over blocks of 1024, accumulated in Double (rows may be 10⁵ long).
                    var total = 0.0
                    var j = 0
                    while j < m {
                        let end = min(m, j + 1024)
                        total += Double(RowKernels.rowDot(p + row * m + j, p + row * m + j, end - j))
                        j = end
                    }
                    o[row] = Float(total.squareRoot())
                }
            }
        }
        return Tensor.record(out, op: .lossRowNorm, inputs: [self]) { g, c in
            let norm = c.output                                                          // [B]
            let zero = Tensor.build([b]) { z in for i in 0..<b { z[i] = norm.data[i] == 0 ? 1 : 0 } }
            return [x * (g / (norm + zero)).reshaped(to: [b, 1])]
        }
    }
}
