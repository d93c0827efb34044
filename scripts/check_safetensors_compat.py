#!/usr/bin/env python3
"""Checks MonaFormats against the Python reference libraries (not part of the Swift tests, not run by CI).

1. Python writes from_python.{safetensors,pt,npz} (mixed dtypes, a non-contiguous torch view).
2. The opt-in Swift test InteropTests reads them, checks all three agree, and writes from_swift.{safetensors,npy,npz}.
3. Python reads the Swift files with `safetensors` (numpy and torch APIs) and numpy, compares values and
   metadata, and checks that Swift's safetensors bytes (without metadata) are identical to what the reference
   writer produces for the same float32 tensors.

Needs: pip install safetensors numpy torch. Usage: python3 scripts/check_safetensors_compat.py
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file as np_load_file, save as np_save
from safetensors.torch import load_file as torch_load_file, save_file as torch_save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    tensors = {
        "matrix": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7,
        "half": torch.tensor([1.0, -2.5, 65504.0, 2.0 ** -24], dtype=torch.float16),
        "bf16": torch.tensor([[1.0, -3.0], [0.15625, 100.0]], dtype=torch.bfloat16),
        "ids": torch.tensor([-5, 6, 1 << 20], dtype=torch.int64),
        "bytes": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "flags": torch.tensor([True, False]),
        "double": torch.tensor([0.1, -1e10], dtype=torch.float64),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "encoder.layer.0.attention.self.query.weight": torch.randn(4, 4, generator=torch.Generator().manual_seed(0)),
    }
    expected = {k: v.to(torch.float32).numpy() for k, v in tensors.items()}
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d)
        torch_save_file(tensors, out / "from_python.safetensors", metadata={"format": "pt"})
        # The checkpoint stores a transposed view to exercise strides.
        ckpt = dict(tensors)
        ckpt["matrix"] = tensors["matrix"].t().contiguous().t()
        torch.save(ckpt, out / "from_python.pt")
        np.savez_compressed(out / "from_python.npz",
                            **{k: v.numpy() for k, v in tensors.items() if v.dtype != torch.bfloat16})

        env = dict(os.environ, MONA_INTEROP_DIR=str(out))
        cmd = ["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--filter", "InteropTests"]
        print("running:", " ".join(cmd))
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0 or "passed" not in result.stdout + result.stderr:
            print(result.stdout[-3000:], result.stderr[-3000:])
            print("FAIL: Swift side")
            return 1

        failures = 0
        for loader in (np_load_file, lambda p: {k: v.numpy() for k, v in torch_load_file(p).items()}):
            got = loader(out / "from_swift.safetensors")
            for k, v in expected.items():
                if got[k].dtype != np.float32 or got[k].shape != v.shape or not np.array_equal(got[k], v):
                    print(f"FAIL: {k} differs: {got[k]!r} vs {v!r}")
                    failures += 1
        # Byte identity is checked without metadata: the reference writer keeps `__metadata__` in a hash map
        # whose order varies between runs.
        reference = np_save(expected)
        swift_bytes = (out / "from_swift_plain.safetensors").read_bytes()
        from safetensors import safe_open
        with safe_open(out / "from_swift.safetensors", framework="np") as f:
            if f.metadata() != {"source": "mona", "format": "pt"}:
                print("FAIL: metadata", f.metadata())
                failures += 1
        if reference != swift_bytes:
            print("FAIL: Swift safetensors bytes differ from the reference writer's")
            print("  swift header:", swift_bytes[8:8 + int.from_bytes(swift_bytes[:8], 'little')][:300])
            print("  ref   header:", reference[8:8 + int.from_bytes(reference[:8], 'little')][:300])
            failures += 1
        npy = np.load(out / "from_swift.npy")
        if npy.dtype != np.float32 or not np.array_equal(npy, expected["matrix"]):
            print("FAIL: from_swift.npy differs")
            failures += 1
        with np.load(out / "from_swift.npz") as z:
            for k, v in expected.items():
                if not np.array_equal(z[k], v):
                    print(f"FAIL: from_swift.npz[{k}] differs")
                    failures += 1
        print(f"{len(expected)} tensors: safetensors (numpy + torch loaders), npy, npz; byte-identical header: "
              f"{reference == swift_bytes}")
        print("OK" if failures == 0 else f"{failures} failures")
        return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
