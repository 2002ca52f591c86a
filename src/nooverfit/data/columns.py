"""The feature columns of a CSV file as numbers. Pure.

A column whose every value is a number stays one column. A column holding text (names of
categories, or numbers mixed with words such as ``"unknown"``) is one-hot encoded: one
0/1 column per distinct value, in place of the text column, in natural order (``"2"``
before ``"10"``), as scikit-learn's ``OneHotEncoder`` or pandas' ``get_dummies`` would
give. An empty cell of a text column is a category of its own ("missing" often carries
information). A text column with more than :data:`MAX_LEVELS` distinct values is refused:
it is an identifier or a number column with stray text, and one-hot columns of it would
only let a network memorize rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nooverfit.errors import BadInput

#: the most distinct values a text column may have to be one-hot encoded
MAX_LEVELS = 50
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class ColumnError(BadInput):
    """A feature column cannot become numbers (the message names it and the row)."""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def encode_columns(
    header: Sequence[str],
    values: Sequence[Sequence[str]],
    *,
    order: Callable[[str], Any] = str,
    where: str = "",
) -> tuple[np.ndarray, list[str]]:
    """The features of ``values`` (one list of cells per column) as a float32 matrix.

    Args:
        header: the column names, one per entry of ``values``.
        values: the cells of each feature column, as read (rows in file order).
        order: sort key of a text column's categories.
        where: follows the column's name in error messages (e.g. ``" of data.csv"``).

    Returns:
        ``(x, names)``: ``x`` ``(rows, features)``; ``names`` the feature names, a numeric
        column's own name, a one-hot column's ``"column=value"``.

    Raises:
        ColumnError: a numeric value outside float32's finite range (also NaN), or a text
            column with more than :data:`MAX_LEVELS` distinct values. The message counts
            rows from the header's line as 1 (row 2 is the first data row).
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    rows = len(values[0]) if values else 0
    for name, cells in zip(header, values, strict=True):
        numbers = [_number(c) for c in cells]
        text = [r for r, v in enumerate(numbers) if v is None]
        if not text:
            column = np.asarray(numbers, dtype=np.float64)
            bad = np.flatnonzero(~(np.abs(column) <= _FLOAT32_MAX))
            if len(bad):
                r = int(bad[0])
                raise ColumnError(
                    f"column {name!r}{where} holds {cells[r].strip()!r} (row {r + 2}); expected "
                    "finite numbers within float32's range (|x| < 3.4e38)"
                )
            blocks.append(column.astype(np.float32)[:, None])
            names.append(name)
            continue
        stripped = [c.strip() for c in cells]
        levels = sorted(set(stripped), key=order)
        if len(levels) > MAX_LEVELS:
            r = text[0]
            raise ColumnError(
                f"column {name!r}{where} is not numeric (row {r + 2}: {cells[r]!r}) and has "
                f"{len(levels)} distinct values; expected numbers in every feature column, "
                f"or text categories (at most {MAX_LEVELS} distinct values, one-hot encoded)"
            )
        index = {v: k for k, v in enumerate(levels)}
        onehot = np.zeros((rows, len(levels)), dtype=np.float32)
        onehot[np.arange(rows), [index[v] for v in stripped]] = 1.0
        blocks.append(onehot)
        names += [f"{name}={v}" for v in levels]
    x = np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0), dtype=np.float32)
    return x, names
