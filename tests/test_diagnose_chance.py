"""Collapse and the chance level: runs read against the loss of guessing.

A classifier that never beat guessing failed (diverging); one that learned a little is an
underfit. Without the class count, ``diagnose`` reads the loss of guessing from the lowest
validation accuracy ``a`` as ``ln(1 / a)``: a floor, since a network whose weakest
evaluation already beat guessing guesses at ``ln K`` above it (i64). Pinned here:

- the accuracy's level and rise: read on the smoothed curve, so that one evaluation
  putting every sample in a small class sets no level, yet from the first evaluation as
  logged, and beating one half at every evaluation read on the raw accuracy (i57);
- a linear ten-class underfit between that floor and ``ln K`` is no saturation, while
  validation alone far above guessing still is (i64);
- a collapse (accuracy frozen, loss far above chance) spared while both losses still fall
  over a 3-epoch run, and called "far above" chance only where it is (i91).

Each helper id names its section in ``bench/README.md``.
"""

import json
import math

import numpy as np

from _diagnose_fixtures import DATA, flat_run
from _optional import needs
from nooverfit import diagnose
from nooverfit._chance import ABOVE_GUESSING, FALLING, collapsed
from nooverfit._curves import smooth
from nooverfit._learned import accuracy_learned
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log


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


def _underfit_run() -> tuple[History, dict]:
    folder = DATA / "underfit_clf10_linear_hf"
    history = read_log(folder / "trainer_state.json")
    assert isinstance(history, History)
    return history, json.loads((folder / "test_curve.json").read_text())


def test_a_linear_ten_class_underfit_below_ln_k_is_not_diverging():
    """A linear model on ten classes at 32-34 % scores 1.87 nats, 1.6 times ``ln(1 / 0.317)``
    but below ``ln 10``: an underfit, not saturated outputs (the i60 corpus's ``h_uf_clf10_lin``,
    written in the Hugging Face Trainer's ``trainer_state.json`` format; its test curve, never
    shown to ``diagnose``, is in ``test_curve.json`` beside it)."""
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


def test_validation_alone_far_above_guessing_reads_as_saturated_after_a_jump():
    """The same levels with training at half of validation: validation's outputs are
    confidently wrong where training's are not, and 1.6 times the floor is kept as far
    above guessing (the rule before i64) where the training loss jumped after its first
    epoch and stayed up, as saturating outputs hold it. Flat from the first epoch, the
    level is no evidence (s24): every loss scaled by 0.5 puts validation at 0.8 times the
    floor, which no level rule reads as saturated, and scaling must not change the
    verdict."""
    floor = math.log(1 / 0.31)
    alike = diagnose(flat_run(1.6 * floor, 1.6 * floor, 0.32))
    assert alike.verdict is not Verdict.DIVERGING

    def run(train: list[float], val: list[float], acc: list[float]) -> History:
        return History.from_columns({"loss": train, "val_loss": val, "val_accuracy": acc})

    flat = flat_run(0.8 * floor, 1.6 * floor, 0.32)
    train, val, acc = list(flat.loss), list(flat.val_loss), list(flat.val_accuracy)
    assert diagnose(flat).verdict is not Verdict.DIVERGING
    half = run([t / 2 for t in train], [v / 2 for v in val], acc)
    assert diagnose(half).verdict is diagnose(flat).verdict
    d = diagnose(run([0.6 * floor, *train[1:]], val, acc))
    assert d.verdict is Verdict.DIVERGING
    assert "saturated" in d.explanation


SHORT = DATA / "short_majority_falling_lightning.csv"


def test_a_short_run_at_the_majority_share_still_learning_is_no_collapse():
    """A new user's 3-epoch Lightning log (i91):
    ``tests/data/short_majority_falling_lightning.csv`` (Lightning's CSVLogger layout: per-step
    training loss, then per-epoch rows) holds a binary classifier whose validation accuracy
    stays at the majority share, 0.700, for its three epochs while both losses fall at every
    epoch: training 1.00 -> 0.82 -> 0.67, validation 0.90 -> 0.83 -> 0.78 (lowest at the end).
    Main called it DIVERGING ("the loss (0.808) is far above chance level (about 0.71): the
    outputs saturated"). ``_chance.collapsed`` spares a training loss still falling steadily
    (saturated outputs keep the loss where it jumped) but read that trend on the later half
    only, two values in a 3-epoch run, too few for its test: it now reads at least the last
    ``MIN_EPOCHS`` values."""
    h = read_log(SHORT)
    train, val = np.asarray(h.loss), np.asarray(h.val_loss)
    acc = np.asarray(h.val_accuracy)
    # the facts, by hand: 3 epochs, accuracy stuck, both losses falling at every epoch
    assert len(h) == 3
    assert np.allclose(train, [1.0, 0.8187, 0.6703]) and np.allclose(val, [0.9, 0.8336, 0.782])
    assert np.allclose(acc, 0.7)
    assert np.all(np.diff(train) < 0) and np.all(np.diff(val) < 0)
    assert train[-1] < FALLING * train[0]
    # the later-half median of validation (0.808) lies above 2 ln(1 / 0.7) = 0.713, so the
    # stuck-accuracy test alone matches: the falling losses are what tell learning apart
    assert np.median(val[1:]) > 2 * math.log(1 / 0.7)
    assert collapsed(h, None) == ""
    d = diagnose(h)
    assert d.verdict is Verdict.STILL_IMPROVING
    assert "saturated" not in d.explanation


