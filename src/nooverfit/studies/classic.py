"""Classic models on the study's own splits: the yardstick a recommended network must meet.

A network that a tuned SVC or random forest beats on the same data is not worth its cost,
and a user can only see that when both are scored alike. Each seed's split is used as the
networks use it: fitted on the baseline's training indices, each model's setting chosen on
the validation indices, the chosen one scored once on the test indices. Features are the
data set's own (images flattened; a CSV file's missing cells filled from the training
rows); logistic regression and the SVC get them standardized on the training rows, the
trees as they are.

A side comparison must never cost the study its result: a model that cannot be fitted
(one class in the training rows, a scikit-learn error) or would take too long (the RBF
SVC on many rows, the trees on many rows times features) is skipped with the reason.

Plumbing around scikit-learn, kept out of the decision logic: nothing here changes what
the study recommends, only what the report shows beside it.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit._io import UNREADABLE, _jsonable, atomic_write_json

#: Above this many training rows the RBF SVC (quadratic in the rows) is skipped.
SVC_MAX_ROWS = 10_000
#: Above this many features per sample no classic model is fitted (raw audio, large images).
MAX_FEATURES = 4096
#: Above this many training rows x features the forest and boosting are skipped (their
#: full grids take minutes per seed on one thread beyond it).
TREES_MAX_CELLS = 2_000_000
#: Above this many features the forest does not try ``max_features=1.0`` (every feature at
#: every split: slow, and rarely the best on wide data).
ALL_FEATURES_MAX = 100
MODELS = ("logistic", "svc", "forest", "boosting")

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
    """One model on one seed's split: the setting chosen on validation and its scores.

    Attributes:
        model: ``"logistic"``, ``"svc"``, ``"forest"`` or ``"boosting"``.
        params: the chosen setting, as ``(name, value)`` pairs.
        val_accuracy: its validation accuracy.
        test_accuracy: its test accuracy, scored once.
    """

    model: str
    params: tuple[tuple[str, Any], ...]
    val_accuracy: float
    test_accuracy: float


def features(x: np.ndarray) -> np.ndarray:
    """Samples as flat float64 feature rows."""
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def skipped(rows: int, width: int, kind: str, classes: int = 2) -> dict[str, str]:
    """Models that are not fitted on this data, with why (empty: all four are).

    Args:
        rows: training rows (the largest over seeds).
        width: features per sample.
        kind: the data set's kind.
        classes: the fewest distinct labels among the seeds' training rows.
    """
    if kind == "audio":
        return dict.fromkeys(MODELS, "raw audio is no feature table")
    if width > MAX_FEATURES:
        return dict.fromkeys(MODELS, f"{width} features per sample, more than {MAX_FEATURES}")
    if classes < 2:
        return dict.fromkeys(MODELS, "the training rows hold one class")
    out = {}
    if rows > SVC_MAX_ROWS:
        out["svc"] = f"{rows} training rows, more than {SVC_MAX_ROWS} (its cost is quadratic)"
    if rows * width > TREES_MAX_CELLS:
        why = f"{rows} training rows x {width} features, more than {TREES_MAX_CELLS:,} cells"
        out |= {"forest": why, "boosting": why}
    return out


def fit_split(
    x: np.ndarray,
    y: np.ndarray,
    split: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    seed: int,
    grids: ClassicGrids = LIGHT,
    skip: Sequence[str] = (),
) -> tuple[list[ClassicScore], dict[str, str]]:
    """Fit each model's settings on the training rows, choose on validation, score the
    chosen one once on test.

    Args:
        x: flat feature rows (:func:`features`).
        y: labels.
        split: the ``(train, validation, test)`` row indices.
        seed: the seed of the forest and the boosting.
        grids: the settings tried.
        skip: models not to fit.

    Returns:
        The scores of the models fitted, and the models that failed, with the first line
        of their error. Ties on validation keep the earlier setting (the grids list the
        simpler or more regularized first). One thread: the study shares its cores.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    train, val, test = split
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    scaled = (x - mean) / np.where(std > 0, std, 1.0)
    gamma = 1.0 / (scaled.shape[1] * max(float(scaled[train].var()), 1e-12))
    forest = [f for f in grids.forest if f != 1.0 or x.shape[1] <= ALL_FEATURES_MAX]
    models: dict[str, tuple[Callable[..., Any], list[dict[str, Any]], np.ndarray]] = {
        "logistic": (
            lambda **p: LogisticRegression(max_iter=2000, **p),
            [{"C": c} for c in grids.logistic],
            scaled,
        ),
        "svc": (SVC, [{"C": c, "gamma": g * gamma} for c, g in grids.svc], scaled),
        "forest": (
            lambda **p: RandomForestClassifier(n_estimators=grids.trees, random_state=seed, **p),
            [{"max_features": f} for f in forest],
            x,
        ),
        "boosting": (
            lambda **p: HistGradientBoostingClassifier(random_state=seed, **p),
            [{"learning_rate": r, "max_leaf_nodes": n} for r, n in grids.boosting],
            x,
        ),
    }
    found, failed = [], {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of tiny grids' extremes
        for name, (make, settings, data) in models.items():
            if name in skip or not settings:  # an empty grid: the model is not tried
                continue
            try:
                best: tuple[float, Any, dict[str, Any]] = (-1.0, None, {})
                for params in settings:
                    model = make(**params).fit(data[train], y[train])
                    acc = float(model.score(data[val], y[val]))
                    if acc > best[0]:
                        best = (acc, model, params)
                test_acc = float(best[1].score(data[test], y[test]))
            except (ValueError, MemoryError) as err:  # a side comparison never fails a study
                failed[name] = (str(err).strip().splitlines() or [type(err).__name__])[0]
                continue
            found.append(ClassicScore(name, tuple(best[2].items()), best[0], test_acc))
    return found, failed


def summarize(per_seed: Sequence[Sequence[ClassicScore]]) -> dict[str, Any]:
    """The per-seed scores as ``results.json`` records them.

    Returns:
        ``models``: per model, each seed's validation and test accuracy and chosen
        setting, and the means (``val_mean``, ``test_mean``, ``test_std``); ``best``: the
        model with the highest mean validation accuracy (the one a user choosing on
        validation would take), None when none was fitted.
    """
    models: dict[str, dict[str, Any]] = {}
    for scores in per_seed:
        for s in scores:
            m = models.setdefault(s.model, {"val": [], "test": [], "params": []})
            m["val"].append(s.val_accuracy)
            m["test"].append(s.test_accuracy)
            m["params"].append(dict(s.params))
    # a model that failed on some seed is left out: its mean would pair other seeds
    models = {k: m for k, m in models.items() if len(m["test"]) == len(per_seed)}
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
    filled: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """The four classic models on each seed's split, as ``results.json`` records them.

    Args:
        x: the data set's samples.
        y: its labels.
        kind: its kind (``"audio"`` is not fitted).
        splits: seed -> ``(train, validation, test)`` indices.
        budget: the study's budget name: ``standard`` and ``thorough`` get the full grid,
            any other the light one.
        filled: ``x`` with missing cells filled from the given training rows
            (:meth:`~nooverfit.data.dataset.Dataset.filled`); None: ``x`` as it is.

    Returns:
        :func:`summarize`'s record, with ``skipped`` (model -> why it was not fitted or
        failed) and the ``grid`` used.
    """
    y = np.asarray(y)
    width = int(np.prod(x.shape[1:]))
    rows = max(len(t) for t, _, _ in splits.values())
    fewest = min(len(np.unique(y[np.asarray(t, dtype=np.int64)])) for t, _, _ in splits.values())
    skip = skipped(rows, width, kind, fewest)
    name = "full" if budget in ("standard", "thorough") else "light"
    per_seed = []
    for seed, idx in splits.items():
        if len(skip) == len(MODELS):
            break
        parts = [np.asarray(i, dtype=np.int64) for i in idx]
        # only the rows the split uses, as float64 (not a copy of the whole data set)
        rows_used = np.unique(np.concatenate(parts))
        local = tuple(np.searchsorted(rows_used, p) for p in parts)
        xs = x if filled is None else filled(parts[0])
        scores, failed = fit_split(
            features(xs[rows_used]),
            y[rows_used],
            (local[0], local[1], local[2]),
            seed=seed,
            grids=GRIDS[name],
            skip=tuple(skip),
        )
        per_seed.append(scores)
        skip |= {k: f"failed on seed {seed}: {why}" for k, why in failed.items()}
    return {**summarize(per_seed), "skipped": skip, "grid": name}


def stored(
    path: Path | None,
    splits: Mapping[int, tuple[Indices, Indices, Indices]],
    budget: str,
    fit: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], float]:
    """:func:`references`' record and the seconds its fitting took, fitted once per study
    folder: a resumed study reads both back from ``path`` when they were fitted on the
    same splits with the same grid and scikit-learn, instead of fitting again (``path``
    None: always fitted).

    The record is returned as JSON gives it back either way, so a resumed study's
    ``results.json`` is the uninterrupted one's.
    """
    import sklearn

    grid = "full" if budget in ("standard", "thorough") else "light"
    same = {
        str(s): [np.asarray(i, dtype=np.int64).tolist() for i in idx] for s, idx in splits.items()
    }
    key = hashlib.sha256(
        json.dumps([same, grid, sklearn.__version__], sort_keys=True).encode()
    ).hexdigest()
    if path is not None:
        try:
            saved = json.loads(path.read_text())
            if saved["key"] == key:
                return dict(saved["found"]), float(saved["seconds"])
        except UNREADABLE:
            pass  # missing or damaged: fitted again
    began = time.perf_counter()
    found: dict[str, Any] = json.loads(json.dumps(_jsonable(fit()), allow_nan=False))
    seconds = time.perf_counter() - began
    if path is not None:
        atomic_write_json(path, {"key": key, "found": found, "seconds": seconds})
    return found, seconds
