"""Regression tests for i57's diagnosis changes, on real logs written by the frameworks
(``tests/data/``, ``bench/diagnose_probe_logs.py``)."""

from pathlib import Path

import numpy as np

from _optional import needs
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


def _scaled(h: History, factor: float) -> History:
    columns = {c: list(h.column(c)) for c in h.columns()[1:]}
    for c in ("loss", "val_loss"):
        if c in columns:
            columns[c] = [factor * x for x in columns[c]]
    return History.from_columns(columns, epoch=h.epoch)


@needs("tensorboard")
def test_a_first_evaluation_below_the_smoothed_edge_still_counts_as_a_rise():
    """Design run 0011 (SummaryWriter, cancer, labelled good_fit): validation accuracy
    87.6 % at its first evaluation, 98.2 % at its best; the running median pads the edge
    with later values (89.7 %), which alone would make the climb 8.5 points, under the
    10 that show learning. Read from the first evaluation as logged, it rose 10.6 points:
    with every loss x10 (a summed loss, far above ln 2) it stays good_fit."""
    h = read_log(DATA / "design_0011_good_fit_tensorboard")
    acc = np.asarray(h.column("val_accuracy"))
    acc = acc[np.isfinite(acc)]
    assert smooth(acc).max() - smooth(acc).min() < 0.1 < smooth(acc).max() - acc[0]
    assert diagnose(h).verdict is Verdict.GOOD_FIT
    assert diagnose(_scaled(h, 10.0)).verdict is Verdict.GOOD_FIT


@needs("tensorboard")
def test_above_half_at_every_evaluation_reads_the_raw_accuracy():
    """Design run 0274 (SummaryWriter, digits, Adam at a rate of 30, labelled diverging):
    five evaluations, validation loss 46,000-90,000 nats, accuracy 47 -> 81 %. Its lowest
    evaluation (47 %) is under one half, so it did not beat guessing at every evaluation,
    although the smoothed curve's lowest value (51 %) is above: diverging."""
    h = read_log(DATA / "design_0274_diverging_tensorboard")
    acc = np.asarray(h.column("val_accuracy"))
    assert acc.min() < 0.5 < smooth(acc).min()
    assert diagnose(h).verdict is Verdict.DIVERGING