def test_a_short_run_stuck_with_flat_losses_is_still_a_collapse():
    # the same three epochs with the losses where the first one left them: saturated
    # outputs keep their loss, so the collapse is still read
    h = History.from_columns(
        {
            "loss": [6.1, 6.2, 6.2],
            "val_loss": [6.3, 6.3, 6.3],
            "accuracy": [0.7, 0.7, 0.7],
            "val_accuracy": [0.7, 0.7, 0.7],
        }
    )
    assert "saturated" in collapsed(h, "accuracy")
    assert diagnose(h).verdict is Verdict.DIVERGING


RARE = DATA / "collapse_rare_near_ln2_keras.csv"


def test_a_collapse_just_above_chance_is_not_called_far_above_it():
    """A Keras run of the fresh8 corpus part (rare positives, Adam at a rate of 10,
    labelled diverging by construction): accuracy frozen at 0.955, training loss 0.725,
    validation 0.806 over 30 epochs. The verdict stands (DIVERGING); the words said the
    loss "is far above chance level (about 0.69)" for 0.725 against ln 2 = 0.693: the
    figure is the most a constant predictor scores, and 5 % above it is not far."""
    h = read_log(RARE)
    acc, train = np.asarray(h.accuracy), np.asarray(h.loss)
    assert np.ptp(acc) == 0.0 and abs(acc[0] - 0.955) < 1e-6
    late = float(np.median(train[train.size // 2 :]))
    assert math.log(2) < late < 2 * math.log(2)  # above chance, not twice it
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "far above" not in d.explanation
    assert f"at most about {math.log(2):.2f}" in d.explanation


def test_a_collapse_many_times_chance_is_still_far_above_it():
    h = History.from_columns(
        {
            "loss": [9.9] * 12,
            "val_loss": [9.8] * 12,
            "accuracy": [0.383] * 12,
            "val_accuracy": [0.389] * 12,
        }
    )
    reason = collapsed(h, "accuracy")
    # 2 ln(1 / 0.383) = 1.92 by hand: 9.9 is over five times it
    assert "far above chance level" in reason and "at most about 1.92" in reason


UNDERFIT_L2 = DATA / "underfit_iris_l2_keras.csv"


def test_an_underfit_above_guessing_whose_training_loss_fell_is_no_collapse():
    """A real Keras run (s23 score-only batch 6, 92003: a one-unit network on iris, L2 of
    0.3 added to the logged losses, Lion): validation accuracy stuck near 0.59, training
    loss 1.21 falling to 1.10, both above ``2 ln(1 / 0.59)``. Main called it DIVERGING
    ("the outputs saturated"); the test curve (never seen by diagnose) sits at the
    constant predictor's loss with accuracy under 50 %: an underfit. Saturated outputs
    jump in the first steps and hold the loss there; this loss came down from its first
    value, and scaled by 10 (issue 15's metamorphic rule) the verdict holds. (At 100
    times, validation sits at ``FAR_OFF`` times the loss of guessing, which no scaled
    underfit is taken for.)"""
    h = read_log(UNDERFIT_L2)
    side = json.loads((DATA / "underfit_iris_l2_keras_test_curve.json").read_text())
    assert abs(side["test_loss"][-1] - side["constant"]) < 0.05 * side["constant"]
    assert max(side["test_acc"]) < 0.5
    train = np.asarray(h.loss)
    assert np.median(train[train.size // 2 :]) < 0.95 * train[0]  # it came down
    assert collapsed(h, None) == ""
    for factor in (1.0, 10.0):
        d = diagnose(_scaled(h, factor))
        assert d.verdict is Verdict.UNDERFITTING, factor
        assert "saturated" not in d.explanation
