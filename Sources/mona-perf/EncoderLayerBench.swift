import MonaTensor

/// Figures for one pre-LN transformer encoder layer.
struct LayerFigures {
    let table: Table
    let json: [(String, JSON)]
}

/// A pre-LN encoder layer (d = 384, 6 heads, FFN 1536, GELU, no dropout) built from engine ops.
struct EncoderLayer {
    static let d = 384, heads = 6, ffn = 1536
    let ln1w: Tensor, ln1b: Tensor, wq: Tensor, bq: Tensor, wk: Tensor, bk: Tensor, wv: Tensor, bv: Tensor
    let wo: Tensor, bo: Tensor, ln2w: Tensor, ln2b: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor

    var parameters: [Tensor] { [ln1w, ln1b, wq, bq, wk, bk, wv, bv, wo, bo, ln2w, ln2b, w1, b1, w2, b2] }

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        let d = Self.d, f = Self.ffn
        func w(_ shape: [Int]) -> Tensor {
            Tensor.randomNormal(shape, std: 1 / Float(shape[0]).squareRoot(), generator: &g).requiringGradient()
        }
        func z(_ n: Int) -> Tensor { Tensor.zeros([n]).requiringGradient() }
        ln1w = Tensor.ones([d]).requiringGradient(); ln1b = z(d)
        wq = w([d, d]); bq = z(d); wk = w([d, d]); bk = z(d); wv = w([d, d]); bv = z(d); wo = w([d, d]); bo = z(d)
        ln2w = Tensor.ones([d]).requiringGradient(); ln2b = z(d)
        w1 = w([d, f]); b1 = z(f); w2 = w([f, d]); b2 = z(d)
    }

    /// x: [batch, tokens, d] → [batch, tokens, d].
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, t, d, h) = (x.shape[0], x.shape[1], Self.d, Self.heads)
        let dh = d / h
        let flat = x.reshaped(to: [b * t, d])                                              // [bt, d]
        let n1 = flat.layerNorm(weight: ln1w, bias: ln1b, epsilon: 1e-6)
        func heads(_ y: Tensor) -> Tensor { y.reshaped(to: [b, t, h, dh]).permuted([0, 2, 1, 3]) }  // [b, h, t, dh]
        let q = heads(n1.matmul(wq) + bq), k = heads(n1.matmul(wk) + bk), v = heads(n1.matmul(wv) + bv)
        let scores = Tensor.matmul(q, k, transposeB: true) * (1 / Float(dh).squareRoot())    // [b, h, t, t]
        let context = Tensor.matmul(scores.softmax(alongAxis: -1), v)                       // [b, h, t, dh]
            .permuted([0, 2, 1, 3]).reshaped(to: [b * t, d])
        let x1 = flat + (context.matmul(wo) + bo)
        let n2 = x1.layerNorm(weight: ln2w, bias: ln2b, epsilon: 1e-6)
        let x2 = x1 + ((n2.matmul(w1) + b1).gelu().matmul(w2) + b2)                       // [bt, d]
        return x2.reshaped(to: [b, t, d])
    }
}

func encoderLayerFigures(threadCounts: [Int], budget: BenchBudget) -> LayerFigures? {
    let batch = 16, tokens = 128
    let layer = EncoderLayer(seed: 3)
    var g = SeededGenerator(seed: 4)
    let x = Tensor.randomNormal([batch, tokens, EncoderLayer.d], generator: &g)
    let params = layer.parameters
    var table = Table("Pre-LN encoder layer (d=384, 6 heads, FFN 1536, GELU), batch 16×128 tokens",
                      columns: ["step", "threads", "ms", "tokens/s"])
    var json: [(String, JSON)] = []
    func firstOrderStep() {
        let loss = layer(x).squaredValues().mean()
        let grads = gradients(of: loss, wrt: params)
        precondition(grads.count == params.count)
    }
    // Gradient with a graph, then the backward of its squared norm (the MoNA inner/outer pattern).
    func doubleBackwardStep() {
        let loss = layer(x).squaredValues().mean()
        let grads = gradients(of: loss, wrt: params, createGraph: true)
        let norm = grads.map { $0.squaredValues().sum() }.reduce(Tensor(0), +)
        let outer = gradients(of: norm, wrt: params)
        precondition(outer.count == params.count)
    }
    let most = threadCounts.max() ?? 1
    var ratio = Double.nan, second = Double.nan
    for t in threadCounts {
        Engine.setThreadCount(t)
        let step: Double
        if t == most {
            // Timed alternately with the first-order step, so that their ratio sees the same machine load.
            (step, second) = budget.bestPair(firstOrderStep, doubleBackwardStep)
            ratio = second / step
        } else {
            step = budget.best(firstOrderStep)
        }
        let tps = Double(batch * tokens) / step
        table.rows.append(["forward + backward", "\(t)", format3(step * 1e3), format3(tps)])
        json.append(("layer_fwd_bwd_tokens_per_s_\(t)t", .number(tps)))
    }
    table.rows.append(["double backward (‖∇‖² backward)", "\(most)", format3(second * 1e3),
                       format3(Double(batch * tokens) / second)])
    table.notes.append("double_backward_ratio (double / first-order step at \(most) threads): \(format3(ratio)) "
                       + "(target ≤ 3)")
    json.append(("double_backward_ratio", .number(ratio)))
    return LayerFigures(table: table, json: json)
}

extension Tensor {
    /// self · self.
    fileprivate func squaredValues() -> Tensor { self * self }
}
