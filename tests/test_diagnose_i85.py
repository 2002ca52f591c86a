"""Issue 15, i85: rules found on the design corpora i60, i65, i70 and i74.

A constant stretch is no fall. The least-squares line through a constant accuracy has a
slope of about 1e-17 of either sign, and the noise test read a negative one as a fall
"without noise" (infinitely many residual standard deviations): a real Keras run of the
i70 corpus (042, copied to ``tests/data`` with its test curve, which ``diagnose`` never
sees), a network held at chance on ``digits`` by a heavy L2 penalty, logged a loss falling
from 28 to 2.305 as the penalty shrank while its validation accuracy stood at 0.1003 over
the last third. Main called it still improving ("train longer").
"""

import json
import math
from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit._curves import last_third, tail_clearance, tail_significance
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"
CHANCE = DATA / "penalty_chance_digits_keras.csv"


def test_a_constant_stretch_clears_no_noise():
    flat = np.full(13, 0.8997)
    assert tail_clearance(flat) == 0.0
    assert tail_significance(flat) == 0.0
    # a line falling without residuals still clears any noise
    line = 1.0 - 0.01 * np.arange(13)
    assert math.isinf(tail_clearance(line)) and math.isinf(tail_significance(line))
    assert tail_clearance(line[::-1]) == 0.0


def test_a_penalty_shrinking_at_chance_is_underfitting_not_still_improving():
    h = read_log(CHANCE)
    reference = json.loads(CHANCE.with_name(CHANCE.stem + "_test_curve.json").read_text())
    val_acc = np.asarray(h.column("val_accuracy"))
    loss = np.asarray(h.column("val_loss"))
    # the premise: the loss still falls over the last third, the accuracy stands still
    assert loss[-1] < loss[-14] and np.ptp(last_third(val_acc, 3)) == 0.0
    assert max(np.asarray(h.column("accuracy"))) < 0.2
    # the test curve (never seen by diagnose) sits at the constant predictor's loss
    assert abs(reference["test_loss"][-1] - reference["constant"]) < 1e-3
    assert reference["test_accuracy"][-1] < 0.11
    assert diagnose(h).verdict is Verdict.UNDERFITTING
