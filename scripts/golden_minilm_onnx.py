#!/usr/bin/env python3
"""Golden outputs of the two ONNX MiniLM bodies for Tests/Fixtures/minilm_onnx_golden.json (test-time only).

Runs paraphrase-MiniLM-L3-v2 (fp32) and all-MiniLM-L6-v2 int8 (fetched by `scripts/fetch-assets.sh bodies`) with
onnxruntime on the two sentences of DESIGN.md §4 (ids as given there: unpadded, token type 0) and records the
last hidden state and the mean-pooled, L2-normalised sentence embedding.

    pip install onnxruntime numpy
    python3 scripts/golden_minilm_onnx.py
"""
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".assets"
OUT = ROOT / "Tests/Fixtures/minilm_onnx_golden.json"

SENTENCES = {
    "The heart rate increased sharply.": [101, 1996, 2540, 3446, 3445, 9249, 1012, 102],
    "A time series of sensor readings.": [101, 1037, 2051, 2186, 1997, 13617, 15324, 1012, 102],
}
MODELS = {
    # name: (file, output holding the last hidden state)
    "minilm-l3": ("minilm-l3/paraphrase-MiniLM-L3-v2.onnx", "onnx::Shape_422"),
    "minilm-l6-int8": ("minilm-l6-int8/model.onnx", "last_hidden_state"),
}


def r(values):
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def main():
    results = {}
    for name, (path, output) in MODELS.items():
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(ASSETS / path), options, providers=["CPUExecutionProvider"])
        wanted = {i.name for i in session.get_inputs()}
        embeddings, cases = [], []
        for text, ids in SENTENCES.items():
            feed = {"input_ids": np.array([ids], dtype=np.int64),
                    "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                    "token_type_ids": np.zeros((1, len(ids)), dtype=np.int64)}
            hidden = session.run([output], {k: v for k, v in feed.items() if k in wanted})[0][0]   # [tokens, 384]
            pooled = hidden.astype(np.float64).mean(axis=0)
            emb = pooled / np.linalg.norm(pooled)
            embeddings.append(emb)
            cases.append({"text": text, "ids": ids, "last_hidden_token0_first8": r(hidden[0, :8]),
                          "last_hidden_last_token_last4": r(hidden[-1, -4:]),
                          "last_hidden_mean": r([hidden.mean()])[0], "last_hidden_std": r([hidden.std()])[0],
                          "embedding_first8": r(emb[:8])})
        results[name] = {"file": path, "output": output, "cases": cases,
                         "cosine": r([float(embeddings[0] @ embeddings[1])])[0]}
    OUT.write_text(json.dumps({
        "generator": f"scripts/golden_minilm_onnx.py, onnxruntime {ort.__version__}, graph optimisations disabled",
        "pooling": "mean over tokens of the last hidden state, then L2-normalised",
        "models": results,
    }, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
