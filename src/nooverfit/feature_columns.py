"""A tabular data set's feature columns as its file had them, and those that carry less
than they seem: missing cells, and columns that hold one value on every row. Pure numpy.

A CSV file's column becomes one or more encoded columns of ``Dataset.x``
(:mod:`nooverfit.data.columns`): a numeric column one (two with a missing-value
indicator), a text column one 0/1 column per category. The checks here read each file
column as the block of encoded columns it became (a row's value of a text column is its
one-hot row), so that a category is one value, not several unrelated 0/1 columns. Data
without a record of its file's columns (arrays, images) has one column per feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nooverfit.data.columns import is_missing, missing_name, shown
from nooverfit.data.dataset import Dataset


@dataclass(frozen=True, eq=False)
class FeatureColumn:
    """One column of a data set's file.

    Attributes:
        name: its header (``"feature 3"`` for data without a file's header).
        values: its encoded columns, ``(N, width)`` float32: a number (and its
            missing-value indicator), or a text column's one-hot columns.
        levels: a text column's categories, in the order of its one-hot columns; None for
            a numeric column.
        missing: which rows' cells were empty (``(N,)`` bool); None where none was.
    """

    name: str
    values: np.ndarray
    levels: tuple[str, ...] | None = None
    missing: np.ndarray | None = None

    @property
    def numeric(self) -> bool:
        """Whether it is a column of numbers (not text categories)."""
        return self.levels is None


@dataclass(frozen=True)
class MissingCells:
    """The missing cells of one column.

    Attributes:
        column: its name.
        cells: how many rows have it empty.
        filled: ``"median"`` (a numeric column: filled with the median of each split's
            training rows, marked in an indicator column) or ``"category"`` (a text
            column: an empty cell is a category of its own).
    """

    column: str
    cells: int
    filled: str


@dataclass(frozen=True)
class Constant:
    """A column that holds one value on every row (``value`` as the file wrote it, quoted,
    ``an empty cell``, or as a number)."""

    column: str
    value: str


def feature_columns(dataset: Dataset) -> tuple[FeatureColumn, ...]:
    """``dataset``'s feature columns: a CSV file's own (``Dataset.columns``), else one per
    flattened feature (each a view of ``dataset.x``, not a copy)."""
    x = dataset.x.reshape(len(dataset.x), -1)
    record = dataset.columns
    if record is None or record.width != x.shape[1]:
        return tuple(FeatureColumn(f"feature {j}", x[:, j : j + 1]) for j in range(x.shape[1]))
    out, at = [], 0
    for c in record.features:
        block = x[:, at : at + c.width]
        at += c.width
        if c.levels is not None:
            gaps = [k for k, level in enumerate(c.levels) if is_missing(level)]
            empty = block[:, gaps].sum(axis=1) > 0 if gaps else None
            out.append(FeatureColumn(c.name, block, c.levels, empty))
        else:  # with an indicator (``c.fill``), its second column marks the empty cells
            out.append(
                FeatureColumn(
                    c.name, block, None, block[:, 1] == 1 if c.fill is not None else None
                )
            )
    return tuple(out)


def missing_cells(columns: tuple[FeatureColumn, ...]) -> tuple[MissingCells, ...]:
    """Each column with empty cells, and how they are filled, in column order."""
    found = []
    for c in columns:
        if c.missing is not None and (count := int(c.missing.sum())):
            found.append(MissingCells(c.name, count, "median" if c.numeric else "category"))
    return tuple(found)


def constant_columns(columns: tuple[FeatureColumn, ...]) -> tuple[Constant, ...]:
    """Each column whose encoded columns are the same on every row (a number, a single
    category, or every cell empty), in column order."""
    found = []
    for c in columns:
        if len(c.values) and (c.values == c.values[0]).all():
            if c.numeric:
                value = f"{float(c.values[0, 0]):g}"
            else:
                value = shown(c.levels[int(np.argmax(c.values[0]))] if c.levels else "")
            found.append(Constant(c.name, value))
    return tuple(found)


def column_notes(
    missing: tuple[MissingCells, ...], constant: tuple[Constant, ...], *, rows: int
) -> list[str]:
    """A line for the numeric columns with missing cells, one for the text columns with
    empty cells (each column's count of ``rows``), and one for the constant columns; at
    most ``SHOWN`` columns named in each."""
    out = []
    numbers = [m for m in missing if m.filled == "median"]
    if numbers:
        marked = (
            f"the indicator column {missing_name(numbers[0].column)!r}"
            if len(numbers) == 1
            else f"indicator columns {missing_name('NAME')!r}"
        )
        out.append(
            f"missing cells (of {rows} rows): {_counted(numbers)}; filled with the median of "
            f"each split's training rows and marked in {marked}"
        )
    if texts := [m for m in missing if m.filled == "category"]:
        out.append(
            f"empty cells (of {rows} rows) in text columns: {_counted(texts)}; read as a "
            "category of their own"
        )
    if constant:
        names = [k.column for k in constant]
        if len(constant) == 1:
            what, them = f"column {names[0]!r} holds {constant[0].value} on every row", "it"
        else:
            what = f"{len(names)} columns hold one value on every row ({_listed(names)})"
            them = "them"
        ignored = ",".join(names[:SHOWN]) + (",..." if len(names) > SHOWN else "")
        out.append(f"{what}: nothing to learn from (--ignore {ignored} leaves {them} out)")
    return out


def _counted(missing: list[MissingCells]) -> str:
    return _listed([f"{m.column!r} {m.cells}" for m in missing])


#: columns named in a note (``--json`` lists them all)
SHOWN = 8


def _listed(items: list[str]) -> str:
    more = len(items) - SHOWN
    return ", ".join(items[:SHOWN]) + (f" and {more} more" if more > 0 else "")
