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
from nooverfit._blowup import spiking_fit
from nooverfit._curves import last_third, tail_clearance, tail_significance
from nooverfit._dead import stuck_worse
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
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


def _too_little_data(d) -> str | None:
    return next((c.reason for c in d.causes if c.kind == "too_little_data"), None)


def test_the_too_little_data_cause_quotes_the_logged_gap_at_the_best_epoch():
    """The cause quoted the smoothed curves' gap at the best epoch (32 % on this Hugging
    Face run, whose per-step training losses the smoothing mixes with later, lower ones);
    the table shows the logged one: ``gap.loss_at_best`` over the validation loss there."""
    h = read_log(DATA / "flat_rmsprop_hf_90")
    d = diagnose(h)
    i = list(h.epoch).index(d.best_epoch)
    share = d.gap.loss_at_best / h.column("val_loss")[i]
    reason = _too_little_data(d)
    assert reason is not None
    assert f"was {100 * share:.0f}% above training" in reason
    assert f"{100 * share:.0f}" == "27"


def test_no_too_little_data_cause_where_validation_is_not_above_training_at_its_best():
    """Best at the first epoch, where the logged training loss (a running mean over the
    first epoch) sits above validation: no "0% above training" claim."""
    val = [0.50, 0.55, 0.62, 0.70, 0.80, 0.90, 1.00, 1.10, 1.20, 1.30]
    train = [0.80, 0.30, 0.15, 0.08, 0.04, 0.02, 0.01, 0.005, 0.003, 0.002]
    h = History.from_columns({"loss": train, "val_loss": val}, epoch=list(range(10)))
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 0
    assert _too_little_data(d) is None
    assert all(r.kind not in ("augmentation", "more_data") for r in d.remedies)


FROZEN_RUN = DATA / "frozen_blowup_regraw_tb"


def test_both_losses_frozen_above_the_start_is_diverging():
    """A real SummaryWriter run of the i70 corpus (086: an MLP on unstandardized regression
    targets, SGD): its first epoch's training loss, 2.0e32, was its lowest; from the
    second epoch on both losses repeat to six digits, 16 % above it. Main read "both high
    and close together" as underfitting; the test curve (never seen by diagnose) sits
    frozen at 8e27 times the constant predictor's loss."""
    h = read_log(FROZEN_RUN)
    reference = json.loads((DATA / "frozen_blowup_regraw_tb_test_curve.json").read_text())
    train, val = np.asarray(h.column("loss")), np.asarray(h.column("val_loss"))
    assert np.argmin(train) == 0 and train[-1] > 1.1 * train[0]
    assert np.ptp(train[1:]) < 1e-6 * train[-1] and np.ptp(val[1:]) < 1e-6 * val[-1]
    assert min(reference["test_loss"]) > 1e20 * reference["constant"]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "never got below its first value" in d.explanation


def test_stuck_worse_by_hand():
    flat = np.full(6, 2.0)
    worse = np.array([1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert stuck_worse(worse, flat)
    assert not stuck_worse(flat, flat)  # never moved at all: not worse than its start
    better = np.array([3.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert not stuck_worse(better, flat)  # fell below its start: it learned something
    moving = worse * np.array([1, 1, 1, 1.001, 1, 1.001])
    assert not stuck_worse(moving, flat)  # training still moves in its later half
    # ratios of the curves to themselves: a scale or a constant on training changes nothing
    assert stuck_worse(1e3 * worse, 1e3 * flat) and stuck_worse(worse + 5.0, flat)


BLOWN = DATA / "blown_fit_digits_lightning"


def test_a_blown_up_classifier_that_fits_its_samples_is_diverging():
    """A real Lightning CSV run of the i65 corpus (108: an MLP on ``digits``, Adam at a
    learning rate of 1.0): the training accuracy climbs to 0.99 while the mean
    cross-entropy jumps between 10 and 1200 from epoch to epoch and validation sits in the
    thousands; the test curve (never seen by diagnose) sits hundreds of times above the
    constant predictor's loss. Main called it overfitting ("keep the weights of epoch 0")."""
    h = read_log(BLOWN)
    reference = json.loads((DATA / "blown_fit_digits_lightning_test_curve.json").read_text())
    assert min(reference["test_loss"]) > 100 * reference["constant"]
    assert np.median(np.asarray(h.column("accuracy"))[20:]) > 0.98
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "blown up by a step" in d.explanation


def _fitting(loss: np.ndarray) -> History:
    n = len(loss)
    acc = np.minimum(0.99, np.linspace(0.6, 1.2, n))
    return History.from_columns(
        {"loss": list(loss), "accuracy": list(acc), "val_loss": list(loss * 3 + 1.0)},
        epoch=list(range(n)),
    )


def test_spiking_fit_by_hand():
    """Turns of a good part of the whole fall (200 -> 10 nats) per epoch at 99 % accuracy:
    blown up; a memorizing network's loss jumping by multiples of a tiny level (its turns a
    sliver of its fall) or a smooth fall at that accuracy is not. Scaled up, given a
    constant penalty or thinned to every second epoch, the verdict of the rule holds. The
    same shape at a sound level (2 -> 0.1 nats: 10 to 90 nats per mistake at 1 % wrong, a
    later-half median of 0.4, under the ln 1e6 = 13.8 nats of guessing over a million
    classes) is no blow-up: a few mistakes more or less per epoch turn it so."""
    fall = np.linspace(200.0, 10.0, 10)
    jumps = np.tile([10.0, 90.0, 40.0], 7)  # a period of 3: thinned, it still turns
    blown = np.concatenate([fall, jumps])
    assert spiking_fit(_fitting(blown))
    assert spiking_fit(_fitting(50.0 * blown)) and spiking_fit(_fitting(blown + 0.1))
    assert spiking_fit(_fitting(blown[1::2]))
    assert not spiking_fit(_fitting(blown / 100.0))
    tiny = np.concatenate([fall, 1e-4 * (1 + 3 * jumps)])
    assert not spiking_fit(_fitting(tiny))
    assert not spiking_fit(_fitting(np.geomspace(200.0, 1e-3, 20)))


def test_a_fine_tuning_stage_that_starts_near_its_end_level_is_not_diverging():
    """A synthetic log (i88's review, ``tests/data/finetune_stage2_near_end_level.csv``):
    the second stage of a transfer-learning run, its first training loss 0.25 and then
    0.02-0.08 at 99 % training accuracy, validation at 0.12 rising slowly to 0.18 at 96 %.
    The first value is already near the end level, so the whole fall is small and a few
    mistakes more or less per epoch (a few nats each) turn the loss by over 4 % of it: the
    shape test alone called it diverging ("lower the learning rate"). Nothing is blown up:
    validation rose 48 % above its first (and lowest) value, which is overfitting."""
    h = read_log(DATA / "finetune_stage2_near_end_level.csv")
    assert not spiking_fit(h)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert "blown up" not in d.explanation
