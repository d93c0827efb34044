import Foundation
import MonaData
import MonaTensor

/// Token-sequence expert: k-mer spectrum features (counts of every contiguous run of 1…k tokens, divided by
/// the number of runs of that length in the sequence) into L2-regularised multinomial logistic regression.
///
/// k ∈ {1, 2, 3} and the inverse regularisation C ∈ {0.01, 0.1, 1, 10, 100} are chosen on the validation split
/// (selection metric, ties to the smaller k, then the smaller C); the model is fitted on the training split.
/// Only k-mers present in at least two training sequences become features (the rest cannot generalise), and
/// features are divided by their training standard deviation (no centring, so the matrix stays sparse), as
/// scikit-learn's `StandardScaler(with_mean=False)` + `LogisticRegression(C)` would do. The objective is
/// C·Σᵢ CE(xᵢ) + ½‖W‖² (bias unpenalised), minimised by L-BFGS, warm-started along increasing C.
public struct KmerLogisticModel: ExpertModel {
    public static let orders = [1, 2, 3]
    public static let inverseRegularisations: [Double] = [0.01, 0.1, 1, 10, 100]

    public let order: Int
    public let inverseRegularisation: Double
    /// k-mer key → feature column.
    let vocabulary: [KmerKey: Int]
    let scale: [Double]
    let weights: [Double]          // [d, K]
    let bias: [Double]             // [K]
    public let classCount: Int

    public var selected: [(String, Double)] {
        [("k", Double(order)), ("C", inverseRegularisation), ("features", Double(vocabulary.count))]
    }

    public var parameterCount: Int { weights.count + bias.count }

    public var summary: String {
        "k-mer spectrum (k ≤ \(order), \(vocabulary.count) features) + L2 logistic regression, C = \(inverseRegularisation)"
    }

    public static func fit(train: LabeledDataset, validation: LabeledDataset, task: TaskSpec,
                           seed: UInt64) throws -> KmerLogisticModel {
        guard case .tokens(let seqs) = train.inputs, case .classes(let labels, let names) = train.targets else {
            throw TransferError.badTask("kmer-logistic: task '\(task.name)' needs token inputs with class labels")
        }
        guard !seqs.isEmpty else { throw TransferError.badTask("kmer-logistic: the training split is empty") }
        let hasValidation = validation.count > 0
        var best: (model: KmerLogisticModel, value: Double)?
        for k in orders {
            let vocab = KmerLogisticModel.vocabulary(seqs, order: k)
            let x = SparseRows(seqs, order: k, vocabulary: vocab)
            let scale = x.columnScale()
            let xs = x.scaled(by: scale)
            var start: [Double]?
            for c in inverseRegularisations {
                let fit = LogisticRegression(x: xs, labels: labels, classCount: names.count, c: c, start: start)
                start = fit.parameters
                let model = KmerLogisticModel(order: k, inverseRegularisation: c, vocabulary: vocab, scale: scale,
                                              weights: fit.weights, bias: fit.bias, classCount: names.count)
                guard hasValidation else {
                    // Without a validation split nothing can be chosen: the middle of the grid, k = 2.
                    if k == 2 && c == 1 { return model }
                    continue
                }
                let scores = try model.predict(validation)
                let value = task.metrics(predictions: scores, data: validation)[task.metric] ?? .nan
                let better = best.map { task.higherIsBetter ? value > $0.value : value < $0.value } ?? value.isFinite
                if better { best = (model, value) }
            }
        }
        guard let best else { throw TransferError.badTask("kmer-logistic: no finite validation metric for any setting") }
        return best.model
    }

    public func predict(_ data: LabeledDataset) throws -> Tensor {
        guard case .tokens(let seqs) = data.inputs else {
            throw TransferError.badTask("kmer-logistic: expected token inputs for \(data.name)")
        }
        let x = SparseRows(seqs, order: order, vocabulary: vocabulary).scaled(by: scale)
        let k = classCount
        var out = [Float](repeating: 0, count: seqs.count * k)
        for i in 0..<seqs.count {
            var z = bias
            for e in x.offsets[i]..<x.offsets[i + 1] {
                let col = x.columns[e], v = x.values[e]
                for c in 0..<k { z[c] += v * weights[col * k + c] }
            }
            for c in 0..<k { out[i * k + c] = Float(z[c]) }
        }
        return Tensor(out, shape: [seqs.count, k])
    }

