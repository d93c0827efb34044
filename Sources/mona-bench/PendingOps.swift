import CKernelRef
import MonaTensor

// Benchmark rows for ops that other branches are adding (`exp()`, `gelu()`, `softmax(alongAxis:)`,
// `layerNorm(weight:bias:epsilon:)`, `permuted(_:)`). They compile only with `-Xswiftc -DMONA_PENDING_OPS`;
// once those ops are merged, drop the `#if` (and this comment) and fold the rows into `KernelRow.all`.

#if MONA_PENDING_OPS
var pendingKernelRows: [KernelRow] {
    [
    .unary("exp [2048×1536]", shape: [2048, 1536], { $0.exp() }, { ref_exp($0, $1, $2, $3) }),
    .unary("gelu(erf) [2048×1536]", shape: [2048, 1536], { $0.gelu() }, { ref_gelu_erf($0, $1, $2, $3) }),
    .rows("softmax rows of 128 [12288×128]", shape: [12288, 128], { $0.x.softmax(alongAxis: -1) },
          { i, out, n, r0, r1 in ref_softmax_rows(i.x.data, out, n, r0, r1) }),
    .rows("layerNorm rows of 384 [2048×384]", shape: [2048, 384],
          { $0.x.layerNorm(weight: $0.weight, bias: $0.bias, epsilon: 1e-6) },
          { i, out, n, r0, r1 in ref_layernorm_rows(i.x.data, i.weight.data, i.bias.data, out, n, 1e-6, r0, r1) }),
    ]
}
/// Parts of the benchmark that wait for ops from other branches.
let pendingBenchParts: [String] = []
#else
var pendingKernelRows: [KernelRow] { [] }
let pendingBenchParts = ["exp", "gelu", "softmax", "layerNorm", "encoder layer"]
#endif
