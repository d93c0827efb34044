import Foundation
import MonaData
import MonaTensor

// Source-knowledge analysis (MoNA's "source representation quality during transfer"): how well the body, as it
// is now, still separates the classes of held-out labelled source data. Inputs are source features [N, D]
// (pooled body outputs of source data through the frozen source embedder) and their labels.

/// Settings of the linear probe.
public struct LinearProbeOptions: Sendable, Equatable, Codable {
    /// Full-batch Adam steps on the multinomial logistic regression.
    public var steps = 300
    public var learningRate: Float = 0.05
    /// L2 penalty ½·weightDecay·‖W‖² (keeps separable data from driving the weights to infinity).
    public var weightDecay: Float = 1e-3
    /// Standardise each feature with the training part's mean and standard deviation first.
    public var standardize = true

    public init() {}
}

/// A trained linear probe's accuracies.
public struct LinearProbeResult: Sendable {
    public var trainAccuracy: Float
    public var testAccuracy: Float
    /// Final training objective (mean cross-entropy + L2 term).
    public var finalLoss: Float
}

/// Trains a multinomial logistic regression (zero-initialised, full-batch Adam — deterministic) on
/// `trainFeatures` [N, D] and reports its accuracy there and on `testFeatures` [M, D].
public func linearProbe(trainFeatures: Tensor, trainLabels: [Int], testFeatures: Tensor, testLabels: [Int],
                        options: LinearProbeOptions = LinearProbeOptions()) -> LinearProbeResult {
    precondition(trainFeatures.rank == 2 && testFeatures.rank == 2 && trainFeatures.shape[1] == testFeatures.shape[1]
                 && trainFeatures.shape[0] == trainLabels.count && testFeatures.shape[0] == testLabels.count
                 && !trainLabels.isEmpty,
                 "linearProbe: features \(trainFeatures.shape) / \(testFeatures.shape) do not match \(trainLabels.count) / \(testLabels.count) labels")
    let classes = (trainLabels + testLabels).max()! + 1
    precondition((trainLabels + testLabels).allSatisfy { $0 >= 0 }, "linearProbe: labels must be non-negative")
    let dim = trainFeatures.shape[1]
    var xTrain = trainFeatures.detached(), xTest = testFeatures.detached()
    if options.standardize {
        let mean = xTrain.mean(alongAxis: 0, keepingDims: true)
        let scale = (xTrain.variance(alongAxis: 0, keepingDims: true) + 1e-6).rsqrt()
        xTrain = (xTrain - mean) * scale
        xTest = (xTest - mean) * scale
    }
    var w = Tensor.zeros([dim, classes]), b = Tensor.zeros([classes])
    var m = [Tensor.zeros([dim, classes]), Tensor.zeros([classes])]
    var v = m
    let beta1: Float = 0.9, beta2: Float = 0.999
    var loss: Float = .nan
    for step in 1...max(1, options.steps) {
        let wv = w.requiringGradient(), bv = b.requiringGradient()
        let logits = Tensor.matmul(xTrain, wv) + bv                                       // [N, C]
        let objective = Tensor.crossEntropy(logits: logits, labels: trainLabels)
            + (wv * wv).sum() * (0.5 * options.weightDecay)
        loss = objective.item
        let g = gradients(of: objective, wrt: [wv, bv])
        withoutGradients {
            let c1 = 1 - Foundation.pow(beta1, Float(step)), c2 = 1 - Foundation.pow(beta2, Float(step))
            for i in 0..<2 {
                m[i] = m[i] * beta1 + g[i] * (1 - beta1)
                v[i] = v[i] * beta2 + g[i] * g[i] * (1 - beta2)
                let update = (m[i] * (1 / c1)) / ((v[i] * (1 / c2)).sqrt() + 1e-8) * options.learningRate
                if i == 0 { w = w - update } else { b = b - update }
            }
        }
    }
    func accuracy(_ x: Tensor, _ y: [Int]) -> Float {
        guard !y.isEmpty else { return .nan }
        let predicted = withoutGradients { (Tensor.matmul(x, w) + b).argmax(alongAxis: 1) }
        var correct = 0
        for i in 0..<y.count where Int(predicted.data[i]) == y[i] { correct += 1 }
        return Float(correct) / Float(y.count)
    }
    return LinearProbeResult(trainAccuracy: accuracy(xTrain, trainLabels), testAccuracy: accuracy(xTest, testLabels),
                             finalLoss: loss)
}

