"""`data_history`: parsed JSON (or a printed Python literal) as a history: an object of
lists, as Keras's ``history.history`` is saved (or a pandas ``to_json`` layout of one), or
a list of objects, one per epoch; and `json_row`, one JSON object as a row of numbers,
its nested objects flattened as TensorBoard tags read (``val/loss``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from nooverfit.history import History
from nooverfit.logs._cells import TextCell, is_text, parse_number
from nooverfit.logs._frame_json import frame_lists
from nooverfit.logs._table import rows_to_history


def data_history(
    data: object, path: Path, *, columns: Mapping[str, str] | None, notes: tuple[str, ...] = ()
) -> History:
    """A JSON object of lists (Keras's ``history.history``, or a pandas layout of one) or a
    list of objects, one per epoch, read as a history."""
    unreadable: dict[str, list[TextCell]] = {}
    data = frame_lists(data) or data  # pandas's to_json of history.history
    if isinstance(data, dict):
        # {"loss": [...], "val_loss": [...]} as Keras's History.history is saved
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        n = max((len(v) for v in lists.values()), default=0)
        rows = [{k: math.nan for k in lists} for _ in range(n)]
        for k, v in lists.items():
            for i, epoch in enumerate(_validated_epochs(len(v), n)):
                rows[epoch][k] = parse_number(v[i])
                if is_text(v[i], rows[epoch][k]):  # its entry: the JSON may be one line
                    cell = TextCell(epoch, i + 1, v[i].strip(), "entry")
                    unreadable.setdefault(k, []).append(cell)
    elif isinstance(data, list):
        rows = []
        for i, r in enumerate(data):
            if isinstance(r, dict):
                rows.append(json_row(r, len(rows), i + 1, unreadable, where="entry"))
    else:
        raise ValueError(f"{path}: expected a JSON object of lists or a list of objects")
    return rows_to_history(
        rows, columns=columns, source=str(path), unreadable=unreadable, notes=notes
    )


def json_row(
    record: Mapping[str, object],
    row: int,
    place: int,
    unreadable: dict[str, list[TextCell]],
    *,
    where: str = "line",
) -> dict[str, float]:
    """One JSON object as a row of numbers; its text values go to ``unreadable`` as
    cells of row ``row`` at ``where`` ``place`` (1-based). Nested objects are flattened
    with ``/`` (``{"val": {"loss": 0.5}}`` is ``val/loss``, as TensorBoard tags read)."""
    record = _flat(record)
    out = {k: parse_number(v) for k, v in record.items()}
    for k, v in record.items():
        if is_text(v, out[k]):
            unreadable.setdefault(k, []).append(TextCell(row, place, str(v).strip(), where))
    return out


def _flat(record: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """A JSON object with its nested objects' keys joined by ``/``."""
    out: dict[str, object] = {}
    for k, v in record.items():
        if isinstance(v, Mapping):
            out |= _flat(v, f"{prefix}{k}/")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _validated_epochs(m: int, n: int) -> list[int]:
    """The epochs of a Keras ``history.history`` list of ``m`` values in a run of ``n``
    epochs. ``fit(validation_freq=k)`` validates after epochs k-1, 2k-1, ...: a list that
    many times shorter holds those epochs, not the first ones. A length that fits no
    such ``k`` (a run stopped mid-way) starts at epoch 0."""
    if 0 < m < n:
        k = n // m
        if k > 1 and n // k == m:
            return [k * (i + 1) - 1 for i in range(m)]
    return list(range(m))
