"""Issue 15, i94: a good fit on data that allow little, guarded against an underfitting
rule that reads how close training scores to validation.

``tests/data/good_fit_low_ceiling_quakes_lightning.csv`` is run 077 of the i74 corpus
(Lightning's CSVLogger, MAE regression of earthquake magnitudes, 80 epochs), labelled
good_fit by construction and confirmed by its test curve
(``..._test_curve.json``, which the diagnosis never sees): test R^2 0.755 at the end,
where a strong reference model reaches 0.755. The data allow little, so the log looks
like an underfit's: training scores close to validation (its later half at 0.94 of
validation's) and fell by only 0.69 of validation's best level.

i94 measured a rule that called such a run underfitting (training at 0.95 of validation
or more, and a fall under validation's level: a capacity-limited network fits its own
samples no better than unseen ones). It gained three underfits on the design corpora
(i60 k_uf_sinreg_lin, t_uf_sinreg_w2, i65 040) and lost none there, but a constant
penalty of 5 % of the lowest validation loss on the training loss (an L2 term as Keras
adds it) lifted this run's ratio from 0.944 to 0.99 and its verdict to UNDERFITTING: a
ratio of training to validation loss moves with a penalty, which issue 15 requires to
leave the verdict alone. Not kept; this test pins the verdict under that penalty.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit._metrics import decision_curves
from nooverfit._overfit import evidence
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"
QUAKES = DATA / "good_fit_low_ceiling_quakes_lightning.csv"


def _later_half_median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values[values.size // 2 :]))


def _with(h: History, *, penalty: float = 0.0, scale: float = 1.0) -> History:
    train = np.asarray(h.loss) * scale + penalty
    val = np.asarray(h.val_loss) * scale
    return History.from_columns({"loss": list(train), "val_loss": list(val)}, epoch=h.epoch)


def test_the_run_looks_like_an_underfit_but_its_test_curve_says_good_fit():
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
