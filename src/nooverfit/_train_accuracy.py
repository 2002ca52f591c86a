"""The training accuracy's course: whether a classifier fits few training samples.

A higher-is-better metric in [0, 1] logged on the training set says directly whether the
network fits its training samples; the still-improving and underfitting tests of
:mod:`nooverfit._rules` read it before any loss (a loss can keep falling as a penalty
shrinks, as Keras logs its L2 term in both losses). Pure: a history in, numbers out.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit.history import History

#: Fall of the training accuracy from its best to its last third's median that, ending
#: under 0.75, says the network lost what it had fitted (a share of samples).
LOST = 0.1


def weak_metric(history: History, metric: str | None, prefix: str = "") -> bool:
    """Whether a higher-is-better metric in [0, 1] stayed below 0.75 on the training set
    (or on the set ``prefix`` names),
    or fell there: its last third's median under 0.75 and ``LOST`` below its best (a
    penalty shrinking the weights until the network forgets what it fitted, while the
    loss, which holds the penalty, keeps falling)."""
    course = accuracy_course(history, metric, prefix)
    if not course:
        return False
    best, late = course["accuracy_best"], course["accuracy_late"]
    return best < 0.75 or (late < 0.75 and best - late > LOST)


def accuracy_course(history: History, metric: str | None, prefix: str = "") -> dict[str, float]:
    """The training accuracy's (or ``prefix``'s) best and its last third's median (empty
    without one)."""
    values = cv.accuracy(history, metric, prefix)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {}
    late = float(np.median(cv.last_third(finite, 1)))
    return {"accuracy_best": float(np.max(finite)), "accuracy_late": late}


def has_train_metric(history: History, metric: str | None) -> bool:
    """Whether a training accuracy-like metric in [0, 1] was logged."""
    return bool(np.isfinite(cv.accuracy(history, metric, "")).any())
