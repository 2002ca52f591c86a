"""Regression tests from real runs of the log corpus (``tests/_real_logs.py``) for i50's
rule changes: an underfit read on the penalty-free error metric a Keras log carries beside
a loss that holds the L2 term, and the validation-jump rule sparing a classifier that fits
its training samples."""

import numpy as np

from _real_logs import label, load
from nooverfit import diagnose
from nooverfit._penalty_free import error_history
from nooverfit._turning import fits_samples
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def test_an_underfit_is_read_on_the_error_metric_when_the_loss_holds_a_penalty():
    """Keras, MSE regression, a 2-unit network under an L2 weight of 0.3 (design2): both
    losses hold the penalty and fall 2.6 -> 0.8 and 2.2 -> 0.9 as the weights shrink; the
    logged MAE, which holds none, stands still after the first epoch. Before: good_fit."""
    h = load("penalty_underfit_mae_keras")
    errors = error_history(h)
    assert errors is not None
    loss_fall = h.loss[0] / min(h.loss)
    mae_fall = errors.loss[0] / min(errors.loss)
    assert loss_fall > 3 > 1.6 > mae_fall
    assert diagnose(h).verdict is Verdict.UNDERFITTING
    assert label("penalty_underfit_mae_keras")["verdict"] == "underfitting"
    # without the metric, the penalty's fall reads as learning
    bare = History.from_columns({"loss": h.loss, "val_loss": h.val_loss}, epoch=h.epoch)
    assert diagnose(bare).verdict is Verdict.GOOD_FIT


def test_a_metric_that_is_the_loss_itself_adds_nothing():
    """A log whose ``mae`` column equals its loss (an MAE run logging its loss twice) has
    no penalty-free curve apart from the loss: the loss's own test decides."""
    loss = list(np.linspace(1.0, 0.5, 10))
    h = History.from_columns(
        {"loss": loss, "val_loss": [v + 0.1 for v in loss], "mae": loss, "val_mae": loss}
    )
    assert error_history(h) is None


def test_validation_jumping_while_training_misses_its_samples_is_a_failed_run():
    """HF, cancer at SGD lr 10 (design): validation jumps 5x per evaluation and its
    accuracy falls back to 39 % twice; the training cross-entropy (1.4 nats) bounds the
    training accuracy below zero: weights thrown around, as labelled."""
    h = load("jumping_unfitted_hf")
    assert not fits_samples(h, np.asarray(h.loss, dtype=float))
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "jumps" in d.explanation
    assert label("jumping_unfitted_hf")["verdict"] == "diverging"


def _memorizer(with_accuracy: bool) -> History:
    """A classifier that fits its training samples (loss 0.02, accuracy 99 %) while its
    validation loss, on a few samples it gets confidently wrong, doubles and halves
    between evaluations around a rising level."""
    n = 24
    train = list(np.geomspace(0.6, 0.02, n))
    val = [(0.3 + 0.02 * i) * (2.2 if i % 2 else 1.0) for i in range(n)]
    columns = {"loss": train, "val_loss": val, "val_accuracy": [0.9] * n}
    if with_accuracy:
        columns["accuracy"] = list(np.linspace(0.8, 0.99, n))
    return History.from_columns(columns)


def test_validation_jumping_while_the_network_fits_its_samples_is_not_divergence():
    """The turning rule's guard, applied to the jump rule too (i50): a network that gets
    90 % of its training samples right (logged accuracy, or the bound from its training
    cross-entropy) swings in its confident mistakes on a small validation set."""
    for with_accuracy in (True, False):
        h = _memorizer(with_accuracy)
        assert fits_samples(h, np.asarray(h.loss, dtype=float))
        assert diagnose(h).verdict is not Verdict.DIVERGING
    # a regression log carries no count of samples right: the guard never applies
    bare = History.from_columns(
        {"loss": _memorizer(False).loss, "val_loss": _memorizer(False).val_loss}
    )
    assert not fits_samples(bare, np.asarray(bare.loss, dtype=float))
