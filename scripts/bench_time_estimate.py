#!/usr/bin/env python3
"""Where a bench run's time goes, and what the whole `full` suite would take, from a measured slice.

Reads every finished run under BENCH/runs/<task>/<method>/seed<k>/ (its record/ when there is one) of a slice run
with a few epochs, e.g.

    mona bench --suite full --tasks gunpoint,peptides --methods finetune,mona --seeds 0 --epochs 2 --no-gap -o SLICE

and prints (1) the share of each phase of `timings.json` over the slice and (2) an extrapolation of every
(task, method) cell of the full suite: fixed part (data, model, alignment stages, test) + epochs × (steps +
epoch end) + probes × probe cost, with the epochs at the task's cap (an upper bound: early stopping ends many
runs sooner) or at --epochs-expected. Cells of the suite that the slice did not run are scaled from the same
task's `finetune` by the method's median ratio to `finetune` over the tasks where both ran; methods with no
measurement at all use --assume METHOD=SECONDS.

Usage: bench_time_estimate.py SLICE [SLICE ...] [--jobs 2] [--epochs-expected N] [--assume no-body=20 ...]
"""
import argparse
import json
import math
import os
import statistics
import sys

# The full suite (Sources/MonaTransfer/Bench/BenchSuite.swift): task -> (epoch cap, seeds, analysisEvery).
FULL = {
    "gunpoint": (20, 5), "arrowhead": (20, 5), "italypowerdemand": (20, 5), "basicmotions": (20, 5),
    "japanesevowels": (20, 5), "pigcvp": (20, 5), "peptides": (20, 3), "rrna16s": (20, 3), "spokenwords": (20, 5),
    "burgers": (20, 3), "advection": (20, 3), "diffreact": (20, 3), "diffsorp": (20, 3), "darcy16": (10, 5),
    "darcygen": (10, 5), "fashion": (10, 5),
}
ANALYSIS_EVERY = 50
METHODS = ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona", "no-body", "expert"]


def read_run(path):
    folder = os.path.join(path, "record") if os.path.exists(os.path.join(path, "record", "record.json")) else path
    try:
        timings = json.load(open(os.path.join(folder, "timings.json")))
        lines = [json.loads(l) for l in open(os.path.join(folder, "metrics.jsonl")) if l.strip()]
    except (OSError, ValueError):
        return None
    epochs = [r for r in lines if r.get("stage") == "finetune" and r.get("split") == "validation"]
    if not epochs or not any(r.get("split") == "test" for r in lines):
        return None
    probes = [r for r in lines if r.get("stage") == "analysis"]
    step_probes = [r for r in probes if r.get("point") == "finetune"]
    return {
        "timings": timings,
        "epochs": len(epochs),
        "steps_per_epoch": epochs[0].get("step", 0),
        "probes": len(probes),
        "step_probes": len(step_probes),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slices", nargs="+")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--epochs-expected", type=float, default=None)
    ap.add_argument("--assume", action="append", default=[], help="METHOD=SECONDS per run for unmeasured methods")
    a = ap.parse_args()
    assumed = {k: float(v) for k, v in (x.split("=", 1) for x in a.assume)}

    runs = {}
    for root in a.slices:
        base = os.path.join(root, "runs")
        for task in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            for method in sorted(os.listdir(os.path.join(base, task))):
                for seed in sorted(os.listdir(os.path.join(base, task, method))):
                    r = read_run(os.path.join(base, task, method, seed))
                    if r:
                        runs.setdefault((task, method), []).append(r)
    if not runs:
        sys.exit("no finished runs under " + ", ".join(a.slices))

    # (1) Phase shares over the slice.
    keys = ["data", "model", "alignment", "finetune_steps", "finetune_epoch_end", "checkpoints", "analysis", "test"]
    sums = {k: 0.0 for k in keys}
    total = 0.0
    for rs in runs.values():
        for r in rs:
            t = r["timings"]
            total += t.get("total", 0)
            for k in keys:
                sums[k] += t.get(k, 0)
    print(f"slice: {sum(len(v) for v in runs.values())} runs, {total:.0f} s of run time")
    print("| phase | seconds | share |\n|---|---:|---:|")
    for k in keys:
        print(f"| {k} | {sums[k]:.0f} | {100 * sums[k] / total:.1f} % |")
    print("(`analysis` runs inside the alignment, fine-tuning and test phases and `checkpoints` inside alignment and "
          "fine-tuning; the epoch end holds validation and any checkpoint write.)\n")

    # Per (task, method): measured parts.
    model = {}
    for (task, method), rs in runs.items():
        f, p, q, pc, fixed_probes, spe = [], [], [], [], [], []
        for r in rs:
            t = r["timings"]
            e = max(r["epochs"], 1)
            analysis = t.get("analysis", 0)
            f.append(t.get("total", 0) - t.get("finetune_steps", 0) - t.get("finetune_epoch_end", 0) - analysis)
            p.append(t.get("finetune_steps", 0) / e)
            q.append(t.get("finetune_epoch_end", 0) / e)
            pc.append(analysis / r["probes"] if r["probes"] else 0)
            fixed_probes.append(r["probes"] - r["step_probes"])
            spe.append(r["steps_per_epoch"])
        model[(task, method)] = tuple(statistics.mean(x) for x in (f, p, q, pc, fixed_probes, spe))

    def predict(task, method, epochs):
        fixed, per_step_epoch, per_end, probe, fixed_probes, spe = model[(task, method)]
        probes = fixed_probes + math.floor(epochs * spe / ANALYSIS_EVERY)
        return fixed + epochs * (per_step_epoch + per_end) + probes * probe

    ratios = {}
    for m in METHODS:
        r = []
        for task in FULL:
            if (task, m) in model and (task, "finetune") in model:
                cap = FULL[task][0]
                e = a.epochs_expected or cap
                r.append(predict(task, m, min(e, cap)) / predict(task, "finetune", min(e, cap)))
        if r:
            ratios[m] = statistics.median(r)

    print("| task | seeds | " + " | ".join(METHODS) + " | task total (s) |")
    print("|---|---:|" + "---:|" * len(METHODS) + "---:|")
    grand, longest = 0.0, 0.0
    missing = set()
    for task, (cap, seeds) in FULL.items():
        e = min(a.epochs_expected or cap, cap)
        cells = []
        row = 0.0
        for m in METHODS:
            if (task, m) in model:
                s, tag = predict(task, m, e), ""
            elif m in ratios and (task, "finetune") in model:
                s, tag = ratios[m] * predict(task, "finetune", e), "~"
            elif m in assumed:
                s, tag = assumed[m], "a"
            else:
                missing.add((task, m))
                cells.append("?")
                continue
            cells.append(f"{tag}{s:.0f}")
            row += s * seeds
            longest = max(longest, s)
        grand += row
        print(f"| {task} | {seeds} | " + " | ".join(cells) + f" | {row:.0f} |")
    print(f"\nrun time of the suite: {grand:.0f} s = {grand / 3600:.2f} h; with --jobs {a.jobs}: "
          f"≈ {(grand / a.jobs + longest) / 3600:.2f} h wall (balanced queue plus the longest run)")
    print("~: scaled from the task's finetune by the method's median ratio; a: assumed (--assume)")
    if missing:
        print("not estimated (no measurement, no finetune of the task, no assumption):",
              ", ".join(f"{t}/{m}" for t, m in sorted(missing)))


if __name__ == "__main__":
    main()
