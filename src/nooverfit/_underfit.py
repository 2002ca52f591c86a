"""The underfitting test: the network got few training samples right, or little below
where it started.

Read on the training accuracy where one is logged; else on a penalty-free error metric
logged beside the loss (:mod:`nooverfit._penalty_free`); else on the loss itself, in
differences and ratios of losses so that neither a scale nor a constant penalty on the
training loss changes it. Pure.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit._metrics import decision_curves
from nooverfit._overfit import evidence
from nooverfit._penalty_free import error_history
from nooverfit._train_accuracy import has_train_metric, weak_metric
from nooverfit.diagnosis import Evidence
from nooverfit.history import History

#: Training loss below this share of the best validation loss: the network fits its
#: training set, whatever the fall (never an underfit).
FAR_BELOW = 0.5
#: Fall of validation below its first value, as a share of its best, under which a run
#: whose training loss was logged too rarely to read learned little.
LEARNED_LITTLE = 0.1
#: Training loss at least ``1 - ALIKE`` of the validation loss: the two score alike.
ALIKE = 0.1


def underfit_any(history: History, metric: str | None, ev: Evidence) -> bool:
    """The underfitting test on the training accuracy where logged; else on the
    validation accuracy where training scores like validation (:func:`scores_alike`);
    else on a penalty-free error metric logged beside the loss
    (:mod:`nooverfit._penalty_free`: Keras's L2 term makes both losses fall as the
    weights shrink), else on the loss."""
    if has_train_metric(history, metric):
        return underfit(ev, weak_metric(history, metric))
    if scores_alike(history) and weak_metric(history, metric, "val_"):
        return True
    errors = error_history(history)
    if errors is not None:
        _, train_raw, val_raw = decision_curves(errors, None)
        if np.isfinite(val_raw).sum() >= MIN_EPOCHS:
            return underfit(evidence(errors, None, train_raw, val_raw), None)
    return underfit(ev, None)


def scores_alike(history: History) -> bool:
    """Whether the training loss (its later half's median, as logged) sits no lower than
    ``1 - ALIKE`` of validation's: the network does no better on its own samples than on
    unseen ones, so it gets about as many of them right as validation does (the Hugging
    Face Trainer and plain loops log no training accuracy; i64)."""
    train, val = cv.column(history, "loss"), cv.column(history, "val_loss")
    train, val = train[np.isfinite(train)], val[np.isfinite(val)]
    if train.size < MIN_EPOCHS or val.size < MIN_EPOCHS:
        return False
    late_val = float(np.median(val[val.size // 2 :]))
    return late_val > 0 and float(np.median(train[train.size // 2 :])) >= (1 - ALIKE) * late_val


def underfit(ev: Evidence, weak: bool | None) -> bool:
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
