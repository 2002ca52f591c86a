"""The epoch column of a logged table, read as the log means it: under another case
(``Epoch``), or fractional (the epochs done when a row was logged, 1.5 halfway through
the second: Hugging Face's, any per-step logger's)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

from nooverfit.logs._names import is_epoch


def epoch_named(rows: list[Mapping[str, float]]) -> tuple[list[Mapping[str, float]], str]:
    """The rows with their epoch column named ``epoch``, where the log writes it otherwise
    (``Epoch``, ``EPOCH``, `` epoch``, ``history/epoch``): read as a curve's name, it was
    left out (or refused as differing from the epochs), and the
    epochs were numbered from 0 whatever the log's own numbers. Without one, an unnamed
    index column (pandas's ``to_csv``) numbering the rows otherwise than 0, 1, 2, ...
    (``df.index += 1``, a frame cut to every 5th epoch) is the epoch column, with a note
    saying so (``""`` where there is none).
    """
    names = {k for row in rows for k in row}
    if "epoch" in names:
        return rows, ""
    other = next((k for k in sorted(names) if is_epoch(k)), None)
    note = ""
    if other is None:
        other = next((k for k in sorted(names) if _numbers_rows(k, rows)), None)
        if other is None:
            return rows, ""
        first = ", ".join(f"{row[other]:g}" for row in rows[:3])
        note = (
            f"no epoch column: the unnamed first column (an index, as pandas writes it) "
            f"numbers the epochs ({first}, ...)"
        )
    return [{"epoch" if k == other else k: v for k, v in row.items()} for row in rows], note


def _numbers_rows(name: str, rows: list[Mapping[str, float]]) -> bool:
    """Whether ``name`` is an index column with no name (pandas writes ``""``, and
    ``Unnamed: 0`` once such a file is read and written again) holding whole numbers that
    rise in every row, not 0, 1, 2, ... (which the rows' order gives anyway)."""
    if name.strip().lower() not in ("", "unnamed: 0"):
        return False
    values = [row.get(name, math.nan) for row in rows]
    if not all(math.isfinite(v) and v == int(v) for v in values):
        return False
    rising = all(b > a for a, b in itertools.pairwise(values))
    return rising and values != [float(i) for i in range(len(values))]


def epoch_of(done: float) -> float:
    """The epoch a row logged after ``done`` epochs falls in, counting from 1: ``(k - 1, k]``
    is epoch ``k`` (1.5 is the second; 1.0, logged at the first one's end, its last), 0
    before any (an evaluation before training)."""
    return float(max(0, math.ceil(done - 1e-9)))


def whole_epochs(rows: list[Mapping[str, float]]) -> tuple[list[Mapping[str, float]], str]:
    """The rows with a fractional epoch (the epochs done when the row was logged, 1.5
    halfway through the second) replaced by the epoch it falls in: ``(k - 1, k]`` is
    epoch ``k``, a value logged at the end of an epoch (1.0) its last, and a note saying
    so (``""``, the rows as given, where every epoch is whole). Floored, the first
    epoch's last loss went into the second, and an epoch 0 of training alone was added."""
    epochs = [row.get("epoch", math.nan) for row in rows]
    if not any(math.isfinite(e) and e != int(e) for e in epochs):
        return rows, ""
    out = [
        {**row, "epoch": epoch_of(e)} if math.isfinite(e) else row
        for row, e in zip(rows, epochs, strict=True)
    ]
    return out, (
        "fractional epochs (the epochs done when logged): each row read in the epoch it "
        "falls in, (k-1, k] being epoch k"
    )
