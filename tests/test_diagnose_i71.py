"""Issue 15, i71: the texts of one diagnosis agree with each other and with its numbers.

"Inconsistent numbers ... onset 39 while the best epoch is 29 ('ended 10 % worse than its
best (epoch 29)')": the explanation said "validation stopped improving around epoch 39"
next to a best epoch of 29, a contradiction on its face. The two numbers are different
things (:mod:`nooverfit.history`): the best epoch is the lowest raw validation value, the
weights to keep; the onset is where the curve's moving average over 5 evaluations was
lowest, moved to the best epoch when that comes later. A lucky low point can come before
the trend turns, so the onset may lie after the best epoch but never before it; the text
must say which number is which.

Expected values are computed here from the logged validation column, independently of
:func:`nooverfit.history.onset_index`.
"""

from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

CURVES = Path(__file__).parent / "fixtures" / "curves"


def _moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    """Centered moving average whose window shrinks at the edges."""
    half = width // 2
    return np.array([x[max(0, i - half) : i + half + 1].mean() for i in range(len(x))])


def test_onset_after_the_best_epoch_is_named_as_the_trend_not_the_best():
    """A digits MLP of the default study's family (width 1024, Adam, 60 epochs): its
    lowest validation loss is a dip at epoch 13, its 5-evaluation average bottoms out at
    epoch 39."""
    history = read_log(CURVES / "overfitting__digits__s3.csv")
    val = np.asarray(history.val_loss, dtype=float)
    best = int(np.argmin(val))  # the first of equal minima
    trend = int(np.argmin(_moving_average(val)))
    gl = 100 * (val[-1] / val[best] - 1)
    assert (best, trend) == (13, 39)  # the case the audit found: the two 26 epochs apart
    d = diagnose(history)
    assert d.verdict is Verdict.OVERFITTING
    assert (d.best_epoch, d.onset_epoch) == (best, max(best, trend))
    text = d.explanation
    assert f"Validation was best at epoch {best} (its lowest value: the weights to keep)" in text
    assert (
        f"overfitting sets in around epoch {trend}, where its moving average over 5 "
        "evaluations was lowest" in text
    )
    assert f"it ended {gl:.0f}% worse than that best" in text
    assert "stopped improving" not in text  # what the best epoch 26 epochs before denies


def test_onset_at_the_best_epoch_is_said_once():
    history = read_log(CURVES / "overfitting__digits__s1.csv")
    val = np.asarray(history.val_loss, dtype=float)
    best = int(np.argmin(val))
    assert best >= int(np.argmin(_moving_average(val)))  # the onset moves up to the best
    d = diagnose(history)
    assert (d.best_epoch, d.onset_epoch) == (best, best)
    assert (
        f"Validation was best at epoch {best} (the weights to keep), where overfitting sets in"
        in d.explanation
    )
    assert "moving average" not in d.explanation


def test_the_early_stopping_cause_names_best_and_trend_apart():
    """The cause "too many epochs" said "lowest at epoch 2, rose from epoch 4 on": the
    rise it dates is the moving average's, the lowest point the raw curve's."""
    history = read_log(CURVES / "overfitting__synthetic__s3.csv")
    val = np.asarray(history.val_loss, dtype=float)
    best, trend = int(np.argmin(val)), int(np.argmin(_moving_average(val)))
    assert trend > best
    d = diagnose(history)
    cause = next(c for c in d.causes if c.kind == "too_many_epochs")
    assert cause.reason.startswith(
        f"The validation loss was lowest at epoch {best}, its moving average turned up at "
        f"epoch {trend}, and ended "
    )
    stop = next(r for r in d.remedies if r.kind == "early_stopping")
    assert stop.setting.startswith(f"--epochs {best + 1} ")  # the weights of the best epoch
