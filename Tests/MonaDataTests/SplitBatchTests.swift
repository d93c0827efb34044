import Foundation
import MonaTensor
import Testing
@testable import MonaData

@Suite struct SplitTests {
    /// 18 samples: class 0 ×10, class 1 ×5, class 2 ×2, class 3 ×1.
    let labels = [0, 1, 0, 2, 0, 1, 0, 0, 3, 1, 0, 0, 2, 1, 0, 0, 1, 0]

    @Test func stratifiedCountsAndCoverage() throws {
        let (train, val) = try Split.stratified(labels: labels, validationFraction: 0.2, seed: 42)
        #expect(Set(train).isDisjoint(with: val))
        #expect((train + val).sorted() == Array(0..<labels.count))
        var perClass = [0, 0, 0, 0]
        for i in val { perClass[labels[i]] += 1 }
        // round(0.2·10) = 2, round(0.2·5) = 1, round(0.4) = 0 → raised to 1, a singleton class stays in training.
        #expect(perClass == [2, 1, 1, 0])
        #expect(train == train.sorted() && val == val.sorted())
    }

    @Test func sameSeedSameSplitOtherSeedOtherSplit() throws {
        let a = try Split.stratified(labels: labels, validationFraction: 0.3, seed: 7)
        let b = try Split.stratified(labels: labels, validationFraction: 0.3, seed: 7)
        #expect(a.train == b.train && a.validation == b.validation)
        let others = try (8..<16).map { try Split.stratified(labels: labels, validationFraction: 0.3, seed: UInt64($0)).validation }
        #expect(others.contains { $0 != a.validation })
        let none = try Split.stratified(labels: labels, validationFraction: 0, seed: 1)
        #expect(none.validation.isEmpty && none.train.count == labels.count)
        expectDataError(fileSuffix: "validationFraction", message: "must be in [0, 1)") {
            _ = try Split.stratified(labels: labels, validationFraction: 1, seed: 1)
        }
    }

    @Test func randomSplitForRegression() throws {
        let a = try Split.random(count: 10, validationFraction: 0.25, seed: 3)
        #expect(a.validation.count == 3 && a.train.count == 7)
        #expect(try Split.random(count: 10, validationFraction: 0.25, seed: 3).validation == a.validation)
        #expect(try Split.random(count: 1, validationFraction: 0.5, seed: 3).validation.isEmpty)
    }

    private func dataset(_ values: [Float], labels: [Int], names: [String], channels: Int = 2) throws -> LabeledDataset {
        let n = labels.count
        return try LabeledDataset(name: "toy", inputs: .series(Tensor(values, shape: [n, channels, values.count / (n * channels)])),
                                  targets: .classes(labels, names: names))
    }

    @Test func splitsKeepTestApartAndNormaliseWithTrainingStatistics() throws {
        // 6 training samples × 2 channels × 2 steps; channel 1 is 10× channel 0.
        let base: [Float] = (0..<6).flatMap { i -> [Float] in let v = Float(i); return [v, v + 1, 10 * v, 10 * v + 10] }
        let training = try dataset(base, labels: [0, 0, 0, 1, 1, 1], names: ["a", "b"])
        let test = try dataset([100, 100, 100, 100], labels: [0], names: ["b", "a"])  // other class order
        let s = try DataSplits.make(training: training, test: test, validationFraction: 0.34, seed: 5)
        #expect(s.train.count == 4 && s.validation.count == 2 && s.test.count == 1)
        #expect(s.validation.classCounts == [1, 1])
        #expect(s.test.labels == [1] && s.test.classNames == ["a", "b"])   // "a" in the test file is class 1 of training

        let (n, norm) = try s.normalized()
        let fitted = try #require(norm)
        #expect(fitted == ChannelNormalizer(fitting: s.train.inputTensor!))
        #expect(fitted != ChannelNormalizer(fitting: training.inputTensor!))
        // Training split: per channel mean 0, std 1.
        let x = n.train.inputTensor!
        for c in 0..<2 {
            var vals: [Double] = []
            for i in 0..<x.shape[0] { for t in 0..<x.shape[2] { vals.append(Double(x[i, c, t])) } }
            let mean = vals.reduce(0, +) / Double(vals.count)
            let std = (vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count)).squareRoot()
            #expect(abs(mean) < 1e-5 && abs(std - 1) < 1e-5)
        }
        // The test set is transformed with the same (training) statistics.
        let t = n.test.inputTensor!
        #expect(abs(t[0, 0, 0] - (100 - fitted.mean[0]) / fitted.std[0]) < 1e-4)
        #expect(abs(t[0, 1, 1] - (100 - fitted.mean[1]) / fitted.std[1]) < 1e-4)
    }

    @Test func unknownTestClassIsAnError() throws {
        let training = try dataset([1, 2, 3, 4], labels: [0, 1], names: ["a", "b"], channels: 1)
        let test = try dataset([1, 2], labels: [0], names: ["z"], channels: 1)
        expectDataError(fileSuffix: "toy", message: "class 'z' is not among the classes") {
            _ = try DataSplits.make(training: training, test: test, validationFraction: 0, seed: 1)
        }
    }

    @Test func constantChannelIsOnlyCentred() {
        let x = Tensor([3, 3, 1, 2, 3, 3, 3, 4], shape: [2, 2, 2])   // channel 0 constant at 3
        let n = ChannelNormalizer(fitting: x)
        #expect(n.mean[0] == 3 && n.std[0] == 1)
        #expect(n.apply(to: x)[1, 0, 1] == 0)
        let nan = ChannelNormalizer(fitting: Tensor([1, .nan, 2, 3], shape: [2, 1, 2]))
        #expect(nan.mean[0].isNaN && nan.std[0].isNaN)
    }
}

