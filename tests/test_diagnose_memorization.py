"""Memorization: a training loss far below validation, or near zero, is no failure.

A network that fits its training samples far better than unseen ones is no overfit while
validation stays flat and nothing lowers the loss on held-out data (issue 15, family A;
i62), and a training loss at round-off beside a frozen validation loss is a network that
answers its inputs, not a dead one (i69). Real runs: the first written by
``bench/diagnose_gap_probe.py`` (Keras 3 ``CSVLogger``, torch backend, seed 109), the
second a design run of the log corpus (``bench/make_log_corpus.py --seed 0``, PyTorch
``SummaryWriter``), the third from the i65 corpus (Lightning) with its test curve, which
``diagnose`` never sees.

Each helper id names its section in ``bench/README.md``.
"""

import json

import numpy as np

from _diagnose_fixtures import DATA, finite, read_side
from _optional import needs
from nooverfit import diagnose
from nooverfit._curves import smooth, tail_clearance, tail_drop
from nooverfit._overfit import GAP, WIDE_GAP
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log


def _curves(name: str) -> tuple[np.ndarray, np.ndarray]:
    h = read_log(DATA / name)
    val = np.asarray(h.val_loss, dtype=float)
    keep = np.isfinite(val)
    train = np.asarray(h.column("loss"), dtype=float)[keep]
    return train, val[keep]


def test_memorizing_under_a_flat_validation_loss_that_no_remedy_helps_is_no_overfit():
    """MAE on a standardized target, 150 training rows, a 256-256 MLP for 300 epochs:
    training ends at 0.14 of the validation loss and still falls over the last third
    (beyond its own noise) while validation's line is flat and its last value 6 % above
    its best: the issue's family A shape. The test set the log never sees stays flat (its
    5-point moving average ends 0.8 % above its minimum) and an L2 penalty of 1e-3 or
    1e-2 ends higher (0.2984, 0.3314 against 0.2939): nothing to fix. A rule reading this
    gap as overfitting (tried in i62: training at 0.3 of validation, still falling, with
    validation's line flat past its minimum) called it overfitting and was reverted. i64
    tried it again (no accuracy logged, training at ``MEMORIZED`` of a validation loss no
    longer falling): the i60 corpus labels two such runs overfitting (friedman1 MAE and a
    sin target, 80 rows, 256-256 MLP), but retrained with AdamW weight decay 1e-2 or 1e-1,
    dropout 0.3 or width 32 (seeds 0 and 1) none lowered their final test loss (5-epoch
    mean) by more than 3.3 % (dropout on one seed; it raised it on the other), and the
    smaller net raised it on every seed: reverted again."""
    train, val = _curves("memorized_flat_mae_keras.csv")
    assert smooth(train)[-1] <= 0.15 * smooth(val)[-1]
    assert tail_drop(train) > 0.02 and tail_clearance(train) >= 1.0
    assert abs(tail_drop(val)) < 0.02
    assert 0.04 < val[-1] / val.min() - 1 < 0.07
    assert diagnose(read_log(DATA / "memorized_flat_mae_keras.csv")).verdict is Verdict.GOOD_FIT


@needs("tensorboard")
def test_a_noisy_regression_good_fit_with_training_below_validation_stays_good_fit():
    """Design run 0136 (MSE on the corpus's noisy ``wave`` data, validated every second
    epoch, early stopping with patience 15): training ends at a quarter of validation,
    as it does on noisy targets, and the test curve stayed flat (the corpus label)."""
    train, val = _curves("design_0136_good_fit_wave_tensorboard")
    assert smooth(train)[-1] < 0.3 * smooth(val)[-1]
    h = read_log(DATA / "design_0136_good_fit_wave_tensorboard")
    assert diagnose(h).verdict is Verdict.GOOD_FIT


