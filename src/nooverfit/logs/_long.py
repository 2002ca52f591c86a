"""Long-format logs: one row per split and epoch (``epoch,split,loss,acc`` with ``split``
holding ``train`` or ``valid``), as custom loops and pandas's ``melt`` write them.

Each row's values are renamed after its split (``loss`` in a ``valid`` row is
``valid_loss``), so that every split's values are read as its own curve. Read as they
were, the splits' values fell into one ``loss`` column: the last row of each epoch, the
validation loss, was read as the training loss, and no validation curve was found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from nooverfit.logs._names import canonical

#: Values that name a split; a text column holding only these is the split column.
_SPLITS = {"train", "training", "trn", "val", "valid", "validation", "eval", "dev", "test"}


class _Cell(Protocol):
    """What :func:`widen` reads of a text cell (a ``logs._table.TextCell``)."""

    @property
    def row(self) -> int: ...

    @property
    def text(self) -> str: ...


def widen(
    rows: list[Mapping[str, float]], cells: Mapping[str, Sequence[_Cell]]
) -> tuple[list[Mapping[str, float]], str, str]:
    """The rows with each value named after its row's split, when a text column names
    the split of the rows (``cells``: the reader's text cells by column, each with the
    row it is in).

    Returns:
        The rows (as given when there is no split column), the split column's name
        (``""`` when none) and a note saying how they were read.
    """
    column, split = _split_column(len(rows), cells)
    if not column:
        return rows, "", ""
    out: list[Mapping[str, float]] = []
    for i, row in enumerate(rows):
        side = split.get(i)
        out.append(
            {
                f"{side}_{k}" if side and canonical(k) is not None else k: v
                for k, v in row.items()
                if k != column
            }
        )
    names = sorted(set(split.values()), key=list(split.values()).index)
    note = (
        f"one row per split (column {column}: {', '.join(names)}): each row's values read "
        f"as {', '.join(f'{n}_<name>' for n in names)}"
    )
    return out, column, note


def _split_column(n: int, cells: Mapping[str, Sequence[_Cell]]) -> tuple[str, dict[int, str]]:
    """The text column naming each row's split, and ``{row: split}``: every one of the
    ``n`` rows holds a split's name there, two splits at least, one of them training or
    validation. ``("", {})`` when no column does."""
    for column, found in cells.items():
        split = {c.row: c.text.strip().lower() for c in found}
        names = set(split.values())
        if (
            n > 1
            and len(split) == n
            and len(names) > 1
            and names <= _SPLITS
            and names & (_SPLITS - {"test"})
        ):
            return column, split
    return "", {}
