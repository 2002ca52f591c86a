"""Logs holding more than one run: a run restarted, or resumed from a checkpoint, into the
same file (Keras's ``CSVLogger(append=True)``, a JSON-lines logger opened for appending).

Where the epoch goes back, a new run starts:

- back to the log's first epoch (0, or 1 in a log counting from 1): a restarted run. Only
  the last run is read; the runs before it trained other weights from scratch.
- back to a later epoch N: a run resumed at N from a checkpoint (``fit(initial_epoch=N)``).
  The earlier run's epochs before N are kept, and epochs N on come from the resumed run
  only: the resumed run trained on from the weights of epoch N - 1, so the earlier run's
  epochs from N on are a branch that was dropped, and no epoch mixes rows of both runs.

A row that goes back to an epoch already logged but holds only values that epoch lacks
(its validation, from an evaluator that runs behind the training loop writing to the same
log) is no new run: it completes that epoch.

A run that goes back to the first epoch but goes on from where the one before ended
(Keras's ``fit()`` called again on the same model, without ``initial_epoch``: its
training and validation losses start near the earlier run's last values, far from its
first) is no restart: :func:`continued` numbers its epochs on from the earlier run's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from nooverfit.logs._names import canonical, run_key

#: The words of the notes on a restarted and on a resumed run, in CSV/JSON lines logs and
#: in TensorBoard folders alike, which ``nooverfit watch`` reads back to say why epochs it
#: showed are gone.
RESTARTED = "a restarted run"
RESUMED = "a run resumed at"
CONTINUED = "training went on from where it was"
#: Fall of the earlier run's loss (its last value against its first, a ratio) that makes
#: a start near its end and a start near its beginning tell apart.
FELL = 0.5


def continued(
    rows: Sequence[Mapping[str, float]], *, lines: Sequence[int] | None = None
) -> tuple[list[dict[str, float]], tuple[str, ...]]:
    """The rows with the epochs of each run that went on from the weights of the one
    before numbered on from it, and a note on each.

    Where the epoch goes back to the log's first epoch, the new run started its training
    loss (and its validation loss, where both runs log one) closer, on a log scale, to
    the earlier run's last value than to its first, and the earlier run's loss fell below
    ``FELL`` of its first value: the same weights trained on (a restart from scratch
    starts where the earlier run started). Its epochs are shifted to follow the earlier
    run's last.

    Args:
        rows: the logged rows in file order (an ``epoch`` value each, NaN where absent).
        lines: each row's line in the file (1-based), for the notes.

    Returns:
        The rows (copies where renumbered) and one note per run numbered on.
    """
    epochs = [row.get("epoch", math.nan) for row in rows]
    first = next((e for e in epochs if math.isfinite(e)), math.nan)
    keys = _loss_keys(rows)
    out = [dict(row) for row in rows]
    notes: list[str] = []
    start, shift = 0, 0.0  # (the current run's first row; what its epochs are shifted by)
    previous = raw = -math.inf  # (the last epoch, as numbered and as logged)
    for i, epoch in enumerate(epochs):
        if not math.isfinite(epoch):
            continue
        # (back to a later epoch: a resume, read by join_runs within the shifted numbering)
        if epoch < raw and epoch <= first:
            shift = previous + 1 - epoch if _went_on(rows[start:i], rows[i], keys) else 0.0
            if shift:
                notes.append(
                    f"the epoch goes back from {raw:g} to {epoch:g} at {_place(i, lines)}, "
                    f"but {CONTINUED} (its losses start near the earlier run's last): read "
                    f"as one run, its epochs numbered on from {epoch + shift:g}"
                )
            start = i
        out[i]["epoch"] = epoch + shift
        previous, raw = epoch + shift, epoch
    return out, tuple(notes)


def _loss_keys(rows: Sequence[Mapping[str, float]]) -> list[str]:
    """The columns of the training and validation losses, in that order; an empty list
    without a training loss (nothing to tell a run going on by)."""
    found: dict[str, tuple[int, str]] = {}
    for row in rows:
        for k in row:
            name = canonical(k)
            if name is None or name.target not in ("loss", "val_loss"):
                continue
            if name.target not in found or name.priority < found[name.target][0]:
                found[name.target] = (name.priority, k)
    return [found[t][1] for t in ("loss", "val_loss") if t in found] if "loss" in found else []


def _went_on(
    before: Sequence[Mapping[str, float]], row: Mapping[str, float], keys: list[str]
) -> bool:
    """Whether the later run's first ``row`` holds its training loss and each loss in
    ``keys`` it holds lies nearer the earlier run's (``before``) last value than its first
    on a log scale, the earlier run having fallen below ``FELL`` of its first value."""
    if not keys or not math.isfinite(row.get(keys[0], math.nan)):
        return False  # (no training loss: a late evaluator's row, or a step's)
    checked = 0
    for k in keys:
        old = [v for r in before if math.isfinite(v := r.get(k, math.nan)) and v > 0]
        new = row.get(k, math.nan)
        if len(old) < 2 or not (math.isfinite(new) and new > 0):
            continue
        if old[-1] > FELL * old[0]:
            return False
        if abs(math.log(new / old[-1])) >= abs(math.log(new / old[0])):
            return False
        checked += 1
    return checked > 0


def join_runs(
    rows: Sequence[Mapping[str, float]], *, lines: Sequence[int] | None = None
) -> tuple[list[int], tuple[str, ...]]:
    """The rows that make up the run the log ends with, and a note on each new run.

    Args:
        rows: the logged rows in file order (an ``epoch`` value each, NaN where absent).
        lines: each row's line in the file (1-based), for the notes; without them a note
            counts rows ("the 26th row").

    Returns:
        The positions in ``rows`` of the rows kept, in order, and one note per place the
        epoch goes back (a restart, or a resume at a later epoch).
    """
    epochs = [row.get("epoch", math.nan) for row in rows]
    first = next((e for e in epochs if math.isfinite(e)), math.nan)
    kept: list[int] = []
    resumes: list[str] = []
    restart = ""
    previous = -math.inf
    held: dict[float, set[str]] = {}  # the values each epoch kept holds so far
    for i, epoch in enumerate(epochs):
        values = _values(rows[i])
        if math.isfinite(epoch) and epoch < previous and _completes(values, held.get(epoch)):
            kept.append(i)
            held[epoch] |= values
            continue  # the run goes on from the latest epoch logged
        if math.isfinite(epoch) and epoch < previous:
            back = f"the epoch goes back from {previous:g} to {epoch:g} at {_place(i, lines)}"
            restarted, gone = superseded(epoch, [epochs[j] for j in kept], first)
            if restarted:  # what came before is another run's, resumes included
                kept, resumes, held = [], [], {}
                restart = back
            else:
                dropped = set(gone)
                replaced = sorted({epochs[kept[k]] for k in dropped})
                kept = [j for k, j in enumerate(kept) if k not in dropped]
                held = {epochs[j]: held.get(epochs[j], set()) for j in kept}
                span = (
                    f"epoch {replaced[0]:g}"
                    if len(replaced) == 1
                    else f"epochs {replaced[0]:g}-{replaced[-1]:g}"
                )
                resumes.append(
                    f"{back}: {RESUMED} epoch {epoch:g}; {span} of the earlier run "
                    "replaced by the resumed run's"
                )
        kept.append(i)
        if math.isfinite(epoch):
            previous = epoch
            held.setdefault(epoch, set()).update(values)
    if restart:  # (kept: the last run's rows, and the earlier epochs it completes)
        runs, which = _told_apart(rows, kept[0])
        restart = (
            f"{restart}: {RESTARTED}{runs}; diagnosing the last run only{which} "
            f"({len(rows) - kept[0]} of {len(rows)} rows)"
        )
    return kept, tuple(n for n in (restart, *resumes) if n)


def _told_apart(rows: Sequence[Mapping[str, float]], start: int) -> tuple[str, str]:
    """Words on the column that numbers the runs of a log whose last run starts at row
    ``start`` (``fold``: the folds of a cross-validation written one after another): a
    :data:`~nooverfit.logs._names.RUN_KEYS` column holding one value over the last run's
    rows and others before them. ``("", "")`` where none does."""
    for key in sorted({k for row in rows for k in row}):
        if not run_key(key):
            continue
        values = [row.get(key, math.nan) for row in rows]
        last = {v for v in values[start:] if math.isfinite(v)}
        earlier = {v for v in values[:start] if math.isfinite(v)}
        if len(last) == 1 and earlier and not earlier & last:
            (value,) = last
            every = sorted(earlier | last)
            span = (
                f"{every[0]:g}-{every[-1]:g}" if len(every) > 2 else f"{every[0]:g}, {every[1]:g}"
            )
            return (
                f" ({len(every)} runs told apart by {key!r}: {span})",
                f", {key} {value:g}",
            )
    return "", ""


def _values(row: Mapping[str, float]) -> set[str]:
    """The columns of values a row holds (not NaN), bookkeeping (epoch, step, time) aside."""
    return {k for k, v in row.items() if not math.isnan(v) and canonical(k) is not None}


def _completes(values: set[str], held: set[str] | None) -> bool:
    """Whether a row going back to an epoch already logged, holding ``values``, completes
    it rather than starting a run: it holds values, and none the epoch holds already
    (``held``; None where the epoch was not logged). A restarted or resumed run logs again
    the values its first epoch logged before (its training loss at least)."""
    return held is not None and bool(values) and not values & held


def superseded(start: float, earlier: Sequence[float], first: float) -> tuple[bool, list[int]]:
    """What a run going back to ``start`` (an epoch of a CSV log, a step of a TensorBoard
    folder) replaces of the ``earlier`` positions logged before it (NaN where a row has
    none), the one rule of both readers: at or before ``first``, where the log began, it
    restarted and replaces them all; later, it resumed from a checkpoint at ``start`` and
    replaces those from ``start`` on, the branch the earlier run went on with.

    Returns:
        Whether it restarted, and the indices in ``earlier`` it replaces.
    """
    if start <= first:
        return True, list(range(len(earlier)))
    return False, [k for k, at in enumerate(earlier) if at >= start]


def _place(i: int, lines: Sequence[int] | None) -> str:
    """Where row ``i`` (0-based) is: its line in the file, else its rank among the rows."""
    if lines is not None:
        return f"line {lines[i]}"
    n = i + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix} row"
