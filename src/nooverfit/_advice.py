"""Causes, remedies and the plain-language explanation behind a :class:`Diagnosis`.

Each cause is scored from the curve features in :class:`~nooverfit.diagnosis.Evidence`
and the remedies follow the causes' order, so the first remedy treats the likeliest cause.
Every remedy carries its setting twice: for the command line (``--l2 1e-3``) and for
Python (``RunConfig(l2=1e-3)``), which ``Monitor`` shows.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np

from nooverfit._curves import column, fill_missing, tail_fall_share, window
from nooverfit._diverging_advice import unstable_cause
from nooverfit._evaluations import at_text, counted_evaluations, epochs_trained, in_epochs
from nooverfit._explanation import explain
from nooverfit._metrics import decision_curves
from nooverfit._overfit_advice import lowest_words, overfitting_causes
from nooverfit._still import CEILING_POINTS, STILL, at_ceiling
from nooverfit._underfit_advice import longer, underfitting_causes
from nooverfit._words import counted
from nooverfit.diagnosis import Cause, Diagnosis, Evidence, Gap, Knob, Remedy, Verdict
from nooverfit.history import ONSET_WIDTH, History, best_index
from nooverfit.stopping import generalization_loss

#: A cause with its score and its remedies.
Ranked = tuple[float, Cause, list[Remedy]]

#: What a run still improving at 100 % validation accuracy and a tiny loss is told
#: (:func:`~nooverfit._still.at_ceiling`): no more epochs, its decisions cannot improve.
_AT_CEILING = (
    f" The validation accuracy was already 100% at each of the last {CEILING_POINTS} "
    "evaluations: the loss falls only as the confidence in answers already right grows."
)
_SATURATED = Remedy(
    "keep_weights",
    "The run is already at 100% validation accuracy with a tiny validation loss: training "
    "longer can only sharpen its confidence, not its decisions; keep these weights (a "
    "harder validation set, or a test set, says more than more epochs).",
)


def build(
    verdict: Verdict,
    history: History,
    gap: Gap,
    ev: Evidence | None,
    monitor: str,
    *,
    reason: str = "",
    missing: tuple[str, ...] = (),
) -> Diagnosis:
    """Assemble the :class:`Diagnosis` for ``verdict`` from the evidence."""
    causes: list[Ranked] = []
    best = onset = None
    gl = math.nan
    # the curves decided on, as logged (errors: lower is better)
    _, train, val = decision_curves(history, None if monitor == "loss" else monitor)
    # the best epoch's row: epochs may repeat in a History built through the API (a log
    # appended after a restart), so the figures quoted there are read by row, not number
    row = _best_row(val, ev)
    best = None if row is None else history.epoch[row]
    if ev is not None:
        gl = _best_and_gl(history, monitor, ev)[1]
    elif verdict is Verdict.DIVERGING or _validations(history, monitor) == 1:
        # diverging: still the weights to keep, where any; validated once: that epoch is
        # both the last and the best, GL 0 (a one-epoch log said NaN, as if unknown)
        gl = _raw_gl(history, monitor)
    n = len(history)
    run = _run_length(history)
    epochs = run[0]  # what --epochs would count
    # (validation rounds named by step: how many epochs the run had is not in the log)
    unknown = _rounds_at_steps(history)
    # (a run still improving at 100 % validation accuracy: only confidence left to gain)
    saturated = verdict is Verdict.STILL_IMPROVING and at_ceiling(history)
    if verdict is Verdict.DIVERGING:
        causes.append(unstable_cause(reason))
    elif verdict is Verdict.INSUFFICIENT_EVIDENCE:
        causes.append(
            (
                1.0,
                Cause("missing_evidence", f"The log lacks {' and '.join(missing)}."),
                [
                    Remedy(
                        "log_validation",
                        f"A verdict needs {' and '.join(missing)}, which this log lacks.",
                        "log val_loss every epoch",
                    )
                ],
            )
        )
    elif ev is not None and verdict is Verdict.OVERFITTING:
        onset = ev.epochs[ev.onset]
        kept = best if best is not None else onset
        base = _first_epoch(history)
        to_best = None if base is None or unknown else kept + 1 - base
        if _epochs_done(history):  # (the epochs that reach the best evaluation)
            # (None where the best came before any training: an evaluation at the start)
            to_best = epochs_trained(history.evaluated_at[: history.epoch.index(kept) + 1]) or None
        causes += overfitting_causes(
            ev,
            onset,
            kept,
            lowest_words(monitor),
            epochs_to_best=to_best,
            gl=gl,
            curve=monitor,
            ends=_logged_ends(history, monitor),
            at_best=_logged_at(train, val, row),
        )
        # validation lowest among its last evaluations and not risen before (a rate
        # decayed towards zero creeps it down to the end while training falls far below
        # it): it never turned, so no onset is named; the gap is the evidence (s28:
        # "overfitting from epoch 119" of 0-119). A curve that rose and then set one
        # lucky low near its end turned: its onset stays (i153's review).
        turned = ev.signal == "rise" or (math.isfinite(gl) and gl >= 1)
        if ev.onset >= len(ev.epochs) - ONSET_WIDTH // 2 and not turned:
            onset = None
    elif ev is not None and verdict is Verdict.UNDERFITTING:
        causes += underfitting_causes(
            ev, None if unknown else epochs, gap.metric, length=run[1] if unknown else ""
        )
    elif ev is not None and verdict is Verdict.STILL_IMPROVING:
        # quoted as a share of where the last third began (the rule's own measure, over
        # the stretch's mean level, reads "fell 141 %" of a loss falling threefold there)
        drop = 100 * tail_fall_share(val[np.isfinite(val)])
        # where the last third set its low (an early lucky value may hold the best epoch)
        recent = ev.epochs[int(ev.extra.get("recent_low", len(ev.epochs) - 1))]
        if best is None or best == ev.epochs[-1]:
            where = "and was lowest at its end."
        elif recent == ev.epochs[-1]:
            where = "and ended at the lowest value of that stretch."
        else:
            where = f"and ended near the lowest value of that stretch (epoch {recent})."
        causes.append(
            (
                1.0,
                Cause(
                    "confidence_only" if saturated else "too_few_epochs",
                    f"The validation loss still fell {drop:.1f}% over the last third of the run "
                    + where
                    + (_AT_CEILING if saturated else "")
                    if ev.tail_drop > STILL
                    # (under STILL: a short run near chance, read by _still.falling_steadily)
                    else f"The validation loss fell at every evaluation of the run's later "
                    f"half ({drop:.1f}% over its last third) while the validation accuracy "
                    "rose to its highest there." + (_AT_CEILING if saturated else ""),
                ),
                [
                    Remedy(
                        "train_longer",
                        f"The validation loss was still falling ({drop:.1f}% over the last third) "
                        "when the run ended.",
                        *longer(None if unknown else max(2 * epochs, epochs + 20)),
                    ),
                    Remedy(
                        "higher_lr",
                        "A larger step reaches the minimum in fewer epochs, if the loss stays "
                        "smooth.",
                        "--lr 3x higher",
                        "RunConfig(lr=3 * config.lr)",
                        (Knob("lr", factor=3),),
                    ),
                ]
                if not saturated
                else [_SATURATED],
            )
        )
    causes.sort(key=lambda item: -item[0])
    remedies: list[Remedy] = []
    for r in (r for _, _, rs in causes for r in rs):  # one remedy once: its likeliest cause
        if all(r.kind != seen.kind for seen in remedies):
            remedies.append(r)
    # rows that are evaluations, several an epoch, are named so ("evaluation 24 (epoch
    # 2.4)"): the texts call a row "epoch N" everywhere else
    at, unit = history.evaluated_at, _unit(history)
    diag_gap = gap
    return Diagnosis(
        verdict=verdict,
        onset_epoch=onset,
        best_epoch=best,
        generalization_loss=gl,
        gap=diag_gap,
        causes=tuple(replace(c, reason=in_epochs(c.reason, at, unit)) for _, c, _ in causes),
        remedies=tuple(replace(r, reason=in_epochs(r.reason, at, unit)) for r in remedies),
        explanation=in_epochs(
            explain(
                verdict,
                onset,
                best,
                gl,
                gap,
                reason,
                missing,
                n,
                ev is not None and ev.early_stopped,
                run=run,
                trained=_has_training_curve(history, ev),
                ended_at=_metric_ends(history, monitor, row),
                last=_last_validated(history, val),
                validated=int(np.isfinite(val).sum()),
                monitor=monitor,
                rise=math.nan if ev is None else ev.rise,
                smoothed=0 if ev is None else window(len(ev.val)),
                saturated=saturated,
            ),
            at,
            unit,
        ),
        missing=missing,
        epochs=epochs,
        monitor=monitor,
        evaluated_at=at,
        unit=unit,
    )


def _epochs_done(history: History) -> bool:
    """Whether the rows are evaluations, several an epoch, with the epochs done at each."""
    return bool(history.evaluated_at) and history.evaluated_in == "epoch"


def _rounds_at_steps(history: History) -> bool:
    """Whether the rows are validation rounds named by their steps (how many epochs the
    run had is not in the log)."""
    return bool(history.evaluated_at) and history.evaluated_in == "step"


def _unit(history: History) -> str:
    """What names the rows in the texts: ``"step"`` where the log's steps do (shown as
    epochs, or each row a validation round at a step), else ``"epoch"``."""
    if history.evaluated_at:
        return history.evaluated_in
    return "step" if history.steps_as_epochs else "epoch"


def _run_length(history: History) -> tuple[int, str]:
    """How long the run was, as its log counts it, and how to say it.

    Where the log reader showed steps as epochs (``History.steps_as_epochs``), the last
    step is named (whether the writer counted steps from 0 or 1 is not in the log), and
    the count is the number of rows. Otherwise the base is read from the first logged
    epoch and the logging interval ``d`` (the smallest step between logged epochs; 1
    with one row): a first epoch of ``d - 1`` is 0-based (Keras, Lightning,
    ``validation_freq``), so the run had its last epoch + 1 epochs; a first epoch of
    ``d`` is 1-based, so it had its last epoch's number. Any other start (a log cut
    from a longer one) is 0-based when it is 0; else the text names the last epoch
    ("after epoch N") rather than a count, and the count is the last epoch + 1 (an
    upper bound). Where the rows are evaluations, several an epoch
    (``History.evaluated_at``), the count is the epochs trained, started ones counted,
    and the text names both ("3 epochs (30 evaluations)")."""
    if not len(history):
        return 0, counted(0, "epoch")
    if _epochs_done(history):
        trained = epochs_trained(history.evaluated_at)
        return trained, counted_evaluations(len(history), trained)
    if _rounds_at_steps(history):  # (the epochs are not known)
        rounds, step = len(history), at_text(history.evaluated_at[-1])
        return rounds, f"{counted(rounds, 'evaluation')} (to step {step})"
    last = int(history.epoch[-1])
    if history.steps_as_epochs:
        return len(history), f"step {last}"
    first = int(history.epoch[0])
    if _first_epoch(history) == 1:
        return last, counted(last, "epoch")
    if first == 0 or first == _interval(history) - 1:
        return last + 1, counted(last + 1, "epoch")
    return last + 1, f"epoch {last}"


def _interval(history: History) -> int:
    """The smallest step between logged epochs (1 with one row)."""
    return min((b - a for a, b in itertools.pairwise(history.epoch)), default=1)


def _first_epoch(history: History) -> int | None:
    """The number the log gives the run's first epoch, read as :func:`_run_length` reads
    it: 1 where its first logged epoch is the logging interval ``d`` and not ``d - 1``
    (a log counting from 1), else 0; None where it shows steps as epochs."""
    if history.steps_as_epochs:
        return None
    first, d = int(history.epoch[0]), _interval(history)
    return 1 if first == d and first not in (0, d - 1) else 0


def _best_and_gl(history: History, monitor: str, ev: Evidence) -> tuple[int, float]:
    """The best epoch and Prechelt's GL of the last validated epoch against it."""
    if monitor != "loss":
        return ev.epochs[ev.best], math.nan
    values = np.asarray(history.val_loss, dtype=float)
    values = values[np.isfinite(values)]
    return ev.epochs[ev.best], generalization_loss(float(values[-1]), float(values[ev.best]))


