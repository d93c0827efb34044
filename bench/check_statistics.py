#!/usr/bin/env python3
"""Independent values for the benchmark statistics (Sources/MonaTransfer/Bench), computed with SciPy.

Prints, for fixed inputs, what the Swift code must reproduce; Tests/MonaTransferTests/BenchStatisticsGoldenTests.swift
holds these numbers as golden values and docs/bench.md quotes this output. Run: python3 bench/check_statistics.py
(needs numpy and scipy: pip install scipy).

Only the percentile bootstrap has no SciPy counterpart that is deterministic; it is enumerated here exactly (every
multiset of resampled indices with its multinomial weight), and SciPy's Monte-Carlo percentile interval with many
resamples is printed next to it as a plausibility check.
"""
import itertools
import math

import numpy as np
import scipy
from scipy import special, stats


def show(name, value):
    if isinstance(value, (list, tuple, np.ndarray)):
        print(f"{name} = [{', '.join(repr(float(v)) for v in value)}]")
    else:
        print(f"{name} = {float(value)!r}")


# --- Demšar (JMLR 2006), Table 6: AUC of C4.5 (m = 0, cf = 0.25), C4.5+m, C4.5+cf, C4.5+m+cf on 14 data sets.
# The paper prints 0.975 for both C4.5+cf and C4.5+m+cf on the 13th data set but ranks them 2 and 3 (its average
# ranks 3.143, 2.000, 2.893, 1.964 need that order); 0.97501 restores the paper's ranks, so its χ²_F = 9.28,
# F_F = 3.69 and CD = 1.25 can be checked.
DEMSAR = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970],
])


def average_ranks(table):
    """Rank 1 = largest value per row, ties averaged."""
    return np.mean([stats.rankdata(-row) for row in table], axis=0)


def nemenyi_q(k, alpha=0.05):
    return stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)


def holm(p):
    order = sorted(range(len(p)), key=lambda i: (p[i], i))
    out, running, m = [None] * len(p), 0.0, len(p)
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p[i]))
        out[i] = running
    return out


def exact_bootstrap_ci(x, level=0.95):
    """Percentile interval of the exact bootstrap distribution of the mean (inverse CDF: smallest atom whose
    cumulative weight reaches p · total)."""
    n = len(x)
    atoms = []
    for multiset in itertools.combinations_with_replacement(range(n), n):
        counts = [multiset.count(j) for j in range(n)]
        s = 0.0
        for j in range(n):
            s += counts[j] * x[j]
        weight = math.factorial(n) / math.prod(math.factorial(c) for c in counts)
        atoms.append((s / n, weight))
    atoms.sort(key=lambda a: a[0])
    total = sum(w for _, w in atoms)

    def quantile(p):
        cumulative = 0.0
        for mean, w in atoms:
            cumulative += w
            if cumulative >= p * total:
                return mean
        return atoms[-1][0]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    return quantile(lo), quantile(hi)


def wilcoxon_line(name, d, zero_method="wilcox"):
    d = np.asarray(d, dtype=float)
    res = stats.wilcoxon(d, zero_method=zero_method)
    nz = d[d != 0] if zero_method == "wilcox" else d
    r = stats.rankdata(np.abs(nz))
    r_plus = r[nz > 0].sum() + (r[nz == 0].sum() / 2 if zero_method == "zsplit" else 0)
    r_minus = r[nz < 0].sum() + (r[nz == 0].sum() / 2 if zero_method == "zsplit" else 0)
    print(f"{name}: n = {len(d)}, R+ = {float(r_plus)!r}, R- = {float(r_minus)!r}, statistic = {float(res.statistic)!r}, "
          f"p = {float(res.pvalue)!r}")


print(f"# numpy {np.__version__}, scipy {scipy.__version__}")

