import MonaTensor
import Testing
@testable import MonaData

@Suite struct MetricsTests {
    private func close(_ a: Double?, _ b: Double, _ tol: Double = 1e-12) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tol
    }

    @Test func accuracyAndError() {
        #expect(Metrics.accuracy(predictions: [0, 1, 2, 1], labels: [0, 1, 1, 1]) == 0.75)
        #expect(Metrics.errorRate(predictions: [0, 1, 2, 1], labels: [0, 1, 1, 1]) == 0.25)
        #expect(Metrics.accuracy(predictions: [], labels: []) == nil)
    }

    @Test func macroF1HandComputed() {
        // class 0: TP1 FP1 FN1 → 0.5; class 1: TP2 FP1 → 0.8; class 2: never predicted → 0. Mean 1.3/3.
        #expect(close(Metrics.macroF1(predictions: [0, 1, 1, 1, 0], labels: [0, 0, 1, 1, 2]), 1.3 / 3))
        // A class predicted but absent from the truth scores 0; classes absent from both are ignored.
        #expect(close(Metrics.macroF1(predictions: [0, 5], labels: [0, 0]), (2.0 / 3) / 2))
        #expect(Metrics.macroF1(predictions: [3, 3], labels: [3, 3]) == 1)
        #expect(Metrics.macroF1(predictions: [], labels: []) == nil)
    }

    @Test func aurocWithTies() {
        #expect(close(Metrics.auroc(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]), 0.75))
        // positive 0.5 vs negative 0.5 is a tie worth 1/2: (1 + 0.5 + 2) / 4.
        #expect(close(Metrics.auroc(scores: [0.2, 0.5, 0.5, 0.9], positives: [false, true, false, true]), 0.875))
        #expect(Metrics.auroc(scores: [0.5, 0.5, 0.5, 0.5], positives: [true, false, true, false]) == 0.5)
        #expect(Metrics.auroc(scores: [0.1, 0.9], positives: [true, true]) == nil)   // single class: undefined
        #expect(Metrics.auroc(scores: [.nan, 0.9], positives: [true, false])!.isNaN)
    }

    @Test func macroAUROCSkipsAbsentClasses() {
        // class 0: perfect (1); class 1: 3 of 4 pairs (0.75); class 2 has no sample: skipped.
        let s = Tensor([0.9, 0.2, 0, 0.8, 0.6, 0, 0.1, 0.7, 0, 0.2, 0.5, 0], shape: [4, 3])
        #expect(close(Metrics.macroAUROC(scores: s, labels: [0, 0, 1, 1]), 0.875))
        #expect(Metrics.macroAUROC(scores: Tensor([0.3, 0.7, 0.6, 0.4], shape: [2, 2]), labels: [1, 1]) == nil)
    }

    @Test func averagePrecisionAndMAP() {
        #expect(close(Metrics.averagePrecision(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]),
                      0.5 * 1 + 0.5 * (2.0 / 3), 1e-12))
        #expect(Metrics.averagePrecision(scores: [0.5, 0.5], positives: [true, false]) == 0.5)
        #expect(Metrics.averagePrecision(scores: [0.5, 0.2], positives: [false, false]) == nil)
        // label 0: AP 1; label 1: 0.5·1 + 0.5·2/3; label 2 has no positive → skipped.
        let scores = Tensor([0.9, 0.3, 0.5, 0.1, 0.2, 0.5, 0.8, 0.7, 0.5], shape: [3, 3])
        let targets = Tensor([1, 0, 0, 0, 1, 0, 1, 1, 0], shape: [3, 3])
        #expect(close(Metrics.meanAveragePrecision(scores: scores, targets: targets), (1 + 5.0 / 6) / 2))
        #expect(Metrics.meanAveragePrecision(scores: scores, targets: Tensor.zeros([3, 3])) == nil)
    }

    @Test func regressionMetrics() {
        let p = Tensor([1, 2, 3]), t = Tensor([1, 1, 1])
        #expect(close(Metrics.mse(predictions: p, targets: t), 5.0 / 3))
        #expect(close(Metrics.rmse(predictions: p, targets: t), (5.0 / 3).squareRoot()))
        // per-sample ratios 1 and 2 → nRMSE 1.5; one global ratio √5/√2 for relative L2.
        let fp = Tensor([2, 0, 0, 3], shape: [2, 2]), ft = Tensor([1, 0, 0, 1], shape: [2, 2])
        #expect(close(Metrics.nRMSE(predictions: fp, targets: ft), 1.5))
        #expect(close(Metrics.relativeL2(predictions: fp, targets: ft), (5.0 / 2).squareRoot()))
        #expect(Metrics.mse(predictions: Tensor.zeros([0]), targets: Tensor.zeros([0])) == nil)
        #expect(Metrics.nRMSE(predictions: Tensor([1, 0], shape: [1, 2]), targets: Tensor.zeros([1, 2])) == .infinity)
    }

    @Test func directionAndArgmax() {
        #expect(MetricKind.accuracy.higherIsBetter && MetricKind.auroc.higherIsBetter && MetricKind.macroF1.higherIsBetter)
        #expect(!MetricKind.errorRate.higherIsBetter && !MetricKind.nrmse.higherIsBetter && !MetricKind.mse.higherIsBetter)
        #expect(Metrics.argmax(Tensor([0.1, 0.9, 0.9, 3, 1, 2, 0, .nan, 5], shape: [3, 3])) == [1, 0, 1])
    }
}
