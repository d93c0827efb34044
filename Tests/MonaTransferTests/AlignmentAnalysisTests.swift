import Foundation
import MonaTensor
import MonaTestSupport
import Testing
@testable import MonaTransfer

/// Source-knowledge metrics against hand-computed cases.
@Suite struct AlignmentAnalysisTests {
    /// 1-D, two classes: {0, 2} (centroid 1, mean spread 1) and {10, 12} (centroid 11, spread 1).
    let line = Tensor([0, 2, 10, 12], shape: [4, 1])
    let lineLabels = [0, 0, 1, 1]

    @Test func daviesBouldinByHand() {
        // R = (1 + 1) / 10 for the only pair → DB = 0.2.
        #expect(abs(daviesBouldinIndex(features: line, labels: lineLabels) - 0.2) < 1e-6)
        // Three classes on a line: {0,2} c=1, {10,12} c=11, {20,20} c=20 (spread 0).
        let x = Tensor([0, 2, 10, 12, 20, 20], shape: [6, 1])
        // R01 = 2/10, R12 = 1/9, R02 = 1/19 → max per class: 0.2, 0.2, 1/9.
        let expected = (0.2 + 0.2 + 1.0 / 9) / 3
        #expect(abs(Double(daviesBouldinIndex(features: x, labels: [0, 0, 1, 1, 2, 2])) - expected) < 1e-6)
    }

    @Test func scatterRatioByHand() {
        // Overall mean 6: between = 2·25 + 2·25 = 100; within = 4 · 1 = 4.
        #expect(abs(scatterRatio(features: line, labels: lineLabels) - 25) < 1e-4)
    }

    @Test func silhouetteByHand() {
        // x=0: a=2, b=11 → 9/11; x=2: a=2, b=9 → 7/9; symmetric for the other class.
        let expected = (9.0 / 11 + 7.0 / 9) / 2
        #expect(abs(Double(silhouetteScore(features: line, labels: lineLabels)) - expected) < 1e-5)
        // A singleton class scores 0 for its row: rows 0, 1 as above with b over {10} only.
        let s = silhouetteScore(features: Tensor([0, 2, 10], shape: [3, 1]), labels: [0, 0, 1])
        let e = ((10.0 - 2) / 10 + (8.0 - 2) / 8 + 0) / 3
        #expect(abs(Double(s) - e) < 1e-5)
    }

    @Test func knnByHand() {
        // Training points on the unit circle at angles 0°, 10°, 20° (class 0) and 90°, 100° (class 1); cosine
        // similarity only depends on the angle, so the scale of a row is irrelevant.
        func at(_ deg: Double, _ r: Double = 1) -> [Float] { [Float(r * cos(deg * .pi / 180)), Float(r * sin(deg * .pi / 180))] }
        let train = Tensor([0, 10, 20, 90, 100].flatMap { at($0) }, shape: [5, 2])
        let trainLabels = [0, 0, 0, 1, 1]
        // 60° test point: 1-NN is 90° (class 1), 3-NN are 20°, 90°, 100°… wait: distances 40°, 30°, 40°, 50°;
        // nearest is 90° (30°), then 20° and 100° tie at 40° → k = 3 takes 90°, 20° (lower index on a tie), 100°.
        let test = Tensor(at(60, 5) + at(5, 0.1), shape: [2, 2])
        #expect(knnAccuracy(trainFeatures: train, trainLabels: trainLabels, testFeatures: test, testLabels: [1, 0], k: 1) == 1)
        #expect(knnAccuracy(trainFeatures: train, trainLabels: trainLabels, testFeatures: test, testLabels: [1, 0], k: 3) == 1)
        // k = 5 at 60°: three votes for class 0 beat two for class 1.
        #expect(knnAccuracy(trainFeatures: train, trainLabels: trainLabels, testFeatures: test, testLabels: [0, 0], k: 5) == 1)
        // k = 2 at 60°: one vote each (90° and 20°); the summed similarity favours 90° → class 1.
        #expect(knnAccuracy(trainFeatures: train, trainLabels: trainLabels, testFeatures: test, testLabels: [1, 0], k: 2) == 1)
    }

    @Test func linearProbeSeparatesAndIsDeterministic() {
        let (x, y) = blobs(perClass: 20, seed: 11, spread: 0.8)
        let (xt, yt) = blobs(perClass: 10, seed: 12, spread: 0.8)
        let r = linearProbe(trainFeatures: x, trainLabels: y, testFeatures: xt, testLabels: yt)
        #expect(r.trainAccuracy == 1 && r.testAccuracy == 1, "\(r)")
        let again = linearProbe(trainFeatures: x, trainLabels: y, testFeatures: xt, testLabels: yt)
        #expect(again.finalLoss == r.finalLoss)
        // Labels unrelated to the features: the probe cannot beat chance by much on held-out rows.
        var g = SeededGenerator(seed: 3)
        let noise = Tensor.randomNormal([200, 4], generator: &g)
        let labels = (0..<200).map { ($0 * 7919) % 3 }
        let chance = linearProbe(trainFeatures: noise.slice(axis: 0, start: 0, end: 100), trainLabels: Array(labels[..<100]),
                                 testFeatures: noise.slice(axis: 0, start: 100, end: 200), testLabels: Array(labels[100...]))
        #expect(chance.testAccuracy < 0.55, "\(chance)")
    }

    @Test func fullReport() throws {
        // Away from the origin: k-NN uses cosine similarity, which only sees directions.
        let (x, y) = blobs(perClass: 20, seed: 13, spread: 0.5, offset: (5, 5))
        let report = try analyzeSourceKnowledge(features: x, labels: y)
        print("MEASURED: source-knowledge report on 3 blobs: \(report)")
        #expect(report.samples == 60 && report.classes == 3)
        #expect(report.linearProbeAccuracy == 1 && report.knnAccuracy == 1)
        #expect(report.daviesBouldin < 0.4 && report.scatterRatio > 10 && report.silhouette > 0.7)
        let z = x.l2NormalizedRows()
        #expect(report.alignment == alignLoss(z, labels: y).item && report.uniformity == uniformLoss(z).item)
        #expect(try analyzeSourceKnowledge(features: x, labels: y) == report)    // seeded, deterministic
        // Mixing the classes degrades every score.
        let mixed = try analyzeSourceKnowledge(features: x, labels: y.indices.map { $0 % 3 })
        #expect(mixed.linearProbeAccuracy < 0.7 && mixed.daviesBouldin > report.daviesBouldin
                && mixed.scatterRatio < report.scatterRatio && mixed.silhouette < report.silhouette)
    }

    @Test func modalityGapOrdersShifts() {
        let (x, y) = blobs(perClass: 8, seed: 14)
        let near = modalityGap(source: x, sourceLabels: y, target: x + 0.1, targetLabels: y)
        let far = modalityGap(source: x, sourceLabels: y, target: x + 3, targetLabels: y)
        #expect(near.converged && far.converged)
        #expect(near.otdd < far.otdd && near.mmd < far.mmd)
        // Without target labels, k-means pseudo-labels recover the blobs: same gap as with the true labels.
        let pseudo = modalityGap(source: x, sourceLabels: y, target: x + 3)
        #expect(abs(pseudo.otdd - far.otdd) < 1e-2 * far.otdd, "\(pseudo.otdd) vs \(far.otdd)")
        print("MEASURED: modality gap near \(near), far \(far)")
    }
}
