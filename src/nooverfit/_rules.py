"""`diagnose`: a verdict on a training run from its curves alone.

Pure and deterministic: a :class:`~nooverfit.history.History` in, a frozen
:class:`~nooverfit.diagnosis.Diagnosis` out. Every rule compares a curve with itself
(relative rises and falls, in shares of the run rather than per epoch), so scaling all
losses by a constant, adding a constant penalty to the training loss (Keras adds its L2
penalty there), or logging every second epoch leaves the verdict alone. The only absolute
level used is the chance-level cross-entropy, for classification logs with an accuracy
(a loss scaled across that level is no longer a mean cross-entropy), and not where that
accuracy shows learning (:mod:`nooverfit._learned`: a summed or scaled loss; i55).
The rules, in order:

1. **diverging** - the run recorded a divergence; a loss became infinite and stayed so
   (one infinite value among finite ones is left out: an overflow), ends in NaN or was
   NaN throughout; the smoothed training loss ends more than 20 % above its minimum and
   by more than 5 % of what it had fallen while validation stopped falling (exploding);
   training and validation both swing by more than 10 % per logged point (in log space,
   beyond their trend; or validation alone by 20 %) without getting lower, training near
   validation; validation jumps back and forth by ``VAL_SWING`` per evaluation (unless a
   classifier gets 90 % of its training samples right, by its accuracy or its loss's
   bound: i50), grows over ``EXPLODE`` (30) times its minimum (with the same exception:
   confident mistakes of a memorizing network, s25), or sits over ``BLOWN`` (1000 ln 1000
   nats) at every evaluation of a classifier, or sits over 100x a training loss that
   never fell; or the run **collapsed**: accuracy stuck in the second half while the
   training loss sits far above the chance-level loss of a constant predictor (``max(ln
   2, 2 ln(1 / accuracy))``: saturated outputs, not a model that learned nothing); or the
   validation loss never got below what a constant predictor scores, by far (a
   cross-entropy over ln 1e6 nats: saturated outputs) or while turning back and forth (10
   % turns at every fourth evaluation, unless training sits under half that level and the
   turns stay under ``OSCILLATION``); the level is ``ln(1 / a)`` of the lowest validation
   accuracy, at least ln 2, for a classifier (an overfitting network gets well below it
   before it turns once; a network above 50 % at every evaluation beat guessing), or sat
   over 1.5 times that level (3 times where training scores within 10 % of validation:
   the level is a floor, i64) while its accuracy never rose by 10 points and its training
   loss stayed above half the level; or validation started 100x above where it ended and
   fell most of that within its first quarter (a recovery from blown-up weights); or a
   training loss rose to over ``THROWN`` (10) times the validation loss measured after
   the same epoch, with the mean of its evaluation round there too (a step threw the
   weights out; one hard batch among per-step values is not; nor losses near zero where
   the epoch's training accuracy and validation's after it are both 99 % or more, s28);
   or a classifier's first training loss sat over ``THROWN_START`` (100) times where it
   ended, which never got below the loss of guessing again, with few training samples right
   (:func:`~nooverfit._chance.never_recovered`, i69); or both losses stood still to five
   digits over the later half at a training level above its first logged value, which it
   never got below, or with the validation loss the same at every evaluation
   (:func:`~nooverfit._dead.stuck_worse`: the weights stopped moving after a step made
   the fit worse; i85, s26); or a classifier that gets 90 % of its training
   samples right by its logged accuracy while its training loss sits above the loss of
   guessing over a million classes and jumps back and forth by a good part of its whole
   fall per epoch, and by a fifth of itself (:func:`~nooverfit._blowup.spiking_fit`: a
   few samples at enormous losses, outputs blown up; i85, the level i89). A training loss
   that rises within its own noise (single batches logged every few steps) is no runaway.
   Also (i45): validation frozen to five digits over the later half while the training
   loss still moves (dead units, outputs that no longer answer training:
   :mod:`nooverfit._dead`); validation turning back and forth by a fifth per evaluation
   with training near it and not fitting (:mod:`nooverfit._turning`); and in the swing
   rule, validation's fall counts as progress only beyond its own swing. Read last
   (i166): a classifier's validation loss per mistake (the loss over ``1 - accuracy``)
   and the loss itself fell ``COSTLY`` (5) times from its first evaluations, wrong on a
   tenth of validation or more at each, its training loss not tracking validation
   (:func:`~nooverfit._blowup.costly_mistakes`: early mistakes at enormous losses,
   outputs blown out by a step and coming back).
2. **insufficient_evidence** - no validation curve, or fewer than ``MIN_EPOCHS`` values.
3. **overfitting** - the smoothed validation loss rose more than ``RISE`` (15 %) above
   its minimum at least two logged points before the end (unless early stopping ended the
   run there); or the network memorized the training set (training loss down to
   ``MEMORIZED`` (0.3) of the validation loss, whether logged before it fell or not)
   while validation rose over a third of ``RISE``, or validation rose over a third of
   ``RISE`` while the gap to training widened by ``WIDEN`` of its level; or an
   accuracy-like metric shows a large gap (training >= 97 %, or a bound from its loss
   with training at ``MEMORIZED`` of validation, since a penalty in the loss lowers the
   bound; validation >= ``GAP`` points lower) while validation no longer falls (its last
   third flat; or, at ``WIDE_GAP`` points and a logged training accuracy, its low set
   before the still-improving test's reach of the end:
   :func:`~nooverfit._still.near_end`); or the network memorized its training set
   (training at ``MEMORIZED`` of validation) while validation, no longer falling, ended
   less than ``UNLEARNED`` of its level below its first evaluation (what was learned fits
   the training samples, not the task); or it memorized its training set while
   validation's line over the last third climbs by over a third of ``RISE`` and by
   ``CLIMB`` residual standard deviations. Without a logged training accuracy, a
   classifier's training cross-entropy ``L`` bounds it from below by ``1 - L / ln 2``
   (every mistake costs at least ln 2 nats). A ratio to a training loss near zero is
   never read as divergence.
4. **still_improving** - the validation loss fell more than ``STILL`` (2 %) over the last
   third of the run (least-squares line), by at least ``SIGNIFICANT`` residual standard
   deviations around that line (the curve's own noise; not standard errors, which shrink
   as evaluations are added: i98), and the lowest raw value of that third lies within
   the last ``NEAR_END`` (5 %) of the run or its last ``LAST_POINTS`` (3) evaluations
   (i75), and its end did not flatten (a fall under ``PLATEAU`` over its last fifth; over
   one step only where it bends off the last third's line beyond the curve's noise or the
   last three evaluations are flat too: :func:`~nooverfit._still.flattened`, s28); a
   network whose training accuracy stayed under 0.75 must also show its
   accuracy error falling by ``FOLLOWS`` residual standard deviations over that third.
5. **underfitting** - the training metric (accuracy-like, in [0, 1]) stayed below 0.75
   (however the loss moved: Keras logs its L2 term in both losses, which fall as the
   weights shrink); without one, the validation metric did, where the training loss
   sits at 0.9 of validation's or above (training scores like validation, i64); else
   the losses: training fell by less than half the best validation
   loss and validation by less than its own best level, and training (the median of its
   later half) stayed above half the best validation loss; a training loss logged fewer
   than three times shows no fall, and validation must then have fallen by less than a
   tenth of its best below its first value. Without an accuracy, an error metric logged
   beside the loss (``mae`` beside MSE: no penalty in it) is read instead of the loss.
   A run caught here whose validation loss fell at every evaluation of its later half
   while its validation accuracy rose to its highest there is still improving (a short
   run near chance: :func:`~nooverfit._still.falling_steadily`, i69).
6. **good_fit** - otherwise.

The best epoch and the onset are :func:`~nooverfit.history.best_index` and
:func:`~nooverfit.history.onset_index` (one definition everywhere). The generalization
loss is Prechelt's ``GL = 100 * (E_va(last) / E_opt - 1)`` on the raw curve, in percent
(for a diverging run too: the last finite validation loss against the lowest).
Where the rules live: 1 in :mod:`nooverfit._divergence` and :mod:`nooverfit._chance`,
3 (and the evidence the others read) in :mod:`nooverfit._overfit`, 4 in
:mod:`nooverfit._still`, 5 in :mod:`nooverfit._underfit` (the training accuracy's course:
:mod:`nooverfit._train_accuracy`); this module orders them.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from nooverfit import _advice
from nooverfit._blowup import costly_mistakes
from nooverfit._chance import above_any_constant, collapsed, never_recovered
from nooverfit._curves import MIN_EPOCHS
from nooverfit._dead import stuck_worse
from nooverfit._divergence import diverged, passed_infinities
from nooverfit._few_samples import few_samples_caveat
from nooverfit._metrics import decision_curves, pick_metric
from nooverfit._metrics import gap as metric_gap
from nooverfit._overfit import evidence
from nooverfit._penalty_free import penalized_training
from nooverfit._still import accuracy_follows, falling_steadily, still_falling
from nooverfit._underfit import underfit_any
from nooverfit.diagnosis import Diagnosis, Verdict
from nooverfit.history import History

__all__ = ["MIN_EPOCHS", "diagnose"]


def diagnose(history: History, *, metric: str | None = None) -> Diagnosis:
    """Give a verdict on ``history`` (see the module docstring for the rules).

    Args:
        history: per-epoch curves; NaN epochs are skipped, higher-is-better metrics are
            turned into errors (``1 - accuracy``) when no loss is logged.
        metric: metric whose train/val gap is reported and, when the history has no
            validation loss, decided on (default: ``"accuracy"`` when logged).

    Returns:
        The :class:`~nooverfit.diagnosis.Diagnosis`.

    Raises:
        TypeError: if ``history`` is not a :class:`~nooverfit.history.History` (a log's
            path, a DataFrame or a dict: the message says how to make one).
        ValueError: if ``metric`` names a column the history does not have.
    """
    if not isinstance(history, History):
        raise TypeError(_not_a_history(history))
    history, passed = passed_infinities(history)
    if passed:  # the verdict on the finite curves, saying what was left out
        sound = diagnose(history, metric=metric)
        return replace(sound, explanation=f"{sound.explanation} {passed}")
    metric = pick_metric(history, metric)
    monitor, train_raw, val_raw = decision_curves(history, metric)
    gap = metric_gap(history, metric, train_raw, val_raw)
    failed = diverged(history, train_raw, val_raw) or collapsed(history, metric)
    # (both losses frozen above training's start: after the chance-level tests, whose
    # words say more of a classifier)
    failed = failed or never_recovered(history) or stuck_worse(train_raw, val_raw)
    # (the cost per mistake last: the tests above name what they find more closely)
    failed = failed or costly_mistakes(history)
    if failed:
        return _advice.build(Verdict.DIVERGING, history, gap, None, monitor, reason=failed)
    missing = []
    if not np.isfinite(val_raw).any():
        found = ", ".join(history.columns()[1:]) or "none"
        missing.append(f"a validation curve (val_loss or val_<metric>; columns found: {found})")
    elif np.isfinite(val_raw).sum() < MIN_EPOCHS:
        count = int(np.isfinite(val_raw).sum())
        missing.append(f"at least {MIN_EPOCHS} evaluations with validation values (got {count})")
    if missing:
        return _advice.build(
            Verdict.INSUFFICIENT_EVIDENCE, history, gap, None, monitor, missing=tuple(missing)
        )
    ev = evidence(history, metric, train_raw, val_raw)
    # a penalty-free error logged beside the loss (``mae``) holds the memorization the
    # loss hides when a constant penalty lifts the training loss towards validation
    errors = None if ev.signal else penalized_training(history)
    if errors is not None:
        _, error_train, error_val = decision_curves(errors, None)
        if np.isfinite(error_val).sum() >= MIN_EPOCHS:
            ev = replace(ev, signal=evidence(errors, None, error_train, error_val).signal)
    if ev.signal:
        verdict = Verdict.OVERFITTING
    elif still_falling(ev) and accuracy_follows(history, metric, ev):
        verdict = Verdict.STILL_IMPROVING
    elif underfit_any(history, metric, ev):
        # (a short run near chance still learning at every evaluation: still improving)
        steady = falling_steadily(history, val_raw)
        verdict = Verdict.STILL_IMPROVING if steady else Verdict.UNDERFITTING
    else:
        verdict = Verdict.GOOD_FIT
    built = _advice.build(verdict, history, gap, ev, monitor)
    # (a loss no learning classifier's mean reaches; a validation set of a few samples)
    caveats = [c for c in (above_any_constant(history), few_samples_caveat(history)) if c]
    if not caveats:
        return built
    return replace(built, explanation=" ".join([built.explanation, *caveats]))


def _not_a_history(given: object) -> str:
    """Why ``given`` is refused by :func:`diagnose`, with the call that makes a history
    of it (before, a path or a DataFrame failed deep inside with an AttributeError)."""
    kind = type(given).__name__
    if isinstance(given, (str, os.PathLike)):
        how = f"read the log first: diagnose(read_log({str(given)!r}))"
    elif hasattr(given, "to_dict") and hasattr(given, "columns"):  # a pandas DataFrame
        how = "convert it: diagnose(History.from_columns(df.to_dict('list')))"
    else:
        how = "use read_log(path) or History.from_columns({'loss': [...], 'val_loss': [...]})"
    return f"diagnose expects a History, got {kind}; {how}"
