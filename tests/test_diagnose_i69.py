"""Issue 15, i69: short runs near chance, still learning at every evaluation; a
plateau at the end; memorization to round-off.

"12 epochs, both losses still falling steadily at the end: still_improving." Two real
runs of the i65 corpus (copied to ``tests/data`` with their test curves, which
``diagnose`` never sees): an MLP on ``hastie_10_2`` stopped after 12 epochs, written in
the Hugging Face Trainer's ``trainer_state.json`` format, and a network on ``digits``
stopped after 5 epochs, written by PyTorch's SummaryWriter. Both fall by under 2 % over
their last third, the still-improving test's threshold, so main called them
``underfitting``; yet every evaluation is better than the one before on the loss and on
the accuracy, and the test curve falls at every epoch to the end as well.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit._chance import never_recovered
from nooverfit._still import PLATEAU, end_drop
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"
RUNS = [
    ("short_falling_hastie_hf/trainer_state.json", "short_falling_hastie_hf/test_curve.json"),
    ("short_falling_digits_tb", "short_falling_digits_tb_test_curve.json"),
]


def _finite(h: History, name: str) -> np.ndarray:
    x = np.asarray(h.column(name), dtype=float)
    return x[np.isfinite(x)]


@pytest.mark.parametrize(("log", "side"), RUNS)
def test_a_short_run_still_learning_at_every_evaluation_is_still_improving(log, side):
    h = read_log(DATA / log)
    assert isinstance(h, History)
    test = json.loads((DATA / side).read_text())
    val, acc = _finite(h, "val_loss"), _finite(h, "val_accuracy")
    # the premise: near chance, falling at every evaluation, the accuracy rising ...
    assert val[-1] > 0.9 * test["C"]
    assert np.all(np.diff(val) < 0) and acc[-1] > acc[0]
    # ... and the test curve, which diagnose never sees, falls at every epoch too
    assert np.all(np.diff(test["test_loss"]) < 0)
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING


def test_the_same_fall_at_a_stuck_accuracy_stays_an_underfit():
    """The HF run with its validation accuracy frozen at its first value: a loss falling
    while the decisions stand still is calibration or a shrinking penalty, no progress."""
    h = read_log(DATA / RUNS[0][0])
    assert isinstance(h, History)
    names = h.columns()[1:]  # (after "epoch")
    data = {name: list(np.asarray(h.column(name), dtype=float)) for name in names}
    first = _finite(h, "val_accuracy")[0]
    data["val_accuracy"] = [first if np.isfinite(a) else a for a in data["val_accuracy"]]
    stuck = History.from_columns(data, epoch=h.epoch)
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING
    assert diagnose(stuck).verdict is Verdict.UNDERFITTING


def _side(name: str) -> dict:
    side: dict = json.loads((DATA / name).read_text())
    return side


def test_a_plateau_reached_before_the_end_is_no_longer_improving():
    """i65's Keras run on twelve blobs, stopped by EarlyStopping: validation fell by over
    ``STILL`` across its last third but is flat over its last fifth, as is the test
    curve: a good fit, not "still falling steadily"."""
    h = read_log(DATA / "plateau_blobs12_keras.csv")
    assert isinstance(h, History)
    test = np.asarray(_side("plateau_blobs12_keras_test_curve.json")["test_loss"])
    val = _finite(h, "val_loss")
    assert end_drop(val) < PLATEAU and end_drop(test) < PLATEAU  # flat at the end
    assert test[-1] < 0.05 * np.log(12)  # far below guessing: the task is learned
    assert diagnose(h).verdict is Verdict.GOOD_FIT


def test_end_drop_is_the_relative_fall_of_the_line_over_the_last_fifth():
    x = np.r_[np.ones(10), [10.0, 9.0, 8.0]]  # a 13-point run: its last fifth is 3 points
    # line through 10, 9, 8: drop 2 over a mean level of 9
    assert end_drop(x) == pytest.approx(2 / 9)
    assert end_drop(np.ones(8)) == pytest.approx(0.0, abs=1e-12)


def test_a_training_loss_at_round_off_beside_a_frozen_validation_is_no_dead_network():
    """i65's Lightning run on make_regression: the training MSE falls to 1e-15 and then
    changes by multiples of itself (round-off) while validation stays at 0.7293. A network
    that fits its training set to round-off answers its inputs: not diverging."""
    h = read_log(DATA / "memorized_round_off_lightning")
    assert isinstance(h, History)
    side = _side("memorized_round_off_lightning_test_curve.json")
    train = _finite(h, "loss")
    assert np.median(train[train.size // 2 :]) < 1e-12
    assert side["test_loss"][-1] < side["C"]  # the test loss below a constant predictor's
    d = diagnose(h)
    assert d.verdict is not Verdict.DIVERGING
    assert "dead units" not in d.explanation


BLOWN = [
    ("blown_nadam_hastie_lightning_tb", "blown_nadam_hastie_lightning_tb_test_curve.json"),
    ("blown_rmsprop_moons_hf/trainer_state.json", "blown_rmsprop_moons_hf/test_curve.json"),
]


@pytest.mark.parametrize(("log", "side"), BLOWN)
def test_a_run_blown_up_at_its_start_that_never_beat_guessing_is_diverging(log, side):
    """i65's NAdam at lr 3 on ``hastie_10_2`` (Lightning's TensorBoardLogger) and RMSprop
    at lr 0.5 on moons (Trainer format): the first training loss is 155 and 4845 nats,
    hundreds of times where it ends, and the training loss never gets below ln 2 again;
    the test accuracy ends near 0.5 (two classes), far from the sklearn reference. Main
    read the first as overfitting (validation rising from 1.0) and the second as an
    underfit."""
    h = read_log(DATA / log)
    assert isinstance(h, History)
    test = _side(side)
    train = _finite(h, "loss")
    assert train[0] > 100 * np.median(train[train.size // 2 :])
    assert np.median(train[train.size // 2 :]) > np.log(2)
    assert test["test_metric"][-1] < 0.6 < test["ref"]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "never recovered" in d.explanation


def test_the_blow_up_rule_reads_the_curve_against_itself():
    """The NAdam run with every loss scaled by 10 keeps its verdict (the training loss
    stays above guessing); scaled by a tenth, its training loss lies below ln 2 and the
    rule no longer reads it (a crossing of the chance level, as the metamorphic tests
    allow)."""
    h = read_log(DATA / BLOWN[0][0])
    assert isinstance(h, History)
    names = h.columns()[1:]
    data = {name: np.asarray(h.column(name), dtype=float) for name in names}
    for name in ("loss", "val_loss"):
        data[name] = 10 * data[name]
    scaled = History.from_columns({k: list(v) for k, v in data.items()}, epoch=h.epoch)
    assert never_recovered(scaled)
    assert never_recovered(h)
    data["loss"] = data["loss"] / 100
    assert not never_recovered(
        History.from_columns({k: list(v) for k, v in data.items()}, epoch=h.epoch)
    )
