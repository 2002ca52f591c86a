"""Scaling of tabular features, fitted on the training pool only (never on validation or
test rows; ``onehot`` alone counts how many of a feature's values get a column over
every row's features, no label, so that every seed's split has one width). Pure numpy.

- ``standard``: ``(x - mean) / std``, the classic choice; a few extreme values dominate
  the standard deviation of skewed features and land far out, where a network's first
  layer extrapolates.
- ``robust``: ``(x - median) / IQR``, then a smooth clip ``z / sqrt(1 + (z / 3)^2)`` into
  (-3, 3): the scaling of RealMLP (Holzmüller et al., "Better by default", NeurIPS 2024);
  outliers keep their order but no longer their distance.
- ``quantile``: each feature mapped through its pool quantiles to a standard normal
  (scikit-learn's ``QuantileTransformer(output_distribution="normal")`` does the same),
  clipped to +-3; for features with few distinct values the map is piecewise linear.
- ``ple``: piecewise-linear encoding (Gorishniy et al., "On Embeddings for Numerical
  Features in Tabular Deep Learning", NeurIPS 2022): each feature becomes ``T`` columns,
  one per bin between its pool quantiles, that fill from 0 to 1 as the value crosses the
  bin (a thermometer with linear steps). The network's first layer then learns a
  piecewise-linear function of each feature, the thresholds a tree would find; a value
  beyond the pool's range saturates. A feature with at most two distinct values (a
  one-hot column) stays one column, mapped to 0 and 1.
- ``ple16``: the same with :data:`PLE_FINE_BINS` bins: finer thresholds, for a feature
  whose exact values carry the label (an engine's displacement names its maker in
  ``ISLR::Auto``: a random forest on that one column scored 80-85 % where an MLP on all
  standardized columns scored 78 %). The study trains copies of its choice in it
  (:mod:`nooverfit.studies.copies`).
- ``periodic``: fixed-frequency periodic features of each standardized value ``z``
  (smoothly clipped as ``robust`` clips): ``z`` itself, then ``sin`` and ``cos`` of
  ``2 pi f z`` for each of :data:`FREQUENCIES` (cycles per standard deviation): the
  network's first layer sees a feature at several resolutions (Gorishniy et al. 2022
  learn the frequencies; fixed ones need no new layer and no seed). A feature with at most
  two distinct values stays its one standardized column.
- ``onehot``: each standardized column, then for a numeric feature with more than two
  distinct values an indicator column for each of its most frequent pool values (as
  many as it has values held by at least :data:`ONEHOT_ROWS` rows, at most
  :data:`ONEHOT_MOST`; see :func:`onehot_values`): a value's own column, as for a
  category. Where a numeric column is a code more than a measurement (a shelf price that
  names a store-week's promotion in a scanner panel: ``Ecdat::Yogurt`` takes 40-70
  prices per brand), a tree isolates one value with two thresholds, which neither a
  smooth function nor 16 quantile bins resolve; the study's baseline MLP on such columns
  scored 63.3 % on yogurt and 78.0 % on ``Ecdat::Cracker`` against 56.0 % and 73.3 %
  standardized (a probe; forest 62.9 %, boosting 77.3 %), the study 64.6 % and 78.3 %
  against 58.2 % and 74.9 % (s29 i157, bench README). A continuous
  column, whose values rarely repeat, keeps its standardized column only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCALINGS = ("standard", "robust", "quantile", "ple", "ple16", "periodic", "onehot")
#: what :func:`nooverfit.data.prepare` applies to tabular data
DEFAULT_SCALING = "standard"
#: clip of the smooth clip and of the quantile map, in (robust) standard deviations
CLIP = 3.0
#: most bins per feature of the piecewise-linear encoding (fewer when the feature has
#: fewer distinct values): 8 keeps a bin at 25 rows of a 200-row pool
PLE_BINS = 8
#: bins of the ``ple16`` encoding
PLE_FINE_BINS = 16
#: frequencies of the ``periodic`` encoding, in cycles per (pool) standard deviation
FREQUENCIES = (0.125, 0.25, 0.5, 1.0)
#: rows (of all, features only) a value must hold for a ``onehot`` column to be counted
ONEHOT_ROWS = 5
#: most ``onehot`` columns per feature (its most frequent values)
ONEHOT_MOST = 64
#: bins of each piecewise-linear encoding
_BINS = {"ple": PLE_BINS, "ple16": PLE_FINE_BINS}


def check_scaling(scaling: str) -> str:
    """Return ``scaling`` if it is one of :data:`SCALINGS`, else raise ``ValueError``."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    return scaling


