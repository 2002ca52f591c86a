"""Classic models on the study's own splits: the yardstick a recommended network must meet.

A network that a tuned SVC or random forest beats on the same data is not worth its cost,
and a user can only see that when both are scored alike. Each seed's split is used as the
networks use it: fitted on the baseline's training indices, each model's setting chosen on
the validation indices, the chosen one scored once on the test indices. Features are the
data set's own (images and spectrogram-like inputs flattened); logistic regression and the
SVC get them standardized on the training rows, the trees as they are; missing values are
filled with the training rows' medians (the trees would not need it; one input for all
keeps the comparison simple).

Plumbing around scikit-learn, kept out of the decision logic: nothing here changes what
the study recommends, only what the report shows beside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Above this many training rows the RBF SVC (quadratic in the rows) is skipped.
SVC_MAX_ROWS = 10_000
#: Above this many features per sample no classic model is fitted (raw audio, large images).
MAX_FEATURES = 4096

#: Row indices into the data set, as a list or an array.
Indices = Sequence[int] | np.ndarray


@dataclass(frozen=True)
class ClassicGrids:
    """The settings tried per model; each model's best on validation is tested.

    Attributes:
        logistic: ``C`` values of LogisticRegression.
        svc: ``(C, gamma factor)`` pairs of the RBF SVC; the factor scales scikit-learn's
            ``gamma="scale"`` (``1 / (features * variance)``).
        forest: ``max_features`` values of a RandomForest of ``trees`` trees.
        boosting: ``(learning_rate, max_leaf_nodes)`` pairs of HistGradientBoosting.
        trees: trees per forest.
    """

    logistic: tuple[float, ...]
    svc: tuple[tuple[float, float], ...]
    forest: tuple[float | str, ...]
    boosting: tuple[tuple[float, int], ...]
    trees: int


#: A few seconds on small data (digits at 20 per class: about 2 s per seed on one core).
LIGHT = ClassicGrids(
    logistic=(0.01, 0.1, 1.0, 10.0),
    # the SVC's fits take milliseconds on small data and it is often the strongest: full
    svc=tuple((c, g) for c in (0.1, 1.0, 10.0, 100.0) for g in (0.1, 0.3, 1.0, 3.0)),
    forest=("sqrt",),
    boosting=((0.1, 15),),
    trees=200,
)
#: The tuned references of ``bench/tabular.py``'s size.
FULL = ClassicGrids(
    logistic=tuple(10.0**k for k in range(-3, 4)),
    svc=tuple((c, g) for c in (0.1, 1.0, 10.0, 100.0) for g in (0.1, 0.3, 1.0, 3.0)),
    forest=("sqrt", 0.33, 0.5, 1.0),
    boosting=tuple((r, n) for r in (0.03, 0.1, 0.3) for n in (7, 15, 31)),
    trees=500,
)
GRIDS = {"light": LIGHT, "full": FULL}


@dataclass(frozen=True)
class ClassicScore:
    """One model on one seed's split: the setting chosen on validation and its scores."""

    model: str
    params: dict[str, Any]
    val_accuracy: float
    test_accuracy: float


def features(x: np.ndarray) -> np.ndarray:
    """Samples as flat float64 feature rows."""
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def skipped(rows: int, width: int, kind: str) -> dict[str, str]:
    """Models that are not fitted on this data, with why (empty: all four are)."""
    if kind == "audio":
        why = "raw audio is no feature table"
        return {m: why for m in ("logistic", "svc", "forest", "boosting")}
    if width > MAX_FEATURES:
        why = f"{width} features per sample, more than {MAX_FEATURES}"
        return {m: why for m in ("logistic", "svc", "forest", "boosting")}
    if rows > SVC_MAX_ROWS:
        return {"svc": f"{rows} training rows, more than {SVC_MAX_ROWS} (its cost is quadratic)"}
    return {}


