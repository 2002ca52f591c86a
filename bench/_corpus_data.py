"""The data sets of ``make_log_corpus.py``: scikit-learn built-ins and generated ones,
classification and regression, standardized and split into a training pool, a validation
set (what the logs show) and a test set (what the labels are checked against)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

DATASETS = ("digits", "cancer", "wine", "moons", "blobs", "diabetes", "friedman", "wave")
HELDOUT_DATA = ("wine", "friedman", "moons")
#: Data sets only a batch asked for by ``--data`` uses (a fresh held-out batch: none of
#: them was in the corpus the rules were designed on).
FRESH_DATA = ("circles", "iris", "quantiles", "sparse", "friedman2", "hastie", "linear")
#: Small versions of design data sets (300 samples, ``NAME_small``) for the design2 batch.
SMALL_DATA = ("digits_small", "cancer_small", "wave_small")
#: Data sets of the third fresh batch (``--part fresh3``), added after the rules were frozen.
FRESH3_DATA = ("friedman3", "scurve", "classes6", "xor")
#: Data sets of the fourth fresh batch (``--part fresh4``), added after the rules were frozen
#: again: spirals, a checkerboard, imbalanced classes, a rolled sheet, heavy-tailed noise.
FRESH4_DATA = ("spirals", "checker", "imbalanced", "swissroll", "heavytail")
#: Data sets of the fifth fresh batch (``--part fresh5``), added after the rules were frozen
#: once more: isotropic blobs in 5 classes, 3 informative of 30 features with 10 % flipped
#: labels, a low-rank linear target, a radial sinc target.
FRESH5_DATA = ("blobs5", "fewinformative", "lowrank", "sinc")
#: Data sets of the sixth fresh batch (``--part fresh6``, the fresh5 draws, built before a
#: second round of rule changes): three noisy concentric rings, a cubic target.
FRESH6_DATA = ("rings3", "cubic")
#: Data sets of the seventh fresh batch (``--part fresh7``, built after a third round of
#: rule changes was frozen): inside or outside a sphere in 10 dimensions, 12 classes, a sum
#: of Gaussian bumps, a target whose noise grows with a feature (heteroscedastic).
FRESH7_DATA = ("sphere", "classes12", "bumps", "hetero")

#: Data sets of the eighth fresh batch (``--part fresh8``, built after i42's rules were
#: frozen): a bag-of-words "text" set (word counts of 3 topics), a binary set with 4 %
#: positives, a step-shaped target and a count target (both trained with MAE).
FRESH8_DATA = ("bow", "rare", "steps", "counts")
#: MAE regression sets of the design3 batch (tuned on, after fresh8 was scored: its MAE
#: runs were the weakest) and of fresh9 (built after that tuning, scored once): Laplace and
#: skewed (gamma) noise; an integer-valued target and a two-level one.
DESIGN3_DATA = ("laplace", "skewed")
FRESH9_DATA = ("ordinal", "twolevel")
#: fresh10 (built after i42's third round): a sawtooth target (MAE) and three overlapping
#: Gaussian classes with 15 % flipped labels.
FRESH10_DATA = ("sawtooth", "overlap")
#: fresh11 (built by i45 before its first rule change, scored once after the freeze): the
#: 5 classes of a random two-layer teacher network, the sign of a quadratic form in 8
#: features with 5 % flipped, a chirp target (MAE).
FRESH11_DATA = ("teacher", "quadric", "chirp")
#: fresh12 (built by i50 before its first rule change, scored once after the freeze): a
#: tabular set of one-hot categories and numbers (logistic target), a linear target with 4 %
#: gross outliers (MSE or MAE), four diagonal stripes of two features (4 classes).
FRESH12_DATA = ("mixed", "outliers", "stripes")
#: The data sets labelled on ``LABEL_TEST`` test samples (4,000 samples each).
LARGE_DATA = FRESH8_DATA + DESIGN3_DATA + FRESH9_DATA + FRESH10_DATA + FRESH11_DATA
LARGE_DATA += FRESH12_DATA
#: Test samples of the fresh8 data sets (4,000 samples each; the others hold 400 at most):
#: a test curve 2x less noisy, so that fewer labels fall within the test set's noise.
LABEL_TEST = 1500


@functools.cache
def load_data(name: str, seed: int) -> dict[str, Any]:
    """Standardized features and a seeded train-pool / val / test split."""
    from sklearn import datasets

    rng = np.random.default_rng(seed)
    if name.endswith("_small"):  # 300 samples of a design data set: small, noisy
        # validation and test sets, as a small data set gives (a design batch's variety)
        full = load_data(name.removesuffix("_small"), seed)
        return _subsample(full, rng, 300)
    kind = "cls"
    if name == "digits":
        x, y = datasets.load_digits(return_X_y=True)
    elif name == "cancer":
        x, y = datasets.load_breast_cancer(return_X_y=True)
    elif name == "wine":
        x, y = datasets.load_wine(return_X_y=True)
    elif name == "moons":
        x, y = datasets.make_moons(1200, noise=0.3, random_state=seed)
    elif name == "blobs":
        x, y = datasets.make_classification(
            1500, n_features=20, n_informative=8, n_classes=4, flip_y=0.03, random_state=seed
        )
    elif name == "diabetes":
        x, y = datasets.load_diabetes(return_X_y=True)
        kind = "reg"
    elif name == "friedman":
        x, y = datasets.make_friedman1(1500, noise=1.0, random_state=seed)
        kind = "reg"
    elif name == "circles":
        x, y = datasets.make_circles(1200, noise=0.15, factor=0.5, random_state=seed)
    elif name == "iris":
        x, y = datasets.load_iris(return_X_y=True)
    elif name == "quantiles":
        x, y = datasets.make_gaussian_quantiles(
            n_samples=1500, n_features=6, n_classes=3, random_state=seed
        )
    elif name == "sparse":
        x, y = datasets.make_sparse_uncorrelated(1500, n_features=10, random_state=seed)
        kind = "reg"
    elif name == "hastie":
        x, y = datasets.make_hastie_10_2(1500, random_state=seed)
        y = (y > 0).astype(int)
    elif name == "linear":
        x, y = datasets.make_regression(
            1500, n_features=20, n_informative=5, noise=20.0, random_state=seed
        )
        kind = "reg"
    elif name == "friedman2":
        x, y = datasets.make_friedman2(1500, noise=50.0, random_state=seed)
        kind = "reg"
    elif name == "friedman3":
        x, y = datasets.make_friedman3(1500, noise=0.1, random_state=seed)
        kind = "reg"
    elif name == "scurve":  # the position along an S-shaped sheet, from noisy coordinates
        x, y = datasets.make_s_curve(1500, noise=0.2, random_state=seed)
        x = np.hstack([x, rng.normal(size=(1500, 3))])
        kind = "reg"
    elif name == "classes6":
        x, y = datasets.make_classification(
            1500,
            n_features=12,
            n_informative=6,
            n_classes=6,
            class_sep=0.8,
            flip_y=0.05,
            random_state=seed,
        )
    elif name == "xor":  # the sign of a product of two of six features, 5 % flipped
        x = rng.normal(size=(1500, 6))
        y = ((x[:, 0] * x[:, 1] > 0) ^ (rng.random(1500) < 0.05)).astype(int)
    elif name == "spirals":  # two interleaved spirals, 2 informative of 5 features
        t = 3 * np.pi * np.sqrt(rng.random(1500))
        y = rng.integers(2, size=1500)
        arm = np.where(y == 1, np.pi, 0.0)
        x = np.stack([t * np.cos(t + arm), t * np.sin(t + arm)], 1)
        x = np.hstack([x + 0.6 * rng.normal(size=x.shape), rng.normal(size=(1500, 3))])
    elif name == "checker":  # the colour of a 4x4 checkerboard cell, 4 noise features
        x = rng.uniform(-2, 2, size=(1500, 6))
        y = ((np.floor(x[:, 0]) + np.floor(x[:, 1])) % 2).astype(int)
        y = y ^ (rng.random(1500) < 0.03)
    elif name == "imbalanced":  # three classes in shares 75 / 18 / 7 %
        x, y = datasets.make_classification(
            1500,
            n_features=15,
            n_informative=5,
            n_redundant=4,
            n_classes=3,
            weights=[0.75, 0.18, 0.07],
            flip_y=0.02,
            random_state=seed,
        )
    elif name == "swissroll":  # the position along a rolled sheet, from noisy coordinates
        x, y = datasets.make_swiss_roll(1500, noise=0.5, random_state=seed)
        x = np.hstack([x, rng.normal(size=(1500, 2))])
        kind = "reg"
    elif name == "heavytail":  # a sparse linear-plus-interaction target, Student-t noise
        x = rng.normal(size=(1500, 10))
        y = x[:, 0] - 2 * x[:, 1] + x[:, 2] * x[:, 3] + rng.standard_t(3, size=1500)
        kind = "reg"
    elif name == "blobs5":
        x, y = datasets.make_blobs(
            1500, n_features=8, centers=5, cluster_std=4.0, random_state=seed
        )
    elif name == "fewinformative":
        x, y = datasets.make_classification(
            1500, n_features=30, n_informative=3, n_redundant=0, flip_y=0.1, random_state=seed
        )
    elif name == "lowrank":
        x, y = datasets.make_regression(
            1500, n_features=30, effective_rank=4, noise=5.0, random_state=seed
        )
        kind = "reg"
    elif name == "sinc":  # sin(r) / r of the radius in 4 of 7 features, with noise
        x = rng.uniform(-3, 3, size=(1500, 7))
        r = 2 * np.linalg.norm(x[:, :4], axis=1) + 1e-9
        y = np.sin(r) / r + 0.05 * rng.normal(size=1500)
        kind = "reg"
    elif name == "rings3":  # the ring (radius 1, 2 or 3) of a noisy 2-d point, 3 noise features
        y = rng.integers(3, size=1500)
        angle = rng.uniform(0, 2 * np.pi, size=1500)
        r = (y + 1) + 0.45 * rng.normal(size=1500)
        x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
        x = np.hstack([x, rng.normal(size=(1500, 3))])
    elif name == "cubic":  # a cubic and an interaction of heavy-tailed features, with noise
        x = rng.standard_t(4, size=(1500, 6))
        y = 0.3 * x[:, 0] ** 3 - x[:, 1] * x[:, 2] + 0.5 * rng.normal(size=1500)
        kind = "reg"
    elif name == "sphere":  # inside the median radius in 10 dimensions, 5 % flipped
        x = rng.normal(size=(1500, 10))
        r = np.linalg.norm(x, axis=1)
        y = ((r < np.median(r)) ^ (rng.random(1500) < 0.05)).astype(int)
    elif name == "classes12":
        x, y = datasets.make_classification(
            1500, n_features=40, n_informative=10, n_classes=12, flip_y=0.02, random_state=seed
        )
    elif name == "bumps":  # three Gaussian bumps in 5 of 8 features, with noise
        x = rng.uniform(-2, 2, size=(1500, 8))
        centers = rng.uniform(-1.5, 1.5, size=(3, 5))
        dist = ((x[:, None, :5] - centers[None]) ** 2).sum(-1)
        y = np.exp(-dist).sum(1) + 0.05 * rng.normal(size=1500)
        kind = "reg"
    elif name in LARGE_DATA:
        x, y, kind = _fresh8(name, rng, seed)
    elif name == "hetero":  # noise whose spread grows with the third feature
        x = rng.normal(size=(1500, 6))
        y = x[:, 0] + np.sin(3 * x[:, 1]) + (0.2 + 0.6 * np.abs(x[:, 2])) * rng.normal(size=1500)
        kind = "reg"
    else:  # wave: a smooth nonlinear target in 8 features
        x = rng.normal(size=(1500, 8))
        y = (
            np.sin(2 * x[:, 0])
            + 0.5 * x[:, 1] ** 2
            - x[:, 2] * x[:, 3]
            + 0.3 * rng.normal(size=1500)
        )
        kind = "reg"
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    if kind == "reg":
        y = (y - y.mean()) / y.std()
    order = rng.permutation(len(x))
    n_test, n_val = min(400, len(x) // 4), min(300, len(x) // 5)
    if name in LARGE_DATA:  # a larger test set, for labelling only (the log never sees it)
        n_test = LABEL_TEST
    test, val, pool = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return {
        "kind": kind,
        "classes": int(y.max()) + 1 if kind == "cls" else 0,
        "x_pool": x[pool].astype(np.float32),
        "y_pool": y[pool],
        "x_val": x[val].astype(np.float32),
        "y_val": y[val],
        "x_test": x[test].astype(np.float32),
        "y_test": y[test],
    }


def _subsample(full: dict[str, Any], rng: np.random.Generator, size: int) -> dict[str, Any]:
    """``size`` samples of a loaded data set, split in the same shares as ``load_data``'s."""
    x = np.concatenate([full["x_pool"], full["x_val"], full["x_test"]])
    y = np.concatenate([full["y_pool"], full["y_val"], full["y_test"]])
    order = rng.permutation(len(x))[:size]
    x, y = x[order], y[order]
    n_test, n_val = size // 4, size // 5
    return {
        **full,
        "x_pool": x[n_test + n_val :],
        "y_pool": y[n_test + n_val :],
        "x_val": x[n_test : n_test + n_val],
        "y_val": y[n_test : n_test + n_val],
        "x_test": x[:n_test],
        "y_test": y[:n_test],
    }


