import Foundation
import Testing
@testable import MonaTensor

/// Naive Double cross-entropy per row (nil for ignored rows).
private func referenceCrossEntropy(_ logits: Tensor, _ labels: [Int], ignore: Int?, smoothing: Double) -> [Double?] {
    let c = logits.shape.last!, v = logits.scalars.map(Double.init)
    return labels.enumerated().map { r, y in
        if y == ignore { return nil }
        let row = Array(v[(r * c)..<((r + 1) * c)])
        let m = row.max()!
        let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
        let nll = lse - row[y]
        let smooth = lse - row.reduce(0, +) / Double(c)
        return (1 - smoothing) * nll + smoothing * smooth
    }
}

/// Naive Double BCE-with-logits per element.
private func referenceBCE(_ x: Double, _ t: Double, _ p: Double) -> Double {
    let softplusMinusX = max(-x, 0) + Foundation.log1p(Foundation.exp(-abs(x)))
    return (1 - t) * x + (1 + (p - 1) * t) * softplusMinusX
}

@Suite struct LossTests {
    // MARK: Cross-entropy

    @Test func crossEntropyMatchesDouble() {
        let logits = rand([6, 5], seed: 1, low: -4, high: 4)
        let labels = [0, 4, -100, 2, 2, 1]
        for smoothing in [0.0, 0.1] {
            let ref = referenceCrossEntropy(logits, labels, ignore: -100, smoothing: smoothing)
            let valid = ref.compactMap { $0 }
            let none = Tensor.crossEntropy(logits: logits, labels: labels, labelSmoothing: Float(smoothing), reduction: .none)
            #expect(none.shape == [6])
            for (r, value) in ref.enumerated() { #expect(abs(Double(none[r]) - (value ?? 0)) < 1e-5) }
            let mean = Tensor.crossEntropy(logits: logits, labels: labels, labelSmoothing: Float(smoothing))
            #expect(mean.shape == [] && abs(Double(mean.item) - valid.reduce(0, +) / Double(valid.count)) < 1e-5)
            let sum = Tensor.crossEntropy(logits: logits, labels: labels, labelSmoothing: Float(smoothing), reduction: .sum)
            #expect(abs(Double(sum.item) - valid.reduce(0, +)) < 1e-4)
        }
        // Without an ignore index −100 is no longer special (and is out of range), so use valid labels.
        let all = Tensor.crossEntropy(logits: logits, labels: [0, 1, 2, 3, 4, 0], ignoreIndex: nil)
        let ref = referenceCrossEntropy(logits, [0, 1, 2, 3, 4, 0], ignore: nil, smoothing: 0).compactMap { $0 }
        #expect(abs(Double(all.item) - ref.reduce(0, +) / 6) < 1e-5)
        // Classes on the last axis of a rank-3 tensor; long rows exercise the vector path and the tail.
        let tokens = rand([2, 3, 37], seed: 2, low: -5, high: 5)
        let tl = [0, 36, 5, 9, -100, 20]
        let perToken = Tensor.crossEntropy(logits: tokens, labels: tl, reduction: .none)
        #expect(perToken.shape == [2, 3])
        let tref = referenceCrossEntropy(tokens.reshaped(to: [6, 37]), tl, ignore: -100, smoothing: 0)
        for (r, value) in tref.enumerated() { #expect(abs(Double(perToken.data[r]) - (value ?? 0)) < 2e-5) }
    }

    @Test func crossEntropyExtremeLogits() {
        let logits = Tensor([1e4, -1e4, 0,
                             -1e4, 1e4, -1e4,
                             1e4, 1e4, -1e4], shape: [3, 3])
        let none = Tensor.crossEntropy(logits: logits, labels: [0, 0, 1], reduction: .none)
        #expect(none[0] == 0 && none[1] == 2e4 && abs(none[2] - Float(Foundation.log(2.0))) < 1e-3)
        let xv = logits.requiringGradient()
        let g = gradients(of: Tensor.crossEntropy(logits: xv, labels: [0, 0, 1], labelSmoothing: 0.1), wrt: [xv])[0]
        #expect(g.scalars.allSatisfy { $0.isFinite })
        // softmax − target, divided by 3 rows (Float log-sum-exp at 1e4 is good to ~1e-3 relative).
        #expect(abs(g[1, 0] - (0 - (0.9 + 0.1 / 3)) / 3) < 1e-6 && abs(g[2, 0] - (0.5 - 0.1 / 3) / 3) < 3e-4)
        // Far beyond exp's range, the loss of a confident correct prediction is still exactly 0.
        let huge = Tensor([3e38, -3e38], shape: [1, 2])
        #expect(Tensor.crossEntropy(logits: huge, labels: [0]).item == 0)
        // NaN reaches the loss of its row.
        let withNaN = Tensor([0, .nan, 1, 2], shape: [2, 2])
        let perRow = Tensor.crossEntropy(logits: withNaN, labels: [0, 1], reduction: .none)
        #expect(perRow[0].isNaN && perRow[1].isFinite)
    }

    @Test func crossEntropyIgnoredRows() {
        let logits = rand([3, 4], seed: 3).requiringGradient()
        // All rows ignored: mean is NaN (0/0, as PyTorch), sum is 0, gradient is zero.
        let mean = Tensor.crossEntropy(logits: logits, labels: [-100, -100, -100])
        #expect(mean.item.isNaN)
        #expect(gradients(of: mean, wrt: [logits])[0].scalars.allSatisfy { $0 == 0 })
        #expect(Tensor.crossEntropy(logits: logits, labels: [-100, -100, -100], reduction: .sum).item == 0)
        // A custom ignore index; ignored rows get zero gradient, the mean divides by the kept rows only.
        let part = Tensor.crossEntropy(logits: logits, labels: [1, 7, 3], ignoreIndex: 7)
        let g = gradients(of: part, wrt: [logits])[0]
        #expect((0..<4).allSatisfy { g[1, $0] == 0 })
        let p = logits.detached().softmax()
        #expect(abs(g[0, 1] - (p[0, 1] - 1) / 2) < 1e-6 && abs(g[2, 0] - p[2, 0] / 2) < 1e-6)
        // An empty batch.
        #expect(Tensor.crossEntropy(logits: Tensor.zeros([0, 4]), labels: []).item.isNaN)
    }

    @Test func crossEntropyGradients() {
        let x = rand([4, 5], seed: 4, low: -2, high: 2), labels = [3, -100, 0, 4]
        let rowWeights = rand([4], seed: 5)
        for s: Float in [0, 0.2] {
            checkGradients([x]) { Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: s) }
            checkGradients([x]) { Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: s, reduction: .sum).mul2() }
            checkGradients([x]) {
                (Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: s, reduction: .none) * rowWeights).mul2().sum()
            }
            nnFusedMatchesComposed([x]) {
                (Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: s, reduction: .none) * rowWeights).mul2().sum()
            }
            nnFusedMatchesComposed([x]) { Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: s).mul2() }
        }
        checkGradients([rand([2, 2, 3], seed: 6)]) { Tensor.crossEntropy(logits: $0[0], labels: [0, 2, 1, 1]).mul2() }
        // 11 classes: SIMD body plus tail of the fused backward.
        checkGradients([rand([2, 11], seed: 12, low: -2, high: 2)]) {
            Tensor.crossEntropy(logits: $0[0], labels: [10, 3], labelSmoothing: 0.1).mul2()
        }
    }

    @Test func crossEntropySecondOrder() {
        let x = rand([3, 4], seed: 7, low: -2, high: 2), v = rand([3, 4], seed: 8)
        let labels = [1, 3, -100]
        nnHessianVectorCheck([x], directions: [v]) { Tensor.crossEntropy(logits: $0[0], labels: labels) }
        nnHessianVectorCheck([x], directions: [v]) {
            Tensor.crossEntropy(logits: $0[0], labels: labels, labelSmoothing: 0.1, reduction: .none).mul2().sum()
        }
        // Through a linear layer, as a classifier head is trained (second derivative in the weights).
        let features = rand([3, 5], seed: 9), w = rand([5, 4], seed: 10), vw = rand([5, 4], seed: 11)
        nnHessianVectorCheck([w], directions: [vw]) {
            Tensor.crossEntropy(logits: features.matmul($0[0]), labels: [0, 2, 3])
        }
    }

    // MARK: Binary cross-entropy with logits

    @Test func bceMatchesDoubleAndIsStable() {
        let x = rand([4, 3], seed: 21, low: -6, high: 6), t = rand([4, 3], seed: 22, low: 0, high: 1)
        let pw = Tensor([0.5, 2, 3])
        for weight in [nil, pw] as [Tensor?] {
            let none = Tensor.binaryCrossEntropyWithLogits(logits: x, targets: t, posWeight: weight, reduction: .none)
            var total = 0.0
            for i in 0..<12 {
                let ref = referenceBCE(Double(x.data[i]), Double(t.data[i]), Double(weight?.data[i % 3] ?? 1))
                total += ref
                #expect(abs(Double(none.data[i]) - ref) < 1e-5)
            }
            let mean = Tensor.binaryCrossEntropyWithLogits(logits: x, targets: t, posWeight: weight)
            #expect(abs(Double(mean.item) - total / 12) < 1e-5)
            let sum = Tensor.binaryCrossEntropyWithLogits(logits: x, targets: t, posWeight: weight, reduction: .sum)
            #expect(abs(Double(sum.item) - total) < 1e-4)
        }
        // ±1e4: exact, finite values and gradients.
        let ext = Tensor([1e4, -1e4, 1e4, -1e4]), et = Tensor([1, 0, 0, 1])
        let l = Tensor.binaryCrossEntropyWithLogits(logits: ext, targets: et, reduction: .none)
        #expect(l.scalars == [0, 0, 1e4, 1e4])
        let ev = ext.requiringGradient()
        let g = gradients(of: Tensor.binaryCrossEntropyWithLogits(logits: ev, targets: et, posWeight: Tensor([2])), wrt: [ev])[0]
        #expect(g.scalars == [0, 0, 0.25, -0.5])
        let nan = Tensor.binaryCrossEntropyWithLogits(logits: Tensor([.nan, 0]), targets: Tensor([1, 1]), reduction: .none)
        #expect(nan[0].isNaN && abs(nan[1] - Float(Foundation.log(2.0))) < 1e-7)
    }

    @Test func bceGradients() {
        let x = rand([3, 4], seed: 23, low: -3, high: 3), t = rand([3, 4], seed: 24, low: 0, high: 1)
        let pw = rand([4], seed: 25, low: 0.5, high: 3)
        checkGradients([x]) { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: t).mul2() }
        checkGradients([x, t, pw]) {
            Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], posWeight: $0[2], reduction: .none).mul2().sum()
        }
        checkGradients([x, t]) { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], reduction: .sum) }
        nnFusedMatchesComposed([x]) {
            Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: t, posWeight: pw, reduction: .none).mul2().sum()
        }
        let v = [rand([3, 4], seed: 26), rand([3, 4], seed: 27), rand([4], seed: 28)]
        nnHessianVectorCheck([x], directions: [v[0]]) { Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: t) }
        nnHessianVectorCheck([x, t, pw], directions: v) {
            Tensor.binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], posWeight: $0[2], reduction: .none).mul2().sum()
        }
    }

    // MARK: Regression losses

    @Test func regressionLossValues() {
        let p = Tensor([1, 2, 3, 4], shape: [2, 2]), t = Tensor([1, 0, 5, 1], shape: [2, 2])
        #expect(Tensor.mseLoss(prediction: p, target: t).item == 4.25)
        #expect(Tensor.mseLoss(prediction: p, target: t, reduction: .sum).item == 17)
        #expect(Tensor.mseLoss(prediction: p, target: t, reduction: .none).scalars == [0, 4, 4, 9])
        #expect(Tensor.l1Loss(prediction: p, target: t).item == 1.75)
        #expect(Tensor.l1Loss(prediction: p, target: t, reduction: .none).scalars == [0, 2, 2, 3])
        // ‖p − t‖ / ‖t‖ per sample: row 0: 2/1, row 1: √13/√26.
        let rel = Tensor.relativeL2Loss(prediction: p, target: t, reduction: .none)
        #expect(rel.shape == [2] && abs(rel[0] - 2) < 1e-6 && abs(rel[1] - Float(0.5.squareRoot())) < 1e-6)
        #expect(abs(Tensor.relativeL2Loss(prediction: p, target: t).item - (2 + Float(0.5.squareRoot())) / 2) < 1e-6)
        // Fields [B, H, W] against a Double reference, rows longer than one accumulation block.
        let fp = rand([2, 40, 30], seed: 31), ft = rand([2, 40, 30], seed: 32)
        let r = Tensor.relativeL2Loss(prediction: fp, target: ft, reduction: .none)
        for b in 0..<2 {
            var num = 0.0, den = 0.0
            for i in 0..<1200 {
                let d = Double(fp.data[b * 1200 + i]) - Double(ft.data[b * 1200 + i])
                num += d * d
                den += Double(ft.data[b * 1200 + i]) * Double(ft.data[b * 1200 + i])
            }
            #expect(abs(Double(r[b]) - (num / den).squareRoot()) < 1e-5)
        }
        // NaN propagates; the empty mean is NaN.
        #expect(Tensor.l1Loss(prediction: Tensor([.nan]), target: Tensor([0])).item.isNaN)
        #expect(Tensor.mseLoss(prediction: Tensor.zeros([0]), target: Tensor.zeros([0])).item.isNaN)
    }

    @Test func regressionLossGradients() {
        let p = rand([3, 4], seed: 41), t = rand([3, 4], seed: 42)
        checkGradients([p, t]) { Tensor.mseLoss(prediction: $0[0], target: $0[1]).mul2() }
        checkGradients([p, t]) { Tensor.l1Loss(prediction: $0[0], target: $0[1], reduction: .none).mul2().sum() }
        checkGradients([p, t]) { Tensor.relativeL2Loss(prediction: $0[0], target: $0[1]) }
        checkGradients([p, t]) { Tensor.relativeL2Loss(prediction: $0[0], target: $0[1], reduction: .none).mul2().sum() }
        // L1 at a tie has gradient 0; relative L2 with zero error has gradient 0, not NaN.
        let pv = t.requiringGradient()
        #expect(gradients(of: Tensor.l1Loss(prediction: pv, target: t), wrt: [pv])[0].scalars.allSatisfy { $0 == 0 })
        #expect(gradients(of: Tensor.relativeL2Loss(prediction: pv, target: t), wrt: [pv])[0].scalars.allSatisfy { $0 == 0 })
        let v = [rand([3, 4], seed: 43), rand([3, 4], seed: 44)]
        nnHessianVectorCheck([p, t], directions: v) { Tensor.mseLoss(prediction: $0[0], target: $0[1]).mul2() }
        nnHessianVectorCheck([p, t], directions: v) { Tensor.relativeL2Loss(prediction: $0[0], target: $0[1]) }
        nnHessianVectorCheck([p], directions: [v[0]]) { Tensor.l1Loss(prediction: $0[0], target: t).mul2() }
    }
}
