"""Raw data for a saved model (:mod:`nooverfit.saved_model`): a CSV file, dict rows or
arrays, turned into the raw feature matrix the study's data set held before scaling
(text columns one-hot encoded with the recorded categories), with errors that name what
does not match and what was expected."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit._words import counted
from nooverfit.data.fitted import Column, Columns, Encoded, encode_cells
from nooverfit.errors import BadInput
from nooverfit.image_input import is_image_input, read_images


@dataclass(frozen=True)
class RawRows:
    """New rows read once for a saved model (:func:`read_rows`).

    Attributes:
        x: the raw features, float32 ``(N, *raw_shape)``, before scaling.
        notes: what reading did without an error, one line each: the empty cells of
            numeric columns that took the training median, the categories a text column
            never had in training (encoded as zeros with ``unknown="ignore"``; an error
            otherwise, so never noted), and a CSV file's columns ignored (neither a feature
            nor the study's target); for arrays (where every column is a feature, and an
            empty cell an error), only that 1-channel images ``(N, H, W)`` had their
            channel added.
        labels: a CSV file's cells of the study's target column, stripped as the study
            read its labels, or image files' class folders
            (:class:`~nooverfit.image_input.Images`); None where there are none.
        files: image files' names, one per row (None for other rows).
        ids: the cells of the column :func:`read_rows` was asked to keep beside the
            predictions (``id_column``), as written, one per row (None: none asked).
    """

    x: np.ndarray
    notes: tuple[str, ...] = ()
    labels: tuple[str, ...] | None = None
    files: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None


def raw_features(
    rows: Any,
    *,
    columns: Columns | None,
    raw_shape: Sequence[int],
    kind: str,
    unknown: str = "error",
) -> np.ndarray:
    """The raw features of ``rows``, float32 ``(N, *raw_shape)``: :func:`read_rows`'s
    ``x`` (same arguments)."""
    return read_rows(rows, columns=columns, raw_shape=raw_shape, kind=kind, unknown=unknown).x


def read_rows(
    rows: Any,
    *,
    columns: Columns | None,
    raw_shape: Sequence[int],
    kind: str,
    unknown: str = "error",
    classes: Sequence[str] = (),
    id_column: str | None = None,
) -> RawRows:
    """``rows`` read once: their raw features, notes and labels (:class:`RawRows`).

    Args:
        rows: a CSV file's path (columns found by their header), a ``.npy`` file's path,
            for images an image file's or a folder's (:mod:`nooverfit.image_input`), a
            sequence of dicts (column -> value), a pandas ``DataFrame``, or an array
            ``(N, *raw_shape)`` (or ``(N, prod(raw_shape))``, or ``(N, H, W)`` for
            1-channel images of ``raw_shape`` ``(1, H, W)``).
        columns: the study's CSV columns (None: data without named columns).
        raw_shape: the shape of one raw sample.
        kind: the data's kind, for messages.
        unknown: see :func:`~nooverfit.data.fitted.encode_rows`.
        classes: the model's class names, which an image folder's sub-folders may name.
        id_column: a column of a CSV file (or of dict rows) whose cells :class:`RawRows`
            keeps as its ``ids``, to write beside the predictions (a row's identifier); it
            may be a feature too, else it is read as no feature (and not noted as ignored).

    Raises:
        FileNotFoundError: a path that does not exist.
        BadInput: rows that do not match the study's data.
    """
    if isinstance(rows, (str, os.PathLike)):
        path = Path(rows)
        if path.exists() and kind == "image" and is_image_input(path):
            _no_columns(id_column, f"image input {path}", "(each row's file is written first)")
            images = read_images(path, raw_shape, classes)
            return RawRows(images.x, images.notes, images.labels, images.files)
        if path.is_dir():
            raise BadInput(f"data file {path} is a folder; expected a CSV or .npy file")
        if not path.is_file():
            raise FileNotFoundError(f"data file {path} does not exist")
        if path.suffix.lower() == ".npy":
            _no_columns(id_column, f".npy array {path}")
            return _array(_load_npy(path), columns, raw_shape, kind, where=f"{path}: ")
        if kind != "tabular":
            files = " or image files (a file or a folder)" if kind == "image" else ""
            raise BadInput(
                f"{path} is not a .npy file; this model takes {kind} arrays, expected a .npy "
                f"file of shape (N, {', '.join(map(str, raw_shape))}){files}"
            )
        if columns is not None:
            _check_trained_names(columns)
        return _csv(path, columns, raw_shape, unknown, id_column)
    if columns is not None and hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        rows = rows.to_dict("records")  # a pandas DataFrame: its rows as dicts
    if isinstance(rows, (list, tuple)) and not rows:  # not "samples have shape (0,)"
        _nonempty(0, "the rows")
    if columns is not None and _mappings(rows):
        _check_trained_names(columns)
        cells = [[_text(row, c.name, r) for r, row in enumerate(rows)] for c in columns.features]
        encoded = encode_cells(columns, cells, unknown=unknown, first_row=0)
        ids = None
        if id_column is not None:
            if (r := next((r for r, row in enumerate(rows) if id_column not in row), -1)) >= 0:
                raise BadInput(
                    f"rows[{r}] has no column {id_column!r} to write beside the predictions"
                )
            ids = tuple(_text(row, id_column, r) for r, row in enumerate(rows))
        return RawRows(encoded.x, _notes(encoded, ()), ids=ids)
    _no_columns(id_column, "rows given as an array")
    return _array(rows, columns, raw_shape, kind, where="")


def _no_columns(id_column: str | None, what: str, said: str = "") -> None:
    """Refuse an ``id_column`` for rows without named columns (``what``)."""
    if id_column is not None:
        said = f" {said}" if said else ""
        raise BadInput(
            f"{what} has no column {id_column!r} to write beside the predictions (--id){said}; "
            "expected a CSV file with that column"
        )


def csv_notes(path: str | os.PathLike[str], columns: Columns | None) -> tuple[str, ...]:
    """:class:`RawRows`'s ``notes`` for a CSV file of new rows (unseen categories noted,
    not refused); ``()`` for a ``.npy`` file, or data without named columns. Reads the
    file: :func:`read_rows` gives the same notes with the features, in one read."""
    if columns is None or Path(path).suffix.lower() == ".npy":
        return ()
    return read_rows(
        path, columns=columns, raw_shape=(columns.width,), kind="tabular", unknown="ignore"
    ).notes


def _check_trained_names(columns: Columns) -> None:
    """Refuse to read rows by name for a model trained on a CSV file that named a column
    twice: nooverfit read such a file by position before it refused one, so its saved
    model holds the name twice, and new rows looked up by name would read the first of
    the two columns twice (or, for a second target column, feed the label as a feature).

    Raises:
        BadInput: naming the column, and how to retrain (or, without text columns, how to
            give the rows by position).
    """
    seen: set[str] = set()
    for name in [c.name for c in columns.features] + [columns.target]:
        if name in seen:
            text = any(c.levels is not None for c in columns.features)
            by_position = (
                ""
                if text
                else " (or give its rows as a .npy array, features in the training file's "
                "column order)"
            )
            raise BadInput(
                f"this model was trained on a CSV file with two columns named "
                f"{name!r}, which older nooverfit read by position, so rows read by name "
                "cannot tell the two apart; expected a retrained model: rename one of the "
                "columns in the training file and run nooverfit study (or train) "
                f"again{by_position}"
            )
        seen.add(name)


def _labels(
    header: Sequence[str], body: Sequence[Sequence[str]], columns: Columns
) -> tuple[str, ...] | None:
    if not columns.target or columns.target not in header:
        return None
    t = header.index(columns.target)
    return tuple(row[t].strip() for row in body)


def _notes(encoded: Encoded, ignored: Sequence[str]) -> tuple[str, ...]:
    """The lines of :class:`RawRows`'s ``notes``, from what the encoding filled in."""
    notes = []
    if encoded.filled:
        counts = ", ".join(f"{name!r} {n}" for name, n in encoded.filled.items())
        total = sum(encoded.filled.values())
        notes.append(
            f"{counted(total, 'missing numeric cell')} took the training median ({counts})"
        )
    if encoded.unseen:
        counts = ", ".join(f"{name!r} {n}" for name, n in encoded.unseen.items())
        notes.append(
            f"{counted(sum(encoded.unseen.values()), 'cell')} held a category never seen in "
            f"training, encoded as all zeros ({counts})"
        )
    if ignored:
        names = ", ".join(repr(h) for h in ignored)
        notes.append(f"ignored {counted(len(ignored), 'column')} the model does not use: {names}")
    return tuple(notes)


