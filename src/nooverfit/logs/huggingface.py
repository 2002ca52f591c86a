"""Reader for the Hugging Face Trainer's ``trainer_state.json``, or a checkpoint folder.

``Trainer`` keeps every logged entry in ``log_history``: training entries every
``logging_steps`` (``{"loss", "learning_rate", "grad_norm", "epoch", "step"}``, the loss
averaged since the previous entry), evaluation entries (``{"eval_loss", "eval_<metric>",
"eval_runtime", ..., "epoch", "step"}``) and one closing summary (``train_runtime``,
``train_loss`` averaged over the whole run). ``epoch`` is fractional, counting the
epochs done: step ``s`` of the ``k``-th epoch logs ``k - 1 + s / steps_per_epoch``, so its
entries lie in ``(k - 1, k]`` and the evaluation at its end logs exactly ``k``. Entries
are grouped into those epochs, numbered ``k`` as the Trainer's log and progress table
number them (1 for the first: the best epoch named is the one the log shows at that
evaluation, not one before it), and averaged; the closing summary is left out. An
evaluation before training (``eval_on_start``) logs epoch 0: a point of its own. When an
epoch holds several evaluations (``eval_steps`` shorter than an epoch), each evaluation
is a point and a note says so.

A Trainer output folder holds ``checkpoint-N/trainer_state.json`` files; the one with the
largest ``N`` has the longest history and is read. When the state records that the
``EarlyStoppingCallback`` ran out of patience, the history's stop reason is
``"patience"``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from nooverfit._words import counted
from nooverfit.history import History
from nooverfit.logs._cells import parse_number
from nooverfit.logs._epochs import epoch_of
from nooverfit.logs._file import log_text
from nooverfit.logs._table import rows_to_history

STATE = "trainer_state.json"
_SKIPPED = re.compile(r"(^step$|^total_flos$|runtime$|per_second$|^num_input_tokens_seen$)")
_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")


def state_file(path: Path) -> Path:
    """The ``trainer_state.json`` to read for ``path`` (a file, an output folder or a
    checkpoint folder): the folder's own, else its latest checkpoint's.

    Raises:
        ValueError: when there is none.
    """
    if path.is_file():
        return path
    if (path / STATE).is_file():
        return path / STATE
    checkpoints = [
        (int(m.group(1)), p / STATE)
        for p in path.iterdir()
        if (m := _CHECKPOINT.search(p.name)) and (p / STATE).is_file()
    ]
    if not checkpoints:
        raise ValueError(f"no {STATE} in {path} or its checkpoint-N folders")
    return max(checkpoints)[1]


def read_trainer_state(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read a Trainer's ``log_history`` into one row per epoch.

    Raises:
        ValueError: not valid JSON, no ``log_history``, or no curve recognized.
    """
    file = state_file(path)
    try:
        data = json.loads(log_text(file))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{file} is not valid JSON ({err.msg} at line {err.lineno}); expected a Trainer's "
            f"{STATE}"
        ) from None
    entries = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{file} has no log_history list; expected a Trainer's {STATE}")
    history = log_history(entries, source=str(file), columns=columns)
    if _stopped_early(data):  # the Trainer keeps the best checkpoint's weights then
        history = replace(history, stop_reason="patience")
    return history


def is_log_history(names: Iterable[str]) -> bool:
    """Whether a table's columns are those of a Trainer's ``log_history`` exported one
    entry a row (``pd.DataFrame(trainer.state.log_history).to_csv(...)``, or as JSON
    lines): ``epoch`` and ``step``, evaluation values, and the training entries'
    ``learning_rate`` or ``grad_norm`` or the closing summary's ``train_runtime``."""
    found = {str(n).strip() for n in names}
    return (
        {"epoch", "step"} <= found
        and any(n.startswith("eval_") for n in found)
        and bool(found & {"learning_rate", "grad_norm", "train_runtime"})
    )