def _raw_gl(history: History, monitor: str) -> float:
    """Prechelt's GL of the last finite validation loss against the lowest, for a verdict
    reached without the evidence (a diverging run: how far it ended above its best; 0 with
    one finite value, both the last and the lowest; NaN without a validation loss)."""
    if _validations(history, monitor) == 0:
        return math.nan
    values = np.asarray(history.val_loss, dtype=float)
    values = values[np.isfinite(values)]
    return generalization_loss(float(values[-1]), float(values.min()))


def _validations(history: History, monitor: str) -> int:
    """How many finite validation losses GL can be read from (none unless the loss is the
    curve decided on)."""
    if monitor != "loss":
        return 0
    return int(np.isfinite(np.asarray(history.val_loss, dtype=float)).sum())


def _last_validated(history: History, val: np.ndarray) -> int | None:
    """The last epoch with a finite value of ``val``, the validation curve decided on."""
    finite = np.flatnonzero(np.isfinite(val))
    return history.epoch[finite[-1]] if finite.size else None


def _best_row(val: np.ndarray, ev: Evidence | None) -> int | None:
    """The row of the best epoch in ``val``, the validation curve decided on: the
    evidence's (an index among the finite values), or without it (a diverging run, one too
    short to judge) the lowest finite value (:func:`~nooverfit.history.best_index`, as in
    the evidence and ``Monitor``); ``None`` without one."""
    if ev is None:
        return best_index(list(val))
    finite = np.flatnonzero(np.isfinite(val))
    return int(finite[ev.best]) if 0 <= ev.best < finite.size else None