def _load_npy(path: Path) -> np.ndarray:
    try:
        with path.open("rb") as f:  # numpy calls any other file "pickled data", to unpickle
            numpy = f.read(6) == b"\x93NUMPY"
        if numpy:
            return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise BadInput(f"{path} is not a readable .npy array ({err})") from None
    raise BadInput(f"{path} is not a .npy array (no NumPy header); expected numpy.save's")


def _nonempty(count: int, what: str) -> None:
    if count == 0:
        raise BadInput(f"{what} hold no data; expected at least one row")


def _mappings(rows: Any) -> bool:
    return (
        isinstance(rows, Sequence)
        and not isinstance(rows, str)
        and bool(rows)
        and all(isinstance(r, Mapping) for r in rows)
    )


def _text(row: Mapping[str, Any], name: str, r: int) -> str:
    if name not in row:
        raise BadInput(f"rows[{r}] has no column {name!r}; expected every feature column")
    value = row[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""  # a missing cell (pandas reads an empty one as NaN), as an empty CSV cell
    return value if isinstance(value, str) else str(value)


def _csv(
    path: Path,
    columns: Columns | None,
    raw_shape: Sequence[int],
    unknown: str,
    id_column: str | None = None,
) -> RawRows:
    from nooverfit.data.sources import (
        check_nonempty,
        check_rows,
        check_unique,
        nfc,
        read_numbered,
    )

    header, body, numbers = read_numbered(path)  # errors name the file's own line numbers
    # the names compared as the header is read (a model trained before NFC names)
    id_column = None if id_column is None else nfc(id_column)
    if columns is not None:
        renamed = tuple(dataclasses.replace(c, name=nfc(c.name)) for c in columns.features)
        columns = dataclasses.replace(columns, features=renamed, target=nfc(columns.target))
    check_nonempty(path, body)
    if id_column is not None and id_column not in header:  # before any feature's error
        raise BadInput(
            f"CSV file {path} has no column {id_column!r} to write beside the predictions "
            f"(--id); expected one of its columns: {', '.join(header)}"
        )
    at = header.index(id_column) if id_column is not None else -1
    if columns is None:  # data from arrays: its columns in order, whatever their names
        kept = list(range(len(header)))
        if at >= 0 and len(header) == math.prod(raw_shape) + 1:
            kept.remove(at)  # the id column is no feature: the file has one more column
        if len(kept) != math.prod(raw_shape):
            raise BadInput(
                f"CSV file {path} has {counted(len(header), 'column')}; expected the "
                f"{counted(math.prod(raw_shape), 'numeric feature column')} the model's data had"
            )
        check_rows(path, header, body, numbers)
        ids = tuple(row[at] for row in body) if at >= 0 else None
        cells = [[row[i] for row in body] for i in kept]  # a name may repeat
        plain = Columns(tuple(Column(header[i]) for i in kept), "")
        encoded = encode_cells(plain, cells, unknown=unknown, where=f" of {path}", numbers=numbers)
        return RawRows(encoded.x, ids=ids)
    # by name: a name twice would be read as the first of the two
    named = [c.name for c in columns.features] + [columns.target]
    check_unique(path, header, named + ([id_column] if id_column is not None else []))
    missing = [c.name for c in columns.features if c.name not in header]
    if missing:
        raise BadInput(
            f"CSV file {path} has no column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}; expected the model's feature columns: "
            f"{', '.join(c.name for c in columns.features)}"
        )
    check_rows(path, header, body, numbers)
    ids = tuple(row[at] for row in body) if at >= 0 else None
    cells = [[row[header.index(c.name)] for row in body] for c in columns.features]
    encoded = encode_cells(columns, cells, unknown=unknown, where=f" of {path}", numbers=numbers)
    used = {c.name for c in columns.features} | {columns.target, id_column}
    ignored = [h for h in header if h not in used]
    labels = _labels(header, body, columns)
    return RawRows(encoded.x, _notes(encoded, ignored), labels, ids=ids)


def _array(
    rows: Any, columns: Columns | None, raw_shape: Sequence[int], kind: str, *, where: str
) -> RawRows:
    """Array rows ``(N, *raw_shape)``, or flattened ``(N, prod(raw_shape))``, or for
    1-channel images ``(N, H, W)``: the channel axis is then added, with a note (the one
    shape that can mean, a channel of each ``(H, W)`` image)."""
    shape = tuple(raw_shape)
    text = [c.name for c in columns.features if c.levels is not None] if columns else []
    if text:
        raise BadInput(
            f"{where}this model's data has text columns ({', '.join(text)}); expected a CSV "
            "file or dict rows with the raw values, not an array"
        )
    try:
        x = np.asarray(rows.cpu() if hasattr(rows, "cpu") else rows, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise BadInput(f"{where}rows are not numbers ({err}); expected {kind} samples") from None
    size = math.prod(shape)
    notes: tuple[str, ...] = ()
    if x.ndim == 2 and x.shape[1] == size:
        x = x.reshape(len(x), *shape)
    elif len(shape) == 3 and shape[0] == 1 and x.ndim == 3 and x.shape[1:] == shape[1:]:
        notes = (
            f"{where}samples of shape {x.shape} read as {(len(x), *shape)}: the "
            "network's one channel added",
        )
        x = x[:, None]
    if x.shape[1:] != shape or x.ndim != len(shape) + 1:
        flat = f" or (N, {size})" if len(shape) > 1 else ""  # one form when already flat
        if len(shape) == 3 and shape[0] == 1:
            flat = f", (N, {shape[1]}, {shape[2]}){flat}"
        raise BadInput(
            f"{where}{kind} samples have shape {x.shape}; expected (N, "
            f"{', '.join(map(str, shape))}){flat}, as the model's data set held them"
        )
    _nonempty(len(x), f"{where or 'the '}samples")
    if not np.isfinite(x).all():
        raise BadInput(f"{where}samples hold NaN or infinite values; expected finite numbers")
    return RawRows(x, notes)
