"""Regression tests for i57's diagnosis changes, on real logs written by the frameworks
(``tests/data/``, ``bench/diagnose_probe_logs.py``)."""

from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit._chance import ABOVE_GUESSING
from nooverfit._curves import smooth
from nooverfit._learned import accuracy_learned
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"


def test_a_failed_run_at_a_rate_of_1_is_diverging_not_overfitting():
    """Keras, RMSprop at a rate of 1, 3 classes: the loss blew up to 6,600 in the first
    epoch; the network then sits near the majority class (accuracy 0.45-0.49) with one
    evaluation putting every sample in the smallest class (0.08). Validation 1.5-1.9 stays
    over 1.5 times the loss of guessing read from the accuracy's level (ln(1 / 0.45) =
    0.79), not from that one evaluation (ln(1 / 0.08) = 2.5). Before (e1486ce): the
    validation rise read as overfitting."""
    h = read_log(DATA / "failed_lr1_rmsprop_keras.csv")
    acc = np.asarray(h.column("val_accuracy"))
    assert acc.min() < 0.1 < 0.4 < smooth(acc).min()
    guess = np.log(1 / smooth(acc).min())
    assert smooth(np.asarray(h.val_loss)).min() > ABOVE_GUESSING * guess
    assert not accuracy_learned(h)
    assert diagnose(h).verdict is Verdict.DIVERGING


def test_one_evaluation_in_a_small_class_is_no_level_the_accuracy_rose_from():
    """An accuracy near 0.47 throughout, with one evaluation at 0.08 (every sample put in
    the smallest class), did not rise 39 points: the level is read on the smoothed curve.
    The same curve climbing from 0.3 to 0.47 over the run did rise."""
    flat = np.full(20, 0.47) + 0.01 * np.tile([1.0, -1.0], 10)
    flat[12] = 0.08
    loss = list(np.linspace(1.1, 1.0, 20))
    h = History.from_columns(
        {"loss": loss, "accuracy": list(flat), "val_loss": loss, "val_accuracy": list(flat)}
    )
    assert not accuracy_learned(h)
    climb = list(np.linspace(0.3, 0.47, 20))
    h = History.from_columns(
        {"loss": loss, "accuracy": climb, "val_loss": loss, "val_accuracy": climb}
    )
    assert accuracy_learned(h)