def _logged_at(train: np.ndarray, val: np.ndarray, row: int | None) -> tuple[float, float]:
    """The curves decided on, as logged, at ``row`` (training, validation): the row of
    the table's gap at the best epoch; a training value not logged there is read off the
    line between its neighbours (as the evidence reads it); NaNs without the row."""
    if row is None:
        return math.nan, math.nan
    return float(fill_missing(train)[row]), float(val[row])


def _logged_ends(history: History, monitor: str) -> tuple[float, float, float]:
    """The curve decided on as logged (not smoothed; a metric's own values, not the error
    the rules read): its first finite training value, and training and validation at the
    last validated epoch (the row of the table's gap at the end); NaN where not logged."""
    train, val = column(history, monitor), column(history, f"val_{monitor}")
    logged, validated = np.flatnonzero(np.isfinite(train)), np.flatnonzero(np.isfinite(val))
    if not (logged.size and validated.size):
        return math.nan, math.nan, math.nan
    last = validated[-1]
    return float(train[logged[0]]), float(train[last]), float(val[last])


def _metric_ends(history: History, monitor: str, row: int | None) -> tuple[float, float]:
    """The validation metric decided on (not the loss) at the last validated epoch and at
    the best one (its ``row``): what the explanation quotes where Prechelt's GL (a loss's)
    is not defined; NaNs for the loss or without a best epoch."""
    if monitor == "loss" or row is None:
        return math.nan, math.nan
    values = np.asarray(history.column(f"val_{monitor}"), dtype=float)
    finite = np.flatnonzero(np.isfinite(values))
    return float(values[finite[-1]]), float(values[row])


def _has_training_curve(history: History, ev: Evidence | None) -> bool:
    """Whether the log holds a training curve: of the metric decided on, or a training loss
    beside a verdict decided on accuracy (a log of ``loss`` and ``val_accuracy``)."""
    if ev is not None and bool(np.isfinite(ev.train).any()):
        return True
    return history.has("loss") and bool(np.isfinite(history.column("loss")).any())
