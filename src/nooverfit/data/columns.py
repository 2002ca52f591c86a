"""The feature columns of a CSV file as numbers. Pure.

A column whose every value is a number stays one column. A column holding text (names of
categories, or numbers mixed with words such as ``"unknown"``) is one-hot encoded: one
0/1 column per distinct value, in place of the text column, in natural order (``"2"``
before ``"10"``), as scikit-learn's ``OneHotEncoder`` or pandas' ``get_dummies`` would
give. A column of numbers with a few stray words is encoded so too, and the loader warns,
naming the words and their rows (:func:`stray_words`): empty those cells to read the
column as numbers, their values missing. So is a column of numbers written with a unit
(``"3 kg"``, ``"45%"``, :func:`units`): the loader says so, as the plain numbers would keep
their order. An empty cell of a text column is a category of
its own ("missing" often carries information). A text column with more than
:data:`MAX_LEVELS` distinct values is refused: it is an identifier or a number column with
stray text, and one-hot columns of it would only let a network memorize rows.

A numeric column with missing cells (empty, ``NA``, ``NaN``, ``null``, ``?``: what R,
pandas and spreadsheets write) becomes two: the numbers and an indicator
``"column (missing)"``, 1 where the cell was missing (scikit-learn's
``SimpleImputer(strategy="median", add_indicator=True)``); whether a value was missing
often says something itself. Here a missing cell holds the median of the column's present
values in the whole file, a placeholder: what trains and scores is filled with the median
of each split's training rows only (:mod:`nooverfit.data.impute`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nooverfit.data.dates import date_hint
from nooverfit.errors import BadInput

#: the most distinct values a text column may have to be one-hot encoded
MAX_LEVELS = 50
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class ColumnError(BadInput):
    """A feature column cannot become numbers (the message names it and the row)."""


#: cells that mean "no value" in a numeric column (compared stripped and lower-cased)
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


def missing_name(name: str) -> str:
    """The name of ``name``'s missing-value indicator column."""
    return f"{name} (missing)"


def is_missing(cell: str) -> bool:
    """Whether a cell of a numeric column holds no value."""
    return cell.strip().lower() in MISSING


def shown(cell: str) -> str:
    """A cell as a message names it: its text quoted, or ``an empty cell`` (``''`` reads
    as a typo in a message, and an empty category is a cell left blank)."""
    text = cell.strip()
    return repr(text) if text else "an empty cell"


def fill_value(cells: Sequence[str]) -> float | None:
    """The value a numeric column's missing cells take: the median of its present numbers
    (float32, as the features are); None when no cell is missing, or a present cell is not
    a number (then the column is text), or none is present."""
    present, missing = [], False
    for cell in cells:
        if is_missing(cell):
            missing = True
        elif (v := _number(cell)) is None:
            return None
        else:
            present.append(v)
    if not missing or not present:
        return None
    return float(np.float32(np.median(np.asarray(present, dtype=np.float64))))


#: a number written with a comma: a decimal comma (``"2,5"``) or thousands separators
#: (``"1,500"``, ``"1,234,567"``, ``"1,234.5"``); a plain number (``"950"``, ``"0.5"``) too
_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d*\.\d+)")


def decimal_comma(cells: Sequence[str]) -> str | None:
    """The first cell written with a comma (``"2,5"``, a decimal comma in many locales'
    spreadsheets; ``"1,500"`` or ``"1,234,567.5"``, thousands separators) in a column
    whose every present cell is such a number or a plain one; None for any other column.
    Such a column reads as text: as categories, or refused with too many of them."""
    first = None
    for cell in cells:
        text = cell.strip()
        if is_missing(text):
            continue
        if _COMMA.fullmatch(text) is None:
            return None
        if "," in text and first is None:
            first = text
    return first


#: a cell written as a number and a unit: ``"3 kg"``, ``"45%"``, ``"20 °C"``, ``"$12.50"``
#: (a unit is letters, ``%``, ``°``, ``/``, ``µ``; a currency sign comes first)
_WITH_UNIT = re.compile(
    r"(?P<sign>[$€£¥]?)\s*(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"\s*(?P<unit>(?:[^\W\d_]|[%°/µ])*)"
)


@dataclass(frozen=True)
class Units:
    """A column of numbers written with units (:func:`units`).

    Attributes:
        cell: the first cell written with a unit (``"3 kg"``).
        number: its number as written (``"3"``).
        units: the distinct units in order of appearance (a currency sign as written).
    """

    cell: str
    number: str
    units: tuple[str, ...]


def units(cells: Sequence[str]) -> Units | None:
    """The units of a column whose every present cell is a number with a unit
    (``"3 kg"``, ``"45%"``, ``"$12"``; missing markers aside); None for any other column
    (a few cells with a unit among plain numbers are :func:`stray_words`). Such a column
    reads as text: as categories, one-hot with no order, or refused with too many of
    them."""
    first, found = None, dict[str, None]()
    for cell in cells:
        text = cell.strip()
        if is_missing(text):
            continue
        match = _WITH_UNIT.fullmatch(text)
        if match is None or bool(match["sign"]) == bool(match["unit"]):  # "$3 kg", "3"
            return None
        found.setdefault(match["sign"] or match["unit"], None)
        first = first or match
    return Units(first[0], first["number"], tuple(found)) if first is not None else None


