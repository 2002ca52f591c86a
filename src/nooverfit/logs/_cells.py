"""Cells of a logged table: a value as a number (``"85.3%"``, Keras's ``"[0.178]"``), and
the cells that are text, noted once per column. Pure; :mod:`._table` reads rows with
them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nooverfit._words import counted

#: cells that say "not logged" (pandas's, R's and fastai's markers): read as missing
#: without a note
_MISSING = {"", "nan", "na", "n/a", "none", "null", "#na#"}


@dataclass(frozen=True)
class TextCell:
    """A logged cell that is text, not a number, read as missing.

    Attributes:
        row: its row's position among the rows the reader passes on (0-based).
        line: its line in the file (1-based, the header included), or its entry in a
            JSON list (1-based) when ``where`` is ``"entry"``.
        text: the cell as written.
        where: what ``line`` counts: ``"line"`` or ``"entry"``.
    """

    row: int
    line: int
    text: str
    where: str = "line"


def text_cells_note(
    unreadable: Mapping[str, Sequence[TextCell]], used: list[str], *, kept: Mapping[int, int]
) -> str:
    """One note on the text cells of the columns ``used`` in the rows ``kept``
    (e.g. ``2 cells of val_loss are not a number (lines 4, 9: 'abc'); read as missing``)."""
    said = []
    for logged in used:
        cells = [c for c in unreadable.get(logged, ()) if c.row in kept]
        if not cells:
            continue
        lines = ", ".join(str(c.line) for c in cells[:3]) + (", ..." if len(cells) > 3 else "")
        plural = len(cells) > 1
        where = cells[0].where
        if plural:
            where = where[:-1] + "ies" if where.endswith("y") else where + "s"
        said.append(
            f"{counted(len(cells), 'cell')} of {logged} {'are' if plural else 'is'} "
            f"not a number ({where} {lines}: {cells[0].text!r})"
        )
    return f"{'; '.join(said)}; read as missing" if said else ""


#: A one-element array as Keras's ``CSVLogger`` writes a metric that returns one
#: (``F1Score``: ``"[0.178]"``, in quotes of its own inside the CSV's).
_ONE_ELEMENT = re.compile(r'^"?\[\s*([^,\[\]\s]+)\s*\]"?$')


def parse_number(text: object) -> float:
    """A logged value as a float: NaN for empty, ``NA``, ``None`` or text; ``"85.3%"``
    is 0.853; a one-element array ``"[0.178]"`` is its element (several elements, a
    metric per class, are NaN: which average the user wants is not in the log)."""
    if text is None or isinstance(text, bool):
        return math.nan
    if isinstance(text, (int, float)):
        return float(text)
    cell = str(text).strip()
    if one := _ONE_ELEMENT.match(cell):
        cell = one.group(1)
    try:
        if cell.endswith("%"):  # "85.3%": a share
            return float(cell[:-1]) / 100
        return float(cell)
    except ValueError:
        return math.nan


def is_text(value: object, number: float) -> bool:
    """Whether a cell (``value`` as written, ``number`` as :func:`parse_number` read it) is
    text that is neither a number nor a missing marker."""
    return isinstance(value, str) and math.isnan(number) and value.strip().lower() not in _MISSING