print("\n## Distributions")
show("norm.cdf(-3.1)", stats.norm.cdf(-3.1))
show("norm.cdf(1.2345)", stats.norm.cdf(1.2345))
show("gammainc(2.5, 1.7)", special.gammainc(2.5, 1.7))
show("gammaincc(2.5, 1.7)", special.gammaincc(2.5, 1.7))
show("gammaincc(0.5, 30)", special.gammaincc(0.5, 30))
for x, df in [(9.28, 3), (0.5, 1), (30.0, 10), (100.0, 50), (0.001, 2), (70.0, 6)]:
    show(f"chi2.sf({x}, {df})", stats.chi2.sf(x, df))
show("betainc(2, 3, 0.4)", special.betainc(2, 3, 0.4))
show("betainc(0.5, 7, 0.9)", special.betainc(0.5, 7, 0.9))
for x, d1, d2 in [(3.69, 3, 39), (0.2, 2, 5), (10.0, 6, 12), (1.5, 10, 100), (50.0, 6, 12)]:
    show(f"f.sf({x}, {d1}, {d2})", stats.f.sf(x, d1, d2))
show("nemenyi q (k = 2..12, alpha 0.05)", [nemenyi_q(k) for k in range(2, 13)])
show("nemenyi q (k = 4, alpha 0.10)", nemenyi_q(4, 0.10))
show("studentized_range.cdf(3.5, 5, inf)", stats.studentized_range.cdf(3.5, 5, np.inf))

print("\n## Wilcoxon signed-rank (scipy.stats.wilcoxon defaults: zero_method='wilcox', correction=False, method='auto')")
wilcoxon_line("three positive", [0.02, 0.05, 0.01])
wilcoxon_line("n8 no ties", [0.12, -0.05, 0.31, 0.07, -0.02, 0.18, 0.26, 0.09])
wilcoxon_line("n10 ties and a zero", [0.5, -0.5, 1.0, 1.0, 0.0, 2.0, -1.5, 3.0, 2.0, 0.25])
wilcoxon_line("n20 ties and zeros", [((i * 7) % 11 - 5) * 0.1 for i in range(20)])
wilcoxon_line("n60 integers", [float((i * 37) % 101 - 50) for i in range(1, 61)])
c45, c45m = DEMSAR[:, 0], DEMSAR[:, 1]
wilcoxon_line("Demsar C4.5+m - C4.5", c45m - c45)
wilcoxon_line("Demsar C4.5+m - C4.5, zsplit", c45m - c45, zero_method="zsplit")

print("\n## Friedman (scipy.stats.friedmanchisquare, tie-corrected) and Iman-Davenport")
res = stats.friedmanchisquare(*DEMSAR.T)
N, k = DEMSAR.shape
ranks = average_ranks(DEMSAR)
chi_uncorrected = 12 * N / (k * (k + 1)) * (np.sum(ranks ** 2) - k * (k + 1) ** 2 / 4)
f_f = (N - 1) * res.statistic / (N * (k - 1) - res.statistic)
show("Demsar average ranks", ranks)
show("Demsar chi2 (scipy, tie-corrected)", res.statistic)
show("Demsar p", res.pvalue)
show("Demsar chi2 without tie correction", chi_uncorrected)
show("Demsar Iman-Davenport F from corrected chi2", f_f)
show("Demsar Iman-Davenport p", stats.f.sf(f_f, k - 1, (k - 1) * (N - 1)))
f_uncorrected = (N - 1) * chi_uncorrected / (N * (k - 1) - chi_uncorrected)
show("Demsar Iman-Davenport F from uncorrected chi2", f_uncorrected)
show("Demsar CD (alpha 0.05)", nemenyi_q(k) * math.sqrt(k * (k + 1) / (6 * N)))
show("Demsar CD (alpha 0.10)", nemenyi_q(k, 0.10) * math.sqrt(k * (k + 1) / (6 * N)))
SMALL = np.array([[0.9, 0.8, 0.8], [0.7, 0.75, 0.6], [0.5, 0.5, 0.5], [0.88, 0.81, 0.86], [0.6, 0.65, 0.61]])
res = stats.friedmanchisquare(*SMALL.T)
show("small 5x3 average ranks", average_ranks(SMALL))
show("small 5x3 chi2", res.statistic)
show("small 5x3 p", res.pvalue)