@Suite struct BatchTests {
    @Test func shuffledBatchesCoverEverySampleOncePerEpoch() {
        let s = BatchSampler(count: 10, batchSize: 3, seed: 9)
        let e0 = s.batches(epoch: 0)
        #expect(e0.map(\.count) == [3, 3, 3, 1])
        #expect(e0.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(s.batches(epoch: 0) == e0)
        #expect(BatchSampler(count: 10, batchSize: 3, seed: 9).batches(epoch: 0) == e0)
        let e1 = s.batches(epoch: 1)
        #expect(e1 != e0 && e1.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(BatchSampler(count: 10, batchSize: 3, seed: 10).batches(epoch: 0) != e0)
    }

    @Test func dropLastOnlyWhenAsked() {
        let train = BatchSampler(count: 10, batchSize: 3, dropLast: true, seed: 1)
        #expect(train.batchCount == 3 && train.batches(epoch: 2).allSatisfy { $0.count == 3 })
        let eval = BatchSampler.evaluation(count: 10, batchSize: 4)
        #expect(eval.batches(epoch: 5) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(BatchSampler.evaluation(count: 0, batchSize: 4).batches(epoch: 0).isEmpty)
    }

    @Test func datasetBatchesCarryInputsAndTargets() throws {
        let d = try LabeledDataset(name: "toy", inputs: .series(Tensor((0..<10).map(Float.init), shape: [5, 1, 2])),
                                   targets: .classes([0, 1, 0, 1, 1], names: ["x", "y"]))
        let batches = Array(d.batches(.evaluation(count: 5, batchSize: 2), epoch: 0))
        #expect(batches.count == 3)
        #expect(batches[1].inputTensor?.scalars == [4, 5, 6, 7] && batches[1].labels == [0, 1])
        #expect(batches[2].inputTensor?.shape == [1, 1, 2] && batches[2].labels == [1])
        let rare = try d.droppingRareClasses(minimumCount: 3)
        #expect(rare.count == 3 && rare.classNames == ["y"] && rare.labels == [0, 0, 0])
    }

    @Test func datasetValidation() {
        expectDataError(fileSuffix: "bad", message: "3 class labels for 2 samples") {
            _ = try LabeledDataset(name: "bad", inputs: .tokens([[1], [2]]), targets: .classes([0, 0, 0], names: ["a"]))
        }
        expectDataError(fileSuffix: "bad", message: "class index 2 outside 0..<2") {
            _ = try LabeledDataset(name: "bad", inputs: .tokens([[1]]), targets: .classes([2], names: ["a", "b"]))
        }
        expectDataError(fileSuffix: "bad", message: "series inputs must be [N, C, L]") {
            _ = try LabeledDataset(name: "bad", inputs: .series(Tensor.zeros([2, 3])), targets: .none)
        }
    }
}