    /// k-mers (all orders 1…k) found in at least two training sequences, numbered in first-seen order.
    static func vocabulary(_ seqs: [[Int]], order: Int) -> [KmerKey: Int] {
        var documents: [KmerKey: Int] = [:]
        var firstSeen: [KmerKey] = []
        for s in seqs {
            var seen = Set<KmerKey>()
            forEachKmer(s, order: order) { key in seen.insert(key) }
            for key in seen {
                if documents[key] == nil { firstSeen.append(key) }
                documents[key, default: 0] += 1
            }
        }
        // Sorted so the numbering never depends on hashing order.
        let kept = firstSeen.filter { documents[$0]! >= 2 }.sorted()
        var vocab: [KmerKey: Int] = [:]
        for (j, key) in kept.enumerated() { vocab[key] = j }
        return vocab
    }

    /// Calls `body` for every contiguous run of 1…order tokens.
    static func forEachKmer(_ s: [Int], order: Int, _ body: (KmerKey) -> Void) {
        for m in 1...order where s.count >= m {
            for start in 0...(s.count - m) { body(KmerKey(tokens: Array(s[start..<(start + m)]))) }
        }
    }
}

/// A k-mer: its tokens (length = its order).
struct KmerKey: Hashable, Comparable, Sendable {
    let tokens: [Int]
    static func < (a: KmerKey, b: KmerKey) -> Bool {
        a.tokens.count != b.tokens.count ? a.tokens.count < b.tokens.count : a.tokens.lexicographicallyPrecedes(b.tokens)
    }
}

/// Rows of k-mer frequencies in compressed sparse row form.
struct SparseRows {
    var offsets: [Int] = [0]
    var columns: [Int] = []
    var values: [Double] = []
    let columnCount: Int

    var rowCount: Int { offsets.count - 1 }

    init(_ seqs: [[Int]], order: Int, vocabulary: [KmerKey: Int]) {
        columnCount = vocabulary.count
        for s in seqs {
            var row: [Int: Double] = [:]
            for m in 1...order where s.count >= m {
                // Frequencies within each order: counts over the number of runs of that length.
                let runs = Double(s.count - m + 1)
                for start in 0...(s.count - m) {
                    if let j = vocabulary[KmerKey(tokens: Array(s[start..<(start + m)]))] { row[j, default: 0] += 1 / runs }
                }
            }
            for j in row.keys.sorted() {
                columns.append(j)
                values.append(row[j]!)
            }
            offsets.append(columns.count)
        }
    }

    /// Population standard deviation of each column (zeros included), 1 where it is 0.
    func columnScale() -> [Double] {
        var sum = [Double](repeating: 0, count: columnCount), sq = sum
        for e in 0..<columns.count { sum[columns[e]] += values[e]; sq[columns[e]] += values[e] * values[e] }
        let n = Double(max(rowCount, 1))
        return (0..<columnCount).map { j in
            let mean = sum[j] / n
            let v = max(sq[j] / n - mean * mean, 0)
            return v > 0 ? v.squareRoot() : 1
        }
    }

    func scaled(by scale: [Double]) -> SparseRows {
        var out = self
        for e in 0..<columns.count { out.values[e] /= scale[columns[e]] }
        return out
    }
}

/// L2-regularised multinomial logistic regression on sparse rows, by L-BFGS: minimises
/// (1/n)·Σᵢ CE(softmax(W·xᵢ + b), yᵢ) + ‖W‖² / (2·C·n), i.e. scikit-learn's objective divided by C·n.
struct LogisticRegression {
    let weights: [Double]
    let bias: [Double]
    var parameters: [Double] { weights + bias }

