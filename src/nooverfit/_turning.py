"""Validation thrown back and forth: a loss that turns by a fifth at every evaluation while
training stays near it. Pure: a history's curves in, a one-sentence reason out (empty when
the run shows no such thing). :func:`nooverfit._divergence.diverged` reads it.

:func:`~nooverfit._curves.reversals` sums, at each change of direction, the smaller of the
two moves (log space) over the number of moves: a U-shaped curve (overfitting) turns once,
a noisy plateau turns by its noise (a few percent), and a network thrown around by a step
too large turns by multiples of that. Over ``TURNS`` per evaluation (twice the
``OSCILLATION`` of the training-swing rule) no sound run's validation set moves, unless
the network fits its training samples and swings in its confident mistakes on the rest:
training far below validation (under ``NEAR`` of it), or a logged training accuracy of
``FITS`` or more, is a memorizing network, and this rule leaves it to the overfitting
rules. Ratios of the curves to themselves: no scale involved; a constant penalty on the
training loss only lifts it towards validation.
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit.history import History

#: Back-and-forth of log(validation loss) per evaluation that only an optimizer thrown
#: around explains (a fifth each way).
TURNS = 0.2
#: Training loss (its later half's median) under this share of validation's: the network
#: fits its training samples (memorization, not instability).
NEAR = 0.5
#: Training accuracy (later half's median) at which the network fits its samples.
FITS = 0.9


def thrown_around(history: History, train: np.ndarray, val: np.ndarray) -> str:
    """A reason when validation turns back and forth by over ``TURNS`` per evaluation
    (at least ``MIN_EPOCHS + 2`` of them) while the training loss stays near it and any
    logged training accuracy stays under ``FITS``; else an empty string."""
    v = val[np.isfinite(val)]
    t = train[np.isfinite(train)]
    if v.size < MIN_EPOCHS + 2 or not np.all(v > 0):
        return ""
    turns = cv.reversals(v)
    if turns <= TURNS:
        return ""
    late_v = float(np.median(v[v.size // 2 :]))
    if t.size and float(np.median(t[t.size // 2 :])) < NEAR * late_v:
        return ""
    if fits_samples(history, train):
        return ""
    return (
        f"the validation loss turns back and forth by {100 * turns:.0f}% per evaluation "
        "while the training loss stays near it: the weights are thrown around"
    )


def fits_samples(history: History, train: np.ndarray) -> bool:
    """Whether a classifier gets ``FITS`` of its training samples right over the later
    half: its logged training accuracy, or, without one, the bound ``1 - L / ln 2`` from
    its mean training cross-entropy ``L`` (each mistake costs at least ln 2 nats). Such a
    network is fitting, and a validation loss that jumps between evaluations swings in
    its confident mistakes on a few validation samples (a small validation set), not in
    weights thrown around, which would miss training samples too. Regression logs carry
    no such count: False."""
    acc = cv.accuracy(history, "accuracy", "")
    late = acc[len(acc) // 2 :]
    if np.isfinite(late).any():
        return float(np.nanmedian(late)) >= FITS
    t = train[np.isfinite(train)]
    if not t.size or not np.isfinite(cv.accuracy(history, "accuracy", "val_")).any():
        return False
    return 1 - float(np.median(t[t.size // 2 :])) / math.log(2) >= FITS
