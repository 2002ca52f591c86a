"""Class labels and categories as text read from a file: their order and their numbers.

A CSV holds text, so the label ``2`` may also be written ``2.0`` or ``02`` (a column saved
by pandas after a float conversion, rows appended by another tool). Those are one class.
And the order of classes decides the integer each gets, so it must never depend on a
set's order (Python's hash seed changes it from process to process).

A label cell may also hold no label: empty, or a missing-value marker (``NA``, ``?``) as R,
pandas and spreadsheets write one. Such a row has no class; read as text it would be a
class of its own, learned and scored (:func:`missing_label`).

A label is read stripped (``" yes"`` is ``"yes"``), but ``"Yes"`` and ``"yes"`` stay two
classes: a case (or inner spacing) that differs may name another class (``"CO"`` and
``"Co"``, a grade ``"A"`` and ``"a"``), and merging them would rename classes without a
word. Such spellings are said instead (:func:`spelling_warning`): nearly always one class
typed two ways, which the user makes one in the file.
"""

from __future__ import annotations

import math
from collections import Counter
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


def _folded(text: str) -> str:
    """``text`` without case and with its inner spacing as single spaces."""
    return " ".join(text.split()).casefold()


def spelling_variants(labels: Sequence[str]) -> list[dict[str, int]]:
    """The labels written in more than one way that differ only in case or inner spacing
    (``"Yes"``, ``"yes"``, ``"YES"``; ``"not  spam"``, ``"not spam"``): for each such
    class, its spellings and their rows, the most common first (then in text order); the
    classes in :func:`natural` order of their most common spelling. ``labels`` are read
    stripped, as the loader reads them (``" yes"`` is already ``"yes"``)."""
    counts = Counter(labels)
    groups: dict[str, dict[str, int]] = {}
    for text in sorted(counts, key=lambda t: (-counts[t], t)):
        groups.setdefault(_folded(text), {})[text] = counts[text]
    found = [g for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: natural(next(iter(g))))


#: classes a warning names (the rest counted)
SHOWN = 3


#: distinct labels, all of them numbers and some with decimals, more than which are read
#: as a measurement (a regression target) rather than classes
MEASURED = 10


def looks_measured(labels: Sequence[str]) -> bool:
    """Whether ``labels`` read as a measurement, not classes: more than :data:`MEASURED`
    distinct values, every one a number, one at least with decimals (``2.5``; a class is
    rarely numbered so)."""
    values = {number(text) for text in set(labels)}
    if None in values or len(values) <= MEASURED:
        return False
    return any(v != int(v) for v in values if v is not None)


def measured_warning(labels: Sequence[str], *, target: str, where: str = "") -> str:
    """The warning for ``labels`` (the cells of the column ``target``) that
    :func:`looks_measured`; ``""`` otherwise."""
    if not looks_measured(labels):
        return ""
    shown = ", ".join(sorted(set(labels), key=natural)[:3])
    return (
        f"column {target!r}{where} holds {len(set(labels))} distinct numbers with decimals "
        f"({shown}, ...), each read as a class (nooverfit classifies); expected class "
        "labels: to classify a measurement, bin it into a few classes first"
    )


def spelling_warning(labels: Sequence[str], *, target: str, where: str = "") -> str:
    """The warning for :func:`spelling_variants` of ``labels`` (the cells of the column
    ``target``; ``where`` follows its name, e.g. ``" of data.csv"``); ``""`` when each
    class is written one way."""
    return _variants_warning(spelling_variants(labels), column=target, where=where, kind="label")


def category_warning(cells: Sequence[str], *, name: str, where: str = "") -> str:
    """The warning for a text feature column whose categories differ only in case or
    inner spacing (``"Red"`` and ``"red"``: two one-hot columns), worded as
    :func:`spelling_warning`; ``cells`` as read (stripped here, as the encoder strips
    them); ``""`` when each category is written one way."""
    found = spelling_variants([c.strip() for c in cells])
    return _variants_warning(found, column=name, where=where, kind="category")


#: how a warning names, for a label column and a text feature column: one, several, what
#: each spelling is read as, and what it should spell
_WORDS = {
    "label": ("a label", "labels", "classes", "class"),
    "category": ("a category", "categories", "one-hot columns", "category"),
}


def _variants_warning(
    found: Sequence[dict[str, int]], *, column: str, where: str, kind: str
) -> str:
    """The line that names ``found`` (:func:`spelling_variants`) of the column ``column``,
    in the words of ``kind`` (a key of :data:`_WORDS`)."""
    if not found:
        return ""
    shown = "; ".join(
        " and ".join(f"{t!r} ({n} row{'s' if n > 1 else ''})" for t, n in g.items())
        for g in found[:SHOWN]
    )
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    spellings = sum(len(g) for g in found)
    one, many, read, each = _WORDS[kind]
    return (
        f"column {column!r}{where} writes {one if len(found) == 1 else many} in "
        f"ways that differ only in case or spacing: {shown}{more}; read as {spellings} "
        f"separate {read} that are likely {len(found)}; expected one spelling per {each} "
        "(make them one in the file)"
    )