print("\n## Holm")
show("holm([0.01, 0.04, 0.03, 0.5])", holm([0.01, 0.04, 0.03, 0.5]))

print("\n## Percentile bootstrap of the mean (exact enumeration; SciPy Monte Carlo alongside)")
for name, x in [("x3", [0.74, 0.8733333333333333, 0.8066666666666666]),
                ("x5", [0.1, 0.4, 0.35, 0.2, 0.9]),
                ("x8", [0.52, 0.61, 0.48, 0.55, 0.7, 0.43, 0.66, 0.59])]:
    lo, hi = exact_bootstrap_ci(x)
    mc = stats.bootstrap((np.array(x),), np.mean, method="percentile", n_resamples=200_000,
                         random_state=np.random.default_rng(0)).confidence_interval
    print(f"{name}: exact [{lo!r}, {hi!r}]   scipy MC (200000) [{mc.low:.4f}, {mc.high:.4f}]")

# --- The committed partial full suite (docs/results/full-partial-2026-11-28): test metric per seed 0, 1, 2.
PARTIAL = {
    "gunpoint": (True, {
        "scratch": [0.7733333333333333, 0.7133333333333334, 0.7333333333333333],
        "linear-probe": [0.49333333333333335, 0.5133333333333333, 0.5066666666666667],
        "fpt": [0.7333333333333333, 0.8066666666666666, 0.7133333333333334],
        "finetune": [0.7866666666666666, 0.7666666666666667, 0.76],
        "orca": [0.68, 0.8066666666666666, 0.9066666666666666],
        "warmup-only": [0.6466666666666666, 0.8, 0.76],
        "mona": [0.74, 0.8733333333333333, 0.8066666666666666]}),
    "arrowhead": (True, {
        "scratch": [0.52, 0.5257142857142857, 0.5657142857142857],
        "linear-probe": [0.3942857142857143, 0.3028571428571429, 0.3028571428571429],
        "fpt": [0.5485714285714286, 0.29714285714285715, 0.3028571428571429],
        "finetune": [0.5257142857142857, 0.52, 0.56],
        "orca": [0.5257142857142857, 0.5314285714285715, 0.52],
        "warmup-only": [0.5142857142857142, 0.6228571428571429, 0.5485714285714286],
        "mona": [0.5485714285714286, 0.5657142857142857, 0.5542857142857143]}),
    "darcy16": (False, {
        "scratch": [0.3603242113959462, 0.3052054300921918, 0.3817849712080868],
        "linear-probe": [0.5411005188495551, 0.5598515854508705, 0.5679613549220535],
        "fpt": [0.3137851980986331, 0.301300995073216, 0.3237623154295523],
        "finetune": [0.2479092166883745, 0.2371190469160667, 0.24002275333095277],
        "orca": [0.24074469781242847, 0.244177182648173, 0.267113946325552],
        "warmup-only": [0.24476363093294876, 0.24428769909284007, 0.26026549051205594],
        "mona": [0.2387194549792306, 0.2530216582137, 0.24771399282522968]}),
}
METHODS = ["scratch", "linear-probe", "fpt", "finetune", "orca", "warmup-only", "mona"]
CONTROLS = ["warmup-only", "finetune", "orca", "scratch", "linear-probe", "fpt"]


def oriented(a, b, higher):
    d = a - b if higher else b - a
    return 0.0 if abs(d) <= 1e-9 * max(abs(a), abs(b)) else d


print("\n## The committed partial full suite (3 tasks x 7 methods x 3 seeds)")
for task, (higher, cells) in PARTIAL.items():
    for m in METHODS:
        lo, hi = exact_bootstrap_ci(cells[m])
        print(f"{task} {m}: mean = {float(np.mean(cells[m]))!r}, ci95 = [{lo!r}, {hi!r}]")
