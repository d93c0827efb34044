#!/usr/bin/env python3
"""Checks our MiniRocket expert against aeon's MiniRocketClassifier on the same splits.

For each UCR problem and seed it runs
  * ours:      `mona-perf experts --task <name> --seeds <s> --validation-fraction <f> --json`
  * reference: aeon's MiniRocketClassifier (random_state = seed) fitted on exactly the rows our expert trains
               on (all training rows for --validation-fraction 0, the archive's own train/test split; otherwise
               the seed's stratified training split), scored on the archive's test file,
and requires the mean test accuracies over seeds to agree within --tolerance (2 points). The two draw their
random choices (training example per bias, channel combinations) from different generators, so single seeds
differ by a little; the means are the comparison.

Set-up once:  python3 -m venv .venv-aeon && .venv-aeon/bin/pip install aeon==1.6.0
Run:          swift build -c release --product mona-perf
              .venv-aeon/bin/python bench/check_minirocket.py [--problems GunPoint,ArrowHead,ItalyPowerDemand]
                  [--seeds 0,1,2] [--validation-fraction 0] [--assets .assets] [--mona-perf .build/release/mona-perf]
Exit status 1 if a problem disagrees by more than the tolerance.
"""
import argparse, json, os, statistics, subprocess, sys, time

import numpy as np


def reference(train_file, test_file, rows, seed):
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.datasets import load_from_ts_file
    xtr, ytr = load_from_ts_file(train_file)
    xte, yte = load_from_ts_file(test_file)
    idx = np.array(rows, dtype=int)
    t0 = time.time()
    clf = MiniRocketClassifier(random_state=seed, n_jobs=1).fit(xtr[idx], ytr[idx])
    acc = float((clf.predict(xte) == yte).mean())
    return acc, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="GunPoint,ArrowHead,ItalyPowerDemand")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--validation-fraction", type=float, default=0.0)
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--assets", default=os.environ.get("MONA_ASSETS", ".assets"))
    ap.add_argument("--mona-perf", default=".build/release/mona-perf")
    a = ap.parse_args()
    env = dict(os.environ, MONA_ASSETS=a.assets)
    failed = False
    print(f"| problem | split | seeds | ours (mean ± sd) | aeon 1.6 MiniRocket (mean ± sd) | difference | ours s/fit | aeon s/fit |")
    print(f"|---|---|---|---|---|---|---|---|")
    for name in a.problems.split(","):
        folder = os.path.join(a.assets, "data", "ucr", name)
        train_file = os.path.join(folder, f"{name}_TRAIN.ts")
        test_file = os.path.join(folder, f"{name}_TEST.ts")
        ours, theirs, ours_s, theirs_s = [], [], [], []
        for seed in a.seeds.split(","):
            out = subprocess.run([a.mona_perf, "experts", "--task", name.lower(), "--seeds", seed,
                                  "--validation-fraction", str(a.validation_fraction), "--json"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            run = json.loads(out)["runs"][0]
            ours.append(run["value"])
            ours_s.append(run["seconds"])
            acc, secs = reference(train_file, test_file, run["train_rows"], int(seed))
            theirs.append(acc)
            theirs_s.append(secs)
        m1, m2 = statistics.mean(ours), statistics.mean(theirs)
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
        ok = abs(m1 - m2) <= a.tolerance
        failed |= not ok
        split = "archive" if a.validation_fraction == 0 else f"train split ({1 - a.validation_fraction:.0%})"
        print(f"| {name} | {split} | {a.seeds} | {m1:.3f} ± {sd(ours):.3f} {[round(v, 3) for v in ours]} | "
              f"{m2:.3f} ± {sd(theirs):.3f} {[round(v, 3) for v in theirs]} | {100 * (m1 - m2):+.1f} pt "
              f"{'ok' if ok else 'FAIL'} | {statistics.mean(ours_s):.2f} | {statistics.mean(theirs_s):.2f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
