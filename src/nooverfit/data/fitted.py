"""The fitted preprocessing of a data set, recorded so that new raw rows are encoded as the
training rows were: the one-hot categories of a CSV file's text columns
(:mod:`nooverfit.data.columns`) and the statistics of each tabular encoding
(:mod:`nooverfit.data.tabular`), fitted on a split's training pool. Pure numpy.

Records are plain lists and strings, ready for JSON, which keeps a float64 to its last
bit. A scaling's record is the one :func:`~nooverfit.data.tabular.scale_features` itself
fits and applies (:func:`~nooverfit.data.tabular.fit_scaling`), so :func:`apply_scaling`
of it gives exactly the numbers the training run had (the study still checks this when it
saves a model, see :mod:`nooverfit.saved_model`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nooverfit.data.columns import (
    fill_value,
    finite,
    is_missing,
    missing_name,
    shown,
    with_indicator,
)
from nooverfit.data.tabular import SCALINGS, check_scaling, scale_with
from nooverfit.errors import BadInput

#: the scalings saved models record: all (``scale_features`` is ``scale_with`` of
#: ``fit_scaling``'s record, so every scaling has one)
RECORDED = SCALINGS
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: what :func:`encode_rows` does with a category its column never had in training
UNKNOWN = ("error", "ignore")
#: what a new row's numeric cell is expected to hold
AS_TRAINED = "a finite number, as in training"


@dataclass(frozen=True)
class Column:
    """One feature column of a CSV file.

    Attributes:
        name: its header.
        levels: a text column's categories, in the order of its one-hot columns; None for
            a numeric column (one column, the number as read).
        fill: a numeric column that had missing cells in training: the value they take,
            followed by a missing-value indicator column (None: no missing cell). A saved
            model's is the median of the training rows' present values
            (:mod:`nooverfit.data.impute`).
        median: a numeric column without missing cells in training: its training rows'
            median, which an empty cell of a new row takes (no indicator column, as
            scikit-learn's ``SimpleImputer``); None: an empty cell is refused.
    """

    name: str
    levels: tuple[str, ...] | None = None
    fill: float | None = None
    median: float | None = None

    @property
    def width(self) -> int:
        """Its encoded columns."""
        if self.levels is not None:
            return len(self.levels)
        return 1 if self.fill is None else 2


@dataclass(frozen=True)
class Columns:
    """How the columns of a CSV file became a data set's features.

    Attributes:
        features: the feature columns, in the order their encoded columns appear.
        target: the label column (kept out of the features).
    """

    features: tuple[Column, ...]
    target: str

    @property
    def width(self) -> int:
        """Encoded columns: one per numeric column (two with a missing-value indicator),
        one per category of a text column."""
        return sum(c.width for c in self.features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "features": [
                {
                    "name": c.name,
                    "levels": None if c.levels is None else list(c.levels),
                    **({} if c.fill is None else {"fill": c.fill}),
                    **({} if c.median is None else {"median": c.median}),
                }
                for c in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Columns:
        features = tuple(
            Column(
                str(c["name"]),
                None if c["levels"] is None else tuple(c["levels"]),
                None if c.get("fill") is None else float(c["fill"]),
                None if c.get("median") is None else float(c["median"]),
            )
            for c in data["features"]
        )
        return cls(features, str(data["target"]))


def read_columns(
    header: Sequence[str], values: Sequence[Sequence[str]], names: Sequence[str], target: str
) -> Columns:
    """The :class:`Columns` that :func:`~nooverfit.data.columns.encode_columns` applied to
    ``values`` (one list of cells per column), read from the feature ``names`` it returned:
    a numeric column keeps its own name (its missing-value indicator follows it), a text
    column has one ``"column=value"`` per category, as many as its distinct (stripped)
    cells."""
    features, at = [], 0
    for name, cells in zip(header, values, strict=True):
        if at < len(names) and names[at] == name:  # "name=value" is never just "name"
            indicator = at + 1 < len(names) and names[at + 1] == missing_name(name)
            features.append(Column(name, fill=fill_value(cells) if indicator else None))
            at += 2 if indicator else 1
            continue
        count = len({c.strip() for c in cells})
        levels = tuple(n.removeprefix(f"{name}=") for n in names[at : at + count])
        features.append(Column(name, levels))
        at += count
    return Columns(tuple(features), target)


def record_columns(
    header: Sequence[str],
    values: Sequence[Sequence[str]],
    names: Sequence[str],
    x: np.ndarray,
    target: str,
) -> Columns | None:
    """:func:`read_columns`, kept only if :func:`encode_rows` of the same cells gives back
    ``x`` (the features :func:`~nooverfit.data.columns.encode_columns` made) exactly;
    None where it does not (an encoding this module does not know: a saved model then
    refuses raw rows rather than encode them otherwise)."""
    columns = read_columns(header, values, names, target)
    try:
        again = encode_rows(columns, values)
    except (BadInput, ValueError):
        return None
    return columns if again.shape == x.shape and np.array_equal(again, x) else None


@dataclass(frozen=True)
class Encoded:
    """New rows encoded as the training rows were (:func:`encode_cells`), with what the
    encoding filled in rather than read.

    Attributes:
        x: float32 ``(rows, columns.width)``.
        filled: each numeric column's empty cells that took the training median (or the
            recorded fill), in column order; a column without any is left out.
        unseen: each text column's cells holding a category it never had in training,
            encoded as all zeros (``unknown="ignore"``; an error otherwise), in column
            order; a column without any is left out.
    """

    x: np.ndarray
    filled: Mapping[str, int]
    unseen: Mapping[str, int]


def encode_rows(
    columns: Columns,
    cells: Sequence[Sequence[str]],
    *,
    unknown: str = "error",
    first_row: int = 2,
    where: str = "",
) -> np.ndarray:
    """:func:`encode_cells`'s features alone: float32 ``(rows, columns.width)``."""
    return encode_cells(columns, cells, unknown=unknown, first_row=first_row, where=where).x