/// k-nearest-neighbour accuracy with cosine similarity: each test row takes the majority label of its `k` most
/// similar training rows (ties between classes go to the larger summed similarity, then the lower label).
public func knnAccuracy(trainFeatures: Tensor, trainLabels: [Int], testFeatures: Tensor, testLabels: [Int],
                        k: Int = 5) -> Float {
    precondition(trainFeatures.rank == 2 && testFeatures.rank == 2 && trainFeatures.shape[1] == testFeatures.shape[1]
                 && trainFeatures.shape[0] == trainLabels.count && testFeatures.shape[0] == testLabels.count
                 && !trainLabels.isEmpty && k >= 1,
                 "knnAccuracy: features \(trainFeatures.shape) / \(testFeatures.shape) do not match \(trainLabels.count) / \(testLabels.count) labels (k = \(k))")
    guard !testLabels.isEmpty else { return .nan }
    let n = trainLabels.count, kk = min(k, n)
    let sims = withoutGradients {
        Tensor.matmul(testFeatures.detached().l2NormalizedRows(), trainFeatures.detached().l2NormalizedRows(),
                      transposeB: true)                                                   // [M, N]
    }
    var correct = 0
    for i in 0..<testLabels.count {
        let row = sims.data + i * n
        // Top-k by a partial selection (k is small).
        var top: [(sim: Float, index: Int)] = []
        for j in 0..<n {
            let s = row[j]
            if top.count < kk {
                top.append((s, j))
                top.sort { $0.sim > $1.sim || ($0.sim == $1.sim && $0.index < $1.index) }
            } else if s > top[kk - 1].sim {
                top[kk - 1] = (s, j)
                top.sort { $0.sim > $1.sim || ($0.sim == $1.sim && $0.index < $1.index) }
            }
        }
        var votes: [Int: (count: Int, sim: Float)] = [:]
        for t in top {
            let c = trainLabels[t.index]
            votes[c] = ((votes[c]?.count ?? 0) + 1, (votes[c]?.sim ?? 0) + t.sim)
        }
        let winner = votes.max { a, b in
            if a.value.count != b.value.count { return a.value.count < b.value.count }
            if a.value.sim != b.value.sim { return a.value.sim < b.value.sim }
            return a.key > b.key
        }!.key
        if winner == testLabels[i] { correct += 1 }
    }
    return Float(correct) / Float(testLabels.count)
}

/// Per-class centroids, member counts and dense labels.
private func classCentroids(_ x: Tensor, _ labels: [Int]) -> (centroids: [[Double]], counts: [Int], y: [Int]) {
    let (y, c) = compactLabels(labels)
    let dim = x.shape[1]
    var sums = [[Double]](repeating: [Double](repeating: 0, count: dim), count: c)
    var counts = [Int](repeating: 0, count: c)
    for i in 0..<y.count {
        counts[y[i]] += 1
        for t in 0..<dim { sums[y[i]][t] += Double(x.data[i * dim + t]) }
    }
    return (zip(sums, counts).map { s, n in s.map { $0 / Double(n) } }, counts, y)
}

private func distance(_ a: UnsafePointer<Float>, _ b: [Double]) -> Double {
    var s = 0.0
    for t in 0..<b.count { let d = Double(a[t]) - b[t]; s += d * d }
    return s.squareRoot()
}

