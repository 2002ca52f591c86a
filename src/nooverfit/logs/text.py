"""Readers for text logs: CSV (Keras ``CSVLogger``, Lightning ``metrics.csv``, generic,
nooverfit's own), JSON lines, and a history Python printed rather than saved as JSON
(``print(history.history)`` pasted into a file: :mod:`._printed`).

A log still being written may end in a partial line: rows with the wrong number of
fields, a last CSV line without a line end (possibly cut mid-value) and lines that are not
valid JSON are skipped with a warning, so a truncated file reads what is complete. A CSV
file unchanged for :data:`SETTLED` seconds is complete: its last line is read, line end
or not.

CSV dialects read: any common separator (or the one Excel's ``sep=`` first line names),
columns aligned with runs of spaces (a printed table, pandas's ``to_string`` with its
unnamed index), and decimal commas where the separator is not a comma.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nooverfit._words import counted
from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.logs._cells import TextCell, is_text, parse_number
from nooverfit.logs._detectron2 import evaluation_named
from nooverfit.logs._file import log_text
from nooverfit.logs._json_rows import data_history, json_row
from nooverfit.logs._names import named_once
from nooverfit.logs._printed import printed_literal
from nooverfit.logs._table import canonical, rows_to_history
from nooverfit.logs.huggingface import is_log_history, log_history

log = logging.getLogger(__name__)

_SEPARATORS = (",", ";", "\t", "|", " ")
#: Seconds a CSV log stays unchanged before a last line without a line end is read as
#: complete: loggers write whole rows (Keras's, Lightning's), and a row a full buffer
#: flushed mid-way is ended at the next flush, in a run still going.
SETTLED = 30.0
#: How fastai's ``CSVLogger`` starts its header: ``epoch,train_loss,valid_loss,<metrics>,
#: time``. Its ``Recorder`` computes the metrics on the validation set and names them
#: bare (``accuracy``, ``error_rate``); computed on both sets they are ``train_accuracy``,
#: ``valid_accuracy``.
_FASTAI = ("epoch", "train_loss", "valid_loss")
#: The note of a history Python printed (``print(history.history)``), not saved as JSON.
_PRINTED = "read as Python printed it (a dict or list, not JSON)"
#: The note on a Hugging Face Trainer's ``log_history`` exported one entry a row.
_EXPORTED = (
    "a Hugging Face Trainer's log_history, one entry a row: read as its trainer_state.json "
    "(epochs numbered as the Trainer logs them, from 1)"
)
#: Excel's first line naming the separator (``sep=;``), which it writes and reads.
_SAID = re.compile(r'\s*"?sep=(.)"?\s*')
#: A number written with a decimal comma (``0,71``, ``1,5e-3``, ``85,3%``), as Excel and
#: ``pandas.to_csv(decimal=",")`` write them where the separator is not a comma.
_DECIMAL = re.compile(r"\s*[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?\s*%?\s*")


def separator(header: str, second: str | None = None) -> str:
    """Guess the field separator from the header (and the next line, when given).

    Keras's ``CSVLogger(separator=...)`` accepts any string; the common ones are tried.
    """
    best, count = ",", 0
    for sep in _SEPARATORS:
        n = header.count(sep)
        if n > count and (second is None or second.count(sep) == n):
            best, count = sep, n
    return best


def _indexed(header: list[str], records: list[list[str]]) -> bool:
    """Whether every row of a table holds one field more than its ``header``: an index
    column printed without a name (pandas's ``DataFrame.to_string``)."""
    rows = [f for f in records if f and any(c.strip() for c in f) and not _is_header(f)]
    return bool(rows) and all(len(f) == len(header) + 1 for f in rows)


def csv_rows(
    text: str, *, source: str = "log", settled: bool = False
) -> tuple[list[str], list[dict[str, float]], dict[str, list[TextCell]], list[int]]:
    """Parse CSV text into its header and numeric rows, skipping malformed rows. A header
    line repeated further down (a script restarted with ``>>``) is the header of the rows
    below it. A last line without a line end is left out as one still being written,
    unless the file is ``settled`` (unchanged for :data:`SETTLED` seconds).

    Returns:
        The (last) header, one ``{column: value}`` per row, the cells read as missing that
        are neither empty nor a missing-value marker (``NA``, ``null``, ...):
        ``{column: [cell, ...]}``, and each row's line in the file (1-based).
    """
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")) and lines[-1].strip() and not settled:
        # a writer ends every row with a line end: a last row without one may be cut
        # mid-value ("3,0.5,0." for 0.71), so it is not read as an epoch
        log.warning("%s: the last line has no line end; skipped (still being written?)", source)
        lines.pop()
    blank = 0  # blank lines above the header, for the file's line numbers
    while lines and not lines[0].strip():
        lines.pop(0)
        blank += 1
    said = _SAID.fullmatch(lines[0]) if lines else None
    if said:  # Excel's "sep=;" line: the separator, said before the header
        lines.pop(0)
        blank += 1
    if not lines:
        raise ValueError(f"{source} is empty; expected a header line and one row per epoch")
    sep = said.group(1) if said else separator(lines[0], lines[1] if len(lines) > 1 else None)
    # columns aligned with runs of spaces (a printed table, pandas's to_string): one
    # separator each, where no other separator is in the header
    spaced = sep == " " or (
        sep not in lines[0]
        and len(lines) > 1
        and 1 < len(lines[0].split()) <= len(lines[1].split()) <= len(lines[0].split()) + 1
    )
    if spaced:
        sep, lines = " ", [line.strip() for line in lines]
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep, skipinitialspace=spaced)
    header = named_once([h.strip() for h in next(reader)], source)
    records = []  # (the row's first line in the file, its fields)
    end = reader.line_num  # a quoted cell may span lines: rows are counted by lines
    for fields in reader:
        records.append((end + 1 + blank, fields))
        end = reader.line_num
    if spaced and _indexed(header, [f for _, f in records]):
        header = ["", *header]  # pandas's to_string: an index column with no name
    cells = [c for _, f in records for c in f] if sep != "," else []
    # "0,71" in a ";" or tab separated log is 0.71, where no number has a decimal point
    # (one that has says "1,000" is a thousand, as Excel exports a step count)
    comma = any(map(_DECIMAL.fullmatch, cells)) and not any(
        _DECIMAL.fullmatch(c.replace(".", ",")) for c in cells if "." in c
    )
    rows: list[dict[str, float]] = []
    unreadable: dict[str, list[TextCell]] = {}
    numbers: list[int] = []
    skipped: list[tuple[int, int, int]] = []  # (line, fields, fields expected)
    for number, fields in records:
        if not fields or all(not f.strip() for f in fields):
            continue
        if comma:
            fields = [f.replace(",", ".") if _DECIMAL.fullmatch(f) else f for f in fields]
        if _is_header(fields):
            # a script restarted with ``>>`` writes its header again, maybe with other
            # columns: the rows below it are read by it
            header = named_once([h.strip() for h in fields], source)
            continue
        if len(fields) != len(header):
            skipped.append((number, len(fields), len(header)))
            continue
        row = {h: parse_number(f) for h, f in zip(header, fields, strict=True)}
        line = number  # each cell's first line: the line ends in the cells before it
        for h, f in zip(header, fields, strict=True):
            if is_text(f, row[h]):
                unreadable.setdefault(h, []).append(TextCell(len(rows), line, f.strip()))
            line += f.count("\n")
        rows.append(row)
        numbers.append(number)
    if len(skipped) == 1:
        log.warning(
            "%s line %d: %d fields, expected %d; skipped (truncated?)", source, *skipped[0]
        )
    elif skipped:  # one warning, not one per row: a file of many such rows fills the terminal
        where = ", ".join(f"line {n}: {got}" for n, got, _ in skipped[:3])
        log.warning(
            "%s: %d rows do not have the header's %d fields (%s%s); skipped (truncated?)",
            source,
            len(skipped),
            skipped[-1][2],
            where,
            ", ..." if len(skipped) > 3 else "",
        )
    return header, rows, unreadable, numbers