def scale_features(x: np.ndarray, pool: np.ndarray, scaling: str = "standard") -> np.ndarray:
    """Scale the columns of ``x`` ``(N, F)`` with statistics of the rows ``pool``.

    Args:
        x: every row of the data set (float32).
        pool: indices of the training pool, the only rows the statistics come from.
        scaling: one of :data:`SCALINGS` (see the module docstring).

    Returns:
        The scaled features, float32, same shape; constant columns become 0. ``ple`` and
        ``ple16`` return more columns (see :func:`ple_edges`), as do ``periodic`` and
        ``onehot``.
    """
    return scale_with(x, fit_scaling(x, pool, scaling))


def _moments(fit: np.ndarray) -> dict[str, list[float]]:
    """Each column's mean and standard deviation (1 for a constant column)."""
    std = fit.std(axis=0)
    return {"mean": fit.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}


def fit_scaling(
    x: np.ndarray, pool: np.ndarray, scaling: str, *, counted: np.ndarray | None = None
) -> dict[str, Any]:
    """The statistics of ``scaling`` fitted on the rows ``pool`` of ``x`` ``(N, F)``: a
    record of plain lists (JSON keeps a float64 to its last bit), which :func:`scale_with`
    applies; saved models store it (:mod:`nooverfit.data.fitted`). ``counted``: the
    features before their missing cells were filled from the pool, whose repeated values
    ``onehot`` counts (the same on every seed's split; ``x`` by default)."""
    check_scaling(scaling)
    fit = x[pool].astype(np.float64)
    if scaling == "standard":
        return {"scaling": scaling, **_moments(fit)}
    if scaling == "robust":
        q25, q75 = np.percentile(fit, [25, 75], axis=0)
        spread = q75 - q25
        # A feature with an empty interquartile range (a rare binary category) falls back
        # to half its range, then to 1.
        half_range = (fit.max(axis=0) - fit.min(axis=0)) / 2
        spread = np.where(spread > 0, spread, np.where(half_range > 0, half_range, 1.0))
        return {
            "scaling": scaling,
            "median": np.median(fit, axis=0).tolist(),
            "spread": spread.tolist(),
        }
    if scaling in _BINS:
        return {"scaling": scaling, "edges": ple_edges(fit, _BINS[scaling]).tolist()}
    if scaling == "periodic":
        binary = [len(np.unique(fit[:, j])) <= 2 for j in range(fit.shape[1])]
        return {"scaling": scaling, **_moments(fit), "binary": binary}
    if scaling == "onehot":
        values = onehot_values(x, pool, counted=counted)
        return {"scaling": scaling, **_moments(fit), "values": values}
    return {"scaling": scaling, "quantiles": [_quantile_map(fit[:, j]) for j in range(x.shape[1])]}


def scale_with(x: np.ndarray, record: dict[str, Any]) -> np.ndarray:
    """Scale ``x`` ``(N, F)`` with a record of :func:`fit_scaling` (float32; ``(N, F * T)``
    for ``ple``)."""
    scaling = record["scaling"]
    if scaling == "standard":
        mean, std = (np.asarray(record[k], dtype=np.float64) for k in ("mean", "std"))
        return ((x - mean) / std).astype(np.float32)
    if scaling == "robust":
        median, spread = (np.asarray(record[k], dtype=np.float64) for k in ("median", "spread"))
        z = (x - median) / spread
        return (z / np.sqrt(1 + (z / CLIP) ** 2)).astype(np.float32)
    if scaling in _BINS:
        return piecewise_linear(x, np.asarray(record["edges"], dtype=np.float64))
    if scaling == "periodic":
        return periodic(x, record)
    if scaling == "onehot":
        return onehot(x, record)
    out = np.zeros(x.shape, dtype=np.float64)
    for j, qmap in enumerate(record["quantiles"]):
        if qmap is not None:  # None: constant on the pool, carries nothing
            out[:, j] = np.interp(x[:, j], np.asarray(qmap[0]), np.asarray(qmap[1]))
    return np.clip(out, -CLIP, CLIP).astype(np.float32)