/// Davies–Bouldin index over classes (Euclidean): mean over classes c of max_{c'≠c} (S_c + S_c') / ‖μ_c − μ_c'‖,
/// S_c the mean distance of class c's rows to their centroid. Lower means better separated; needs ≥ 2 classes.
public func daviesBouldinIndex(features: Tensor, labels: [Int]) -> Float {
    precondition(features.rank == 2 && features.shape[0] == labels.count,
                 "daviesBouldinIndex: expected [N, D] with N = \(labels.count), got \(features.shape)")
    let x = features.detached()
    let (mu, counts, y) = classCentroids(x, labels)
    precondition(mu.count >= 2, "daviesBouldinIndex: needs at least 2 classes, got \(mu.count)")
    let dim = x.shape[1]
    var spread = [Double](repeating: 0, count: mu.count)
    for i in 0..<y.count { spread[y[i]] += distance(x.data + i * dim, mu[y[i]]) }
    for c in 0..<mu.count { spread[c] /= Double(counts[c]) }
    var total = 0.0
    for c in 0..<mu.count {
        var worst = 0.0
        for c2 in 0..<mu.count where c2 != c {
            var sep = 0.0
            for t in 0..<dim { let d = mu[c][t] - mu[c2][t]; sep += d * d }
            worst = max(worst, (spread[c] + spread[c2]) / sep.squareRoot())
        }
        total += worst
    }
    return Float(total / Double(mu.count))
}

/// Fisher-style class separation: tr(S_B) / tr(S_W) = Σ_c n_c‖μ_c − μ‖² / Σᵢ ‖xᵢ − μ_{yᵢ}‖² (between- over
/// within-class scatter). Higher means better separated; scale invariant.
public func scatterRatio(features: Tensor, labels: [Int]) -> Float {
    precondition(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                 "scatterRatio: expected [N, D] with N = \(labels.count) > 0, got \(features.shape)")
    let x = features.detached()
    let (mu, counts, y) = classCentroids(x, labels)
    let dim = x.shape[1]
    var overall = [Double](repeating: 0, count: dim)
    for c in 0..<mu.count { for t in 0..<dim { overall[t] += mu[c][t] * Double(counts[c]) / Double(y.count) } }
    var between = 0.0, within = 0.0
    for c in 0..<mu.count {
        for t in 0..<dim { let d = mu[c][t] - overall[t]; between += Double(counts[c]) * d * d }
    }
    for i in 0..<y.count { let d = distance(x.data + i * dim, mu[y[i]]); within += d * d }
    return Float(between / within)
}

/// Mean silhouette (Euclidean): for each row, (b − a) / max(a, b) with a its mean distance to the other rows of
/// its class and b the smallest mean distance to another class; a row alone in its class scores 0. In [−1, 1],
/// higher is better; needs ≥ 2 classes. O(N²·D).
public func silhouetteScore(features: Tensor, labels: [Int]) -> Float {
    precondition(features.rank == 2 && features.shape[0] == labels.count,
                 "silhouetteScore: expected [N, D] with N = \(labels.count), got \(features.shape)")
    let (y, c) = compactLabels(labels)
    precondition(c >= 2, "silhouetteScore: needs at least 2 classes, got \(c)")
    let n = y.count
    let d = withoutGradients { pairwiseSquaredDistances(features.detached(), features.detached()).sqrt() }
    var counts = [Int](repeating: 0, count: c)
    for v in y { counts[v] += 1 }
    var total = 0.0
    for i in 0..<n {
        guard counts[y[i]] > 1 else { continue }
        var sums = [Double](repeating: 0, count: c)
        for j in 0..<n where j != i { sums[y[j]] += Double(d.data[i * n + j]) }
        let a = sums[y[i]] / Double(counts[y[i]] - 1)
        var b = Double.infinity
        for k in 0..<c where k != y[i] && counts[k] > 0 { b = min(b, sums[k] / Double(counts[k])) }
        let m = max(a, b)
        total += m > 0 ? (b - a) / m : 0
    }
    return Float(total / Double(n))
}

/// Every source-knowledge metric at one point of a run.
public struct SourceKnowledgeReport: Sendable, Codable, Equatable {
    /// Test accuracy of a linear probe trained on the train part.
    public var linearProbeAccuracy: Float
    /// k-NN (cosine) accuracy of the test part against the train part.
    public var knnAccuracy: Float
    public var daviesBouldin: Float
    public var scatterRatio: Float
    public var silhouette: Float
    /// L_align and L_uniform (t = 2) of the L2-normalised features (all rows).
    public var alignment: Float
    public var uniformity: Float
    public var samples: Int
    public var classes: Int
}

