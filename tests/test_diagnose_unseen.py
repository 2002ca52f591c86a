"""Regression tests from real design-part runs of the log corpus (``tests/_real_logs.py``)
for the rule changes of issue 15's third round: a network that fits its training set
while validation never beats its guessing estimate (overfitting, not an unstable
optimizer)."""

import math

import numpy as np

from _real_logs import label, load
from nooverfit import _curves as cv
from nooverfit import diagnose
from nooverfit._divergence import OSCILLATION
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def test_a_network_fitting_below_guessing_overfits_rather_than_diverges():
    """Four blobs with noisy labels, 100 samples, a 512x3 network: validation accuracy
    under 50 %, the validation loss above ln(1 / lowest accuracy) throughout and turning
    by about 3 % per evaluation while it climbs 2.3x. The single-batch training losses sit
    at a third of that level: the optimizer fits its training set, so validation failing
    is memorization. The test loss rose 2.7x from its first evaluation (the label)."""
    h = load("fitting_below_guessing_overfit_tensorboard")
    acc = np.asarray(h.val_accuracy, dtype=float)
    level = -math.log(float(np.nanmin(acc)))
    val = np.asarray([v for v in h.val_loss if math.isfinite(v)])
    assert cv.smooth(val).min() >= level
    assert OSCILLATION / 4 < cv.reversals(val) < OSCILLATION
    train = np.asarray([v for v in h.loss if math.isfinite(v)])
    assert np.median(train[train.size // 2 :]) < level / 2
    assert diagnose(h).verdict is Verdict.OVERFITTING
    test = np.asarray(label("fitting_below_guessing_overfit_tensorboard")["test"])
    assert label("fitting_below_guessing_overfit_tensorboard")["verdict"] == "overfitting"
    assert test[-1] > 2 * test[0]


def test_validation_turning_like_an_oscillating_loss_is_unstable_however_low_training():
    """The same shape with validation thrown by 30 % turns at every evaluation: however
    low the training loss, turns that large are an optimizer thrown around."""
    h = load("fitting_below_guessing_overfit_tensorboard")
    val = np.asarray(h.val_loss, dtype=float)
    sign = np.where(np.arange(len(val)) % 4 < 2, 1.0, -1.0)  # every evaluation turns
    columns = {c: list(h.column(c)) for c in ("loss", "val_accuracy")}
    columns["val_loss"] = list(val * np.exp(0.3 * sign * np.isfinite(val)))
    swung = History.from_columns(columns, epoch=h.epoch)
    assert cv.reversals(np.asarray([v for v in columns["val_loss"] if v == v])) > OSCILLATION
    assert diagnose(swung).verdict is Verdict.DIVERGING
