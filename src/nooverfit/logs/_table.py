"""Turn logged rows with any column names into a :class:`~nooverfit.history.History`.

Every reader produces rows (``{column: value}``, one per logging event); this module maps
the names onto nooverfit's (``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``, and
``X`` / ``val_X`` for other metrics) and folds the rows into one value per epoch.

The names understood are :func:`~nooverfit.logs._names.canonical`'s.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.logs._cells import TextCell, parse_number, text_cells_note
from nooverfit.logs._epochs import epoch_named, whole_epochs
from nooverfit.logs._long import widen
from nooverfit.logs._loss_parts import loss_parts, summed
from nooverfit.logs._names import (
    STEPS,
    Name,
    aliased_second,
    canonical,
    held_second,
    in_percent,
    loader_note,
    loss_standins,
    rivals_note,
    validation_from_test,
)
from nooverfit.logs._percent import error_scores, percent_scores
from nooverfit.logs._resumed import continued, join_runs
from nooverfit.stopping import StopReason

#: A hint appended to every "columns not recognized" error.
MAP_HINT = (
    "map them with --train-col NAME --val-col NAME (or columns={'loss': NAME, 'val_loss': NAME})"
)


def rows_to_history(
    rows: Iterable[Mapping[str, float]],
    *,
    columns: Mapping[str, str] | None = None,
    source: str = "log",
    fold: str = "auto",
    notes: tuple[str, ...] = (),
    unreadable: Mapping[str, Sequence[TextCell]] | None = None,
    steps_as_epochs: bool = False,
    lines: Sequence[int] | None = None,
) -> History:
    """Fold logging rows into one value per epoch and name the curves.

    With ``fold="auto"``, epoch-level values keep the last finite value logged in the
    epoch and step-level values are averaged over the epoch; ``fold="mean"`` averages
    every value (for per-step logs grouped into epochs by a reader). A training curve
    under a plain name (``train_loss``) logged several times an epoch is step-level too
    (Lightning's ``self.log("train_loss", loss)`` in ``training_step``): its mean is the
    epoch's loss, as Lightning's own ``train_loss_epoch`` is. Rows without an ``epoch``
    column count as one epoch each. Where the epoch goes backwards a new run starts in
    the same log: back to the first epoch a restarted run (only the last run is read),
    back to a later one a run resumed from a checkpoint (the epochs before it are kept,
    the later ones are the resumed run's); a note says so
    (:func:`~nooverfit.logs._resumed.join_runs`). The last epoch of a log with several
    rows an epoch is left out, with a note, while it holds only step-level values, and so
    are the epochs at its end that lack the validation every epoch before them holds: an
    epoch still running (or a run stopped mid-epoch), whose values would change, or epochs
    an evaluator running behind the training loop has not reached. A ``stop_reason``
    logged at the last epoch (nooverfit's text, or the
    :attr:`~nooverfit.stopping.StopReason.code` the Lightning callback logs) is the
    history's ``stop_reason``.

    Args:
        rows: one mapping per logged row (NaN or absent for values not logged there).
        columns: explicit mapping ``{nooverfit name: logged name}``, e.g.
            ``{"loss": "train_mse", "val_loss": "valid_mse"}``; it overrides the guesses.
        source: what to call the log in errors (its path).
        fold: ``"auto"`` or ``"mean"`` (see above).
        notes: notes from the reader, passed on to the history.
        unreadable: text cells the reader read as missing, ``{logged name: [cell,
            ...]}``; a note names those of the columns and the run diagnosed.
        steps_as_epochs: whether the reader shows logged steps as epochs (set here too
            when the rows have no epoch column but a step one), for the history's flag.
        lines: each row's line in the file (1-based), for the notes; without them a note
            counts rows.

    Raises:
        ValueError: when no training or validation curve can be recognized, or a mapped
            column does not exist (the message lists the columns found).
    """
    rows, indexed = epoch_named(list(rows))
    rows, progress = whole_epochs(rows)
    notes = (*notes, *(n for n in (indexed, progress) if n))
    rows, split, widened = widen(rows, unreadable or {})
    if split:  # one row per split: its values named after it (train_loss, valid_loss)
        unreadable = {k: v for k, v in (unreadable or {}).items() if k != split}
        notes = (*notes, widened)
    rows, went_on = continued(rows, lines=lines)
    keep, joined = join_runs(rows, lines=lines)
    rows = [rows[i] for i in keep]
    notes = (*notes, *went_on, *joined)
    position = {old: new for new, old in enumerate(keep)}  # a row's place among those kept
    found: list[str] = []
    for row in rows:
        found += [k for k in row if k not in found]
    explicit = dict(columns or {})
    for target, logged in explicit.items():
        if logged not in found:
            raise ValueError(
                f"column {logged!r} (for {target}) not in {source}; "
                f"columns found: {', '.join(found) or 'none'}"
            )
    chosen: dict[str, tuple[int, str]] = {}
    # val_loss before holdout_loss, loss before total_loss
    for logged in sorted(found, key=lambda c: (held_second(c), aliased_second(c))):
        if logged in explicit.values():
            continue
        name = canonical(logged)
        if name is None or name.target in explicit:
            continue
        if name.target not in chosen or name.priority < chosen[name.target][0]:
            chosen[name.target] = (name.priority, logged)
    free = [c for c in found if c not in explicit.values()]  # the columns not mapped by hand
    parts = loss_parts(free, [*explicit, *chosen])
    if parts:  # the loss logged in parts (box, cls, dfl), both sides: their sums
        rows, sums, note = summed(rows, parts)
        chosen |= {target: (1, column) for target, column in sums.items()}
        found += list(sums.values())
        notes = (*notes, note)
    standins = loss_standins(free, [*explicit, *chosen])
    if standins:  # a log-likelihood under its own name (val_nll) is the loss
        read = {logged for _, logged in standins.values()}
        chosen = {t: v for t, v in chosen.items() if v[1] not in read} | standins
        notes = (
            *notes,
            "; ".join(f"{t} read from {logged!r}" for t, (_, logged) in sorted(standins.items()))
            + " (no column named loss)",
        )
    tested = validation_from_test(free, [*explicit, *chosen])
    if tested:  # no validation curve: a test set's curves are the held-out ones
        read = {logged for _, logged in tested.values()}
        chosen = {t: v for t, v in chosen.items() if v[1] not in read} | tested
        names = ", ".join(repr(logged) for _, (_, logged) in sorted(tested.items()))
        notes = (
            *notes,
            f"no validation curve: the test curve{'s' if len(tested) > 1 else ''} {names} "
            "read as validation (pass --val-col to read another)",
        )
    mapping = {t: (0, logged) for t, logged in explicit.items()} | chosen
    if not any(t == "loss" or t.startswith("val_") for t in mapping):
        raise ValueError(
            f"no training or validation curve recognized in {source}; "
            f"columns found: {', '.join(found) or 'none'}; {MAP_HINT}"
        )
    if not any(t.startswith("val_") for t in mapping):  # the names --val-col accepts
        notes = (
            *notes,
            "no validation curve among the logged columns ("
            + ", ".join(repr(c) for c in found if canonical(c) is not None)
            + "); pass --val-col NAME to read one as validation",
        )
    used = [logged for _, logged in mapping.values()]
    loaders = loader_note(found, explicit.values())
    rivals = rivals_note(found, chosen)
    notes = (*notes, *(n for n in (loaders, rivals) if n))
    text_cells = text_cells_note(unreadable or {}, used, kept=position)
    if text_cells:
        notes = (*notes, text_cells)
        # curves of text and no number (``tensor(0.51)`` written for 0.51) are no log:
        # read as all NaN, they would be a run diverged from its first epoch
        logged_curves = [
            logged for t, (_, logged) in mapping.items() if t == "loss" or t[:4] == "val_"
        ]
        if all(
            logged in (unreadable or {})
            and all(math.isnan(row.get(logged, math.nan)) for row in rows)
            for logged in logged_curves
        ):
            cell = (unreadable or {})[logged_curves[0]][-1]
            raise ValueError(
                f"{source}: {', '.join(logged_curves)} "
                f"hold{'s' if len(logged_curves) == 1 else ''} only text, no number (e.g. "
                f"{cell.text!r}, {cell.where} {cell.line}); expected a number per cell"
            )
    per_epoch: dict[int, dict[str, list[float]]] = {}
    at: list[int | None] = []  # each row's epoch (None: a row without one, left out)
    implicit = "epoch" not in found
    steps = _step_index(rows, found) if implicit else None
    if steps is not None:
        steps_as_epochs = True
        notes = (
            *notes,
            f"no epoch column: the rows are indexed by {steps[0]}, and the "
            f"'epochs' shown are {steps[0]} numbers",
        )
    for i, row in enumerate(rows):
        raw_epoch = float(i) if implicit else row.get("epoch", math.nan)
        if steps is not None:
            raw_epoch = steps[1][i]
        at.append(int(raw_epoch) if math.isfinite(raw_epoch) else None)
        if not math.isfinite(raw_epoch):
            continue
        bucket = per_epoch.setdefault(int(raw_epoch), {})
        for target, (_, logged) in mapping.items():
            value = row.get(logged, math.nan)
            if not math.isnan(value):
                bucket.setdefault(target, []).append(value)
    epochs = sorted(per_epoch)
    unfinished, pending = _unfinished(per_epoch, at) if not implicit else ("", 0)
    # epochs still running or cut short, not ones whose values became NaN: their rows
    # hold sound step-level values only
    left: list[int] = []
    while len(left) < pending and _only_sound_steps(
        [r for r in rows if r.get("epoch") == epochs[-1]], mapping
    ):
        del per_epoch[epochs[-1]]
        left.insert(0, epochs.pop())
    if left:
        which = f"epoch {left[0]} has" if len(left) == 1 else f"epochs {left[0]}-{left[-1]} have"
        notes = (*notes, f"{which} {unfinished} so far: left out")
    curves: dict[str, list[float]] = {}
    several: dict[str, str] = {}  # validation logged several times an epoch: how folded
    # (fractional epochs: rows logged within an epoch, as a step column numbers them)
    stepped = not implicit and (bool(progress) or any(k.strip().lower() in STEPS for k in found))
    for target, (priority, logged) in mapping.items():
        most = max((len(per_epoch[e].get(target, [])) for e in epochs), default=0)
        val = target.startswith("val_")
        # a training value logged at each step (a step column numbers the rows) under a
        # plain name is step-level: Keras's and Lightning's epoch losses are the mean of
        # the steps. Validation logged several times an epoch (val_check_interval) keeps
        # the last pass, of the epoch's final weights
        per_step = priority == 1 and not val and most > 1 and stepped
        # (``fold="mean"``, the step-logged readers: validation too keeps its last pass,
        # as a CSV of the same run does; a TensorBoard log of a Lightning run validated
        # twice an epoch read 224.9 % where its CSV read 226.8 %)
        averaged = priority >= 2 or (fold == "mean" and not val) or per_step
        how = _mean if averaged else _last
        curves[target] = [how(per_epoch[e].get(target, [])) for e in epochs]
        if val and most > 1 and not implicit:
            several[target] = f"up to {most} times, {'mean' if how is _mean else 'last'}"
        if per_step and fold != "mean":
            notes = (*notes, f"{logged} is logged up to {most} times an epoch: averaged per epoch")
    # (an error logged in percent: its name said so, 'val_err_pct', as the values may not)
    named = {t for t, (_, logged) in mapping.items() if in_percent(logged)}
    logged_as = {t: logged for t, (_, logged) in mapping.items()}
    curves, errors = error_scores(curves, percent=named, logged=logged_as)
    curves, percent = percent_scores(curves)
    notes = (*notes, errors) if errors else notes
    if epochs and (empty := _no_numbers(curves, mapping)):
        notes = (*notes, empty)
    notes = (*notes, percent) if percent else notes
    if several:
        said = "; ".join(f"{t} {how}" for t, how in several.items())
        notes = (
            *notes,
            f"validation ran several times within an epoch, one value shown per epoch ({said})",
        )
    where, reason = _stop_reason(rows, unreadable or {}, kept=position)
    # a stop counts at the last epoch only: a run that went on after it was not stopped
    stopped = reason if epochs and where >= 0 and at[where] == epochs[-1] else ""
    try:  # the epochs are sorted and distinct; a log may still number one below 0
        history = History.from_columns(
            curves, epoch=epochs, stop_reason=stopped, notes=notes, steps_as_epochs=steps_as_epochs
        )
    except ValueError as err:
        raise BadInput(f"{source}: {err}") from None
    # (the curves read under their own name: an error read as an accuracy is not)
    return replace(history, logged_as={t: n for t, n in logged_as.items() if t in curves})


def _no_numbers(curves: Mapping[str, list[float]], mapping: Mapping[str, tuple[int, str]]) -> str:
    """A note naming the loss columns logged with no finite number in any epoch (a
    diagnosis of the other curves says nothing of them: a validation curve said missing
    while the log has its column, a run judged on validation alone)."""
    empty = [
        mapping[t][1]
        for t in ("loss", "val_loss")
        if t in curves and not any(math.isfinite(v) for v in curves[t])
    ]
    if not empty or len(empty) == 2:  # both: the run diverged from its start, said so
        return ""
    return f"{empty[0]} holds no number in any epoch (each cell missing, not a number or infinite)"


def _stop_reason(
    rows: list[Mapping[str, float]],
    unreadable: Mapping[str, Sequence[TextCell]],
    *,
    kept: Mapping[int, int],
) -> tuple[int, str]:
    """The last stop reason logged in a ``stop_reason`` column, and its row: a number
    (:attr:`~nooverfit.stopping.StopReason.code`, as Lightning and TensorBoard logs hold
    it) or text (nooverfit's own CSV), a text cell being one the reader passed in
    ``unreadable`` (its row mapped by ``kept`` onto ``rows``, from the reader's rows).
    ``(-1, "")`` when none is logged."""
    found = (-1, "")
    names = {k for row in rows for k in row if k.strip().lower() == "stop_reason"}
    for name in names:
        for i, row in enumerate(rows):
            reason = StopReason.logged(row.get(name, math.nan))
            if reason and i > found[0]:
                found = (i, reason)
        for cell in unreadable.get(name, ()):
            at = kept.get(cell.row, -1)
            if at > found[0] and StopReason.logged(cell.text):
                found = (at, StopReason.logged(cell.text))
    return found


def _unfinished(
    per_epoch: Mapping[int, Mapping[str, list[float]]], at: list[int | None]
) -> tuple[str, int]:
    """What the last epochs lack if they may be ones still running, and how many they are
    (``("", 0)`` if none): the last epoch, holding none of the chosen values; or, in a log
    with several rows an epoch, the epochs at its end lacking any value of the validation
    curves that every epoch before them holds (their validation not logged yet: the last
    epoch's, or those of many epochs where an evaluator runs behind the training loop)."""
    epochs = sorted(per_epoch)
    if not epochs:
        return "", 0
    if not per_epoch[epochs[-1]]:
        return "only step-level values", 1
    validated = [any(k.startswith("val_") for k in per_epoch[e]) for e in epochs]
    pending = validated[::-1].index(True) if any(validated) else len(epochs)
    earlier = epochs[: len(epochs) - pending]
    rows = Counter(at)
    if not pending or not earlier or not any(rows[e] > 1 for e in earlier):
        return "", 0
    if all(validated[: len(earlier)]):
        return "no validation value", pending
    return "", 0


def _only_sound_steps(rows: list[Mapping[str, float]], mapping: Mapping[str, object]) -> bool:
    """Whether an epoch's rows (none holding an epoch-level value of the chosen curves)
    are steps of an epoch still running: some step value of a chosen curve is finite, and
    none is NaN. A step value that became NaN (a run gone NaN mid-epoch, its epoch-end
    rows NaN too) keeps the epoch, so it reads as NaN. An empty cell reads as NaN as well:
    a row counts as NaN when it holds no number at all, and a step column that holds
    numbers in the epoch must hold one in every row that holds any chosen value."""
    chosen = {k for row in rows for k in row if (n := canonical(k)) and n.target in mapping}
    filled = {k for k in chosen if any(math.isfinite(row.get(k, math.nan)) for row in rows)}
    if not filled:
        return False
    for row in rows:
        values = [v for k, v in row.items() if canonical(k) is not None]
        if not any(math.isfinite(v) for v in values):
            return False  # a row of NaN: the values logged there became NaN
        got = [math.isfinite(row.get(k, math.nan)) for k in filled]
        if any(got) and not all(got):
            return False  # e.g. the step loss NaN beside a finite step accuracy
    return True


def _step_index(
    rows: list[Mapping[str, float]], found: list[str]
) -> tuple[str, list[float]] | None:
    """The step column (``step``, ``global_step``, ``iter``, ``iteration``) that numbers
    every row, strictly increasing: a log without epochs is read per step, and its rows
    are shown by step number rather than row number. None when there is none."""
    for name in found:
        if name.strip().lower() not in STEPS:
            continue
        values = [row.get(name, math.nan) for row in rows]
        finite = all(math.isfinite(v) for v in values)
        if finite and all(b > a for a, b in itertools.pairwise(values)):
            return name, values
    return None


def _last(values: list[float]) -> float:
    return values[-1] if values else math.nan


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


__all__ = [
    "MAP_HINT",
    "Name",
    "TextCell",
    "canonical",
    "parse_number",
    "rows_to_history",
]
