"""Issue 15, i64: failed-run rules that read the loss of guessing from the accuracy.

Without the class count, ``diagnose`` reads the loss of guessing from the lowest
validation accuracy ``a`` as ``ln(1 / a)``: a floor, since a network whose weakest
evaluation already beat guessing guesses at ``ln K`` above it. A linear model on ten
classes at 32-34 % scores 1.87 nats, 1.6 times ``ln(1 / 0.317)`` but below ``ln 10``:
an underfit, not saturated outputs (the i60 corpus's ``h_uf_clf10_lin``, written in the
Hugging Face Trainer's ``trainer_state.json`` format; its test curve, never shown to
``diagnose``, is in ``test_curve.json`` beside it).
"""

import json
import math
from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit._underfit import scores_alike
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"


def _underfit_run() -> tuple[History, dict]:
    folder = DATA / "underfit_clf10_linear_hf"
    history = read_log(folder / "trainer_state.json")
    assert isinstance(history, History)
    return history, json.loads((folder / "test_curve.json").read_text())


def test_a_linear_ten_class_underfit_below_ln_k_is_not_diverging():
    h, side = _underfit_run()
    acc = np.asarray(h.column("val_accuracy"), dtype=float)
    acc = acc[np.isfinite(acc)]
    val = np.asarray(h.column("val_loss"), dtype=float)
    val = val[np.isfinite(val)]
    # the premise: the loss sits over 1.5 times the floor ln(1 / a) read from the accuracy
    assert val.min() > 1.5 * math.log(1 / acc.min())
    # ... and below the real loss of guessing, ln 10, which the test curve confirms
    assert val.max() < math.log(side["classes"])
    assert side["test_loss"][-1] < math.log(side["classes"])
    assert max(side["test_accuracy"]) < 0.85  # never learned the task: an underfit
    d = diagnose(h)
    assert d.verdict is Verdict.UNDERFITTING
    assert "saturated" not in d.explanation


def _flat_run(train_level: float, val_level: float, acc: float, n: int = 30) -> History:
    """A flat run with a fixed accuracy and deterministic noise on both losses."""
    rng = np.random.default_rng(64)
    wobble = rng.normal(0, 0.003, (2, n))
    return History.from_columns(
        {
            "loss": list(train_level * (1 + wobble[0])),
            "val_loss": list(val_level * (1 + wobble[1])),
            "val_accuracy": list(acc + 0.01 * np.sin(np.arange(n))),
        }
    )


def test_validation_alone_far_above_guessing_still_reads_as_saturated():
    """The same levels with training at half of validation: validation's outputs are
    confidently wrong where training's are not, and 1.6 times the floor is kept as far
    above guessing (the rule before i64)."""
    floor = math.log(1 / 0.31)
    alike = diagnose(_flat_run(1.6 * floor, 1.6 * floor, 0.32))
    apart = diagnose(_flat_run(0.8 * floor, 1.6 * floor, 0.32))
    assert alike.verdict is not Verdict.DIVERGING
    assert apart.verdict is Verdict.DIVERGING
    assert "saturated" in apart.explanation


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
    fitting = _flat_run(0.3 * floor, 1.0 * floor, 0.6)
    alike = _flat_run(0.98 * floor, 1.0 * floor, 0.6)
    assert not scores_alike(fitting)
    assert scores_alike(alike)
    assert diagnose(alike).verdict is Verdict.UNDERFITTING
    assert diagnose(fitting).verdict is not Verdict.UNDERFITTING


def test_a_diverging_run_reports_its_generalization_loss():
    """Prechelt's GL, ``100 * (E_va(last) / E_opt - 1)``, is reported for a diverging run
    too (the rules reach that verdict before the evidence is read), on the last finite
    validation loss against the lowest: a Keras run with RMSprop at lr 1."""
    h = read_log(DATA / "failed_lr1_rmsprop_keras.csv")
    assert isinstance(h, History)
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    val = [v for v in h.val_loss if math.isfinite(v)]
    assert math.isclose(d.generalization_loss, 100 * (val[-1] / min(val) - 1), rel_tol=1e-12)