def test_a_training_loss_at_round_off_beside_a_frozen_validation_is_no_dead_network():
    """i65's Lightning run on make_regression: the training MSE falls to 1e-15 and then
    changes by multiples of itself (round-off) while validation stays at 0.7293. A network
    that fits its training set to round-off answers its inputs: not diverging."""
    h = read_log(DATA / "memorized_round_off_lightning")
    assert isinstance(h, History)
    side = read_side("memorized_round_off_lightning_test_curve.json")
    train = finite(h, "loss")
    assert np.median(train[train.size // 2 :]) < 1e-12
    assert side["test_loss"][-1] < side["C"]  # the test loss below a constant predictor's
    d = diagnose(h)
    assert d.verdict is not Verdict.DIVERGING
    assert "dead units" not in d.explanation


MEMORIZED_RISE = DATA / "memorized_rise_iris_lightning_tb"


def test_confident_mistakes_growing_ninetyfold_while_training_fits_are_overfitting():
    """A real run written by Lightning's TensorBoard logger (s24 score-only batch 7,
    102060: an MLP on iris, Adam at 2e-3): the training loss falls to 2e-4 while the
    validation loss climbs from 0.018 to 1.61 (a 30-sample validation set: a few
    confident mistakes) and its accuracy settles at 87 %. The test loss (never seen by
    diagnose) rose 2.3x from its minimum: overfitting. Main read the 89x growth as
    weights that blew up (``EXPLODE``); a classifier that fits its training samples
    grows its confident mistakes without bound (issue 15, "memorization read as
    divergence")."""
    h = read_log(MEMORIZED_RISE)
    reference = json.loads((DATA / "memorized_rise_iris_lightning_tb_test_curve.json").read_text())
    test = np.asarray(reference["test_loss"])
    assert reference["label"] == "overfitting" and test[-1] > 2 * test.min()
    val = np.asarray(h.val_loss)
    assert smooth(val)[-1] > 30 * val.min() and max(h.loss[-5:]) < 1e-3
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == 4 == d.onset_epoch


EARLY_STOPPED_GAP = DATA / "early_stopped_gap_digits_lightning" / "metrics.csv"


def test_a_fitted_network_whose_validation_stopped_setting_lows_shows_its_gap():
    """A real Lightning ``CSVLogger`` run (an MLP of 512 on 100 ``digits`` images, AdamW
    at 1e-3 with weight decay 0.01, ``EarlyStopping("val_loss", patience=5)``): training
    accuracy ends at 98 %, validation at 84-88 %; validation set its low at epoch 38 and
    the run stopped at 43. The line over the last third still tilts down 5 %, so the gap
    rule (validation flat) did not read it, and the still-improving test did not either
    (the low 5 evaluations before the end): "a good fit, nothing needs fixing" at a
    14-point gap, issue 15's fourth family. The gap now counts once validation stops
    setting lows near its end."""
    h = read_log(EARLY_STOPPED_GAP)
    val = finite(h, "val_loss")
    assert tail_drop(val) > 0.02  # the premise: not flat by the gap rule's measure
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == 38
    assert h.accuracy[-1] - h.val_accuracy[-1] > 0.1


def test_a_dropout_plateau_with_a_moderate_gap_stays_a_good_fit():
    """The other side of the rule above: a real Keras 3 ``CSVLogger`` run (an MLP of 256
    on 1,200 ``digits`` images under dropout 0.5, Adam at 1e-3, 60 epochs). Training
    accuracy (a running mean under dropout) ends 6.7 points above validation's 92.8 %;
    validation wanders between 0.23 and 0.245 over its last 12 epochs, its low 4 before
    the end. Under ``WIDE_GAP`` (10 points), a plateau still tilting down is not read as
    overfitting by its gap."""
    h = read_log(DATA / "dropout_plateau_digits_keras.csv")
    gap = h.accuracy[-1] - h.val_accuracy[-1]
    assert GAP <= gap < WIDE_GAP
    assert tail_drop(finite(h, "val_loss")) > 0.02
    assert diagnose(h).verdict is Verdict.GOOD_FIT


def _accuracy_only(final_loss: float) -> History:
    """Training loss falling to ``final_loss``, validation logging only its accuracy,
    which levels off at 0.69-0.71 from epoch 4 (i141's new-user log, no training
    accuracy, no validation loss)."""
    n = 30
    loss = [final_loss + (0.7 - final_loss) * float(np.exp(-e / 4)) for e in range(n)]
    val = [0.55 + 0.15 * (1 - float(np.exp(-e / 1.5))) + 0.01 * (-1) ** e for e in range(n)]
    return History.from_columns({"loss": loss, "val_accuracy": val})


def test_a_training_loss_near_zero_bounds_the_gap_when_validation_logs_only_its_accuracy():
    """A mean training cross-entropy ``L`` bounds the training accuracy from below by
    ``1 - L / ln 2`` (each mistake costs at least ln 2 nats). With a training loss at
    0.0005 the network gets over 99.9 % of its samples right against about 70 % on
    validation: a gap of at least 29 points on a flat curve, overfitting (it read "a good
    fit, nothing needs fixing" because no training accuracy was logged). A training loss
    that stays at 0.5 bounds nothing useful (28 %): the verdict stays what the validation
    curve says."""
    h = _accuracy_only(0.0005)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    bound = 1 - 0.0005 / np.log(2)
    gap = 100 * (bound - np.mean(np.asarray(h.val_accuracy)[-3:]))
    assert gap > GAP * 100
    assert "Training accuracy ends at least" in " ".join(c.reason for c in d.causes)
    assert "flat validation curve" in " ".join(r.reason for r in d.remedies)
    assert diagnose(_accuracy_only(0.5)).verdict is Verdict.GOOD_FIT