def units_warning(name: str, where: str, cells: Sequence[str]) -> str:
    """The warning for a column of numbers with :func:`units` (``where`` follows the
    column's name, e.g. ``" of data.csv"``); ``""`` for any other column."""
    if (found := units(cells)) is None:
        return ""
    one = len(found.units) == 1
    shown = ", ".join(repr(u) for u in found.units[:3]) + (", ..." if len(found.units) > 3 else "")
    levels = len({c.strip() for c in cells})
    return (
        f"column {name!r}{where} holds numbers with {'a unit' if one else 'units'} ({shown}, "
        f"as in {found.cell!r}): read as text categories, {levels} one-hot columns with no "
        f"order; expected plain numbers{'' if one else ' in one unit'} ({found.number} for "
        f"{found.cell!r}) to read them as numbers"
    )


def stray_words(cells: Sequence[str], rows: Sequence[int]) -> tuple[list[str], list[int]]:
    """The words in a column of numbers (an age column with one ``"unknown"``): the
    distinct text values and their ``rows`` (each cell's row number), when at most 3 such
    values fill at most 10% of the present cells, among numbers (one or more; missing
    markers aside); ``([], [])`` for any other column. Such a column reads as text
    categories, one-hot with no order: said, as the words are likely typos or missing
    values. Numbers written with a comma are :func:`decimal_comma`'s, not these."""
    words: dict[str, None] = {}
    at: list[int] = []
    numbers = present = 0
    for cell, row in zip(cells, rows, strict=True):
        if is_missing(cell):
            continue
        present += 1
        if _number(cell) is not None:
            numbers += 1
        else:
            words.setdefault(cell.strip(), None)
            at.append(row)
    if not at or not numbers or len(words) > 3 or len(at) > 0.1 * present:
        return [], []
    if decimal_comma(cells) is not None:
        return [], []
    return list(words), at


