import CKernelRef
import MonaTensor

/// Inputs shared by the kernel rows: `x` of the row's shape, `y` like `x`, `weight`/`bias` of its last axis.
struct KernelInputs {
    let x: Tensor, y: Tensor, weight: Tensor, bias: Tensor

    init(shape: [Int]) {
        var g = SeededGenerator(seed: 11)
        x = Tensor.randomUniform(shape, low: -4, high: 4, generator: &g)
        y = Tensor.randomUniform(shape, low: -4, high: 4, generator: &g)
        weight = Tensor.randomUniform([shape.last ?? 1], low: 0.5, high: 1.5, generator: &g)
        bias = Tensor.randomUniform([shape.last ?? 1], low: -0.5, high: 0.5, generator: &g)
    }
}

/// One row of the kernel table: an engine op through the public API next to a C reference loop.
///
/// The C loop is split over the engine's pool in `units` (elements or rows) so that both sides use the same
/// number of threads. Adding a row is one line in `KernelRow.all` (or in PendingOps.swift).
struct KernelRow {
    let name: String
    let shape: [Int]
    /// Independent units the reference loop is split into (elements for elementwise ops, rows otherwise).
    let units: Int
    let engine: (KernelInputs) -> Tensor
    let reference: (KernelInputs, UnsafeMutablePointer<Float>, Range<Int>) -> Void

    /// An elementwise op y = f(x).
    static func unary(_ name: String, shape: [Int], _ engine: @escaping (Tensor) -> Tensor,
                      _ ref: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> KernelRow {
        KernelRow(name: name, shape: shape, units: shape.reduce(1, *), engine: { engine($0.x) },
                  reference: { i, out, r in ref(i.x.data, out, r.lowerBound, r.upperBound) })
    }

    /// An op over rows of the last axis; `ref(inputs, out, rowLength, r0, r1)`.
    static func rows(_ name: String, shape: [Int], _ engine: @escaping (KernelInputs) -> Tensor,
                     _ ref: @escaping (KernelInputs, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void) -> KernelRow {
        let n = shape.last ?? 1
        return KernelRow(name: name, shape: shape, units: shape.reduce(1, *) / n, engine: engine,
                         reference: { i, out, r in ref(i, out, n, r.lowerBound, r.upperBound) })
    }

    /// Every kernel row: engine op vs the C reference loop on the same input.
    static var all: [KernelRow] {
        [
            KernelRow(name: "add [2048×1536]", shape: [2048, 1536], units: 2048 * 1536,
                      engine: { $0.x + $0.y },
                      reference: { i, out, r in ref_add(i.x.data, i.y.data, out, r.lowerBound, r.upperBound) }),
            .unary("exp [2048×1536]", shape: [2048, 1536], { $0.exp() }, { ref_exp($0, $1, $2, $3) }),
            .unary("gelu(erf) [2048×1536]", shape: [2048, 1536], { $0.gelu() }, { ref_gelu_erf($0, $1, $2, $3) }),
            .rows("softmax rows of 128 [12288×128]", shape: [12288, 128], { $0.x.softmax(alongAxis: -1) },
                  { i, out, n, r0, r1 in ref_softmax_rows(i.x.data, out, n, r0, r1) }),
            .rows("layerNorm rows of 384 [2048×384]", shape: [2048, 384],
                  { $0.x.layerNorm(weight: $0.weight, bias: $0.bias, epsilon: 1e-6) },
                  { i, out, n, r0, r1 in ref_layernorm_rows(i.x.data, i.weight.data, i.bias.data, out, n, 1e-6, r0, r1) }),
        ]
    }
}

struct KernelResult {
    let row: KernelRow
    let threads: Int
    let engineNsPerElement: Double
    let referenceNsPerElement: Double
    /// Maximum |engine − reference| over the output (a sanity check that both compute the same thing).
    let maxAbsDifference: Float
    var ratio: Double { engineNsPerElement / referenceNsPerElement }
}

func benchKernel(_ row: KernelRow, threads: Int, budget: BenchBudget) -> KernelResult {
    let inputs = KernelInputs(shape: row.shape)
    let count = row.shape.reduce(1, *)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
    out.initialize(repeating: 0, count: count)
    defer { out.deallocate() }
    let perUnit = count / max(row.units, 1)
    var result = Tensor(0)
    let (reference, engine) = budget.bestPair({
        Parallel.forEachChunk(row.units, costPerItem: perUnit) { r in row.reference(inputs, out, r) }
    }, {
        result = row.engine(inputs)
    })
    var diff: Float = 0
    let pe = result.data
    for i in 0..<count { diff = max(diff, abs(pe[i] - out[i])) }
    return KernelResult(row: row, threads: threads, engineNsPerElement: engine / Double(count) * 1e9,
                        referenceNsPerElement: reference / Double(count) * 1e9, maxAbsDifference: diff)
}
