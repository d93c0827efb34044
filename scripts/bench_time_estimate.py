#!/usr/bin/env python3
"""Where a bench run's time goes, and what the whole `full` suite would take, from a measured slice.

The slice runs every cell of interest with one epoch on small sample limits, each through `mona fit` with one
kernel thread, its CPU seconds taken from the OS (on a shared machine wall time measures the other tenants;
the CPU time of a one-thread run is what it would take alone):

    mona bench --suite full --methods finetune --seeds 0 --epochs 1 --train-limit 48 --test-limit 64 \
        --executor print -o SLICE > lines      # then run each line, recording {"output", "wall", "cpu"} per run
    mona bench ... -o SLICE                     # records the finished runs

Usage: bench_time_estimate.py SLICE [SLICE ...] --times TIMES.json [--jobs 2] [--assume METHOD=SECONDS ...]
       [--nodes 1,8,64 --cores-per-node 2] [--epoch-share 0.804]

Each run's `timings.json` phases are scaled by cpu/wall. Per (task, method): optimizer steps cost per step, the
epoch end per validation sample, the test evaluation per test sample, each source-knowledge probe its measured
cost; the warm-up of `warmup-only` and `mona` per step (3 warm-up epochs); the rest (data, model, MoNA's outer
steps, ORCA's embedder steps) is fixed. The full suite then runs every epoch up to the cap — an upper bound,
since early stopping ends many runs sooner. Cells the slice did not run are scaled from the task's `finetune` by
the method's median ratio over the measured tasks of the same body; `--assume` gives methods with no
measurement (e.g. the expert baselines) a fixed number of seconds per run.

`--epoch-share F` trains F of each epoch cap instead of all of it (the share that early stopping left in measured
runs), and `--nodes` projects the suite onto a cluster: one Slurm array task per run, one CPU (one kernel thread)
each, `--cores-per-node` tasks per node, started in suite order on the first free CPU as Slurm starts array tasks.
"""
import argparse
import heapq
import json
import math
import os
import statistics
import sys

# The full suite (Sources/MonaTransfer/Bench/BenchSuite.swift): task -> (body, epoch cap, seeds, batch,
# training samples after the limit, test samples after the limit).
FULL = {
    "gunpoint": ("text", 20, 5, 16, 50, 150), "arrowhead": ("text", 20, 5, 16, 36, 175),
    "italypowerdemand": ("text", 20, 5, 16, 67, 1029), "basicmotions": ("text", 20, 5, 16, 40, 40),
    "japanesevowels": ("text", 20, 5, 16, 270, 370), "pigcvp": ("text", 20, 5, 16, 104, 208),
    "peptides": ("text", 20, 3, 16, 800, 1300), "rrna16s": ("text", 20, 3, 16, 800, 1220),
    "spokenwords": ("text", 20, 5, 16, 270, 90), "burgers": ("text", 20, 3, 16, 1000, 200),
    "advection": ("text", 20, 3, 16, 512, 128), "diffreact": ("text", 20, 3, 16, 512, 128),
    "diffsorp": ("text", 20, 3, 16, 512, 128), "darcy16": ("image", 10, 5, 8, 200, 200),
    "darcygen": ("image", 10, 5, 8, 200, 128), "fashion": ("image", 10, 5, 16, 500, 500),
}
# Tasks the slice could not run, measured by a stand-in of the same body, token count and output kind.
STAND_IN = {"advection": "burgers", "diffreact": "burgers", "diffsorp": "burgers", "darcygen": "darcy16",
            "arrowhead": "gunpoint", "basicmotions": "gunpoint", "spokenwords": "gunpoint"}
VALIDATION = 0.2
ANALYSIS_EVERY = 50
# Tasks whose probe interval the suite raises (BenchSuite.full's `every`): at most four probes in fine-tuning.
BOUNDED_PROBES = {"japanesevowels", "peptides", "rrna16s", "spokenwords", "burgers", "advection", "diffreact",
                  "diffsorp", "fashion"}
