#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import MonaTensor

/// One matrix product: C[m×n] = op(A)·op(B), with A and B stored as the engine stores them.
struct GemmShape {
    let label: String
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    var batch = 1

    var flops: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(k) }
    var shapeA: [Int] { (batch > 1 ? [batch] : []) + (transposeA ? [k, m] : [m, k]) }
    var shapeB: [Int] { (batch > 1 ? [batch] : []) + (transposeB ? [n, k] : [k, n]) }

    /// The encoder-layer products at d = 384, FFN 1536, 2048 tokens, and the backward products of the FFN-in one.
    static let encoder: [GemmShape] = [
        GemmShape(label: "qkv   [2048×384]·[384×1152]", m: 2048, n: 1152, k: 384, transposeA: false, transposeB: false),
        GemmShape(label: "ffn1  [2048×384]·[384×1536]", m: 2048, n: 1536, k: 384, transposeA: false, transposeB: false),
        GemmShape(label: "ffn2  [2048×1536]·[1536×384]", m: 2048, n: 384, k: 1536, transposeA: false, transposeB: false),
        GemmShape(label: "dA=G·Bᵀ [2048×1536]·[384×1536]ᵀ", m: 2048, n: 384, k: 1536, transposeA: false, transposeB: true),
        GemmShape(label: "dB=Aᵀ·G [2048×384]ᵀ·[2048×1536]", m: 384, n: 1536, k: 2048, transposeA: true, transposeB: false),
    ]

    /// Attention products: 16 sequences × 6 heads of 128 tokens, head size 64.
    static let attention: [GemmShape] = [
        GemmShape(label: "Q·Kᵀ 96×[128×64]·[128×64]ᵀ", m: 128, n: 128, k: 64, transposeA: false, transposeB: true,
                  batch: 96),
        GemmShape(label: "P·V  96×[128×128]·[128×64]", m: 128, n: 64, k: 128, transposeA: false, transposeB: false,
                  batch: 96),
    ]
}

struct GemmResult {
    let shape: GemmShape
    let threads: Int
    let engineSeconds: Double
    let directSeconds: Double
    var engineGFLOPs: Double { shape.flops / engineSeconds * 1e-9 }
    var directGFLOPs: Double { shape.flops / directSeconds * 1e-9 }
    var ratio: Double { directSeconds / engineSeconds }
}

/// Times `Tensor.matmul` against `cblas_sgemm` called on the same input buffers (into a reused output buffer).
/// For batched shapes the direct figure is a plain loop of threaded BLAS calls, one per batch element.
func benchGemm(_ s: GemmShape, threads: Int, budget: BenchBudget) -> GemmResult {
    var g = SeededGenerator(seed: 7)
    let a = Tensor.randomUniform(s.shapeA, low: -1, high: 1, generator: &g)
    let b = Tensor.randomUniform(s.shapeB, low: -1, high: 1, generator: &g)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: s.batch * s.m * s.n)
    c.initialize(repeating: 0, count: s.batch * s.m * s.n)
    defer { c.deallocate() }
    let pa = a.data, pb = b.data
    let lda = Int32(s.transposeA ? s.m : s.k), ldb = Int32(s.transposeB ? s.k : s.n)
    let ta = s.transposeA ? CblasTrans : CblasNoTrans, tb = s.transposeB ? CblasTrans : CblasNoTrans
    let (direct, engine) = budget.bestPair({
        for i in 0..<s.batch {
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(s.m), Int32(s.n), Int32(s.k), 1,
                        pa + i * s.m * s.k, lda, pb + i * s.k * s.n, ldb, 0, c + i * s.m * s.n, Int32(s.n))
        }
    }, {
        let out = Tensor.matmul(a, b, transposeA: s.transposeA, transposeB: s.transposeB)
        precondition(out.count == s.batch * s.m * s.n)
    })
    return GemmResult(shape: s, threads: threads, engineSeconds: engine, directSeconds: direct)
}
