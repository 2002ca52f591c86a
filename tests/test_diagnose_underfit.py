"""Underfit or good fit: what a penalty, a stand-in accuracy and a low ceiling change.

A penalty in the logged loss (an L2 term, as Keras logs it) falls as the weights shrink
and reads as learning: the underfit is read on a penalty-free error metric where the log
carries one (i50). Where no training accuracy is logged, validation's stands in when
training scores like validation, and not when training lies far below it (i64). A good fit
on data that allow little looks like an underfit (training close to validation); a
constant penalty or a scale on every loss leaves it a good fit (i94).

Each helper id names its section in ``bench/README.md``.
"""

import json
import math

import numpy as np
import pytest

from _diagnose_fixtures import DATA, flat_run
from _real_logs import label, load
from nooverfit import diagnose
from nooverfit._metrics import decision_curves
from nooverfit._overfit import evidence
from nooverfit._penalty_free import error_history
from nooverfit._underfit import scores_alike
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log


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


def test_validation_accuracy_stands_in_when_training_scores_like_validation():
    """The Hugging Face Trainer logs no training accuracy. An MLP on digits held down by
    weight decay 0.1: training loss 1.30, validation 1.41 (ln 10 = 2.30), validation
    accuracy never above 75 %. Training scoring like validation gets about as many of its
    samples right, so the validation accuracy says what the training accuracy would:
    an underfit (the test accuracy, never shown to ``diagnose``, stays under 76 %)."""
    folder = DATA / "underfit_digits_weight_decay_hf"
    h = read_log(folder / "trainer_state.json")
    assert isinstance(h, History)
    assert not h.has("accuracy")
    side = json.loads((folder / "test_curve.json").read_text())
    assert max(side["test_accuracy"]) < 0.76
    assert scores_alike(h)
    assert diagnose(h).verdict is Verdict.UNDERFITTING


def test_a_training_loss_far_below_validation_is_no_stand_in():
    """The same weak validation accuracy with training at a third of validation: the
    network fits its own samples, the validation accuracy says nothing about them."""
    floor = math.log(1 / 0.31)
    fitting = flat_run(0.3 * floor, 1.0 * floor, 0.6)
    alike = flat_run(0.98 * floor, 1.0 * floor, 0.6)
    assert not scores_alike(fitting)
    assert scores_alike(alike)
    assert diagnose(alike).verdict is Verdict.UNDERFITTING
    assert diagnose(fitting).verdict is not Verdict.UNDERFITTING


QUAKES = DATA / "good_fit_low_ceiling_quakes_lightning.csv"


def _later_half_median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values[values.size // 2 :]))


def _with(h: History, *, penalty: float = 0.0, scale: float = 1.0) -> History:
    train = np.asarray(h.loss) * scale + penalty
    val = np.asarray(h.val_loss) * scale
    return History.from_columns({"loss": list(train), "val_loss": list(val)}, epoch=h.epoch)


def test_the_run_looks_like_an_underfit_but_its_test_curve_says_good_fit():
    """``tests/data/good_fit_low_ceiling_quakes_lightning.csv`` is run 077 of the i74 corpus
    (Lightning's CSVLogger, MAE regression of earthquake magnitudes, 80 epochs), labelled
    good_fit by construction and confirmed by its test curve (``..._test_curve.json``, which
    the diagnosis never sees): test R^2 0.755 at the end, where a strong reference model
    reaches 0.755. The data allow little, so the log looks like an underfit's: training scores
    close to validation (its later half at 0.94 of validation's) and fell by only 0.69 of
    validation's best level.

    i94 measured a rule that called such a run underfitting (training at 0.95 of validation or
    more, and a fall under validation's level: a capacity-limited network fits its own samples
    no better than unseen ones). It gained three underfits on the design corpora (i60
    k_uf_sinreg_lin, t_uf_sinreg_w2, i65 040) and lost none there, but a constant penalty of 5 %
    of the lowest validation loss on the training loss (an L2 term as Keras adds it) lifted
    this run's ratio from 0.944 to 0.99 and its verdict to UNDERFITTING: a ratio of training to
    validation loss moves with a penalty, which issue 15 requires to leave the verdict alone.
    Not kept; the tests below pin the verdict under that penalty."""
    h = read_log(QUAKES)
    train, val = np.asarray(h.loss), np.asarray(h.val_loss)
    assert len(h) == 80
    # training scores close to validation over the later half (0.944 of it)
    ratio = _later_half_median(train) / _later_half_median(val)
    assert 0.94 < ratio < 0.95
    # training fell from its first value by less than validation's best level (0.69 of
    # it) but by more than the half that the underfitting test reads as learning little
    _, train_raw, val_raw = decision_curves(h, None)
    ev = evidence(h, None, train_raw, val_raw)
    low = float(np.min(ev.val))
    drop = (ev.extra["train_start"] - min(ev.extra["train_low"], float(np.min(ev.train)))) / low
    assert 0.5 < drop < 1.0
    # the test curve the diagnosis never sees: R^2 at the end as high as the reference's
    # (the label's check: within 0.10 of it), MAE under half the constant predictor's
    reference = json.loads(QUAKES.with_name(QUAKES.stem + "_test_curve.json").read_text())
    assert reference["test_metric"][-1] >= reference["ref"] - 0.10
    assert reference["test_loss"][-1] < 0.5 * reference["C"]
    assert diagnose(h).verdict is Verdict.GOOD_FIT


@pytest.mark.parametrize("share", [0.05, 1.0])
def test_a_constant_penalty_on_the_training_loss_leaves_the_good_fit(share):
    h = read_log(QUAKES)
    penalty = share * float(np.nanmin(np.asarray(h.val_loss)))
    lifted = _with(h, penalty=penalty)
    # the penalty brings training to validation's level or above (what a ratio rule reads)
    ratio = _later_half_median(np.asarray(lifted.loss)) / _later_half_median(
        np.asarray(lifted.val_loss)
    )
    assert ratio > 0.98
    assert diagnose(lifted).verdict is Verdict.GOOD_FIT


@pytest.mark.parametrize("scale", [0.1, 10.0])
def test_scaling_every_loss_leaves_the_good_fit(scale):
    assert diagnose(_with(read_log(QUAKES), scale=scale)).verdict is Verdict.GOOD_FIT
