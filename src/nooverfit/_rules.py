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

1. **diverging** - the run recorded a divergence; a loss is infinite, ends in NaN or
   was NaN throughout; the smoothed training loss ends more than 20 % above its minimum
   and by more than 5 % of what it had fallen while validation stopped falling
   (exploding); training and validation both swing by more than 10 % per logged point
   (in log space, beyond their trend; or validation alone by 20 %) without getting
   lower, training near validation; validation jumps back and
   forth by ``VAL_SWING`` per evaluation (unless a classifier gets 90 % of its training
   samples right, by its accuracy or its loss's bound: i50), grows over ``EXPLODE`` (30)
   times its minimum,
   or sits over 100x a training loss that never fell; or the run **collapsed**: accuracy
   stuck in the second half while the training loss sits far above the chance-level loss
   of a constant predictor (``max(ln 2, 2 ln(1 / accuracy))``: saturated outputs, not a
   model that learned nothing); or the validation loss never got below what a constant
   predictor scores, by far (a cross-entropy over ln 1e6 nats: saturated outputs) or
   while turning back and forth (10 % turns at every fourth evaluation, unless training
   sits under half that level and the turns stay under ``OSCILLATION``); the level is
   ``ln(1 / a)`` of the lowest validation accuracy, at least ln 2, for a classifier (an
   overfitting network gets well below it before it turns once; a network above 50 %
   at every evaluation beat guessing), or sat over 1.5 times that level while its
   accuracy never rose by 10 points and its training loss stayed above half the level;
   or validation started 100x above where it ended and fell most of that within its
   first quarter (a recovery from blown-up weights); or a training loss rose to over
   ``THROWN`` (10) times the validation loss measured after the same epoch, with the mean
   of its evaluation round there too (a step threw the weights out; one hard batch among
   per-step values is not). A training loss that rises within its own noise (single batches
   logged every few steps) is no runaway. Also (i45): validation frozen to five digits
   over the later half while the training loss still moves (dead units, outputs that no
   longer answer training: :mod:`nooverfit._dead`); validation turning back and forth by
   a fifth per evaluation with training near it and not fitting (:mod:`nooverfit._turning`);
   and in the swing rule, validation's fall counts as progress only beyond its own swing.
2. **insufficient_evidence** - no validation curve, or fewer than ``MIN_EPOCHS`` values.
3. **overfitting** - the smoothed validation loss rose more than ``RISE`` (15 %) above its
   minimum at least two logged points before the end (unless early stopping ended the run
   there); or the network memorized the training set (training loss down to
   ``MEMORIZED`` (0.3) of the validation loss, whether logged before it fell or not)
   while validation rose over a third of ``RISE``, or validation rose over a third of
   ``RISE`` while the gap to training widened by ``WIDEN`` of its level; or an
   accuracy-like metric shows a large gap (training >= 97 %, or a bound from its loss
   with training at ``MEMORIZED`` of validation, since a penalty in the loss lowers the
   bound; validation >= ``GAP`` points lower) while validation no longer falls; or the
   network memorized its training set (training at ``MEMORIZED`` of validation) while
   validation, no longer falling, ended less than ``UNLEARNED`` of its level below its
   first evaluation (what was learned fits the training samples, not the task); or it
   memorized its training set while validation's line over the last third climbs by over
   a third of ``RISE`` and by ``CLIMB`` residual standard deviations. Without a logged
   training accuracy, a classifier's training cross-entropy ``L`` bounds it from below by
   ``1 - L / ln 2`` (every mistake costs at least ln 2 nats). A ratio to a training loss
   near zero is never read as divergence.
4. **still_improving** - the validation loss fell more than ``STILL`` (2 %) over the last
   third of the run (least-squares line), by at least ``SIGNIFICANT`` standard errors of
   that line (the curve's own noise), and is lowest within the last ``NEAR_END`` (5 %) of
   the run; a network whose training accuracy stayed under 0.75 must also show its
   accuracy error falling by ``FOLLOWS`` residual standard deviations over that third.
5. **underfitting** - the training metric (accuracy-like, in [0, 1]) stayed below 0.75
   (however the loss moved: Keras logs its L2 term in both losses, which fall as the
   weights shrink), or, without one, training fell by less than half the best validation
   loss and validation by less than its own best level, and training (the median of its
   later half) stayed above half the best validation loss; a training loss logged fewer
   than three times shows no fall, and validation must then have fallen by less than a
   tenth of its best below its first value. Without an accuracy, an error metric logged
   beside the loss (``mae`` beside MSE: no penalty in it) is read instead of the loss.
6. **good_fit** - otherwise.

The best epoch and the onset are :func:`~nooverfit.history.best_index` and
:func:`~nooverfit.history.onset_index` (one definition everywhere). The generalization
loss is Prechelt's ``GL = 100 * (E_va(last) / E_opt - 1)`` on the raw curve, in percent.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from nooverfit import _advice
from nooverfit import _curves as cv
from nooverfit._chance import collapsed
from nooverfit._curves import MIN_EPOCHS
from nooverfit._divergence import diverged
from nooverfit._metrics import decision_curves, pick_metric
from nooverfit._metrics import gap as metric_gap
from nooverfit._penalty_free import error_history, penalized_training
from nooverfit.diagnosis import Diagnosis, Evidence, Verdict
from nooverfit.history import History, best_index, onset_index

#: Smoothed validation-loss rise above its minimum that counts as overfitting (fraction).
RISE = 0.15
#: Train-minus-validation accuracy at the end that counts as overfitting (fraction).
GAP = 0.06
#: Growth of the train/validation gap after the validation minimum, as a share of the
#: validation loss there, that (with a rise of a third of ``RISE``) shows overfitting.
WIDEN = 0.15
#: Fall of the smoothed validation loss over the last third that is still improving.
STILL = 0.02
#: Standard errors by which the last third's fall must clear its noise to count.
SIGNIFICANT = 2.0
#: Share of the run at its end within which the validation minimum (raw or smoothed) must
#: lie for a run to be still improving (a share, not a count of points: logging every
#: second epoch keeps it).
NEAR_END = 0.05
#: Residual standard deviations by which a weak network's accuracy error must fall over
#: the last third for its falling loss to count as still improving.
FOLLOWS = 1.5
#: Training loss below this share of the best validation loss: the network fits its
#: training set, whatever the fall (never an underfit).
FAR_BELOW = 0.5
#: Fall of validation below its first value, as a share of its best, under which a run
#: whose training loss was logged too rarely to read learned little.
LEARNED_LITTLE = 0.1
#: Training loss at or below this share of the validation loss, with validation drifting
#: up from its minimum: the network memorized its training set (the corpus generator's own
#: gap evidence for a regression; a constant penalty of a fifth of the validation loss on
#: the training loss leaves a tenth-of-validation training loss below it).
MEMORIZED = 0.3
#: Fall of validation from its first evaluation to its (smoothed) end, as a share of the
#: end, under which a network that memorized its training set learned nothing that
#: carries over: a network that learned the task takes validation well below where its
#: first epoch left it (a ratio of the curve to itself: no scale, no penalty involved).
UNLEARNED = 0.25
#: Residual standard deviations by which validation's line over the last third must climb
#: (by more than a third of ``RISE`` of its level) for a network that memorized its
#: training set to be overfitting while its smoothed curve has not yet risen ``RISE / 3``.
CLIMB = 1.0
#: Fall of the training accuracy from its best to its last third's median that, ending
#: under 0.75, says the network lost what it had fitted (a share of samples).
LOST = 0.1
_EARLY_STOPS = ("patience", "generalization_loss", "progress_quotient", "up")


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
        ValueError: if ``metric`` names a column the history does not have.
    """
    metric = pick_metric(history, metric)
    monitor, train_raw, val_raw = decision_curves(history, metric)
    gap = metric_gap(history, metric, train_raw, val_raw)
    failed = diverged(history, train_raw, val_raw) or collapsed(history, metric)
    if failed:
        return _advice.build(Verdict.DIVERGING, history, gap, None, monitor, reason=failed)
    missing = []
    if not np.isfinite(val_raw).any():
        found = ", ".join(history.columns()[1:]) or "none"
        missing.append(f"a validation curve (val_loss or val_<metric>; columns found: {found})")
    elif np.isfinite(val_raw).sum() < MIN_EPOCHS:
        count = int(np.isfinite(val_raw).sum())
        missing.append(f"at least {MIN_EPOCHS} epochs with validation values (got {count})")
    if missing:
        return _advice.build(
            Verdict.INSUFFICIENT_EVIDENCE, history, gap, None, monitor, missing=tuple(missing)
        )
    ev = _evidence(history, metric, train_raw, val_raw)
    # a penalty-free error logged beside the loss (``mae``) holds the memorization the
    # loss hides when a constant penalty lifts the training loss towards validation
    errors = None if ev.signal else penalized_training(history)
    if errors is not None:
        _, error_train, error_val = decision_curves(errors, None)
        if np.isfinite(error_val).sum() >= MIN_EPOCHS:
            ev = replace(ev, signal=_evidence(errors, None, error_train, error_val).signal)
    if ev.signal:
        verdict = Verdict.OVERFITTING
    elif _still_falling(ev) and _accuracy_follows(history, metric, ev):
        verdict = Verdict.STILL_IMPROVING
    elif _underfit_any(history, metric, ev):
        verdict = Verdict.UNDERFITTING
    else:
        verdict = Verdict.GOOD_FIT
    return _advice.build(verdict, history, gap, ev, monitor)


def _still_falling(ev: Evidence) -> bool:
    """Validation fell more than ``STILL`` over the last third, is lowest within the last
    ``NEAR_END`` of the run (raw or smoothed minimum) and ends over ``REGAINED`` noise
    below its first half's lowest level (:func:`~nooverfit._curves.below_early_level`), and
    its fall there stands ``SIGNIFICANT`` standard errors clear of the curve's own
    epoch-to-epoch noise (a noisy flat curve whose line happens to tilt down is not)."""
    last = max(1, len(ev.val) - 1)
    near_end = max(int(np.argmin(ev.val)), ev.best) >= last * (1 - NEAR_END)
    near_end = near_end and ev.extra["below_early"] > cv.REGAINED
    return ev.tail_drop > STILL and near_end and ev.extra["significance"] >= SIGNIFICANT


def _accuracy_follows(history: History, metric: str | None, ev: Evidence) -> bool:
    """A network that gets few training samples right (accuracy under 0.75) is improving
    only if its accuracy rises with the falling loss: the error's line over the last third
    must fall by ``FOLLOWS`` residual standard deviations (a loss that falls while the
    accuracy stands still is a penalty shrinking, as Keras logs its L2 term in both losses,
    or confidence being calibrated). Measured against the accuracy's own noise, not in
    standard errors, so a run validated half as often gets the same answer."""
    if not _weak_metric(history, metric):
        return True
    keep = [e in set(ev.epochs) for e in history.epoch]
    for prefix in ("val_", ""):
        acc = cv.accuracy(history, metric, prefix)[np.asarray(keep, dtype=bool)]
        if np.isfinite(acc).all() and acc.size >= MIN_EPOCHS:
            return cv.tail_clearance(1 - acc) >= FOLLOWS
    return True


def _underfit_any(history: History, metric: str | None, ev: Evidence) -> bool:
    """The underfitting test on the training accuracy where logged; else on a
    penalty-free error metric logged beside the loss (:mod:`nooverfit._penalty_free`:
    Keras's L2 term makes both losses fall as the weights shrink), else on the loss."""
    if _has_train_metric(history, metric):
        return _underfit(ev, _weak_metric(history, metric))
    errors = error_history(history)
    if errors is not None:
        _, train_raw, val_raw = decision_curves(errors, None)
        if np.isfinite(val_raw).sum() >= MIN_EPOCHS:
            return _underfit(_evidence(errors, None, train_raw, val_raw), None)
    return _underfit(ev, None)


def _underfit(ev: Evidence, weak: bool | None) -> bool:
    """Whether the training accuracy stayed weak (under 0.75), or, without one, training
    got little below where it started, measured against the validation loss at its best:
    ``(train[0] - min(train)) / min(val)`` under 0.5 (and validation fell less than its
    own best level). Differences of the training loss and a ratio of losses, so neither a
    scale nor a constant penalty on the training loss changes it."""
    train, val = ev.train, ev.val
    if weak is not None:  # the accuracy says it: few training samples right or not (a
        # loss can keep falling with a penalty shrinking, as Keras logs its L2 term, or
        # stay high under label smoothing while every training sample is right)
        return weak
    low = float(np.min(val))
    if low <= 0:
        return False
    if ev.extra["train_late"] < FAR_BELOW * low:
        return False  # training got far below validation: the network fits, it is no
        # underfit (a constant penalty only lifts the training loss towards validation)
    if ev.extra["train_points"] < MIN_EPOCHS:  # a training loss logged once or twice
        # shows no fall: validation alone must have learned little
        raw_low = ev.extra["val_low"]
        return (ev.extra["val_first"] - raw_low) / raw_low < LEARNED_LITTLE
    if not np.isfinite(train).all():
        return False
    # the fall of the training curve as it was logged, not only at validated epochs: a
    # run validated every second epoch fell as far as one validated every epoch
    drop = (ev.extra["train_start"] - min(ev.extra["train_low"], float(np.min(train)))) / low
    # validation's own fall guards against a training curve whose first value was logged
    # late (a per-step log sampled every few steps)
    val_drop = (float(val[0]) - low) / low
    return drop < 0.5 and val_drop < 1.0


def _weak_metric(history: History, metric: str | None) -> bool:
    """Whether a higher-is-better metric in [0, 1] stayed below 0.75 on the training set,
    or fell there: its last third's median under 0.75 and ``LOST`` below its best (a
    penalty shrinking the weights until the network forgets what it fitted, while the
    loss, which holds the penalty, keeps falling)."""
    course = _accuracy_course(history, metric)
    if not course:
        return False
    best, late = course["accuracy_best"], course["accuracy_late"]
    return best < 0.75 or (late < 0.75 and best - late > LOST)


def _accuracy_course(history: History, metric: str | None) -> dict[str, float]:
    """The training accuracy's best and its last third's median (empty without one)."""
    values = cv.accuracy(history, metric, "")
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {}
    late = float(np.median(cv.last_third(finite, 1)))
    return {"accuracy_best": float(np.max(finite)), "accuracy_late": late}


def _has_train_metric(history: History, metric: str | None) -> bool:
    """Whether a training accuracy-like metric in [0, 1] was logged."""
    return bool(np.isfinite(cv.accuracy(history, metric, "")).any())


def _evidence(
    history: History, metric: str | None, train_raw: np.ndarray, val_raw: np.ndarray
) -> Evidence:
    """Features of the validated epochs (epochs without a validation value are skipped,
    so logging every second epoch reads like logging every epoch)."""
    keep = np.isfinite(val_raw)
    monitor_is_loss = np.isfinite(cv.column(history, "val_loss")).any()
    epochs = tuple(e for e, k in zip(history.epoch, keep, strict=True) if k)
    v_raw = val_raw[keep]
    t_full = cv.fill_missing(train_raw)
    t_raw = t_full[keep]
    n = len(v_raw)
    val = cv.smooth(v_raw)
    has_train = bool(np.isfinite(t_raw).all())
    train = cv.smooth(t_raw) if has_train else np.full(n, np.nan)
    best = best_index(list(v_raw)) or 0
    onset = onset_index(list(v_raw)) or 0
    low = int(np.argmin(val))
    rise = cv.ratio(float(val[-1]), float(val[low])) - 1 if val[low] > 0 else 0.0
    tail_drop = cv.tail_drop(v_raw)
    significance = cv.tail_significance(v_raw)
    real = train_raw[np.isfinite(train_raw)]  # the training values actually logged
    logged = cv.smooth(real) if real.size else real  # ... smoothed as a curve of their own
    early_stopped = history.stop_reason in _EARLY_STOPS
    learned = 0.0
    if has_train and train[0] > 0:
        learned = float(np.clip((train[0] - np.min(train)) / train[0], 0.0, 1.0))
    flat = tail_drop < STILL
    acc_t, acc_v = (
        cv.accuracy(history, metric, "")[keep],
        cv.accuracy(history, metric, "val_")[keep],
    )
    bounded = bool(n) and not math.isfinite(acc_t[-1]) and has_train and history.has("loss")
    if bounded and math.isfinite(acc_v[-1]) and monitor_is_loss:
        # no training accuracy logged (HF, SummaryWriter loops): a misclassified sample
        # costs at least ln 2 nats of cross-entropy, so a mean training loss L bounds the
        # training accuracy from below by 1 - L / ln 2 (a penalty in the loss only lowers
        # the bound)
        acc_t = acc_t.copy()
        acc_t[-1] = 1 - max(0.0, float(train[-1])) / math.log(2)
    else:
        bounded = False
    metric_gap = float(acc_t[-1] - acc_v[-1]) if n else math.nan
    # training fitted: a training accuracy of 97 %, or a bound from the loss (a penalty in
    # it lowers the bound) with the training loss at a memorized share of validation
    memorized = has_train and bool(n) and train[-1] <= MEMORIZED * val[-1]
    fitted = bool(n) and (acc_t[-1] >= 0.97 or (bounded and memorized))
    # growth of the train/validation gap since the validation minimum, against the
    # validation level there: a constant added to the training loss cancels out
    widened = (val[-1] - train[-1] - (val[low] - train[low])) / val[low] if val[low] > 0 else 0.0
    drifted = rise > RISE / 3 and low <= n - 3  # validation no longer at its minimum
    unlearned = UNLEARNED * val[-1]
    # still falling by the still-improving test's own measure (beyond its noise)
    falling = tail_drop > STILL and significance >= SIGNIFICANT
    signal = ""
    if early_stopped:  # the weights kept are the best epoch's: nothing to fix
        pass
    elif rise > RISE and low <= n - 3:
        signal = "rise"
    elif has_train and flat and drifted and train[-1] <= MEMORIZED * val[-1]:
        signal = "memorized"
    elif has_train and drifted and widened > WIDEN:
        signal = "memorized"  # validation drifted up while training kept pulling away
    elif flat and math.isfinite(metric_gap) and metric_gap >= GAP and fitted:
        signal = "gap"
    elif (
        has_train
        and not falling
        and train[-1] <= MEMORIZED * val[-1]
        and v_raw[0] - val[-1] < unlearned
    ):
        signal = "memorized"  # training fitted, validation ended about where it started
    elif (
        has_train
        and train[-1] <= MEMORIZED * val[-1]
        and tail_drop < -RISE / 3
        and cv.tail_clearance(v_raw) <= -CLIMB
        and low <= n - 3
    ):
        signal = "memorized"  # training fitted, validation climbing beyond its noise
    return Evidence(
        epochs=epochs,
        train=train,
        val=val,
        onset=onset,
        best=best,
        rise=rise,
        learned=learned,
        signal=signal,
        tail_drop=tail_drop,
        early_stopped=early_stopped,
        metric_gap=metric_gap,
        extra={
            "significance": significance,
            "below_early": cv.below_early_level(v_raw),
            "train_points": float(real.size),
            "val_first": float(v_raw[0]) if n else math.nan,
            "val_low": float(np.min(v_raw)) if n else math.nan,
            "accuracy_bound": float(bounded),
            "train_late": float(np.median(real[real.size // 2 :])) if real.size else math.nan,
            "train_start": float(real[0]) if real.size else math.nan,
            "train_low": float(np.min(logged)) if real.size else math.nan,
            **_accuracy_course(history, metric),
        },
    )
