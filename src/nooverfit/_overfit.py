"""The evidence features of a run and its overfitting signal.

:func:`evidence` reads the validated epochs of a history (epochs without a validation
value are skipped, so logging every second epoch reads like logging every epoch) into an
:class:`~nooverfit.diagnosis.Evidence`: the smoothed curves, best epoch, onset, rise,
last third's fall, and the signal that shows overfitting (``"rise"``, ``"memorized"``,
``"gap"``; rule 3 of :mod:`nooverfit._rules`). Pure.
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit import _curves as cv
from nooverfit._still import SIGNIFICANT, STILL, end_drop, flattened, near_end
from nooverfit._train_accuracy import accuracy_course
from nooverfit.diagnosis import Evidence
from nooverfit.history import History, best_index, onset_index

#: Smoothed validation-loss rise above its minimum that counts as overfitting (fraction).
RISE = 0.15
#: Train-minus-validation accuracy at the end that counts as overfitting (fraction).
GAP = 0.06
#: Train-minus-validation accuracy that counts as overfitting while validation's last
#: third still tilts down but no longer sets lows near its end (the corpus labels' own
#: gap evidence: 10 points).
WIDE_GAP = 0.1
#: Growth of the train/validation gap after the validation minimum, as a share of the
#: validation loss there, that (with a rise of a third of ``RISE``) shows overfitting.
WIDEN = 0.15
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
_EARLY_STOPS = ("patience", "generalization_loss", "progress_quotient", "up")


def evidence(
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
    clearance = cv.tail_clearance(v_raw)  # (not a t statistic: thinning-invariant)
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
    # the training loss, smoothed over the validated epochs: the curve decided on where
    # validation logs its loss; else (validation logs only its accuracy) the loss column
    loss_t = (
        train if monitor_is_loss else cv.smooth(cv.fill_missing(cv.column(history, "loss"))[keep])
    )
    bounded = bool(n) and not math.isfinite(acc_t[-1]) and history.has("loss")
    bounded = bounded and (has_train or not monitor_is_loss) and math.isfinite(loss_t[-1])
    if bounded and math.isfinite(acc_v[-1]):
        # no training accuracy logged (HF, SummaryWriter loops): a misclassified sample
        # costs at least ln 2 nats of cross-entropy, so a mean training loss L bounds the
        # training accuracy from below by 1 - L / ln 2 (a penalty in the loss only lowers
        # the bound). Also where validation logs only its accuracy (i141: a training loss
        # at 0.0005 beside validation at 70 %, "a good fit, nothing needs fixing")
        acc_t = acc_t.copy()
        acc_t[-1] = 1 - max(0.0, float(loss_t[-1])) / math.log(2)
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
    falling = tail_drop > STILL and clearance >= SIGNIFICANT
    recent_low = float(cv.recent_low(v_raw)) if n else math.nan  # (the last third's low)
    signal = ""
    if early_stopped:  # the weights kept are the best epoch's: nothing to fix
        pass
    elif rise > RISE and low <= n - 3:
        signal = "rise"
    elif flat and drifted and memorized:
        signal = "memorized"
    elif has_train and drifted and widened > WIDEN:
        signal = "memorized"  # validation drifted up while training kept pulling away
    elif (
        # (validation still tilting down over its last third but no longer setting lows
        # near its end has stopped improving: the gap is the evidence, issue 15's "a large
        # generalization gap is overfitting evidence even when the validation loss does
        # not rise"; an early-stopped Lightning run on 100 digits, training at 98 % and
        # validation at 87 %, read "a good fit, nothing needs fixing"). There, a gap of
        # ``WIDE_GAP`` (a digits MLP under dropout 0.5, 98.8 % to 92.8 % on a plateau
        # still tilting down 2.8 %, is no such case) and a logged training accuracy: the
        # bound from the loss has a scale (on the corpora it gained one run and turned 10
        # verdicts more under the metamorphic transforms)
        math.isfinite(metric_gap)
        and fitted
        and (
            (flat and metric_gap >= GAP)
            or (metric_gap >= WIDE_GAP and not bounded and not near_end(recent_low, n))
        )
    ):
        signal = "gap"
    elif memorized and not falling and v_raw[0] - val[-1] < unlearned:
        signal = "memorized"  # training fitted, validation ended about where it started
    elif memorized and tail_drop < -RISE / 3 and clearance <= -CLIMB and low <= n - 3:
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
            "clearance": clearance,
            "below_early": cv.below_early_level(v_raw),
            "end_drop": end_drop(v_raw),
            "flattened": float(n > 0 and flattened(v_raw)),
            "recent_low": recent_low,
            "train_points": float(real.size),
            "val_first": float(v_raw[0]) if n else math.nan,
            "val_low": float(np.min(v_raw)) if n else math.nan,
            "accuracy_bound": float(bounded),
            "train_late": float(np.median(real[real.size // 2 :])) if real.size else math.nan,
            "train_start": float(real[0]) if real.size else math.nan,
            "train_low": float(np.min(logged)) if real.size else math.nan,
            **accuracy_course(history, metric),
        },
    )