def stray_words_warning(name: str, where: str, cells: Sequence[str], rows: Sequence[int]) -> str:
    """The warning for a column of numbers with :func:`stray_words` (``where`` follows
    the column's name, e.g. ``" of data.csv"``); ``""`` for any other column."""
    words, at = stray_words(cells, rows)
    if not words:
        return ""
    shown = ", ".join(map(str, at[:5])) + (", ..." if len(at) > 5 else "")
    cell, it = ("those cells", "them") if len(at) > 1 else ("that cell", "it")
    return (
        f"column {name!r}{where} holds numbers but also "
        f"{' and '.join(repr(w) for w in words)} (row{'s' if len(at) > 1 else ''} {shown}): "
        f"read as text categories, {len({c.strip() for c in cells})} one-hot columns with no "
        f"order; to read it as numbers, correct {cell} or empty {it} (a missing value: "
        f"filled with the median, marked in a {missing_name(name)!r} column)"
    )


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
    numbers: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """The features of ``values`` (one list of cells per column) as a float32 matrix.

    Args:
        header: the column names, one per entry of ``values``.
        values: the cells of each feature column, as read (rows in file order).
        order: sort key of a text column's categories.
        where: follows the column's name in error messages (e.g. ``" of data.csv"``).
        numbers: each row's number in the file, for error messages (default: 2, 3, ...,
            the header being row 1).

    Returns:
        ``(x, names)``: ``x`` ``(rows, features)``; ``names`` the feature names, a numeric
        column's own name (and :func:`missing_name` for its indicator), a one-hot
        column's ``"column=value"``.

    Raises:
        ColumnError: a numeric value outside float32's finite range (infinite, too
            large), or a text column with more than :data:`MAX_LEVELS` distinct values.
            The message counts rows from the header's line as 1 (row 2 is the first data
            row).
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    rows = len(values[0]) if values else 0
    line = list(numbers) if numbers is not None else [r + 2 for r in range(rows)]
    for name, cells in zip(header, values, strict=True):
        fill = fill_value(cells)
        if fill is not None:
            blocks.append(with_indicator(name, cells, fill, where=where, rows=line))
            names += [name, missing_name(name)]
            continue
        parsed = [_number(c) for c in cells]
        if all(is_missing(c) for c in cells):  # "NaN" on every row: a constant, as "" is
            parsed = [None] * len(cells)
        text = [r for r, v in enumerate(parsed) if v is None]
        if not text:
            blocks.append(finite(name, cells, where=where, rows=line)[:, None])
            names.append(name)
            continue
        stripped = [c.strip() for c in cells]
        levels = sorted(set(stripped), key=order)
        if len(levels) > MAX_LEVELS:
            words, at = stray_words(cells, line)
            if words:  # numbers with a typo or a missing-value word: say which
                shown = ", ".join(map(str, at[:5])) + (", ..." if len(at) > 5 else "")
                cell = "those cells" if len(at) > 1 else "that cell"
                raise ColumnError(
                    f"column {name!r}{where} holds numbers but also "
                    f"{' and '.join(repr(w) for w in words)} (row{'s' if len(at) > 1 else ''} "
                    f"{shown}), and as text it would have {len(levels)} distinct values, more "
                    f"than the {MAX_LEVELS} one-hot encoded; expected numbers: correct or empty "
                    f"{cell} (an empty cell is a missing value, filled with the median), or "
                    f"--ignore {name} leaves the column out"
                )
            # the first cell that is text, not a missing one (an empty cell is no fault)
            r = next((r for r in text if not is_missing(cells[r])), text[0])
            comma, unit = decimal_comma(cells), units(cells)
            hint = (
                f"; its numbers are written with a comma ({comma!r}): expected plain numbers "
                "with a decimal point (2.5, 1500)"
                if comma
                else f"; its numbers are written with a unit ({unit.cell!r}): expected plain "
                f"numbers ({unit.number} for {unit.cell!r})"
                if unit
                else date_hint([c for c in cells if not is_missing(c)])
            )
            raise ColumnError(
                f"column {name!r}{where} is not numeric (row {line[r]}: {cells[r]!r}) and has "
                f"{len(levels)} distinct values; expected numbers in every feature column, "
                f"or text categories (at most {MAX_LEVELS} distinct values, one-hot encoded); "
                f"--ignore {name} leaves it out{hint}"
            )
        index = {v: k for k, v in enumerate(levels)}
        onehot = np.zeros((rows, len(levels)), dtype=np.float32)
        onehot[np.arange(rows), [index[v] for v in stripped]] = 1.0
        blocks.append(onehot)
        names += [f"{name}={v}" for v in levels]
    x = np.concatenate(blocks, axis=1) if blocks else np.zeros((rows, 0), dtype=np.float32)
    return x, names


def with_indicator(
    name: str,
    cells: Sequence[str],
    fill: float,
    *,
    where: str,
    rows: Sequence[int],
    expected: str = "finite numbers within float32's range (|x| < 3.4e38)",
) -> np.ndarray:
    """A numeric column with missing cells as ``(len(cells), 2)`` float32: the numbers,
    ``fill`` where a cell :func:`is_missing`, and the missing-value indicator. The other
    cells are read by :func:`finite` (``rows``: each cell's row number; ``expected``)."""
    absent = np.array([is_missing(c) for c in cells], dtype=bool)
    present = [c for c, gone in zip(cells, absent, strict=True) if not gone]
    column = np.full(len(cells), fill, dtype=np.float32)
    at = [rows[int(r)] for r in np.flatnonzero(~absent)]
    column[~absent] = finite(name, present, where=where, rows=at, expected=expected)
    return np.stack([column, absent.astype(np.float32)], axis=1)


def finite(
    name: str,
    cells: Sequence[str],
    *,
    where: str = "",
    rows: Sequence[int] | None = None,
    expected: str = "finite numbers within float32's range (|x| < 3.4e38)",
) -> np.ndarray:
    """Number cells as float32.

    Raises:
        ColumnError: at the first cell that is not a finite float32 number (text, NaN,
            infinite, too large), naming its row: ``rows[i]`` for cell ``i`` (default: a
            CSV file's data rows, 2, 3, ...) and what was ``expected``.
    """
    parsed = [_number(c) for c in cells]
    column = np.asarray([np.nan if v is None else v for v in parsed], dtype=np.float64)
    bad = np.flatnonzero(~(np.abs(column) <= _FLOAT32_MAX))
    if len(bad):
        r = int(bad[0])
        row = rows[r] if rows is not None else r + 2
        comma = "," in cells[r] and _COMMA.fullmatch(cells[r].strip()) is not None
        raise ColumnError(
            f"column {name!r}{where} holds {shown(cells[r])} (row {row}); expected {expected}"
            + (" (a number with a decimal point, 2.5, not a comma)" if comma else "")
        )
    return column.astype(np.float32)


def split_names(spec: str, header: Sequence[str]) -> list[str]:
    """Column names given as one string separated by commas (``--ignore id,name``), where
    a name may itself hold a comma (``"height, cm"``, as pandas quotes it in a header).

    Args:
        spec: the names, separated by commas.
        header: the file's column names.

    Returns:
        The names, stripped: at each position the longest run of comma-separated pieces
        that is a column of ``header``, else the single piece (an unknown name, which the
        caller refuses by name).
    """
    known, pieces, names, i = set(header), spec.split(","), [], 0
    while i < len(pieces):
        end = next(
            (j for j in range(len(pieces), i, -1) if ",".join(pieces[i:j]).strip() in known),
            i + 1,
        )
        names.append(",".join(pieces[i:end]).strip())
        i = end
    return names