def read_csv(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read a Keras, Lightning, generic or nooverfit CSV log."""
    # a file left as it is for a while is complete: its last line, even without a line
    # end (pandas's to_string, an editor that adds none), is its last epoch
    settled = time.time() - path.stat().st_mtime >= SETTLED
    header, rows, unreadable, lines = csv_rows(log_text(path), source=str(path), settled=settled)
    name = canonical(header[0]) if len(header) == 1 else None
    if len(header) == 1 and not (name and (name.target == "loss" or name.target[:4] == "val_")):
        # (a console's output, "Epoch 1/40", is no table)
        raise ValueError(
            f"{path}: its first line ({header[0][:60]!r}) reads as one column; expected a "
            "header of column names separated by commas, semicolons, tabs, | or spaces "
            "(e.g. epoch,loss,val_loss) and one row per epoch"
        )
    if not rows:  # a run that has not finished its first epoch yet
        raise ValueError(
            f"{path} has a header ({', '.join(header)}) but no complete row; expected one "
            "row per epoch"
        )
    if is_log_history(header):  # a Trainer's log_history, exported: its empty cells are
        # the keys an entry lacks (a summary's train_runtime, a training entry's eval_loss)
        entries = [{k: v for k, v in row.items() if not math.isnan(v)} for row in rows]
        return log_history(entries, source=str(path), columns=columns, notes=(_EXPORTED,))
    renamed = fastai_metrics(header)
    notes: tuple[str, ...] = ()
    if renamed:
        rows = [{renamed.get(k, k): v for k, v in row.items()} for row in rows]
        unreadable = {renamed.get(k, k): cells for k, cells in unreadable.items()}
        columns = {t: renamed.get(logged, logged) for t, logged in (columns or {}).items()}
        notes = (
            f"a fastai log: {', '.join(renamed)} computed on the validation set, "
            f"read as {', '.join(_target(n) for n in renamed.values())}",
        )
    # (how the run ended, nooverfit's text or a Lightning log's number, is read there)
    return rows_to_history(
        rows,
        columns=columns or None,
        source=str(path),
        unreadable=unreadable,
        lines=lines,
        notes=notes,
    )


def _target(logged: str) -> str:
    name = canonical(logged)
    return logged if name is None else name.target


def fastai_metrics(header: list[str]) -> dict[str, str]:
    """``{logged name: name read}`` for the metrics of a fastai ``CSVLogger`` header
    (``epoch,train_loss,valid_loss,accuracy,time``): its bare metric names are validation
    metrics (``accuracy`` is ``valid_accuracy``), not training ones as in Keras's logs.
    Empty for any other header."""
    if tuple(h.strip().lower() for h in header[:3]) != _FASTAI:
        return {}
    renamed = {}
    for h in header[3:]:
        name = canonical(h)
        # bare: a side prefix reads as the validation side (``train_acc`` does not)
        if name is not None and name.target != "lr":
            sided = canonical(f"valid_{h}")
            if sided is not None and sided.target == f"val_{name.target}":
                renamed[h] = f"valid_{h}"
    return renamed


def read_jsonl(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read JSON lines: one object per line, e.g. ``{"epoch": 0, "loss": 0.9, ...}``."""
    rows: list[dict[str, float]] = []
    unreadable: dict[str, list[TextCell]] = {}
    invalid: list[int] = []
    lines: list[int] = []
    text = log_text(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            invalid.append(number)
            continue
        if isinstance(record, dict):
            rows.append(json_row(record, len(rows), number, unreadable))
            lines.append(number)
    if invalid:
        said = ", ".join(map(str, invalid[:3])) + (", ..." if len(invalid) > 3 else "")
        if not rows and (data := printed_literal(text, lines=True)) is not None:
            return data_history(data, path, columns=columns, notes=(_PRINTED,))
        if not rows:  # not a log cut mid-line: no line of it is a JSON object
            raise ValueError(
                f"{path} holds no JSON object line ({counted(len(invalid), 'line')} "
                f"{'is' if len(invalid) == 1 else 'are'} not valid JSON: {said}); expected "
                "one JSON object per line"
            )
        # one warning, not one per line: a file of many bad lines would fill the terminal
        log.warning(
            "%s: %s %s not valid JSON (%s); skipped (truncated?)",
            path,
            counted(len(invalid), "line"),
            "is" if len(invalid) == 1 else "are",
            said,
        )
    if is_log_history({k for row in rows for k in row}):  # a Trainer's log_history
        return log_history(rows, source=str(path), columns=columns, notes=(_EXPORTED,))
    rows, evaluated = evaluation_named(rows)  # (detectron2's bbox/AP)
    return rows_to_history(
        rows,
        columns=columns,
        source=str(path),
        unreadable=unreadable,
        lines=lines,
        notes=(evaluated,) if evaluated else (),
    )


def read_json(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read nooverfit's own JSON history, or a JSON object of lists / list of objects."""
    try:
        data = json.loads(text := log_text(path))
    except json.JSONDecodeError as err:
        if err.msg == "Extra data" and err.lineno > 1 and text.lstrip().startswith("{"):
            # one object a line under a .json name (detectron2's metrics.json)
            return read_jsonl(path, columns=columns)
        if (printed := printed_literal(text)) is not None:
            return data_history(printed, path, columns=columns, notes=(_PRINTED,))
        raise ValueError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}); expected a JSON "
            "object of lists (Keras's history.history) or a list of objects, one per epoch"
        ) from None
    if isinstance(data, dict) and "epoch" in data and "extras" in data and not columns:
        try:  # nooverfit's own history, perhaps edited by hand: its epochs repeated, ...
            return History.from_dict(data)
        except ValueError as err:
            raise BadInput(f"{path}: {err}") from None
    if isinstance(data, dict) and not columns:
        _refuse_own_summary(data, path)
        run = data.get("history")
        if "config" in data and isinstance(run, dict) and "epoch" in run and "extras" in run:
            try:  # a study's runs/<key>.json: its config, history and engine
                return History.from_dict(run)
            except ValueError as err:
                raise BadInput(f"{path}: {err}") from None
    if isinstance(data, dict) and "schema_version" in data and "settings" in data:
        # its lists (val_curves, splits) hold objects: read as curves of no number, a run
        # diverged from its first epoch
        raise BadInput(
            f"{path} is a nooverfit study's results, not a training log; expected a run's "
            f"log (its histories/ folder's CSV files), or the study's folder to diagnose "
            "each run"
        )
    return data_history(data, path, columns=columns)