for task, (higher, cells) in PARTIAL.items():
    for m in CONTROLS:
        d = [oriented(a, b, higher) for a, b in zip(cells["mona"], cells[m])]
        lo, hi = exact_bootstrap_ci(d)
        print(f"{task} mona vs {m}: mean diff = {float(np.mean(d))!r}, ci95 = [{lo!r}, {hi!r}]")
means = {t: {m: float(np.mean(v)) for m, v in cells.items()} for t, (_, cells) in PARTIAL.items()}
pvalues = []
for m in CONTROLS:
    d = [oriented(means[t]["mona"], means[t][m], PARTIAL[t][0]) for t in PARTIAL]
    res = stats.wilcoxon(d)
    pvalues.append(float(res.pvalue))
    wins, ties, losses = sum(x > 0 for x in d), sum(x == 0 for x in d), sum(x < 0 for x in d)
    print(f"mona vs {m}: task diffs = {[repr(x) for x in d]}, W/T/L = {wins}/{ties}/{losses}, "
          f"statistic = {float(res.statistic)!r}, p = {float(res.pvalue)!r}")
show("holm over mona's comparisons", holm(pvalues))
table = np.array([[means[t][m] if PARTIAL[t][0] else -means[t][m] for m in METHODS] for t in PARTIAL])
res = stats.friedmanchisquare(*table.T)
ranks = average_ranks(table)
show("partial average ranks (" + ", ".join(METHODS) + ")", ranks)
show("partial Friedman chi2", res.statistic)
show("partial Friedman p", res.pvalue)
N, k = table.shape
f_f = (N - 1) * res.statistic / (N * (k - 1) - res.statistic)
show("partial Iman-Davenport F", f_f)
show("partial Iman-Davenport p", stats.f.sf(f_f, k - 1, (k - 1) * (N - 1)))
show("partial Nemenyi q", nemenyi_q(k))
show("partial CD", nemenyi_q(k) * math.sqrt(k * (k + 1) / (6 * N)))

print("\n## Spearman rank correlation (scipy.stats.spearmanr; exact: permutation_test over all pairings)")


def spearman_exact_p(x, y):
    rx = stats.rankdata(x)
    rx = (rx - rx.mean()) / np.sqrt(((rx - rx.mean()) ** 2).sum())

    def statistic(y_perm, axis):
        ry = stats.rankdata(y_perm, axis=axis)
        ry = ry - ry.mean(axis=axis, keepdims=True)
        return (ry * rx).sum(axis=axis) / np.sqrt((ry ** 2).sum(axis=axis))
    res = stats.permutation_test((np.asarray(y, dtype=float),), statistic, permutation_type="pairings",
                                 n_resamples=np.inf, alternative="two-sided", vectorized=True)
    assert abs(float(res.statistic) - stats.spearmanr(x, y).statistic) < 1e-12
    return float(res.pvalue)


SPEARMAN = [
    ("n5 hand", [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]),
    ("n6 ties", [0.3, 1.2, 1.2, 2.5, 4.0, 3.1], [0.9, 0.4, 0.7, 0.7, 0.1, 0.2]),
    ("n8 gap vs reuse", [12.5, 30.1, 7.2, 18.4, 22.0, 9.9, 41.3, 15.0], [0.61, 0.48, 0.66, 0.52, 0.57, 0.63, 0.35, 0.50]),
    ("n9", [float((i * 5) % 9) for i in range(9)], [float((i * i) % 7) + 0.1 * i for i in range(9)]),
    ("n13 t only", [float((i * 7) % 13) for i in range(13)], [float((i * 3) % 11) + 0.5 * i for i in range(13)]),
]
for name, x, y in SPEARMAN:
    res = stats.spearmanr(x, y)
    line = f"{name}: n = {len(x)}, rho = {float(res.statistic)!r}, p_t = {float(res.pvalue)!r}"
    if len(x) <= 9:
        line += f", p_exact = {spearman_exact_p(x, y)!r}"
    print(line)
