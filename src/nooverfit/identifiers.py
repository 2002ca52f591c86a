"""Numeric columns that look like row identifiers, and whether one predicts the label.

A text identifier is refused as the file loads (:mod:`nooverfit.data.columns`); a numeric
one (``record_id`` = 1, 2, 3, ...) reads as a feature. It says nothing about a new row, but
a network learns the training rows by it, and where the rows were numbered in an order
that follows the label (a file sorted by class), it predicts the label by itself: a
validation score no new row would give.

A column is taken for an identifier when its values are whole numbers, a different one on
every row, and either

- too dense to be distinct by chance: ``n`` draws from any distribution over at most
  ``R = max - min + 1`` whole numbers are all distinct with probability at most
  ``prod_{k<n} (1 - k / R) <= exp(-n (n - 1) / (2 R))`` (the uniform distribution spreads
  them most: the birthday bound), so values distinct on every row with
  ``n (n - 1) / (2 R) > ln(1 / CHANCE)`` were assigned, not measured; or
- strictly increasing or decreasing down the file, which ``n`` values in random order are
  with probability ``2 / n!``, counted where that is below ``CHANCE`` (``n >= 7``).

An ordinary continuous feature is not a set of distinct whole numbers; an integer feature
(an age, a count) repeats its values. Each identifier is then scored alone: the majority
label of its ``NEIGHBOURS`` nearest training rows (``KNeighborsClassifier`` on that column
only, fitted on the training rows) on the validation rows, against the validation share of
the training rows' majority class; it predicts the label when the score is above that
share by more than ``Z`` binomial standard errors (one-sided, ``CHANCE``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from nooverfit.feature_columns import FeatureColumn

#: the chance under which a column's shape is taken for assigned numbers, not measurements
CHANCE = 1e-3
#: one-sided normal quantile of ``CHANCE``: how far above the majority share a score is
Z = 3.09
#: training rows whose majority label the one-column check answers
NEIGHBOURS = 5


@dataclass(frozen=True)
class Identifier:
    """A numeric column that looks like a row identifier.

    Attributes:
        column: its name.
        low, high: its smallest and largest value.
        rows: rows in all (each with its own value).
        order: ``"increasing"`` or ``"decreasing"`` down the file, or ``""``.
        held_out: the split the one-column check scored (``"val"``, or ``"test"`` without
            validation rows; ``""``: none, not scored).
        score: accuracy on ``held_out`` of its ``NEIGHBOURS`` nearest training rows'
            majority label, the column alone (nan when not scored).
        majority: ``held_out``'s share of the training rows' majority class.
        predictive: whether ``score`` is above ``majority`` by more than ``Z`` standard
            errors ``sqrt(majority (1 - majority) / rows of held_out)``.
    """

    column: str
    low: float
    high: float
    rows: int
    order: str
    held_out: str = ""
    score: float = float("nan")
    majority: float = float("nan")
    predictive: bool = False


def identifier_shape(values: np.ndarray) -> str | None:
    """How ``values`` ``(N,)`` look like an identifier: ``"increasing"``/``"decreasing"``
    down the file, ``""`` (only dense), or None (not an identifier)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < 2 or not np.all(v == np.round(v)) or len(np.unique(v)) < n:
        return None
    steps = np.diff(v)
    order = "increasing" if (steps > 0).all() else "decreasing" if (steps < 0).all() else ""
    if order and math.lgamma(n + 1) > math.log(2 / CHANCE):  # 2 / n! < CHANCE
        return order
    span = float(v.max() - v.min()) + 1.0
    return "" if n * (n - 1) / (2 * span) > math.log(1 / CHANCE) else None


def identifiers(
    columns: Sequence[FeatureColumn],
    labels: np.ndarray,
    *,
    train: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
) -> tuple[Identifier, ...]:
    """The numeric columns without missing cells that look like row identifiers, each
    scored alone from the ``train`` rows on the ``val`` rows (``test`` without any)."""
    found = []
    for c in columns:
        if not c.numeric or c.missing is not None:
            continue
        values = c.values[:, 0]
        order = identifier_shape(values)
        if order is None:
            continue
        found.append(
            _scored(
                Identifier(c.name, float(values.min()), float(values.max()), len(values), order),
                values,
                labels,
                train=train,
                held=(val, "val") if len(val) else (test, "test"),
            )
        )
    return tuple(found)


def _scored(
    found: Identifier,
    values: np.ndarray,
    labels: np.ndarray,
    *,
    train: np.ndarray,
    held: tuple[np.ndarray, str],
) -> Identifier:
    """``found`` with the one-column check: ``NEIGHBOURS`` nearest training rows."""
    from sklearn.neighbors import KNeighborsClassifier

    rows, name = held
    if len(rows) == 0 or len(train) == 0:
        return found
    labels = np.asarray(labels)
    knn = KNeighborsClassifier(n_neighbors=min(NEIGHBOURS, len(train)))
    knn.fit(values[train, None], labels[train])
    score = float(np.mean(knn.predict(values[rows, None]) == labels[rows]))
    common = np.bincount(labels[train]).argmax()
    majority = float(np.mean(labels[rows] == common))
    margin = Z * math.sqrt(majority * (1 - majority) / len(rows))
    return replace(
        found,
        held_out=name,
        score=score,
        majority=majority,
        predictive=score - majority > margin,
    )


def identifier_warnings(found: Sequence[Identifier]) -> list[str]:
    """One line per identifier: what it looks like, what it scores alone, the fix."""
    out = []
    for f in found:
        order = f", {f.order} down the file" if f.order else ""
        shape = f"whole numbers {f.low:.0f} to {f.high:.0f}, one per row{order}"
        split = {"val": "validation", "test": "test"}.get(f.held_out)
        alone = (
            f"alone, the label of its {NEIGHBOURS} nearest training rows is right on "
            f"{f.score:.0%} of {split} rows, the majority class on {f.majority:.0%}"
        )
        if f.predictive:
            said = (
                f" and predicts the label ({alone}): the rows were numbered in an order that "
                "follows the label, which no new row keeps"
            )
        else:
            said = (
                ": a network can learn the training rows by it, and it says nothing of a new "
                f"row{f' ({alone})' if split else ''}"
            )
        out.append(
            f"column {f.column!r} looks like a row identifier ({shape}){said}; "
            f"--ignore {f.column} leaves it out"
        )
    return out
