"""Regression tests from real runs of the log corpus (``tests/_real_logs.py``; fresh8 and
fresh9 were scored once, then tuned on) for i45's rule changes: outputs frozen while
training moves, validation thrown around by more than it falls, and validation turning
back and forth by a fifth per evaluation with training near it."""

import math

import numpy as np
import pytest

from _real_logs import label, load
from nooverfit import _curves as cv
from nooverfit import diagnose
from nooverfit._dead import FROZEN, MOVING, dead_outputs
from nooverfit._turning import NEAR, TURNS, thrown_around
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def _finite(values) -> np.ndarray:
    return np.asarray([v for v in values if math.isfinite(v)], dtype=float)


@pytest.mark.parametrize("name", ["dead_outputs_hf", "dead_outputs_short_hf"])
def test_validation_frozen_while_training_moves_is_a_failed_run(name):
    """HF Trainer, MAE regression at SGD lr 10: the validation loss repeats to the last
    digit over the later half while the training loss moves by a percent per logged value.
    The test loss sits 4-8x above a constant predictor's (the label). Before: underfitting
    (60 epochs) and good_fit (5 epochs)."""
    h = load(name)
    val, train = _finite(h.val_loss), _finite(h.loss)
    late_v, late_t = val[val.size // 2 :], train[train.size // 2 :]
    assert np.max(np.abs(np.diff(np.log(late_v)))) < FROZEN
    assert np.median(np.abs(np.diff(np.log(late_t)))) > MOVING
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "no longer answer" in d.explanation
    assert label(name)["verdict"] == "diverging"


def test_frozen_outputs_survive_scaling_and_a_constant_penalty():
    """Ratios of each curve to itself: scaling every loss, or adding a constant to the
    training loss, keeps the reason (the metamorphic relations of issue 15)."""
    h = load("dead_outputs_hf")
    val, train = _finite(h.val_loss), _finite(h.loss)
    assert dead_outputs(train * 10, val * 10) and dead_outputs(train * 0.1, val * 0.1)
    assert dead_outputs(train + 0.1 * float(np.median(val)), val)


def test_a_converged_network_with_both_curves_still_is_not_dead():
    """A network at rest (both losses unchanged to five digits) is no dead network: the
    training loss must move while validation does not."""
    still = np.full(20, 0.3)
    assert dead_outputs(still, still) == ""
    moving = 0.3 + 0.01 * np.sin(np.arange(20))
    assert dead_outputs(moving, moving) == ""  # validation moves with training


def test_validation_thrown_around_more_than_it_falls_is_a_failed_run():
    """Keras, MAE regression at SGD lr 3, validated every second epoch: validation swings
    33 % per evaluation over its second half while its median falls 21 % (less than one
    evaluation's swing); the test loss swings between 0.7 and 2.3 around a constant
    predictor's 0.81. Before: overfitting (a 'fall' that is the swing's noise)."""
    h = load("mae_thrashing_keras")
    val = _finite(h.val_loss)
    v_swing, v_progress = cv.oscillation(val)
    assert v_progress < 0.8 and -math.log(v_progress) < v_swing
    assert diagnose(h).verdict is Verdict.DIVERGING
    assert label("mae_thrashing_keras")["verdict"] == "diverging"


def test_a_fall_larger_than_the_swing_still_counts_as_progress():
    """The thrashing run with its later half divided by 3 (validation now falls by more
    than it swings): no longer this rule's failure."""
    h = load("mae_thrashing_keras")
    val = np.asarray(h.val_loss, dtype=float)
    half = len(val) // 2
    val[half:] = val[half:] / 3
    columns = {"loss": list(h.loss), "val_loss": list(val)}
    lowered = History.from_columns(columns, epoch=list(h.epoch))
    v_swing, v_progress = cv.oscillation(_finite(lowered.val_loss))
    assert -math.log(v_progress) > v_swing
    assert diagnose(lowered).verdict is not Verdict.DIVERGING


@pytest.mark.parametrize("name", ["thrown_around_short_lightning", "thrown_around_lightning"])
def test_validation_turning_by_a_fifth_with_training_near_it_is_thrown_around(name):
    """Lightning CSV logs, regression at too large a step: validation turns back and forth
    by over ``TURNS`` per evaluation (5 and 12 evaluations) while the training loss stays
    above half of it; the test curve swings with it (the label). Before: good_fit."""
    h = load(name)
    val, train = _finite(h.val_loss), _finite(h.loss)
    assert cv.reversals(val) > TURNS
    assert np.median(train[train.size // 2 :]) >= NEAR * np.median(val[val.size // 2 :])
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING and "turns back and forth" in d.explanation
    assert label(name)["verdict"] == "diverging"


def test_a_memorizing_network_swinging_in_its_mistakes_is_not_thrown_around():
    """The 12-evaluation run with its training loss divided by 10 (far under half of
    validation: the network fits its samples): the turning rule leaves it alone."""
    h = load("thrown_around_lightning")
    train = np.asarray(h.loss, dtype=float) / 10
    val = np.asarray(h.val_loss, dtype=float)
    assert thrown_around(h, train, val) == ""
    assert thrown_around(h, np.asarray(h.loss, dtype=float), val)


def test_a_noisy_plateau_turns_too_little():
    """A validation loss alternating by 5 % around a level (an evaluation set's noise),
    training at its level: no turning rule."""
    val = 0.5 * (1 + 0.05 * (-1.0) ** np.arange(20))
    history = History.from_columns({"loss": list(val), "val_loss": list(val)})
    assert thrown_around(history, val, val) == ""
