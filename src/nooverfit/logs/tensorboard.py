"""Reader for TensorBoard event files and run directories (optional extra ``tensorboard``).

Keras's ``TensorBoard`` callback writes ``RUN/train/events.out.tfevents.*`` and
``RUN/validation/events.out.tfevents.*`` with per-epoch tags ``epoch_loss`` and
``epoch_accuracy`` (TF2 stores them as tensors; the ``evaluation_*_vs_iterations``
copies at optimizer steps are left out); PyTorch's ``SummaryWriter`` writes
``simple_value`` scalars under tags such as ``train/loss`` or ``loss/val``. The folder
of each event file below the run directory becomes a prefix of its tags, so both layouts
map onto ``loss``/``val_loss`` the same way.

Scalars logged per step are grouped into epochs, in this order of preference:

1. a logged ``epoch`` scalar (Lightning's logger writes one; so do many loops): each
   step belongs to the last epoch logged at or before it (an index, 0 in the first
   epoch), or, when the scalar counts epochs done (``ep + 1`` or Hugging Face's 1.0 at
   the end of the first epoch), to the epoch that the next value logged closes; when
   the scalar is logged only every few epochs (not at the validation steps), each
   validation round closes an epoch numbered by the scalar read between its logged
   values;
2. validation logged at other steps than training (per step, or every few steps): each
   validation round is a row, numbered 0, 1, 2, ... and named by its step in the texts
   ("evaluation 1 (step 9)": whether a round closes one epoch or several is not in the
   log);
3. otherwise (every curve logged at the same steps) each logged step is an epoch, and a
   note says so unless the steps count 0, 1, 2, ... or the tags are Keras's ``epoch_*``.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from nooverfit._words import counted
from nooverfit.errors import MissingExtra
from nooverfit.history import History
from nooverfit.logs._resumed import RESTARTED, RESUMED, superseded
from nooverfit.logs._table import canonical, rows_to_history

log = logging.getLogger(__name__)

EVENTS = "events.out.tfevents"
_KERAS_ITERATIONS = re.compile(r"evaluation_.+_vs_iterations")


def event_files(path: Path) -> list[Path]:
    """Event files at ``path`` (a file, or a run directory searched recursively)."""
    if path.is_file():
        return [path]
    return sorted((p for p in path.rglob(f"{EVENTS}*") if p.is_file()), key=_written)


def _written(file: Path) -> tuple[str, list[int | str]]:
    """Sort key of an event file: its folder, then its name with the numbers in it read as
    numbers (``events.out.tfevents.TIME.HOST.PID.N``: a writer's tenth file in the same
    second sorts after its ninth)."""
    parts = re.split(r"(\d+)", file.name)
    return str(file.parent), [int(x) if x.isdigit() else x for x in parts]


def read_tensorboard(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read the scalars of a TensorBoard run into a history (one row per epoch).

    Raises:
        ImportError: when the ``tensorboard`` package is not installed.
        ValueError: when no event file or no recognizable curve is found.
    """
    if path.is_file() and not path.name.startswith(EVENTS):
        raise ValueError(f"{path} is not a TensorBoard event file ({EVENTS}*)")
    scalars, runs = _scalars(path)
    steps = _keras_epochs_only(scalars)
    return steps_history(steps, columns=columns, source=str(path), notes=runs)


def steps_history(
    steps: dict[int, dict[str, float]],
    *,
    columns: Mapping[str, str] | None,
    source: str,
    notes: tuple[str, ...] = (),
) -> History:
    """The history of values logged by step (``{step: {name: value}}``): the steps made
    epochs by :func:`epoch_rows`, values within an epoch averaged, ``notes`` before the
    ones it adds (the TensorBoard and MLflow readers)."""
    rows, said, shown, rounds = epoch_rows(steps) if steps else ([], (), False, [])
    history = rows_to_history(
        rows,
        columns=columns,
        source=source,
        fold="mean",
        notes=(*notes, *said),
        steps_as_epochs=shown,
    )
    if not rounds:
        return history
    # each row a validation round: named by its step ("evaluation 1 (step 9)"), as the
    # epochs are not known (a run validated every 5 epochs read "best epoch 1" for step 9)
    at = tuple(float(rounds[e]) if e < len(rounds) else math.nan for e in history.epoch)
    return replace(history, evaluated_at=at, evaluated_in="step")


