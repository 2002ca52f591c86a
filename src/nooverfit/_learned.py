"""Whether a classifier's logged accuracy shows that it learned: the scale-free evidence
that makes a loss level above chance no sign of a failed run.

The failed-run tests of :mod:`nooverfit._divergence` compare a loss with the cross-entropy
of a constant predictor (``ln K`` nats). That level holds for a mean cross-entropy only:
a loss summed over samples (``reduction="sum"``), scaled by a constant, or carrying a
penalty sits above it however well the network learned, and issue 15 requires that
scaling every loss leaves the verdict alone. Saturated outputs show in the accuracy as
well: they put the samples in fixed classes, so the accuracy stays near the share it
jumped to and stops moving. An accuracy that rose well above its lowest value, or that
stays above one half (beyond a constant predictor of two or more balanced classes) while
still moving, comes from a network that answers its inputs: its loss level, whatever it
is, is no evidence of saturation. Pure: a history in, a bool out.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit.history import History

#: Rise of an accuracy from its lowest value to its later half's median (a share of
#: samples) that only a network that learned makes (saturated outputs hold the share
#: they jumped to).
ROSE = 0.1
#: Training accuracy (its later half's median) of a network that gets every sample right.
FITS = 0.999
#: Spread of the validation accuracy over its later half (a share of samples) beyond
#: which the decisions still move: saturated outputs freeze them.
MOVING = 0.01
#: Training loss (its later half's median) under this share of its first logged value,
#: and ...
TRAIN_FELL = 0.5
#: ... validation loss (its smoothed minimum) under this share of its first evaluation:
#: both losses fell well below where they started, which saturated outputs never do.
VAL_FELL = 0.8
#: Training loss (its later half's median) under this share of its first logged value:
#: the network fits its training samples (a hundredfold fall), whatever validation did.
FITTED = 0.01
#: Validation loss (its smoothed minimum) under this share of its first evaluation: the
#: run started thrown out (a network learning from its initial weights is evaluated after
#: its first epoch a few times above where it ends, not twentyfold), so its falls say
#: nothing about learning.
THROWN = 0.05


def accuracy_learned(history: History) -> bool:
    """Whether a logged accuracy (training or validation, in [0, 1]) shows the network
    learned: it rose by ``ROSE`` from its lowest level after the first evaluation (on the
    curve smoothed by a running median: one evaluation in a small class is no level, i57)
    to its later half's median, which still moves (or, in training, sits at ``FITS``), or
    (validation) it stayed above 0.5 at every evaluation while its later half still moves
    by more than ``MOVING``. ``False`` without an accuracy (a regression log, or one
    that logs the loss only): the loss level is then all there is to read."""
    for prefix in ("", "val_"):
        acc = cv.accuracy(history, "accuracy", prefix)
        acc = acc[np.isfinite(acc)]
        if acc.size < MIN_EPOCHS:
            continue
        late = acc[acc.size // 2 :]
        # risen from its lowest after the first evaluation (saturating outputs jump in
        # their first epoch, then freeze: a later half that moves, or a training set all
        # right, is a network still answering its inputs)
        moves = np.ptp(late) > 0 or (not prefix and float(np.median(late)) >= FITS)
        # (its lowest level on the smoothed curve, a running median first: outputs that
        # saturate flip between classes, and one evaluation with every sample in a small
        # class is no level the network rose from)
        if float(np.median(late)) - float(cv.smooth(acc)[1:].min()) >= ROSE and moves:
            return True
        if prefix and acc.min() > 0.5 and np.ptp(late) > MOVING:
            return True
    return False


def decisions_move(history: History) -> bool:
    """Whether the network's decisions still move: a logged accuracy's later half spreads
    by more than ``MOVING``, or it learned (:func:`accuracy_learned`). Saturated outputs
    put every sample in a class that no step changes; a network near chance whose
    accuracy still wanders answers its inputs (an underfit, whatever its loss's scale)."""
    for prefix in ("", "val_"):
        acc = cv.accuracy(history, "accuracy", prefix)
        acc = acc[np.isfinite(acc)]
        if acc.size >= MIN_EPOCHS and np.ptp(acc[acc.size // 2 :]) > MOVING:
            return True
    return accuracy_learned(history)


def losses_fell(history: History) -> bool:
    """Whether both losses fell well below where they started, a scale-free sign that the
    network learned: training's later-half median under ``TRAIN_FELL`` of its first
    logged value and validation's smoothed minimum under ``VAL_FELL`` of its first
    evaluation (at least ``MIN_EPOCHS`` of each), or training's under ``FITTED`` of its
    first value (the training samples fitted); never where validation fell under
    ``THROWN`` of its first evaluation (a start thrown out). Saturated outputs hold the loss where
    it jumped (their first values are already the level they stay at); a loss summed over
    samples or scaled by a constant sits far above ``ln K`` while it falls like any other
    (issue 15: scaling every loss must not change the verdict). A ratio of each curve to
    itself: no scale involved."""
    t, v = cv.column(history, "loss"), cv.column(history, "val_loss")
    t, v = t[np.isfinite(t)], v[np.isfinite(v)]
    if t.size < MIN_EPOCHS or v.size < MIN_EPOCHS or t[0] <= 0 or v[0] <= 0:
        return False
    late, low = float(np.median(t[t.size // 2 :])), float(cv.smooth(v).min())
    if low < THROWN * float(v[0]):  # validation started thrown out, then came back
        return False
    if late < FITTED * float(t[0]):  # the training samples fitted, however validation went
        return True
    return late < TRAIN_FELL * float(t[0]) and low < VAL_FELL * float(v[0])


def learned(history: History) -> bool:
    """Whether the log shows a network that learned, by its accuracy
    (:func:`accuracy_learned`) or, whatever the loss's scale, by both losses' falls
    (:func:`losses_fell`): a loss level above chance is then no sign of a failed run."""
    return accuracy_learned(history) or losses_fell(history)
