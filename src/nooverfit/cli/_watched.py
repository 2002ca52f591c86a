"""What ``nooverfit watch`` checks of the log it follows: what can never be read (a folder
of several runs, a column the header lacks), said at once rather than after ``--idle``,
and what its early-stopping criterion cannot see (no training loss for ``pq``, no
validation loss for any), said once rather than never."""

from __future__ import annotations

import csv
from pathlib import Path

from nooverfit._words import counted
from nooverfit.history import History
from nooverfit.stopping import parse_criterion


def several_runs_in(log: Path) -> str:
    """Why ``log`` can never be followed as one log: a folder holding several runs (an
    MLflow experiment, a folder of TensorBoard or Lightning runs), asking for one of them
    in the words of :func:`~nooverfit.logs.read_log` (``""`` otherwise)."""
    from nooverfit.logs import list_runs, several_runs

    if not log.is_dir():
        return ""
    runs = list_runs(log)
    return several_runs(log, runs) if len(runs) > 1 else ""


#: The flag that names each mapped column, for the message of a column a log lacks.
FLAGS = {"loss": "--train-col", "val_loss": "--val-col"}


def absent_column(log: Path, columns: dict[str, str] | None, log_format: str) -> str:
    """Why the column a ``--train-col``/``--val-col`` names can never appear in ``log``:
    a CSV log whose header lacks it, with complete rows already written under that header
    (``""`` otherwise). A header alone may yet be rewritten, and a Lightning
    ``metrics.csv`` or a JSONL log adds a metric's column when it is first logged: those
    are waited for."""
    from nooverfit.logs import detect_format
    from nooverfit.logs._file import log_text
    from nooverfit.logs.text import separator

    if not columns or not log.is_file():
        return ""
    try:
        kind = detect_format(log) if log_format == "auto" else log_format
        if kind not in ("csv", "keras", "nooverfit"):
            return ""
        text = log_text(log)
    except (OSError, ValueError):
        return ""
    lines = [line for line in text.splitlines(keepends=True) if line.strip()]
    complete = [line for line in lines if line.endswith(("\n", "\r"))]
    if len(complete) < 2:  # no row under the header yet
        return ""
    header = next(csv.reader([complete[0]], delimiter=separator(complete[0], complete[1])))
    found = [h.strip() for h in header]
    for name, logged in columns.items():
        if logged not in found:
            return (
                f"column {logged!r} ({FLAGS.get(name, name)}) is not in {log}, whose header "
                f"is written (columns: {', '.join(found)}) with rows under it; expected one "
                "of its columns"
            )
    return ""


#: Epochs without a validation loss before watch says its criterion cannot fire yet (a
#: log validated every few epochs, Keras's ``validation_freq``, lacks it at first).
UNVALIDATED = 3


def no_validation(history: History) -> str:
    """Why no criterion fires on ``history`` so far: it holds :data:`UNVALIDATED` epochs
    or more and no validation loss (the criteria read it; the verdict may read a
    validation metric instead). ``""`` otherwise. It said nothing, printing
    "val_loss nan" at every epoch of a log that never holds one."""
    if history.has("val_loss") or len(history) < UNVALIDATED:
        return ""
    found = ", ".join(c for c in history.columns() if c != "epoch") or "none"
    metric = next((c for c in history.columns() if c.startswith("val_")), "")
    then = (
        f"the verdict reads {metric}"
        if metric
        else "no verdict is possible before a validation curve is logged"
    )
    return (
        f"no val_loss in the {counted(len(history), 'epoch')} logged so far (columns: "
        f"{found}): the early-stopping criterion reads it and will not fire; {then}"
    )


def pq_blind(criterion: str, history: History) -> bool:
    """Whether ``criterion`` is a progress quotient on a log without training loss."""
    return parse_criterion(criterion).kind == "pq" and not history.has("loss")