    init(x: SparseRows, labels: [Int], classCount k: Int, c: Double, start: [Double]?, iterations: Int = 300) {
        let d = x.columnCount, n = x.rowCount
        let size = d * k + k
        let penalty = 1 / (c * Double(n))
        func objective(_ p: [Double]) -> (Double, [Double]) {
            var grad = [Double](repeating: 0, count: size)
            var loss = 0.0
            var z = [Double](repeating: 0, count: k)
            for i in 0..<n {
                for cl in 0..<k { z[cl] = p[d * k + cl] }
                for e in x.offsets[i]..<x.offsets[i + 1] {
                    let base = x.columns[e] * k, v = x.values[e]
                    for cl in 0..<k { z[cl] += v * p[base + cl] }
                }
                let top = z.max() ?? 0
                var sum = 0.0
                for cl in 0..<k { z[cl] = exp(z[cl] - top); sum += z[cl] }
                loss -= log(z[labels[i]] / sum)
                for cl in 0..<k { z[cl] = z[cl] / sum - (cl == labels[i] ? 1 : 0) }
                for e in x.offsets[i]..<x.offsets[i + 1] {
                    let base = x.columns[e] * k, v = x.values[e]
                    for cl in 0..<k { grad[base + cl] += v * z[cl] }
                }
                for cl in 0..<k { grad[d * k + cl] += z[cl] }
            }
            loss /= Double(n)
            for j in 0..<size { grad[j] /= Double(n) }
            for j in 0..<(d * k) {
                loss += 0.5 * penalty * p[j] * p[j]
                grad[j] += penalty * p[j]
            }
            return (loss, grad)
        }
        let p = LBFGS.minimise(objective, start: start ?? [Double](repeating: 0, count: size), iterations: iterations)
        weights = Array(p[0..<(d * k)])
        bias = Array(p[(d * k)...])
    }
}

/// Limited-memory BFGS (10 pairs) with a backtracking Armijo line search, for smooth convex objectives.
enum LBFGS {
    static func minimise(_ f: ([Double]) -> (Double, [Double]), start: [Double], iterations: Int,
                         memory: Int = 10, tolerance: Double = 1e-6) -> [Double] {
        var x = start
        var (fx, g) = f(x)
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var t = 0.0
            for i in a.indices { t += a[i] * b[i] }
            return t
        }
        for iteration in 0..<iterations {
            if g.map(abs).max() ?? 0 < tolerance { break }
            // Two-loop recursion: direction = −H·g.
            var q = g
            var a = [Double](repeating: 0, count: s.count)
            for i in stride(from: s.count - 1, through: 0, by: -1) {
                a[i] = rho[i] * dot(s[i], q)
                for j in q.indices { q[j] -= a[i] * y[i][j] }
            }
            if let ls = s.last, let ly = y.last {
                let gamma = dot(ls, ly) / max(dot(ly, ly), 1e-300)
                for j in q.indices { q[j] *= gamma }
            } else {
                let norm = dot(g, g).squareRoot()
                for j in q.indices { q[j] /= max(norm, 1e-300) }
            }
            for i in 0..<s.count {
                let b = rho[i] * dot(y[i], q)
                for j in q.indices { q[j] += s[i][j] * (a[i] - b) }
            }
            var direction = q.map { -$0 }
            var slope = dot(g, direction)
            if !(slope < 0) {
                // Not a descent direction (curvature lost): restart from steepest descent.
                s.removeAll(); y.removeAll(); rho.removeAll()
                direction = g.map { -$0 }
                slope = dot(g, direction)
            }
            var step = 1.0
            var accepted = false
            var xNew = x, fNew = fx, gNew = g
            for _ in 0..<40 {
                for j in x.indices { xNew[j] = x[j] + step * direction[j] }
                (fNew, gNew) = f(xNew)
                if fNew.isFinite && fNew <= fx + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }
            let sk = zip(xNew, x).map { $0 - $1 }, yk = zip(gNew, g).map { $0 - $1 }
            let sy = dot(sk, yk)
            if sy > 1e-12 {
                s.append(sk); y.append(yk); rho.append(1 / sy)
                if s.count > memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            }
            let decrease = fx - fNew
            x = xNew; fx = fNew; g = gNew
            if iteration > 0 && decrease <= 1e-10 * max(abs(fx), 1) { break }
        }
        return x
    }
}