def log_history(
    entries: Iterable[object],
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    notes: tuple[str, ...] = (),
) -> History:
    """A Trainer's ``log_history`` entries, one row per epoch (see the module docstring).

    Args:
        entries: the entries as ``trainer_state.json`` holds them (or as a table's rows
            with the cells of keys an entry lacks left out).
        source: what to call the log in errors.
        columns: ``{nooverfit name: logged name}`` for names not recognized.
        notes: notes from the reader, passed on to the history.
    """
    rows, done = [], []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        if "train_runtime" in entry:
            continue  # the closing summary averages the whole run
        epoch = parse_number(entry.get("epoch"))
        if not math.isfinite(epoch):
            continue
        row = {
            str(k): parse_number(v)
            for k, v in entry.items()
            if k != "epoch" and not _SKIPPED.search(str(k))
        }
        # the epoch the entry falls in, as the Trainer counts them: 1.0 at the first
        # one's end, 0 before any (a 0-based renumbering named the epoch before the best)
        row["epoch"] = epoch_of(epoch)
        rows.append(row)
        done.append(epoch)
    note = "training losses logged every few steps are averaged per epoch"
    rounds = _by_evaluation(rows)
    if not rounds:
        return rows_to_history(
            rows, columns=columns, source=source, fold="mean", notes=(*notes, note)
        )
    numbered, note = rounds
    history = rows_to_history(
        numbered, columns=columns, source=source, fold="mean", notes=(*notes, note)
    )
    # the epochs done at each evaluation, as logged: the advice names them ("evaluation
    # 24 (epoch 2.4)") and counts the run in them (a 3-epoch run was told "--epochs 60")
    at = {r["epoch"]: e for r, e in zip(numbered, done, strict=False) if _evaluates(r)}
    return replace(history, evaluated_at=tuple(at.get(float(e), math.nan) for e in history.epoch))


def _evaluates(row: Mapping[str, float]) -> bool:
    """Whether a ``log_history`` row is an evaluation's."""
    return any(k.startswith("eval_") for k in row)


def _by_evaluation(rows: list[dict[str, float]]) -> tuple[list[dict[str, float]], str] | None:
    """The rows numbered by evaluation round when some epoch holds several evaluations
    (``eval_steps`` shorter than an epoch), else None. Each evaluation is a point of its
    own, with the training losses logged since the one before averaged into it: averaging
    the evaluations of an epoch would blur a rise within it (a run of one epoch would
    have one point)."""
    evaluated = [r for r in rows if _evaluates(r)]
    per_epoch: dict[float, int] = {}
    for r in evaluated:
        per_epoch[r["epoch"]] = per_epoch.get(r["epoch"], 0) + 1
    if max(per_epoch.values(), default=0) < 2:
        return None
    out, done, closing = [], 0, {id(r) for r in evaluated}
    for r in rows:
        out.append({**r, "epoch": float(done)})
        done += id(r) in closing
    # the losses logged after the last evaluation (eval_steps not dividing the run's
    # steps) have no evaluation to join: a point of their own read as an evaluation
    # "not logged so far", numbered past the last one, of a run that had finished
    after = len(out) - 1 - max(i for i, r in enumerate(rows) if id(r) in closing)
    note = (
        f"{len(evaluated)} evaluations over {counted(len(per_epoch), 'epoch')}: each "
        "evaluation is a point, numbered 0, 1, 2, ... and named with the epochs done at it "
        "('evaluation 4 (epoch 1.5)'), with the training losses logged since the one "
        "before averaged into it"
    )
    if after:
        entries = counted(after, "training entry", "training entries")
        note += f"; left out: {entries} logged after the last evaluation"
    return out[: len(out) - after], note


def _stopped_early(state: dict[str, Any]) -> bool:
    """Whether the Trainer's ``EarlyStoppingCallback`` ran out of patience: its state
    (``stateful_callbacks``, transformers 4.39 and later) holds a counter of evaluations
    without improvement that reached ``early_stopping_patience``. The callback needs
    ``load_best_model_at_end``, so the weights kept are the best checkpoint's."""
    callbacks = state.get("stateful_callbacks")
    found = callbacks.get("EarlyStoppingCallback") if isinstance(callbacks, dict) else None
    for entry in found if isinstance(found, list) else [found]:
        if not isinstance(entry, dict):
            continue
        args, attributes = entry.get("args") or {}, entry.get("attributes") or {}
        patience = parse_number(args.get("early_stopping_patience"))
        counter = parse_number(attributes.get("early_stopping_patience_counter"))
        if math.isfinite(patience) and patience >= 1 and counter >= patience:
            return True
    return False