def _scalars(path: Path) -> tuple[dict[int, dict[str, float]], tuple[str, ...]]:
    """``{step: {tag: value}}`` of every scalar under ``path``, the event files of each
    folder joined in the order they were written (:func:`_join`), and a note on each
    restart or resume found."""
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util import tensor_util
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise MissingExtra(
            "reading TensorBoard logs needs the tensorboard package: "
            "pip install 'nooverfit[tensorboard]'"
        ) from err
    files = event_files(path)
    if not files:
        raise ValueError(f"no {EVENTS}* files under {path}")
    root = path if path.is_dir() else path.parent
    folders: dict[Path, list[tuple[str, dict[int, dict[str, float]]]]] = {}
    for file in files:
        steps: dict[int, dict[str, float]] = {}
        hparams = False
        try:
            for event in EventFileLoader(str(file)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    hparams = hparams or value.metadata.plugin_data.plugin_name == "hparams"
                    number = _scalar(value, tensor_util)
                    if number is None:
                        continue
                    tag = _tag(file.parent, root, value.tag)
                    steps.setdefault(int(event.step), {})[tag] = number
        except Exception as err:  # a file still being written may end mid-record
            log.warning("%s: stopped reading at a damaged record (%s)", file, err)
        if hparams and len(steps) <= 1:
            # SummaryWriter.add_hparams's own file (in a folder named by the time): its
            # scalars are the run's summary metrics, written once at step 0, not curves;
            # read, {"val/loss": best} made a validation round of step 0, an epoch more
            log.debug("%s: add_hparams's summary metrics, not curves; left out", file)
            continue
        folders.setdefault(file.parent, []).append((str(file.relative_to(root)), steps))
    merged: dict[int, dict[str, float]] = {}
    notes: list[str] = []
    for written in folders.values():
        steps, said = _join(written)
        notes += said
        for step, values in steps.items():
            merged.setdefault(step, {}).update(values)
    return merged, tuple(notes)


def _join(
    written: list[tuple[str, dict[int, dict[str, float]]]],
) -> tuple[dict[int, dict[str, float]], list[str]]:
    """The event files of one folder, in the order written, as one run: a file logging
    the tags of the files before it from a step they already reached starts a new run
    (a restart or a resumed run writes a new file beside the old one). Back at or below
    the first step of those tags it is a restarted run, and only it is read; back to a
    later step S it resumed from a checkpoint, and the earlier files' steps from S on are
    replaced by its own (:func:`._resumed.superseded`, as a CSV is read). Files of other
    tags (another writer beside it) are merged."""
    joined: dict[int, dict[str, float]] = {}
    notes = []
    for name, steps in written:
        if not steps:
            continue
        start = min(steps)
        tags = {t for values in steps.values() for t in values}
        before = [s for s, values in joined.items() if tags & set(values)]
        if before and start <= max(before):
            back = (
                f"{name} starts at step {start}, at or before step {max(before)} of the "
                "files before it"
            )
            restarted, gone = superseded(start, before, min(before))
            if restarted:  # the steps of those tags, other writers' values at them too
                for k in gone:
                    del joined[before[k]]
                notes.append(f"{back}: {RESTARTED}; reading the last run only")
            else:
                for k in gone:
                    s = before[k]
                    joined[s] = {t: v for t, v in joined[s].items() if t not in tags}
                notes.append(
                    f"{back}: {RESUMED} step {start}; the earlier run's steps from "
                    f"{start} on replaced by the resumed run's"
                )
        for step, values in steps.items():
            joined.setdefault(step, {}).update(values)
    return {s: v for s, v in joined.items() if v}, notes


def _tag(folder: Path, root: Path, tag: str) -> str:
    """The tag with the folders below ``root`` as its prefix. ``add_scalars(MAIN, {KEY:
    ...})`` writes ``MAIN`` into a folder ``MAIN_KEY`` (``/`` in MAIN as ``_``): that
    folder's scalar is ``MAIN/KEY``, whether the folder is below the run or the run
    itself (``loss_val`` read alone is the validation loss)."""
    parts = list(folder.relative_to(root).parts)
    stem = tag.replace("/", "_") + "_"
    if folder.name.startswith(stem) and len(folder.name) > len(stem):
        return "/".join([*parts[:-1], tag, folder.name[len(stem) :]])
    return "/".join([*parts, tag])


def _keras_epochs_only(steps: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    """Without Keras's ``evaluation_<name>_vs_iterations`` tags when ``epoch_*`` tags are
    there: Keras writes them at each evaluation's optimizer step, copies of the epoch's
    validation values indexed by iterations, not epochs."""
    tags = {t.rsplit("/", 1)[-1] for values in steps.values() for t in values}
    if not any(t.startswith("epoch_") for t in tags):
        return steps
    out: dict[int, dict[str, float]] = {}
    for step, values in steps.items():
        kept = {
            t: v
            for t, v in values.items()
            if not _KERAS_ITERATIONS.fullmatch(t.rsplit("/", 1)[-1])
        }
        if kept:
            out[step] = kept
    return out


def epoch_rows(
    steps: dict[int, dict[str, float]],
) -> tuple[list[dict[str, float]], tuple[str, ...], bool, list[int]]:
    """Rows with an ``epoch`` each from ``{step: {tag: value}}`` (see the module
    docstring), a note when needed, whether the "epochs" are the logged steps (no
    epoch to be found), and where each validation round is a row numbered 0, 1, 2, ...
    (no epoch scalar, validation at other steps than training) the step of each round
    (else empty). The MLflow reader groups its steps into epochs the same way."""
    order = sorted(steps)
    tags = {tag for values in steps.values() for tag in values}
    epoch_tag = next((t for t in sorted(tags) if t.rsplit("/", 1)[-1].lower() == "epoch"), None)
    kinds = {t: canonical(t) for t in tags}
    val_steps = sorted(
        s for s in order if any((k := kinds[t]) and k.target.startswith("val_") for t in steps[s])
    )
    if epoch_tag is not None:
        known = [(s, steps[s][epoch_tag]) for s in order if epoch_tag in steps[s]]
        if all(epoch_tag in steps[s] for s in val_steps):
            if _counts_elapsed(known, val_steps):
                return _elapsed_rows(steps, epoch_tag, known), (), False, []
            rows, current = [], 0.0
            for step in order:
                values = dict(steps[step])
                current = values.pop(epoch_tag, current)
                rows.append({**values, "epoch": float(math.floor(current + 1e-9))})
            return rows, (), False, []
        # the epoch scalar is logged only every few epochs: each validation round closes
        # an epoch, numbered by the epoch scalar read between its logged values
        closing: list[float] = []
        for step in val_steps:  # the middle of the step's batch: a step closing an
            # epoch belongs to it, not to the next
            at = float(math.floor(_epoch_at(step - 0.5, known) + 1e-9))
            closing.append(max(at, closing[-1] + 1) if closing else at)
        closing.append(closing[-1] + 1 if closing else 0.0)  # training after the last round
        rows = []
        for step in order:
            values = {t: v for t, v in steps[step].items() if t != epoch_tag}
            rows.append({**values, "epoch": closing[bisect.bisect_left(val_steps, step)]})
        return rows, (), False, []
    train_steps = [
        s
        for s in order
        if any((k := kinds[t]) and not k.target.startswith("val_") for t in steps[s])
    ]
    n_val = len(val_steps)
    by_epoch = n_val > 0 and val_steps == list(range(n_val))  # (no validation: no epochs)
    if by_epoch and train_steps and train_steps[-1] >= 2 * n_val:
        # validation indexed by epoch (0, 1, 2, ...), training by global step: the steps
        # spread over as many epochs of equal length
        per = (train_steps[-1] + 1) / n_val
        val_set = set(val_steps)
        rows = []
        for s in order:
            values = steps[s]
            val = {
                t: v for t, v in values.items() if (k := kinds[t]) and k.target.startswith("val_")
            }
            train = {t: v for t, v in values.items() if t not in val}
            if s in val_set and val:
                rows.append({**val, "epoch": float(s)})
            if train:
                rows.append({**train, "epoch": float(min(n_val - 1, int(s // per)))})
        rows.sort(key=lambda r: r["epoch"])  # in epoch order (no restart to see)
        note = (
            f"validation is logged by epoch (steps 0 to {n_val - 1}) and training by global "
            f"step (to {train_steps[-1]}): the training steps are spread over "
            f"{counted(n_val, 'epoch')} of equal length"
        )
        return rows, (note,), False, []
    if val_steps and set(val_steps) != set(train_steps):
        rows = [{**steps[s], "epoch": float(bisect.bisect_left(val_steps, s))} for s in order]
        note = (
            f"no epoch scalar in the log: each of the {len(val_steps)} validation rounds is a "
            "point, numbered 0, 1, 2, ... and named by its step ('evaluation 1 (step 9)'), "
            "with the training values logged per step since the round before averaged into it"
        )
        return rows, (note,), False, val_steps
    rows = [{**steps[s], "epoch": float(s)} for s in order]
    per_epoch = all(t.rsplit("/", 1)[-1].lower().startswith("epoch_") for t in tags)
    if per_epoch or order == list(range(order[0], order[0] + len(order))):
        # Keras's TensorBoard callback, or a loop logging once per epoch: steps are epochs
        return rows, (), False, []
    return rows, ("no epoch scalar in the log: the logged steps are shown as epochs",), True, []


def _counts_elapsed(known: list[tuple[int, float]], val_steps: list[int]) -> bool:
    """Whether the ``epoch`` scalar counts the epochs done (Hugging Face's ``state.epoch``:
    1.0 at the end of the first epoch, ``ep + 1`` logged at each epoch's last step) rather
    than the index of the running epoch (Lightning's ``current_epoch``: 0 all through the
    first). At the steps that close epochs (validation rounds) the first grows through the
    origin, ``epoch = step / steps_per_epoch``, the second one below it: the line through
    the first and last rounds' values meets step 0 near 0 for the first, near -1 for the
    second (-0.5 splits them, whether steps count from 0 or 1). With one optimizer step an
    epoch Lightning's index grows through the origin too (0 at step 0, 1 at step 1): a
    first round logged as epoch 0 by a scalar holding whole numbers only is an index (no
    epoch is done at a round before any training, and Hugging Face's values between
    rounds are fractions)."""
    at = dict(known)
    if len(val_steps) < 2 or val_steps[-1] <= val_steps[0]:
        return False
    (s0, e0), (s1, e1) = (val_steps[0], at[val_steps[0]]), (val_steps[-1], at[val_steps[-1]])
    if e0 == 0 and all(float(e).is_integer() for _, e in known):
        return False  # an index: the first round closes epoch 0
    rate = (e1 - e0) / (s1 - s0)
    ordered = all(b >= a for (_, a), (_, b) in itertools.pairwise(known))
    return rate > 0 and ordered and e0 - rate * s0 > -0.5


def _elapsed_rows(
    steps: dict[int, dict[str, float]], epoch_tag: str, known: list[tuple[int, float]]
) -> list[dict[str, float]]:
    """Rows of a log whose ``epoch`` scalar counts epochs done: a step belongs to epoch
    ``ceil(e) - 1`` (0-based) of the first value ``e`` logged at or after it (1.0 at the
    first epoch's last step: epoch 0); steps after the last value to ``floor`` of it (the
    next epoch when it closed one). Per-step and per-epoch logs of one run then agree."""
    logged = [s for s, _ in known]
    rows = []
    for step in sorted(steps):
        values = {t: v for t, v in steps[step].items() if t != epoch_tag}
        i = bisect.bisect_left(logged, step)
        if i < len(known):  # float32 values of step / steps_per_epoch: a tolerance
            epoch = max(0, math.ceil(known[i][1] - 1e-4) - 1)
        else:
            epoch = math.floor(known[-1][1] + 1e-4)
        rows.append({**values, "epoch": float(epoch)})
    return rows


def _epoch_at(step: float, known: list[tuple[int, float]]) -> float:
    """The epoch at ``step`` from the ``(step, epoch)`` pairs logged: linear between the
    two around it, and at the rate of the whole log beyond them. A loop that logs its
    ``epoch`` scalar only every few epochs still places each validation round in its own
    epoch instead of merging several into the last epoch logged."""
    i = bisect.bisect_left(known, (step, -math.inf))
    if len(known) < 2:
        return known[0][1] if known and step >= known[0][0] else 0.0
    (s0, e0), (s1, e1) = (known[0], known[-1]) if i in (0, len(known)) else known[i - 1 : i + 1]
    rate = (e1 - e0) / (s1 - s0) if s1 > s0 else 0.0
    if i in (0, len(known)):  # outside the logged pairs: at the rate of the whole log
        anchor_step, anchor = known[0] if i == 0 else known[-1]
        return max(0.0, anchor + rate * (step - anchor_step))
    return e0 + rate * (step - s0)


def _scalar(value: object, tensor_util: object) -> float | None:
    if value.HasField("simple_value"):  # type: ignore[attr-defined]
        return float(value.simple_value)  # type: ignore[attr-defined]
    if value.HasField("tensor"):  # type: ignore[attr-defined]
        try:
            array = tensor_util.make_ndarray(value.tensor)  # type: ignore[attr-defined]
        except Exception:
            return None
        if array.size == 1 and array.dtype.kind in "fiu":
            return float(array.reshape(()))
    return None
