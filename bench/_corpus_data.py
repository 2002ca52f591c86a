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


@functools.cache
def load_data(name: str, seed: int) -> dict[str, Any]:
    """Standardized features and a seeded train-pool / val / test split."""
    from sklearn import datasets

    rng = np.random.default_rng(seed)
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