def _fresh8(name: str, rng: np.random.Generator, seed: int) -> tuple[Any, Any, str]:
    """Features, targets and kind of a fresh8 data set (4,000 samples)."""
    from sklearn import datasets

    n = 4000
    if name == "bow":  # 60-word documents of 3 topics over a 300-word Zipf vocabulary
        base = 1.0 / np.arange(1, 301)
        topics = np.stack([base * rng.lognormal(0, 1.0, 300) for _ in range(3)])
        topics /= topics.sum(1, keepdims=True)
        y = rng.integers(3, size=n)
        mix = 0.5 * topics[y] + 0.5 * base / base.sum()  # half of each text is common words
        counts = np.stack([rng.multinomial(int(rng.integers(20, 100)), m) for m in mix])
        return np.log1p(counts), y, "cls"
    if name == "overlap":  # three overlapping Gaussian classes, 15 % of labels flipped
        x, y = datasets.make_blobs(n, n_features=6, centers=3, cluster_std=3.0, random_state=seed)
        flip = rng.random(n) < 0.15
        y[flip] = rng.integers(3, size=int(flip.sum()))
        return x, y, "cls"
    if name == "teacher":  # the arg-max of a random tanh network's 5 outputs
        x = rng.normal(size=(n, 10))
        hidden = np.tanh(x @ rng.normal(size=(10, 16)) / np.sqrt(10))
        return x, np.argmax(hidden @ rng.normal(size=(16, 5)), axis=1), "cls"
    if name == "quadric":  # the sign of a random quadratic form, 5 % of labels flipped
        x = rng.normal(size=(n, 8))
        a = rng.normal(size=(8, 8))
        score = np.einsum("ni,ij,nj->n", x, (a + a.T) / 2, x)
        y = (score > np.median(score)).astype(int)
        flip = rng.random(n) < 0.05
        y[flip] = 1 - y[flip]
        return x, y, "cls"
    if name == "mixed":  # 3 one-hot categories (4, 6, 3 levels) and 5 numbers, logistic
        cats = [rng.integers(k, size=n) for k in (4, 6, 3)]
        x = np.hstack([np.eye(k)[c] for k, c in zip((4, 6, 3), cats, strict=True)])
        x = np.hstack([x, rng.normal(size=(n, 5))])
        score = x @ rng.normal(size=x.shape[1]) + 0.8 * x[:, -1] * x[:, -2]
        return x, (rng.random(n) < 1 / (1 + np.exp(-2 * score))).astype(int), "cls"
    if name == "stripes":  # the diagonal stripe (of 4, repeating) of two features, 3 noisy
        x = rng.uniform(-2, 2, size=(n, 5))
        return x, (np.floor(1.5 * (x[:, 0] + x[:, 1])) % 4).astype(int), "cls"
    if name == "rare":  # 4 % positives
        x, y = datasets.make_classification(
            n, n_features=12, n_informative=4, weights=[0.96], flip_y=0.01, random_state=seed
        )
        return x, y, "cls"
    x = rng.normal(size=(n, 6))
    if name == "steps":  # a staircase in one feature plus a kink, Laplace noise
        y = np.floor(2 * x[:, 0]) + np.abs(x[:, 1]) + 0.5 * rng.laplace(size=n)
    elif name == "counts":  # Poisson counts whose rate grows with two features
        y = rng.poisson(np.exp(0.8 * x[:, 0] - 0.5 * x[:, 1] ** 2 + 1.0)).astype(float)
    elif name == "laplace":  # a smooth target with Laplace noise
        y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.7 * rng.laplace(size=n)
    elif name == "skewed":  # a target with right-skewed (gamma) noise
        y = np.exp(0.5 * x[:, 0]) + x[:, 1] - x[:, 3] ** 2 / 2 + rng.gamma(1.5, 0.6, size=n)
    elif name == "ordinal":  # an integer grade from a noisy linear score
        y = np.clip(np.round(x[:, 0] + 0.5 * x[:, 1] - x[:, 2] + rng.normal(size=n)), -3, 3)
    elif name == "sawtooth":  # a sawtooth in one feature plus a linear term, with noise
        y = (x[:, 0] * 2) % 1.0 + 0.5 * x[:, 1] + 0.2 * rng.normal(size=n)
    elif name == "chirp":  # a chirp sin(x0^2) in one feature, a linear term, uniform noise
        y = np.sin(1.5 * x[:, 0] ** 2) + 0.5 * x[:, 1] + rng.uniform(-0.8, 0.8, size=n)
    elif name == "outliers":  # linear in 4 features, 4 % of targets off by 10 deviations
        y = x[:, :4] @ np.array([1.0, -0.7, 0.5, 0.3]) + 0.3 * rng.normal(size=n)
        y += np.where(rng.random(n) < 0.04, 10 * rng.choice([-1.0, 1.0], size=n), 0.0)
    else:  # twolevel: one of two levels by the sign of a product, with noise
        y = np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0) + 0.3 * x[:, 2] + 0.4 * rng.normal(size=n)
    return x, y, "reg"