WARMUP_EPOCHS = 3
METHODS = ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona", "no-body", "expert"]
FULL_METHODS = list(METHODS)   # the ratios to finetune come from these, whatever --methods shows


def steps(n_train, batch):
    return math.ceil(n_train * (1 - VALIDATION) / batch)


def read_run(path, scale):
    folder = os.path.join(path, "record") if os.path.exists(os.path.join(path, "record", "record.json")) else path
    try:
        t = json.load(open(os.path.join(folder, "timings.json")))
        lines = [json.loads(l) for l in open(os.path.join(folder, "metrics.jsonl")) if l.strip()]
    except (OSError, ValueError):
        return None
    val = [r for r in lines if r.get("stage") == "finetune" and r.get("split") == "validation"]
    if not val or not any(r.get("split") == "test" for r in lines):
        return None
    probes = [r for r in lines if r.get("stage") == "analysis"]
    warm = [r for r in lines if r.get("stage") == "warmup" and r.get("split") == "validation"]
    t = {k: v * scale for k, v in t.items() if isinstance(v, (int, float))}
    return {"t": t, "steps": val[0].get("step", 0), "probes": len(probes),
            "after_alignment": any(r.get("point") == "after-alignment" for r in probes),
            "warmup_steps": warm[-1].get("step", 0) if warm else 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slices", nargs="+")
    ap.add_argument("--times", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--train-limit", type=int, default=48)
    ap.add_argument("--test-limit", type=int, default=64)
    ap.add_argument("--assume", action="append", default=[])
    ap.add_argument("--budget", action="append", default=[],
                    help="TASK:cap=E,n=N,tokens=F — what-if budget: epoch cap, training samples, token factor (scales "
                         "steps, validation and test cost)")
    ap.add_argument("--add", action="append", default=[],
                    help="METHOD=BASE+SECONDS[@BODY]: a method measured elsewhere as a fixed extra over BASE")
    ap.add_argument("--epoch-share", type=float, default=1.0,
                    help="share of each epoch cap that runs train (1 = the upper bound)")
    ap.add_argument("--nodes", default="", help="comma-separated node counts to project the suite onto")
    ap.add_argument("--cores-per-node", type=int, default=2)
    ap.add_argument("--tasks", default="", help="comma-separated tasks of the suite to estimate (default: all of full)")
    ap.add_argument("--methods", default="", help="comma-separated columns to estimate (default: the full suite's); "
                    "a column the slice did not measure needs --add or --assume, e.g. a variant of mona: "
                    "--add mona-outer25=mona+-95")
    a = ap.parse_args()
    global METHODS
    if a.methods:
        METHODS = [m.strip() for m in a.methods.split(",") if m.strip()]
    selected = [t.strip() for t in a.tasks.split(",") if t.strip()] if a.tasks else list(FULL)
    unknown = [t for t in selected if t not in FULL]
    if unknown:
        ap.error(f"--tasks: unknown {', '.join(unknown)}; known: {', '.join(FULL)}")
    if not 0 < a.epoch_share <= 1:
        ap.error(f"--epoch-share: expected a share in (0, 1], got {a.epoch_share}")
    if a.cores_per_node < 1 or (a.nodes and not all(x.strip().isdigit() and int(x) > 0 for x in a.nodes.split(","))):
        ap.error("--nodes: expected comma-separated positive node counts, --cores-per-node ≥ 1")
    assumed = {k: float(v) for k, v in (x.split("=", 1) for x in a.assume)}
    added = {}
    for x in a.add:
        m, rest = x.split("=", 1)
        base, rest = rest.split("+", 1)
        secs, _, body = rest.partition("@")
        added[(m, body or "text")] = (base, float(secs))
    tokens = {}
    for x in a.budget:
        task, spec = x.split(":", 1)
        kv = dict(item.split("=", 1) for item in spec.split(","))
        body, cap, seeds, batch, n, n_test = FULL[task]
        FULL[task] = (body, int(kv.get("cap", cap)), seeds, batch, int(kv.get("n", n)), n_test)
        tokens[task] = float(kv.get("tokens", 1))
    # Runs are matched on <task>/<method>/<seed>, so a slice folder can be moved (e.g. into docs/results).
    def cell_key(path):
        return tuple(os.path.normpath(path).split(os.sep)[-3:])
    times = {cell_key(r["output"]): r for r in json.load(open(a.times)) if r.get("status", 0) == 0}

    runs = {}
    for root in a.slices:
        base = os.path.join(root, "runs")
        for task in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            for method in sorted(os.listdir(os.path.join(base, task))):
                for seed in sorted(os.listdir(os.path.join(base, task, method))):
                    path = os.path.normpath(os.path.join(base, task, method, seed))
                    timed = times.get(cell_key(path))
                    if not timed:
                        continue
                    r = read_run(path, timed["cpu"] / timed["wall"])
                    if r:
                        r["cpu"], r["wall"] = timed["cpu"], timed["wall"]
                        runs[(task, method)] = r
    if not runs:
        sys.exit("no timed, finished runs")

    keys = ["data", "model", "alignment", "finetune_steps", "finetune_epoch_end", "checkpoints", "analysis", "test"]
    tot = sum(r["t"]["total"] for r in runs.values())
    print(f"slice: {len(runs)} runs, {sum(r['wall'] for r in runs.values()):.0f} s wall, {tot:.0f} CPU s\n")
    print("| phase | CPU s | share |\n|---|---:|---:|")
    for k in keys:
        s = sum(r["t"].get(k, 0) for r in runs.values())
        print(f"| {k} | {s:.0f} | {100 * s / tot:.1f} % |")
    print()

    def parts(task, method):
        """Per-unit costs of a measured cell."""
        r, t = runs[(task, method)], runs[(task, method)]["t"]
        body, cap, seeds, batch, n, n_test = FULL[task]
        n_s = min(n, a.train_limit)
        probe = t.get("analysis", 0) / r["probes"] if r["probes"] else 0
        ft = runs.get((task, "finetune"))
        make = (ft["t"]["alignment"] - ft["t"]["analysis"] / max(ft["probes"], 1)) if ft else 0
        probes_in_alignment = 1 + (1 if r["after_alignment"] else 0)
        stages = max(t["alignment"] - probes_in_alignment * probe - make, 0)
        warm = 0.0
        if method == "warmup-only":
            warm = stages
        elif method == "mona" and (task, "warmup-only") in runs:
            w = runs[(task, "warmup-only")]["t"]
            wp = w["analysis"] / max(runs[(task, "warmup-only")]["probes"], 1)
            warm = min(max(w["alignment"] - 2 * wp - make, 0), stages)
        return {
            "fixed": t["data"] + t["model"] + make + (stages - warm) + t.get("checkpoints", 0) * 0,
            "warm_per_step": warm / max(WARMUP_EPOCHS * r["steps"], 1),
            "step": t["finetune_steps"] / max(r["steps"], 1),
            "val_per_sample": t["finetune_epoch_end"] / max(VALIDATION * n_s, 1),
            "test_per_sample": max(t["test"] - probe, 0) / min(n_test, a.test_limit),
            "probe": probe,
            "fixed_probes": r["probes"],
        }

    def probes_in_finetune(task, total_steps):
        every = max(ANALYSIS_EVERY, (total_steps + 3) // 4) if task in BOUNDED_PROBES else ANALYSIS_EVERY
        return total_steps // every

    collect = None

    def predict(task, method, source):
        body, cap, seeds, batch, n, n_test = FULL[task]
        cap = cap * a.epoch_share
        p = parts(source, method)
        s = steps(n, batch)
        f = tokens.get(task, 1)
        part = {"fixed (data, model, stages, setup)": p["fixed"], "warm-up": f * WARMUP_EPOCHS * s * p["warm_per_step"],
                "optimizer steps": f * cap * s * p["step"], "validation": f * cap * VALIDATION * n * p["val_per_sample"],
                "test": f * n_test * p["test_per_sample"],
                "probes": (p["fixed_probes"] + probes_in_finetune(task, cap * s)) * p["probe"]}
        if collect is not None:
            for k, v in part.items():
                collect[k] = collect.get(k, 0) + v * FULL[task][2]
        return sum(part.values())

    ratios = {}
    for m in FULL_METHODS:
        for body in ("text", "image"):
            r = [predict(t, m, t) / predict(t, "finetune", t) for t in FULL
                 if FULL[t][0] == body and (t, m) in runs and (t, "finetune") in runs]
            if r:
                ratios[(m, body)] = statistics.median(r)

    print("CPU seconds per run at the epoch cap (upper bound); ~ scaled by the method's ratio to finetune, "
          "s: stand-in task, +: fixed extra over a measured method (--add), a: assumed\n")
    def cell(task, m, depth=0):
        """(seconds, tag) of one cell, or None."""
        body = FULL[task][0]
        src = task if (task, "finetune") in runs else STAND_IN.get(task)
        tag = "" if src == task else "s"
        if src and (src, m) in runs:
            return predict(task, m, src), tag
        if (m, body) in added and depth < 2:
            base, extra = added[(m, body)]
            b = cell(task, base, depth + 1)
            if b:
                return b[0] + extra, b[1] + "+"
        r = ratios.get((m, body)) or ratios.get((m, "text"))
        if src and r and (src, "finetune") in runs:
            return r * predict(task, "finetune", src), tag + "~"
        if m in assumed:
            return assumed[m], "a"
        return None

    order = []   # (task, method, seconds) per run, in suite order (task, then method, then seed)
    print("| task | seeds | " + " | ".join(METHODS) + " | task total |")
    print("|---|---:|" + "---:|" * len(METHODS) + "---:|")
    grand, longest, missing = 0.0, 0.0, []
    for task in selected:
        body, cap, seeds, batch, n, n_test = FULL[task]
        cells, row = [], 0.0
        for m in METHODS:
            c = cell(task, m)
            if c is None:
                missing.append(f"{task}/{m}")
                cells.append("?")
                continue
            cells.append(f"{c[1]}{c[0]:.0f}")
            row += c[0] * seeds
            order += [(task, m, c[0])] * seeds
            longest = max(longest, c[0])
        grand += row
        print(f"| {task} | {seeds} | " + " | ".join(cells) + f" | {row:.0f} |")
    # Shares of the measured-method cells at the cap, by part (seeds counted).
    collect = {}
    for task in selected:
        src = task if (task, "finetune") in runs else STAND_IN.get(task)
        for m in METHODS:
            if src and (src, m) in runs:
                predict(task, m, src)
    total_parts = sum(collect.values())
    if total_parts > 0:
        print("\nWhere the time of the directly measured cells goes at the epoch cap:")
        print("| part | share |\n|---|---:|")
        for k, v in collect.items():
            print(f"| {k} | {100 * v / total_parts:.1f} % |")
    collect = None
    wall = grand / a.jobs + longest
    print(f"\nsuite: {grand:.0f} CPU s = {grand / 3600:.2f} h of one-thread runs; with --jobs {a.jobs} "
          f"≈ {wall / 3600:.2f} h wall at most (a balanced queue plus the longest run)")
    if missing:
        print("not estimated:", ", ".join(missing))
    if a.nodes:
        print(f"\nprojected on a cluster ({len(order)} array tasks of one CPU, {a.cores_per_node} per node, "
              f"started in suite order; epoch share {a.epoch_share:g}):\n")
        print("| nodes | CPUs | wall h | CPUs busy | perfectly balanced h |")
        print("|---:|---:|---:|---:|---:|")
        for nodes in (int(x) for x in a.nodes.split(",")):
            cpus = nodes * a.cores_per_node
            free = [0.0] * cpus
            heapq.heapify(free)
            for _, _, secs in order:
                heapq.heappush(free, heapq.heappop(free) + secs)
            wall = max(free)
            print(f"| {nodes} | {cpus} | {wall / 3600:.2f} | {100 * grand / (wall * cpus):.0f} % | "
                  f"{grand / cpus / 3600:.2f} |")
        print(f"\nlongest run: {longest / 3600:.2f} h (a lower bound on the wall time at any size)")


if __name__ == "__main__":
    main()
