"""Target-aware bin edges of the piecewise-linear encoding (Gorishniy et al., "On
Embeddings for Numerical Features in Tabular Deep Learning", NeurIPS 2022, section 3.2).

Quantile bins (:func:`nooverfit.data.tabular.ple_edges`) put the same number of pool rows
in each bin wherever the label changes; target-aware bins put their edges where it does:
for each feature a decision tree with at most ``bins`` leaves is fitted on that feature
alone against the label, on the training pool's rows only, and its split thresholds,
between the feature's pool minimum and maximum, are the edges. Computing only; the
encoding itself is :func:`~nooverfit.data.tabular.piecewise_linear`.
"""

from __future__ import annotations

import numpy as np


def min_leaf(rows: int, bins: int) -> int:
    """The fewest pool rows in a leaf of a feature's tree: half a quantile bin,
    ``max(1, rows // (2 * bins))`` (12 rows of a 200-row pool at 8 bins), so that no edge
    cuts off a handful of rows."""
    return max(1, rows // (2 * bins))


def tree_edges(fit: np.ndarray, y: np.ndarray, bins: int, *, seed: int = 0) -> np.ndarray:
    """Bin edges ``(F, bins + 1)`` of each column of ``fit`` (the pool's rows) chosen by a
    decision tree on that column against the labels ``y``.

    Each row is ``[min, t_1, ..., t_k, max, ..., max]``: the column's pool minimum, the
    ``k <= bins - 1`` thresholds of a ``DecisionTreeClassifier(max_leaf_nodes=bins,
    min_samples_leaf=min_leaf(rows, bins), random_state=seed)`` fitted on the column
    alone, ascending, then the pool maximum, repeated up to ``bins + 1`` edges (the empty
    bins encode as zeros, so every feature has ``bins`` columns on every split). A column
    with at most ``bins`` distinct pool values keeps its quantile edges
    (:func:`~nooverfit.data.tabular.ple_edges`): each of its values is already a bin.

    Args:
        fit: the training pool's features, ``(N, F)``.
        y: the pool's class labels, ``(N,)``.
        bins: most bins per feature (>= 1).
        seed: the trees' ``random_state`` (a one-feature tree's only randomness is
            how it breaks exact ties between thresholds).

    Raises:
        ValueError: ``y`` has another number of rows than ``fit``, or ``bins`` < 1.
    """
    from sklearn.tree import DecisionTreeClassifier

    fit, y = np.asarray(fit, dtype=np.float64), np.asarray(y)
    if bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    if y.shape != (len(fit),):
        raise ValueError(f"labels must have shape ({len(fit)},) like the features, got {y.shape}")
    # the quantile edges of ple_edges, kept for columns with few distinct values
    edges = np.quantile(fit, np.linspace(0, 1, bins + 1), axis=0).T
    leaf = min_leaf(len(fit), bins)
    for j in range(fit.shape[1]):
        column = fit[:, j]
        if len(np.unique(column)) <= bins:
            continue
        tree = DecisionTreeClassifier(
            max_leaf_nodes=bins, min_samples_leaf=leaf, random_state=seed
        ).fit(column[:, None], y)
        inner = tree.tree_.feature >= 0  # split nodes; leaves are -2
        cuts = np.sort(tree.tree_.threshold[inner])
        lo, hi = column.min(), column.max()
        row = np.concatenate([[lo], cuts[(cuts > lo) & (cuts < hi)], [hi]])
        edges[j] = np.pad(row, (0, bins + 1 - len(row)), mode="edge")
    return edges
