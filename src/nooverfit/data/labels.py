"""Class labels and categories as text read from a file: their order and their numbers.

A CSV holds text, so the label ``2`` may also be written ``2.0`` or ``02`` (a column saved
by pandas after a float conversion, rows appended by another tool). Those are one class.
And the order of classes decides the integer each gets, so it must never depend on a
set's order (Python's hash seed changes it from process to process).

A label cell may also hold no label: empty, or a missing-value marker (``NA``, ``?``) as R,
pandas and spreadsheets write one. Such a row has no class; read as text it would be a
class of its own, learned and scored (:func:`missing_label`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nooverfit.data.columns import MISSING

#: label cells that mean "no label" (compared stripped and lower-cased): a numeric
#: column's missing-value markers but ``none``, which as often names a class ("no damage")
MISSING_LABELS = MISSING - {"none"}


def number(text: str) -> float | None:
    """``text`` as a finite number, or None where it is not one ("nan" and "inf" are text
    here: no class is numbered that way)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def missing_label(text: str) -> bool:
    """Whether a label cell holds no label: empty, or one of :data:`MISSING_LABELS`
    (``NA``, ``N/A``, ``NaN``, ``null``, ``?``, in any case)."""
    return text.strip().lower() in MISSING_LABELS


def natural(text: str) -> tuple[int, float, str]:
    """Sort key: numbers first, by value, then text; ties (``2`` and ``2.0``) by text, so
    the order is total and the same in every process."""
    value = number(text)
    return (0, value, text) if value is not None else (1, 0.0, text)


def merge_spellings(labels: Sequence[str]) -> list[str]:
    """``labels`` with each number written in more than one way (``2``, ``2.0``, ``02``)
    renamed to its shortest spelling (the smallest text among equally short ones); labels
    spelled one way keep their text."""
    spellings: dict[float, set[str]] = {}
    for text in set(labels):
        value = number(text)
        if value is not None:
            spellings.setdefault(value, set()).add(text)
    rename = {
        text: min(texts, key=lambda t: (len(t), t))
        for texts in spellings.values()
        if len(texts) > 1
        for text in texts
    }
    return [rename.get(text, text) for text in labels]


def same_label(a: str, b: str) -> bool:
    """Whether two label texts name one class: equal numbers, or equal text."""
    x, y = number(a), number(b)
    return x == y if x is not None and y is not None else a == b