def periodic(x: np.ndarray, record: dict[str, Any]) -> np.ndarray:
    """The ``periodic`` encoding of ``x`` ``(N, F)`` with its record (pool ``mean``, ``std``
    and which features are ``binary``): per feature ``z``, then ``sin`` and ``cos`` of
    ``2 pi f z`` for each of :data:`FREQUENCIES`; a binary feature ``z`` only.

    Returns:
        float32, ``(N, B + (F - B) * (1 + 2 * len(FREQUENCIES)))`` for ``B`` binary
        features, in feature order.
    """
    mean, std = (np.asarray(record[k], dtype=np.float64) for k in ("mean", "std"))
    z = (x - mean) / std
    z = z / np.sqrt(1 + (z / CLIP) ** 2)
    blocks = []
    for j, binary in enumerate(record["binary"]):
        blocks.append(z[:, j : j + 1])
        if not binary:
            angle = 2 * np.pi * z[:, j : j + 1] * np.asarray(FREQUENCIES)
            blocks += [np.sin(angle), np.cos(angle)]
    if not blocks:
        return np.zeros((len(x), 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def onehot_values(
    x: np.ndarray, pool: np.ndarray, *, counted: np.ndarray | None = None
) -> list[list[float]]:
    """The values of each column of ``x`` ``(N, F)`` that get a ``onehot`` column.

    How many: of a column with more than two distinct values, as many as it has values
    held by at least :data:`ONEHOT_ROWS` of all ``N`` rows of ``counted`` (``x`` by
    default; the features before their missing cells were filled from a pool, whose
    median differs from seed to seed), at most :data:`ONEHOT_MOST` (none of a binary or
    constant column). The count reads every row's features, the test rows' included,
    never a label, so that every seed's split encodes to one width (the fused engine
    trains the seeds' runs side by side, as :func:`ple_edges` keeps its bins for); the
    values themselves come from the pool only. Which: the pool's
    most frequent values (ties to the smaller value); where the pool holds fewer distinct
    values, NaN pads the list (a column of zeros). Ascending; values compared as float32,
    the features' own type.
    """
    out: list[list[float]] = []
    for column, whole in zip(x.T, (x if counted is None else counted).T, strict=True):
        every = np.unique(whole.astype(np.float32), return_counts=True)
        k = min(int((every[1] >= ONEHOT_ROWS).sum()), ONEHOT_MOST) if len(every[0]) > 2 else 0
        values, counts = np.unique(column[pool].astype(np.float32), return_counts=True)
        chosen = np.sort(values[np.argsort(-counts, kind="stable")][:k]).astype(np.float64)
        out.append([*chosen.tolist(), *[float("nan")] * (k - len(chosen))])
    return out


def onehot(x: np.ndarray, record: dict[str, Any]) -> np.ndarray:
    """The ``onehot`` encoding of ``x`` ``(N, F)`` with its record (pool ``mean``, ``std``
    and each feature's one-hot ``values``): per feature ``(x - mean) / std``, then
    ``x == v`` (1 or 0) for each of its values ``v``; a value not among them, or missing
    from the pool, is 0 in all of them.

    Returns:
        float32, ``(N, F + V)`` for ``V`` values in all, in feature order.
    """
    mean, std = (np.asarray(record[k], dtype=np.float64) for k in ("mean", "std"))
    z = ((x - mean) / std).astype(np.float32)
    blocks = []
    for j, values in enumerate(record["values"]):
        blocks.append(z[:, j : j + 1])
        if values:  # (N, 1) against (V_j,): compared as float32, the values' own type
            column = x[:, j : j + 1].astype(np.float32)
            blocks.append((column == np.asarray(values, dtype=np.float32)).astype(np.float32))
    if not blocks:
        return np.zeros((len(x), 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1)


def ple_edges(fit: np.ndarray, bins: int = PLE_BINS) -> np.ndarray:
    """Bin edges ``(F, bins + 1)`` of each column of ``fit`` (the pool's rows) for
    :func:`piecewise_linear`: its quantiles at ``0, 1/bins, ..., 1``. Tied values repeat
    an edge; the empty bins between them encode as zeros, so every feature has ``bins``
    columns whatever its values (one shape on every seed's split)."""
    return np.quantile(fit, np.linspace(0, 1, bins + 1), axis=0).T


def piecewise_linear(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The piecewise-linear encoding of the columns of ``x`` ``(N, F)`` with bin
    ``edges`` ``(F, T + 1)`` (ascending along each row).

    Column ``t`` of feature ``j`` is ``clip((x - e[t]) / (e[t+1] - e[t]), 0, 1)``: the
    bins below the value are 1, those above 0, the one holding it the fraction crossed; a
    bin of zero width is 0 (a feature with two values keeps one varying column).

    Returns:
        float32, ``(N, F * T)``, in feature then bin order.
    """
    lo, width = edges[:, :-1], np.diff(edges, axis=1)  # (F, T)
    safe = np.where(width > 0, width, 1.0)
    z = np.clip((x[:, :, None] - lo[None]) / safe[None], 0.0, 1.0)
    z = np.where(width[None] > 0, z, 0.0)
    return z.reshape(len(x), -1).astype(np.float32)


def _quantile_map(column: np.ndarray) -> list[list[float]] | None:
    """A column's quantile map: its distinct pool values and their standard-normal levels
    (None when the column is constant on the pool)."""
    from statistics import NormalDist

    values = np.sort(column)
    if values[0] == values[-1]:
        return None
    # Each distinct pool value at the mid-rank of its copies, so a binary feature maps to
    # two symmetric points instead of the extremes.
    distinct, first = np.unique(values, return_index=True)
    last = np.append(first[1:], len(values))
    ranks = ((first + last) / 2) / len(values)
    normal = NormalDist()
    levels = [normal.inv_cdf(min(max(r, 1e-3), 1 - 1e-3)) for r in ranks]
    return [distinct.tolist(), levels]
