"""Feature columns that copy the label: the target itself, or a one-to-one relabelling of
it (``churned`` = yes/no beside ``churn_flag`` = 1/0). Pure numpy.

Such a column is a leak: a network reads the label off it and scores near 100 %, which
no new row keeps (a row whose answer is unknown has no copy of it either). A column is
taken for a copy when, on every row where it has a value, its value names the row's class
and the class names its value: as many distinct values as classes, each value always
with the same class. That is exact, not a strong agreement: a binary feature that agrees
with a binary label on 95 % of its rows is a good feature, not a copy.

Exact agreement can still be chance on few rows (a random 0/1 column matches a balanced
0/1 label on all of ``n`` rows with probability ``2 * 0.5 ** n``; 2e-6 at 20), or where
classes have a row each (any column of distinct values is one-to-one then). So a copy
needs at least :data:`MIN_ROWS` rows with a value, and twice as many rows as the classes
they hold.

Copies are said, not dropped: the loader warns and the audit lists them, each naming the
column and ``--ignore``. A heuristic that removed a column would change the features the
user gave on its own judgment (a column can be one-to-one with the label on purpose: a
teaching set, a check of the pipeline); the warning explains a near-100 % score instead
of hiding its cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nooverfit.data.labels import same_label
from nooverfit.feature_columns import FeatureColumn

#: rows with a value that a copy needs (below, exact agreement is too easily chance)
MIN_ROWS = 20
#: value-class pairs a warning shows
SHOWN = 3


@dataclass(frozen=True)
class LabelCopy:
    """A feature column that copies the label.

    Attributes:
        column: its name.
        rows: the rows where it has a value (all compared: every one agrees).
        total: rows in all (``rows`` less its missing cells).
        same: whether each value is its class's own name (the target itself, copied).
        pairs: each value as the file wrote it (a number as ``%g``) and its class, in the
            classes' order.
        target: the label column's name, where a file named it (None: unnamed).
    """

    column: str
    rows: int
    total: int
    same: bool
    pairs: tuple[tuple[str, str], ...]
    target: str | None = None


def _row_values(column: FeatureColumn) -> tuple[np.ndarray, list[str]]:
    """Each row's value of ``column`` as an integer code ``(N,)``, and each code's text."""
    if column.numeric:
        values, codes = np.unique(column.values[:, 0], return_inverse=True)
        return codes.reshape(-1), [f"{float(v):g}" for v in values]
    levels = list(column.levels or ())
    return np.argmax(column.values, axis=1), levels


def label_copy(
    column: FeatureColumn, y: np.ndarray, classes: Sequence[str], *, target: str | None = None
) -> LabelCopy | None:
    """``column`` as a :class:`LabelCopy` of the labels ``y`` ``(N,)`` (class indices into
    ``classes``; ``target``: their column's name) where it is one (see the module
    docstring), else None."""
    kept = np.ones(len(y), dtype=bool) if column.missing is None else ~column.missing
    rows = int(kept.sum())
    codes, texts = _row_values(column)
    codes, labels = codes[kept], np.asarray(y)[kept]
    held = np.unique(labels)
    if rows < max(MIN_ROWS, 2 * len(held)) or len(held) < 2:
        return None
    pairs = np.unique(np.stack([codes, labels], axis=1), axis=0)  # (P, 2), by code
    if not len(pairs) == len(np.unique(codes)) == len(held):
        return None
    ordered = [(texts[v], classes[k]) for v, k in sorted(pairs.tolist(), key=lambda p: p[1])]
    same = all(same_label(v, c) for v, c in ordered)
    return LabelCopy(column.name, rows, len(y), same, tuple(ordered), target)


def label_copies(
    columns: Sequence[FeatureColumn],
    y: np.ndarray,
    classes: Sequence[str],
    *,
    target: str | None = None,
) -> tuple[LabelCopy, ...]:
    """The columns that copy the labels ``y`` (:func:`label_copy`), in column order."""
    found = (label_copy(c, y, classes, target=target) for c in columns)
    return tuple(c for c in found if c is not None)


def label_copy_warnings(found: Sequence[LabelCopy], *, where: str = "") -> list[str]:
    """One line per copy: what it holds, on how many rows, and the fix (``where`` follows
    the column's name, e.g. ``" of data.csv"``)."""
    out = []
    for c in found:
        label = f"the label {c.target!r}" if c.target else "the label"
        on = f"all {c.rows} rows" if c.rows == c.total else f"all {c.rows} rows with a value"
        if c.same:
            what = f"is {label} itself on {on}"
        else:
            shown = ", ".join(f"{v!r} is {k!r}" for v, k in c.pairs[:SHOWN])
            more = ", ..." if len(c.pairs) > SHOWN else ""
            what = f"copies {label} one to one ({shown}{more} on {on})"
        out.append(
            f"column {c.column!r}{where} {what}: a leak, the network reads the label off it "
            f"and scores near 100 %, which no new row keeps; --ignore {c.column} leaves it out"
        )
    return out
