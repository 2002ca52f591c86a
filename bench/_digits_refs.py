"""The four references of ``small_data.py`` on raw pixels (``BENCHMARKS.md``'s digits protocol).

``_tabular_refs.references`` fits LogisticRegression and the SVC on features standardized on
the training rows (the study's :func:`nooverfit.studies.classic.fit_split`); the digits
protocol uses the pixels as they are (``/ 16``) with absolute ``gamma`` values. Same grids,
same tie rule (a validation tie keeps the earlier, simpler or more regularized, setting),
one fit per setting on the training rows, the chosen one scored once on test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from _tabular_refs import HGB_LEAVES, HGB_RATE, LR_C, RF_FEATURES, SVC_C, SVC_GAMMA


def raw_references(
    x: np.ndarray, y: np.ndarray, idx: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> dict[str, dict[str, Any]]:
    """Validation and test accuracy and the chosen params of each reference on ``idx``
    (train, validation, test row indices), every model on ``x`` unscaled."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    models: dict[str, tuple[Callable[..., Any], list[dict[str, Any]]]] = {
        "logistic": (lambda **p: LogisticRegression(max_iter=2000, **p), [{"C": c} for c in LR_C]),
        "svc": (SVC, [{"C": c, "gamma": g} for c in SVC_C for g in SVC_GAMMA]),
        "forest": (
            lambda **p: RandomForestClassifier(n_estimators=500, random_state=seed, **p),
            [{"max_features": f} for f in RF_FEATURES],
        ),
        "boosting": (
            lambda **p: HistGradientBoostingClassifier(random_state=seed, **p),
            [{"learning_rate": r, "max_leaf_nodes": n} for r in HGB_RATE for n in HGB_LEAVES],
        ),
    }
    train, val, test = idx
    out: dict[str, dict[str, Any]] = {}
    for name, (make, grid) in models.items():
        best: tuple[float, Any, dict[str, Any]] | None = None
        for params in grid:
            model = make(**params).fit(x[train], y[train])
            score = float(model.score(x[val], y[val]))
            if best is None or score > best[0]:
                best = (score, model, params)
        assert best is not None
        out[name] = {"val": best[0], "test": float(best[1].score(x[test], y[test])), **best[2]}
    return out
