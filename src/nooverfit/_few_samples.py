"""How many samples the validation accuracy was measured on, read from the accuracy alone.

An accuracy over ``N`` samples takes only the values ``k / N``. A log rarely says how large
its validation set was, but a validation accuracy that moves in steps of 1/20 (0.80, 0.85,
0.95) was measured on 20 samples or a multiple of 20: one sample moves it by 5 points, and
a handful of confident mistakes moves the validation loss by half (a digits MLP validated
on 20 images, s30 i163: validation loss up 55 % while a test set of 1,277 images held
still). The verdict stays what the curves say; the caveat says how little they rest on.
Pure.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit.history import History

#: Largest validation set, in samples, the caveat is given for: one sample then moves the
#: accuracy by 2 points or more.
FEW = 50
#: Distinct validation accuracies needed before their steps are read as 1/N (two values
#: fit many N by chance: 0.95 and 1.0 fit every multiple of 20).
DISTINCT = 3
#: How far ``accuracy * N`` may lie from a whole number (frameworks log float32 means:
#: 17 / 20 is logged as 0.8500000238, a relative error near 1e-7).
ROUND_OFF = 1e-3


def validation_samples(history: History) -> int | None:
    """The smallest ``N`` up to :data:`FEW` of which every validation accuracy is a
    multiple ``k / N``, or None (no accuracy, fewer than :data:`DISTINCT` distinct values,
    or none fits).

    A lower bound on the validation set's size in the sense that the set holds ``N`` or a
    multiple of ``N`` samples (an accuracy over 40 samples that was always even also fits
    20); a set of hundreds fits no ``N`` this small unless its values happen to coincide.
    """
    acc = cv.accuracy(history, "accuracy", "val_")
    values = np.unique(np.round(acc[np.isfinite(acc)], 6))
    if values.size < DISTINCT or values.min() < 0 or values.max() > 1:
        return None
    for n in range(2, FEW + 1):
        scaled = values * n
        if np.all(np.abs(scaled - np.round(scaled)) <= ROUND_OFF):
            return n
    return None


def few_samples_caveat(history: History) -> str:
    """A caveat for a validation accuracy measured on :data:`FEW` samples or fewer (see
    :func:`validation_samples`); empty otherwise."""
    n = validation_samples(history)
    if n is None:
        return ""
    return (
        f"Read with care: the validation accuracy moves in steps of 1/{n} "
        f"({100 / n:.1f} points), so it was measured on {n} samples or a multiple of {n}; "
        "on so few, a handful of confident mistakes moves the validation loss a long way. "
        "A larger validation set (or cross-validation) says more than this verdict."
    )