def fit_split(
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
    *,
    seed: int,
    grids: ClassicGrids = LIGHT,
    skip: Sequence[str] = (),
) -> list[ClassicScore]:
    """Fit each model's settings on ``train``, choose on ``val``, score once on ``test``.

    ``x`` holds flat feature rows (:func:`features`). Ties on validation keep the earlier
    setting (the grids list the simpler or more regularized first). One thread: the study
    process shares its cores with torch.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    filled = _filled(x, train)
    mean, std = filled[train].mean(axis=0), filled[train].std(axis=0)
    scaled = (filled - mean) / np.where(std > 0, std, 1.0)
    gamma = 1.0 / (scaled.shape[1] * max(float(scaled[train].var()), 1e-12))
    models: dict[str, tuple[Callable[..., Any], list[dict[str, Any]], np.ndarray]] = {
        "logistic": (
            lambda **p: LogisticRegression(max_iter=2000, **p),
            [{"C": c} for c in grids.logistic],
            scaled,
        ),
        "svc": (SVC, [{"C": c, "gamma": g * gamma} for c, g in grids.svc], scaled),
        "forest": (
            lambda **p: RandomForestClassifier(n_estimators=grids.trees, random_state=seed, **p),
            [{"max_features": f} for f in grids.forest],
            filled,
        ),
        "boosting": (
            lambda **p: HistGradientBoostingClassifier(random_state=seed, **p),
            [{"learning_rate": r, "max_leaf_nodes": n} for r, n in grids.boosting],
            filled,
        ),
    }
    found = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of tiny grids' extremes
        for name, (make, settings, data) in models.items():
            if name in skip or not settings:  # an empty grid: the model is not tried
                continue
            best: tuple[float, Any, dict[str, Any]] = (-1.0, None, {})
            for params in settings:
                model = make(**params).fit(data[train], y[train])
                acc = float(model.score(data[val], y[val]))
                if acc > best[0]:
                    best = (acc, model, params)
            test_acc = float(best[1].score(data[test], y[test]))
            found.append(ClassicScore(name, dict(best[2]), best[0], test_acc))
    return found


def _filled(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """``x`` with missing values replaced by the training rows' column medians (0 where a
    column has no training value)."""
    if not np.isnan(x).any():
        return x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an all-NaN column's median
        median = np.nanmedian(x[train], axis=0)
    median = np.where(np.isnan(median), 0.0, median)
    return np.where(np.isnan(x), median, x)


def summarize(per_seed: Sequence[Sequence[ClassicScore]]) -> dict[str, Any]:
    """Per model: mean validation and test accuracy over seeds, each seed's scores and
    settings; ``best``: the model with the highest mean validation accuracy (the one a
    user choosing on validation would take)."""
    models: dict[str, dict[str, Any]] = {}
    for scores in per_seed:
        for s in scores:
            m = models.setdefault(s.model, {"val": [], "test": [], "params": []})
            m["val"].append(s.val_accuracy)
            m["test"].append(s.test_accuracy)
            m["params"].append(s.params)
    for m in models.values():
        m["val_mean"] = float(np.mean(m["val"]))
        m["test_mean"] = float(np.mean(m["test"]))
        m["test_std"] = float(np.std(m["test"]))
    best = max(models, key=lambda k: models[k]["val_mean"]) if models else None
    return {"models": models, "best": best}


def references(
    x: np.ndarray,
    y: np.ndarray,
    kind: str,
    splits: Mapping[int, tuple[Indices, Indices, Indices]],
    *,
    budget: str = "quick",
) -> dict[str, Any]:
    """The four classic models on each seed's ``(train, val, test)`` indices: the
    :func:`summarize` of :func:`fit_split` per seed, with ``skipped`` (model -> why) and
    the ``grid`` used (``light`` for the quick budget, else ``full``)."""
    flat = features(x)
    rows = max(len(t) for t, _, _ in splits.values())
    skip = skipped(rows, flat.shape[1], kind)
    name = "light" if budget == "quick" else "full"
    per_seed = [
        fit_split(
            flat,
            np.asarray(y),
            *(np.asarray(i, dtype=np.int64) for i in idx),
            seed=seed,
            grids=GRIDS[name],
            skip=tuple(skip),
        )
        for seed, idx in splits.items()
        if len(skip) < 4
    ]
    return {**summarize(per_seed), "skipped": skip, "grid": name}


def against(found: Mapping[str, Any], network: Sequence[float]) -> dict[str, Any] | None:
    """The recommended network's test accuracy (``network``, per seed) against the classic
    model a user would pick on validation (``found``: :func:`references`): that model's
    name, its mean test accuracy and the seed-paired difference network - model (mean
    and per seed); None when no classic model was fitted."""
    best = found.get("best")
    if best is None:
        return None
    model = found["models"][best]
    diffs = [n - m for n, m in zip(network, model["test"], strict=True)]
    return {
        "model": best,
        "test": model["test_mean"],
        "diff": float(np.mean(diffs)),
        "per_seed": diffs,
        "better_on_test": sorted(
            k for k, m in found["models"].items() if m["test_mean"] > float(np.mean(network))
        ),
    }
