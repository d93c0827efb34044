#!/usr/bin/env python3
"""PyTorch CPU reference for `mona-perf encoder`: the same pre-LN encoder stack, timed the same way.

6 layers, d=384, 6 heads, FFN 1536, GELU, pre-LN, no dropout, batch 16 x 128 tokens, loss = mean of squared
outputs. Prints one JSON object: forward+backward tokens/s and with an AdamW step, at the given thread count.
usage: torch_encoder.py THREADS [REPEATS]
       torch_encoder.py --serve THREADS   (prints "ready", then for each input line "fwd" or "adamw" runs one
                                           step and prints its seconds; `mona-perf encoder` alternates these
                                           steps with its own so both see the same machine load)
"""
import json, sys, time
import torch

serve = len(sys.argv) > 1 and sys.argv[1] == "--serve"
args = sys.argv[2:] if serve else sys.argv[1:]
threads = int(args[0]) if len(args) > 0 else 1
repeats = int(args[1]) if len(args) > 1 else 5
torch.set_num_threads(threads)
torch.manual_seed(0)
layer = torch.nn.TransformerEncoderLayer(384, 6, 1536, dropout=0.0, activation="gelu", batch_first=True,
                                         norm_first=True)
model = torch.nn.TransformerEncoder(layer, 6, enable_nested_tensor=False)
x = torch.randn(16, 128, 384)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

def step(with_opt):
    out = model(x)
    loss = (out * out).mean()
    model.zero_grad(set_to_none=True)
    loss.backward()
    if with_opt:
        opt.step()

def rate(with_opt):
    step(with_opt)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter(); step(with_opt); best = min(best, time.perf_counter() - t)
    return 16 * 128 / best

if serve:
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd not in ("fwd", "adamw"):
            break
        t = time.perf_counter(); step(cmd == "adamw")
        print(time.perf_counter() - t, flush=True)
    sys.exit(0)

print(json.dumps({"threads": threads, "torch": torch.__version__,
                  "fwd_bwd_tokens_per_s": rate(False), "adamw_tokens_per_s": rate(True)}))
