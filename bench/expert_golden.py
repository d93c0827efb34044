#!/usr/bin/env python3
"""Golden values for Tests/MonaTransferTests/ExpertTests.swift, from aeon's MiniRocket and scikit-learn's ridge.

Run with aeon installed (python3 -m venv .venv-aeon && .venv-aeon/bin/pip install aeon==1.6.0):
    .venv-aeon/bin/python bench/expert_golden.py
Prints Swift array literals. The inputs are closed-form so the Swift test rebuilds them exactly.
"""
import numpy as np
from sklearn.linear_model import RidgeCV, RidgeClassifierCV
from aeon.transformations.collection.convolution_based._minirocket import (
    MiniRocket, _fit_dilations, _static_fit, _fit_biases)


def lit(name, values, fmt="{:.9g}"):
    print(f"    static let {name}: [{'Float' if fmt else 'Int'}] = [" +
          ", ".join(fmt.format(float(v)) for v in values) + "]")


def ilit(name, values):
    print(f"    static let {name}: [Int] = [" + ", ".join(str(int(v)) for v in values) + "]")


# Dilations for several lengths (10 000 features, 32 dilations).
for L in [9, 10, 24, 25, 41, 100, 150, 251, 2000]:
    d, f = _fit_dilations(L, 10000, 32)
    ilit(f"dilations{L}", d)
    ilit(f"perDilation{L}", f)

# Univariate: one training series (so the random example choice is fixed), 336 features (4 per kernel).
t = np.arange(20, dtype=np.float64)
x = (np.sin(0.7 * t) + 0.1 * t).astype(np.float32).reshape(1, 1, 20)
mr = MiniRocket(n_kernels=336, random_state=0).fit(x)
_, _, dil, fpd, biases = mr.parameters
ilit("uniDilations", dil)
ilit("uniPerDilation", fpd)
lit("uniBiases", biases)
xt = (np.cos(0.3 * t) * 2 - 0.05 * t * t / 10).astype(np.float32).reshape(1, 1, 20)
lit("uniFeaturesTrain", mr.transform(x)[0])
lit("uniFeaturesOther", mr.transform(xt)[0])

# Multivariate: 3 channels, length 16, one training example; aeon's channel combinations given to Swift.
t = np.arange(16, dtype=np.float64)
xm = np.stack([np.sin(0.5 * t), np.cos(0.9 * t) + 0.2 * t, (t % 5) - 2.0]).astype(np.float32).reshape(1, 3, 16)
mm = MiniRocket(n_kernels=168, random_state=3).fit(xm)
cpc, ci, dil, fpd, biases = mm.parameters
ilit("multiChannelCounts", cpc)
ilit("multiChannelIndices", ci)
ilit("multiDilations", dil)
ilit("multiPerDilation", fpd)
lit("multiBiases", biases)
xo = np.flip(xm, axis=2).copy() * np.float32(0.5)
lit("multiFeaturesOther", mm.transform(xo)[0])

# Ridge: closed-form problems (Swift rebuilds X and y from the same formulas).
def problem(n, d):
    i = np.arange(n)[:, None]; j = np.arange(d)[None, :]
    X = np.sin(0.37 * (i + 1) * (j + 2)) + 0.05 * ((i * 7 + j * 3) % 11)
    w = np.cos(0.5 * np.arange(d))
    y = X @ w + 0.3 * np.sin(1.3 * np.arange(n))
    return X.astype(np.float32).astype(np.float64), y

alphas = np.logspace(-3, 3, 10)
for name, (n, d) in {"wide": (12, 30), "tall": (40, 5)}.items():
    X, y = problem(n, d)
    r = RidgeCV(alphas=alphas).fit(X, y)
    print(f"    // {name}: n={n}, d={d}, alpha_={float(r.alpha_)!r}, best_score_={float(r.best_score_)!r}")
    print(f"    static let {name}Alpha = {float(r.alpha_)!r}")
    print(f"    static let {name}Score = {float(r.best_score_)!r}")
    print(f"    static let {name}Intercept = {float(r.intercept_)!r}")
    print(f"    static let {name}Coef: [Double] = [" + ", ".join(repr(float(v)) for v in r.coef_) + "]")
    # The score of every alpha (RidgeCV with one alpha at a time gives its best_score_).
    print(f"    static let {name}Scores: [Double] = [" + ", ".join(
        repr(float(RidgeCV(alphas=[a]).fit(X, y).best_score_)) for a in alphas) + "]")

X, y = problem(30, 60)
labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
c = RidgeClassifierCV(alphas=alphas).fit(X, labels)
print(f"    static let classifierAlpha = {float(c.alpha_)!r}")
ilit("classifierLabels", labels)
ilit("classifierPredictions", c.predict(X[::3] * 0.9))
