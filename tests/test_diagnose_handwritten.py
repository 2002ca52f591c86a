"""Regression tests from hand-written runs of s30 i163 (``bench/README.md``, "diagnose on
hand-written runs"): Keras 3's CSVLogger on house prices in dollars and on digits
validated on 20 images, and a Trainer ``trainer_state.json`` whose training loss is
logged every 10 steps (7 steps an epoch). Each fixture's ``_test_curve.json`` holds the
test curve the diagnosis never sees."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from nooverfit import _curves as cv
from nooverfit import diagnose
from nooverfit._few_samples import few_samples_caveat, validation_samples
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"


def _side(name: str) -> dict:
    return json.loads((DATA / f"{name}_test_curve.json").read_text())


def test_still_falling_share_is_of_where_the_last_third_began():
    """House prices in dollars (MSE near 1e10), Adam at 1e-3 for 150 epochs: validation
    fell from 2.5e10 to 5.2e9 over its last third, the test curve 4.1x. The rule's measure
    (the line's drop over the stretch's mean level) is 1.41; quoted, it read "fell 141.1 %
    over the last third". The words now give the share of where that stretch began."""
    h = read_log(DATA / "dollars_still_falling_keras.csv")
    side = _side("dollars_still_falling_keras")
    test = np.asarray(side["test_loss"])
    assert side["label"] == "still_improving" and test[99] > 4 * test[-1]
    val = np.asarray(h.val_loss)
    assert cv.tail_drop(val) > 1.0  # the premise: the rule's measure exceeds 100 %
    d = diagnose(h)
    assert d.verdict is Verdict.STILL_IMPROVING
    words = " ".join([c.reason for c in d.causes] + [r.reason for r in d.remedies])
    shares = [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)% over the last third", words)]
    tail = cv.last_third(val, 2)
    raw = 100 * (tail[0] - tail[-1]) / tail[0]  # first to last value of the stretch: 79 %
    assert shares and all(0 < s < 100 and abs(s - raw) < 10 for s in shares)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # (the last third and one more point: the last 3 of 6)
        ([6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 2 / 3),  # a straight line: 3 to 1
        ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.0),
        ([1.0, 1.0, 1.0, 1.0, 1.1, 1.2], -0.2),  # rising: negative
        ([9.0, 8.0, 7.0, 4.0, 0.5, 0.1], (4.0 - 0.1) / 4.0),  # line ends below 0: raw ends
    ],
)
def test_tail_fall_share_against_hand_computed_values(values, expected):
    assert cv.tail_fall_share(np.asarray(values)) == pytest.approx(expected)


def test_gap_reads_a_training_loss_logged_every_few_steps():
    """A Trainer log of digits (200 samples, 7 steps an epoch, ``logging_steps=10``): some
    epochs hold no training loss, the best (epoch 51) among them. The gap at the best
    epoch was NaN, so the table left the loss gap out while the text quoted the end's;
    now it reads the training curve the rules read there (interpolated)."""
    h = read_log(DATA / "sparse_train_loss_hf")
    loss = np.asarray(h.loss)
    assert np.isnan(loss).any()  # the premise: epochs without a training loss
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING  # 100 % on training, 93.6 % on the test set
    best = h.epoch.index(d.best_epoch)
    assert math.isnan(loss[best])
    filled = cv.fill_missing(loss)
    assert d.gap.loss_at_best == pytest.approx(h.val_loss[best] - filled[best])
    assert d.gap.loss_at_last == pytest.approx(h.val_loss[-1] - filled[-1])
    assert f"{d.gap.loss_at_last:.3g} in loss" in d.explanation


def test_validation_on_twenty_samples_is_said():
    """Digits, 500 training images, validated on 20 (Keras CSVLogger): validation loss up
    55 % from epoch 4 while the loss on 1,277 test images held still (0.164 to 0.168).
    The verdict follows validation (overfitting); the text says how few samples it is."""
    h = read_log(DATA / "tiny_validation_digits_keras.csv")
    test = np.asarray(_side("tiny_validation_digits_keras")["test_loss"])
    assert test[-1] < 1.05 * test[10:].min()  # the premise: the test loss held still
    assert validation_samples(h) == 20
    d = diagnose(h)
    assert "steps of 1/20" in d.explanation


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.8, 0.85, 0.9, 0.85], 20),
        ([0.8500000238418579, 0.8999999761581421, 0.949999988079071], 20),  # float32
        ([0.5, 0.75, 1.0], 4),
        ([0.95, 1.0, 0.95], None),  # two distinct values fit every multiple of 20
        ([0.9248, 0.9276, 0.9304], None),  # digits validated on 359 images
        ([0.3, 0.5, 0.7], 10),
    ],
)
def test_validation_samples_from_the_accuracy_steps(values, expected):
    n = len(values)
    h = History.from_columns({"loss": [1.0] * n, "val_loss": [1.0] * n, "val_accuracy": values})
    assert validation_samples(h) == expected


def test_no_few_samples_caveat_without_an_accuracy():
    h = History.from_columns({"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [3.0, 2.5, 2.0, 1.9]})
    assert few_samples_caveat(h) == ""


def test_a_training_loss_fallen_to_near_zero_is_quoted_from_where_it_began():
    """A Keras run on breast cancer (SGD at 0.3 with momentum 0.9) fitting its training
    set to 2.7e-05: "The training loss fell 100% to 2.72e-05" read as a loss of 0 beside
    the number that says otherwise. The same run class as the memorization fixture."""
    from _real_logs import load

    h = load("memorization_tensorboard")
    d = diagnose(h)
    cause = next(c for c in d.causes if c.kind == "complex_network")
    assert "fell 100%" not in cause.reason
    first = next(v for v in h.loss if math.isfinite(v))
    assert f"fell from {first:.3g} to " in cause.reason


def test_a_loss_logged_as_nll_is_read_as_the_loss():
    """Lightning's CSVLogger, ``self.log("train_nll")`` and ``self.log("valid_nll")`` with
    ``valid_acc`` (digits, warm-up and cosine, 40 epochs): no column is named loss, so
    the validation loss was passed over and the run decided on its accuracy (best epoch
    25 by accuracy; the lowest validation NLL is at epoch 14)."""
    h = read_log(DATA / "likelihood_named_lightning")
    assert h.has("loss") and h.has("val_loss")
    assert any("val_loss read from 'valid_nll'" in n for n in h.notes)
    d = diagnose(h)
    assert d.monitor == "loss"
    assert d.best_epoch == h.epoch[int(np.nanargmin(h.val_loss))] == 14
    assert d.verdict is Verdict.GOOD_FIT  # the test loss: flat from epoch 20 (0.12)


def test_a_likelihood_metric_beside_the_loss_leaves_the_loss_alone():
    """Keras logging ``sparse_categorical_crossentropy`` as a metric beside its ``loss``
    (which holds any L2 penalty): the loss stays the column named loss."""
    from nooverfit.logs._table import rows_to_history

    rows = [
        {"epoch": e, "loss": 1.0 / (e + 1) + 0.1, "sparse_categorical_crossentropy": 1.0 / (e + 1)}
        | {"val_loss": 1.2 / (e + 1) + 0.1, "val_sparse_categorical_crossentropy": 1.2 / (e + 1)}
        for e in range(5)
    ]
    h = rows_to_history(rows)
    assert h.loss == pytest.approx([1.0 / (e + 1) + 0.1 for e in range(5)])
    assert h.val_loss == pytest.approx([1.2 / (e + 1) + 0.1 for e in range(5)])
    assert not any("no column named loss" in n for n in h.notes)
