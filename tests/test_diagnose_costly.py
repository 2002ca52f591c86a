"""A classifier whose validation loss per mistake fell tenfold: outputs blown out at the
start, coming back (i166, :func:`nooverfit._blowup.costly_mistakes`).

Two real runs of i166's design batch (Adam at 3 and 30 on two spirals, logged by
PyTorch's SummaryWriter and in the Trainer's format): the validation loss falls 21x and
12x while the validation error falls 1.2x and 1.3x; main read them as a good fit and still
improving. Their test losses (never seen by ``diagnose``) stay over ten times the constant
predictor's. Not read so: the Keras L2 underfits of the suite, whose penalty in both losses
falls the same way, nor a network right on nearly every validation sample.
"""

import math

import numpy as np
import pytest

from _diagnose_fixtures import DATA, read_side
from nooverfit import diagnose
from nooverfit._blowup import COSTLY, WRONG, costly_mistakes
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

COSTLY_RUNS = ["costly_spirals_tb", "costly_spirals_hf"]


@pytest.mark.parametrize("name", COSTLY_RUNS)
def test_a_classifier_whose_cost_per_mistake_fell_tenfold_is_diverging(name):
    """The loss per mistake at the first evaluations over that of the last third: 17.7x
    (SummaryWriter) and 9.1x (Trainer), both over ``COSTLY``; the test loss ends over
    ten times the constant predictor's, as labelled."""
    h = read_log(DATA / name)
    assert isinstance(h, History)
    side = read_side(f"{name}_test_curve.json")
    assert side["label"] == "diverging"
    assert min(side["test_loss"]) > 10 * side["constant"]
    loss = np.asarray(h.val_loss, dtype=float)
    err = 1 - np.asarray(h.val_accuracy, dtype=float)
    seen = np.isfinite(loss) & np.isfinite(err)
    cost = loss[seen] / err[seen]
    tail = cost[len(cost) - (len(cost) // 3 + 1) :]
    assert max(cost[:2]) / np.median(tail) > COSTLY
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "each early mistake cost" in d.explanation


@pytest.mark.parametrize("scale", [0.1, 10.0, 100.0])
def test_costly_mistakes_reads_ratios_only(scale):
    """Every loss scaled (a loss summed over samples): the same reason, the same figures."""
    h = read_log(DATA / COSTLY_RUNS[0])
    assert isinstance(h, History)
    scaled = History.from_columns(
        {
            "loss": [scale * x for x in h.loss],
            "val_loss": [scale * x for x in h.val_loss],
            "val_accuracy": list(h.val_accuracy),
        },
        epoch=list(h.epoch),
    )
    assert costly_mistakes(scaled) == costly_mistakes(h) != ""


@pytest.mark.parametrize(
    "log", ["../fixtures/logs/keras_l2_strong.csv", "penalty_chance_digits_keras.csv"]
)
def test_a_penalty_in_both_losses_is_no_costly_mistake(log):
    """Keras adds its L2 term to both losses: they fall together as the weights shrink
    (the cost per mistake fell 55x and 11x) while the training loss tracks validation
    within a few percent; the underfits keep their verdict."""
    h = read_log(DATA / log)
    assert isinstance(h, History)
    assert costly_mistakes(h) == ""
    assert diagnose(h).verdict is Verdict.UNDERFITTING


def _classifier(val_loss: list[float], val_acc: list[float], train: list[float]) -> History:
    return History.from_columns(
        {"loss": train, "val_loss": val_loss, "val_accuracy": val_acc},
        epoch=list(range(len(val_loss))),
    )


def test_costly_mistakes_by_hand():
    """Hand-computed: 200 nats at 40 % wrong (500 per mistake) down to 10 nats at 30 %
    wrong (33 per mistake): a 15x fall, read. A sound run from the loss of guessing
    (0.69 at 50 % wrong, 1.4 per mistake) to 0.3 at 12 % wrong (2.5 per mistake): the
    cost rose, not read. A network right on 97 % or more of validation, its loss falling
    from 0.77 to 0.05 with one mistake in 35 (s30's wine run 173021, labelled
    overfitting): under ``WRONG`` wrong, not read."""
    n = 12
    fall = np.array([200.0, 200.0, 100.0, 50.0, 20.0, 15.0] + [10.0] * 6)
    wrong = np.array([0.4] * 6 + [0.3] * 6)
    h = _classifier(list(fall), list(1 - wrong), list(0.05 * fall))
    assert math.isclose((200 / 0.4) / (10 / 0.3), 15.0)
    assert "15x" in costly_mistakes(h)
    sound = _classifier(
        list(np.geomspace(0.69, 0.3, n)), list(1 - np.linspace(0.5, 0.12, n)), [0.5] * n
    )
    assert costly_mistakes(sound) == ""
    sure = _classifier(
        list(np.geomspace(0.77, 0.05, n)), [1 - 1 / 35] * n, list(np.geomspace(1.1, 1e-4, n))
    )
    assert WRONG > 1 / 35
    assert costly_mistakes(sure) == ""


def test_a_costly_run_thinned_to_every_second_evaluation_is_still_read():
    """The SummaryWriter run with every second evaluation dropped, its first with them (a
    logger writing at epochs 1, 3, 5 ...): the cost per mistake falls 7.3x, under the 8x
    an earlier bar needed (the metamorphic thinnings flipped it back to a good fit) and
    over ``COSTLY``."""
    h = read_log(DATA / COSTLY_RUNS[0])
    assert isinstance(h, History)
    thinned = History.from_columns(
        {name: list(h.column(name))[1::2] for name in h.columns()[1:]},
        epoch=list(h.epoch)[1::2],
    )
    reason = costly_mistakes(thinned)
    assert "7.34x what a late one does" in reason
    assert COSTLY < 7.34 < 8
    assert diagnose(thinned).verdict is Verdict.DIVERGING