def _refuse_own_summary(data: dict[str, Any], path: Path) -> None:
    """Refuse a nooverfit file that sits beside a run's log and holds no curve: a train
    run's metrics.json (its best and final epochs), tune's best.json or a model card (what
    predict reads), naming the log to diagnose instead.

    Raises:
        BadInput: for each of them.
    """
    if {"config", "stop_reason", "kept_epoch", "final", "best"} <= data.keys():
        beside = path.with_name("history.csv")
        raise BadInput(
            f"{path} is a nooverfit train run's summary (its best and final epochs), not a "
            f"training log; expected its log {beside}, or the run's folder {path.parent}"
        )
    if {"best_trial", "importances", "counts", "trials"} <= data.keys():
        beside = path.with_name("best_history.csv")
        raise BadInput(
            f"{path} is nooverfit tune's summary (its best trial), not a training log; "
            f"expected the best trial's log {beside}, or the tuning's folder {path.parent}"
        )
    if {"raw_shape", "members", "weights", "classes"} <= data.keys():
        raise BadInput(
            f"{path} is a nooverfit model card (what predict reads), not a training log; "
            f"expected the run's log: a train run's history.csv, a study's histories/ "
            f"files, or the folder {path.parent} to diagnose"
        )


def _is_header(fields: list[str]) -> bool:
    """Whether a CSV row is a header: every cell text (no number, no missing marker),
    one of them ``epoch`` or a loss or validation curve's name."""
    cells = [f.strip() for f in fields]
    if not all(is_text(c, parse_number(c)) for c in cells):
        return False
    names = [canonical(c) for c in cells]
    return any(c.lower() == "epoch" for c in cells) or any(
        n is not None and (n.target == "loss" or n.target.startswith("val_")) for n in names
    )
