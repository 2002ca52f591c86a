"""Missing numeric cells filled from a split's training rows only. Pure numpy.

A CSV file's numeric column with missing cells is read as two columns (the numbers and a
missing-value indicator, :mod:`nooverfit.data.columns`); the loader puts a placeholder in
the missing cells. The value they really take is the median of the column's present values
in the *training rows* of each split, as scikit-learn's ``SimpleImputer(strategy="median",
add_indicator=True)`` fitted on those rows gives: a median over every row of the file
would let validation and test rows shape the training inputs. The fitted medians are
recorded with a saved model (:class:`~nooverfit.data.fitted.Column`'s ``fill`` and
``median``), which fills new rows with them; a numeric column without a gap in training
still fills an empty cell of a new row with its training median (as ``SimpleImputer``
does), without an indicator column.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nooverfit.data.fitted import Columns


def _median(values: np.ndarray) -> float:
    """The median of ``values`` as float32 (the features' precision); 0 when none is
    present (a column missing in every training row then carries only its indicator)."""
    if values.size == 0:
        return 0.0
    return float(np.float32(np.median(values.astype(np.float64))))


def training_columns(x: np.ndarray, columns: Columns | None, rows: Any) -> Columns | None:
    """``columns`` with each numeric column's median over the present cells of ``rows``
    (a split's training rows) of ``x``, the loaded features ``(N, columns.width)``: a
    column with an indicator gets it as ``fill``, one without as ``median``. ``columns``
    as they are when None or not ``x``'s layout."""
    if columns is None or columns.width != x.shape[-1]:
        return columns
    rows = np.asarray(rows, dtype=np.int64)
    features, at = [], 0
    for column in columns.features:
        if column.levels is None:
            values = x[rows, at]
            if column.fill is not None:
                values = values[x[rows, at + 1] == 0]
                column = dataclasses.replace(column, fill=_median(values))
            else:
                column = dataclasses.replace(column, median=_median(values))
        features.append(column)
        at += column.width
    return Columns(tuple(features), columns.target)


def fill_from(x: np.ndarray, columns: Columns, rows: Any) -> np.ndarray:
    """``x`` ``(N, columns.width)`` with every missing numeric cell (its indicator 1) set
    to the median of the column's present values in ``rows``; ``x`` itself when no column
    has missing cells."""
    fitted = training_columns(x, columns, rows)
    if fitted is None or all(c.fill is None for c in columns.features):
        return x
    out, at = x.copy(), 0
    for column in fitted.features:
        if column.levels is None and column.fill is not None:
            out[x[:, at + 1] == 1, at] = column.fill
        at += column.width
    return out