def encode_cells(
    columns: Columns,
    cells: Sequence[Sequence[str]],
    *,
    unknown: str = "error",
    first_row: int = 2,
    where: str = "",
    numbers: Sequence[int] | None = None,
) -> Encoded:
    """New rows encoded as the training rows were: numbers as read, categories one-hot.

    Args:
        columns: the recorded columns.
        cells: each feature column's cells, in the order of ``columns.features``.
        unknown: a category the column never had: ``"error"`` raises, ``"ignore"`` encodes
            it as all zeros in that column's one-hot block (scikit-learn's
            ``handle_unknown="ignore"``).
        first_row: the number errors give the first row (2: a CSV file's first data row,
            the header being row 1).
        where: follows the column's name in error messages (e.g. ``" of new.csv"``).
        numbers: each row's number in errors, where rows are not numbered on from
            ``first_row`` (a CSV file with blank lines skipped: its line numbers).

    Returns:
        The features, float32 ``(rows, columns.width)``, and the cells filled in.

    Raises:
        BadInput: a numeric column's cell that is not a finite number, or (with
            ``unknown="error"``) a category the column never had.
    """
    if unknown not in UNKNOWN:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN)}, got {unknown!r}")
    rows = len(cells[0]) if cells else 0
    at = list(numbers) if numbers is not None else list(range(first_row, first_row + rows))
    blocks = []
    filled: dict[str, int] = {}
    unseen: dict[str, int] = {}
    for column, values in zip(columns.features, cells, strict=True):
        if column.levels is None and column.fill is not None:
            block = with_indicator(
                column.name, values, column.fill, where=where, rows=at, expected=AS_TRAINED
            )
            filled[column.name] = int(block[:, 1].sum())  # the missing-value indicator
            blocks.append(block)
            continue
        if column.levels is None:
            if column.median is not None:  # an empty cell takes the training median
                empty = [is_missing(v) for v in values]
                filled[column.name] = sum(empty)
                values = [
                    str(column.median) if e else v for v, e in zip(values, empty, strict=True)
                ]
            blocks.append(
                finite(column.name, values, where=where, rows=at, expected=AS_TRAINED)[:, None]
            )
            continue
        index = {v: k for k, v in enumerate(column.levels)}
        onehot = np.zeros((rows, len(column.levels)), dtype=np.float32)
        unseen[column.name] = 0
        for r, cell in enumerate(values):
            k = index.get(cell.strip())
            if k is not None:
                onehot[r, k] = 1.0
            elif unknown == "error":
                levels = ", ".join(shown(v) for v in column.levels[:10])
                more = f" (and {len(column.levels) - 10} more)" if len(column.levels) > 10 else ""
                raise BadInput(
                    f"column {column.name!r}{where} holds {shown(cell)} (row "
                    f"{at[r]}), a category the model never saw in training; expected "
                    f"one of {levels}{more} (or --unknown ignore: all zeros)"
                )
            else:
                unseen[column.name] += 1
        blocks.append(onehot)
    x = np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0), dtype=np.float32)
    return Encoded(
        x,
        {name: n for name, n in filled.items() if n},
        {name: n for name, n in unseen.items() if n},
    )


def apply_scaling(x: np.ndarray, record: dict[str, Any]) -> np.ndarray:
    """Scale raw features ``x`` ``(N, F)`` with a record of
    :func:`~nooverfit.data.tabular.fit_scaling`, as float32 like the training data.

    Returns:
        float32, ``(N, F)`` (``(N, F * bins)`` for ``ple`` and ``ple16``; more columns
        for ``periodic`` and ``onehot``).

    Raises:
        BadInput: ``x`` has another number of features than the record.
    """
    scaling = check_scaling(record["scaling"])
    x = np.asarray(x, dtype=np.float32)
    stats = {
        "standard": "mean",
        "robust": "median",
        "ple": "edges",
        "ple16": "edges",
        "periodic": "mean",
        "onehot": "mean",
        "quantile": "quantiles",
    }
    if scaling not in stats:
        raise BadInput(f"no record of the {scaling!r} scaling; expected one of {RECORDED}")
    features = len(record[stats[scaling]])
    if x.ndim != 2 or x.shape[1] != features:
        raise BadInput(f"features have shape {x.shape}; expected (rows, {features})")
    return scale_with(x, record)