/// Settings of `analyzeSourceKnowledge`.
public struct SourceKnowledgeOptions: Sendable, Equatable, Codable {
    /// Share of each class held out to evaluate the probes (stratified, seeded).
    public var testFraction = 0.5
    public var seed: UInt64 = 0
    public var neighbours = 5
    public var uniformityT: Float = 2
    public var probe = LinearProbeOptions()

    public init() {}
}

/// All source-knowledge metrics for `features` [N, D] with `labels`: a seeded stratified split into a probe
/// training part and a test part, linear-probe and k-NN accuracy on the test part, and the label-geometry scores
/// (Davies–Bouldin, scatter ratio, silhouette, alignment, uniformity) on all rows.
public func analyzeSourceKnowledge(features: Tensor, labels: [Int],
                                   options: SourceKnowledgeOptions = SourceKnowledgeOptions()) throws -> SourceKnowledgeReport {
    precondition(features.rank == 2 && features.shape[0] == labels.count,
                 "analyzeSourceKnowledge: expected [N, D] with N = \(labels.count), got \(features.shape)")
    let (y, classes) = compactLabels(labels)
    let split = try Split.stratified(labels: y, validationFraction: options.testFraction, seed: options.seed)
    let x = features.detached()
    let xTrain = x.indexSelect(axis: 0, indices: split.train), xTest = x.indexSelect(axis: 0, indices: split.validation)
    let yTrain = split.train.map { y[$0] }, yTest = split.validation.map { y[$0] }
    let probe = linearProbe(trainFeatures: xTrain, trainLabels: yTrain, testFeatures: xTest, testLabels: yTest,
                            options: options.probe)
    let z = withoutGradients { x.l2NormalizedRows() }
    return SourceKnowledgeReport(
        linearProbeAccuracy: probe.testAccuracy,
        knnAccuracy: knnAccuracy(trainFeatures: xTrain, trainLabels: yTrain, testFeatures: xTest, testLabels: yTest,
                                 k: options.neighbours),
        daviesBouldin: classes >= 2 ? daviesBouldinIndex(features: x, labels: y) : .nan,
        scatterRatio: scatterRatio(features: x, labels: y),
        silhouette: classes >= 2 ? silhouetteScore(features: x, labels: y) : .nan,
        alignment: withoutGradients { alignLoss(z, labels: y).item },
        uniformity: y.count >= 2 ? withoutGradients { uniformLoss(z, t: options.uniformityT).item } : .nan,
        samples: y.count, classes: classes)
}

/// The modality gap between embedded target and source features.
public struct ModalityGap: Sendable, Codable, Equatable {
    /// Label-aware OTDD (debiased, ε = 0.1 by default).
    public var otdd: Float
    /// MMD² with the multi-bandwidth Gaussian kernel.
    public var mmd: Float
    /// Whether every Sinkhorn problem converged.
    public var converged: Bool
}

/// OTDD and MMD between target features [M, D] and source features [N, D] (both e.g. mean-pooled token
/// embeddings). Target labels default to k-means pseudo-labels of the target features (k = 10, seeded) — for
/// regression or dense targets pass `kMeansPseudoLabels(targets:)` of the target values instead, as ORCA does.
public func modalityGap(source: Tensor, sourceLabels: [Int], target: Tensor, targetLabels: [Int]? = nil,
                        options: OTDDOptions = OTDDOptions(), seed: UInt64 = 0) -> ModalityGap {
    withoutGradients {
        let yt = targetLabels ?? kMeans(target, k: 10, seed: seed).assignments
        let r = otdd(source: source, sourceLabels: sourceLabels, target: target, targetLabels: yt, options: options)
        let mmd = maximumMeanDiscrepancy(source.detached(), target.detached())
        return ModalityGap(otdd: r.distance.item, mmd: mmd.item, converged: r.converged)
    }
}
