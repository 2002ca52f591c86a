"""Regression tests from real runs: logs written by Keras, Lightning, PyTorch's
SummaryWriter and the Hugging Face Trainer format (``bench/make_log_fixtures.py``), one per
failure family of issue 15 (metamorphic tests: ``test_diagnose_metamorphic.py``)."""

import json
import math

import numpy as np
import pytest

from _real_logs import LOGS, label, load
from nooverfit import _curves as cv
from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log


@pytest.mark.parametrize("name", sorted(LOGS))
def test_real_run_verdict_matches_its_label(name):
    expected = label(name)
    d = diagnose(load(name))
    assert d.verdict.value == expected["verdict"]
    test = np.asarray(expected["test"], dtype=float)  # the signal diagnose never sees
    if expected["verdict"] == "overfitting":
        assert test[-1] > test.min() and int(np.argmin(test)) < len(test) - 2


def test_collapse_far_above_chance_is_diverging_not_underfitting():
    h = load("collapse_keras")
    assert min(h.loss[1:]) > 5 * math.log(2)  # Keras's clipped cross-entropy, saturated
    assert np.ptp(h.accuracy[1:]) < 0.01
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "chance level" in d.explanation


def test_memorization_is_overfitting_and_no_ratio_to_a_near_zero_loss():
    h = load("memorization_tensorboard")
    assert min(h.loss) < 1e-4
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    reasons = [*(c.reason for c in d.causes), *(r.reason for r in d.remedies)]
    text = " ".join([d.explanation, *reasons])
    assert "x below" not in text and "x)" not in text


def test_short_run_still_falling_is_still_improving():
    d = diagnose(load("short_still_falling_keras"))
    assert d.verdict is Verdict.STILL_IMPROVING
    assert d.remedies[0].kind == "train_longer"


def test_flat_validation_is_not_improving():
    # five epochs after a network memorized its data: validation flat, training ~0
    h = load("memorization_tensorboard")
    tail = History.from_columns({"loss": h.loss[-5:], "val_loss": h.val_loss[-5:]})
    assert diagnose(tail).verdict is not Verdict.STILL_IMPROVING


@pytest.mark.parametrize("name", sorted(LOGS))
def test_one_best_epoch_and_onset_everywhere(name):
    h = load(name)
    d = diagnose(h)
    if d.best_epoch is not None:
        assert d.best_epoch == h.best()
    if d.verdict is Verdict.OVERFITTING:
        assert d.best_epoch <= d.onset_epoch <= h.epoch[-1]
        # (named as the log numbers its rows: "epoch 4", "step 40", "evaluation 4 (step 40)")
        best, onset = d.epoch_name(d.best_epoch), d.epoch_name(d.onset_epoch)
        assert f"best at {best} " in d.explanation
        assert onset in d.explanation
        for cause in d.causes:
            if cause.kind == "too_many_epochs":
                assert f"lowest at {best}" in cause.reason


def test_a_still_falling_curve_that_has_bent_is_still_improving():
    """12 epochs of momentum SGD: the fall has slowed to a tenth of its early rate, yet
    it stands many standard errors clear of the curve's noise (the test loss fell 15 %
    over the last third): train longer, not "good fit"."""
    h = load("noisy_still_falling_keras")
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING
    flat = np.asarray(h.val_loss, dtype=float)
    flat[-4:] = flat[-4] * np.array([1.0, 1.004, 0.997, 1.002])  # noise, no trend
    columns = {c: list(h.column(c)) for c in ("loss", "accuracy", "val_accuracy")}
    noisy = History.from_columns({**columns, "val_loss": list(flat)}, epoch=h.epoch)
    assert diagnose(noisy).verdict is not Verdict.STILL_IMPROVING


def test_a_penalty_shrinking_in_both_losses_is_underfitting_not_improving():
    """Keras adds its L2 term to training and validation loss: both fall from 5.5 to 1.7
    as the weights shrink while the accuracy stays near 0.29 (4 classes) and the test
    loss sits at chance (ln 4): underfitting."""
    h = load("penalty_underfit_keras")
    assert h.val_loss[0] > 3 * h.val_loss[-1]
    assert max(h.accuracy) < 0.4
    assert diagnose(h).verdict is Verdict.UNDERFITTING
    assert label("penalty_underfit_keras")["test"][-1] == pytest.approx(math.log(4), abs=0.01)


def test_an_epoch_scalar_logged_every_few_epochs_keeps_every_validation_round():
    """SummaryWriter with the epoch scalar every 50 steps (5 epochs) and a validation
    round per epoch: 20 epochs, not 5 merged ones."""
    h = load("sparse_epoch_tensorboard")
    assert len(h) == 20 and list(h.epoch) == list(range(20))
    assert sum(math.isfinite(v) for v in h.val_loss) == 20
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING


def test_losses_nan_from_the_start_are_diverging_whatever_else_is_logged(tmp_path):
    """The Trainer logs learning_rate and grad_norm next to a NaN loss: settings and
    diagnostics are no evidence of a fit, so the run diverged (not "insufficient
    evidence")."""
    nan = float("nan")
    history, step = [], 0
    for epoch in range(1, 7):
        for _ in range(4):
            step += 1
            history.append(
                {
                    "epoch": step / 4,
                    "grad_norm": nan,
                    "learning_rate": 3.0,
                    "loss": nan,
                    "step": step,
                }
            )
        history.append(
            {"epoch": float(epoch), "eval_loss": nan, "eval_runtime": 0.01, "step": step}
        )
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    h = read_log(tmp_path / "trainer_state.json")
    assert h.has("lr")
    assert diagnose(h).verdict is Verdict.DIVERGING


def test_a_cross_entropy_in_the_thousands_is_saturated_even_with_good_accuracy():
    """Adam at lr 3 on two classes: 96.5 % validation accuracy, yet a validation loss
    that never falls below 2000 nats (a constant predictor scores ln 2 = 0.69): the
    logits blew up (test loss 2800, the label's signal), not a good fit."""
    h = load("saturated_lightning")
    assert min(v for v in h.val_loss if v == v) > 1000
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "saturated" in d.explanation


def test_a_swinging_loss_that_never_beat_guessing_is_diverging_not_overfitting():
    """SGD at lr 3 on four classes: the validation loss turns back and forth between
    evaluations and never gets below the loss of guessing (ln(1 / lowest accuracy)), while
    the test loss never gets clearly below a constant predictor's (ln 4)."""
    name = "unstable_near_chance_tensorboard"
    h = load(name)
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "never got below" in d.explanation
    test = np.asarray(label(name)["test"])
    assert np.convolve(test, np.ones(5) / 5, "valid").min() > 0.9 * label(name)["constant_loss"]


def test_a_u_shaped_validation_loss_is_not_back_and_forth():
    """An overfitting U (down, one turn, up) has almost no reversals; a loss thrown up
    and down has many: only the second says the optimizer is unstable."""
    u = np.array([1.8, 1.08, 0.83, 0.92, 1.23, 1.5, 1.78, 2.0, 2.16, 2.27, 2.33, 2.35])
    assert cv.reversals(u) < 0.01
    assert cv.reversals(np.array([1.3, 1.6, 1.1, 1.5, 1.2, 1.7, 1.1, 1.4])) > 0.2


def test_nan_losses_with_an_accuracy_that_never_moves_are_diverging():
    """SGD at lr 10: every logged loss is NaN and the validation accuracy is 0.1 at every
    evaluation (NaN outputs put every digit in one class): diverging, not a good fit
    decided on the accuracy alone."""
    h = load("nan_frozen_accuracy_tensorboard")
    assert not h.has("loss") and not h.has("val_loss")
    assert np.ptp(h.val_accuracy) == 0 and h.val_accuracy[0] == pytest.approx(0.1)
    assert diagnose(h).verdict is Verdict.DIVERGING


def test_a_validation_loss_that_turns_nan_after_one_value_is_diverging():
    """lr 30: a validation loss of 6e21 at the first evaluation, NaN after it, and no
    training value logged: the loss became NaN (not "insufficient evidence")."""
    h = load("nan_after_first_eval_tensorboard")
    assert sum(math.isfinite(v) for v in h.val_loss) == 1
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "NaN" in d.explanation


def test_per_step_noise_of_a_memorizing_network_is_not_divergence():
    """Batches of 16 with 10 % flipped labels, logged per step: the training loss near
    zero jumps by multiples of itself (0.04 to 0.29) while validation rises 20 % above its
    minimum. Overfitting; the climb of the training loss is far below a quarter of its
    fall from 2.0."""
    h = load("noisy_steps_overfit_tensorboard")
    assert max(h.loss[20:]) > 3 * min(h.loss[20:])
    assert diagnose(h).verdict is Verdict.OVERFITTING


def test_a_short_run_still_learning_is_still_improving_whatever_its_accuracy():
    """The baseline of a study on digits (4 epochs): both losses fall faster each epoch,
    accuracy 0.14 -> 0.58. Too short for the accuracy's slope test: still improving, not
    underfitting (issue 15's short-run family)."""
    h = History.from_columns(
        {
            "loss": [2.2736, 2.2035, 2.0706, 1.8323],
            "val_loss": [2.2704, 2.1993, 2.0638, 1.8257],
            "accuracy": [0.1410, 0.3238, 0.5438, 0.5819],
            "val_accuracy": [0.1481, 0.3222, 0.5704, 0.5704],
        }
    )
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING


def test_a_training_loss_logged_once_is_no_evidence_of_underfitting():
    """HF with logging_steps 50 at 3 steps per epoch, and a SummaryWriter loop logging every
    50 steps: one training value in the whole log. The underfit rule measures how far
    training fell, which one value cannot show; validation fell 20-30 % below its first
    value and the test curve is flat: a good fit."""
    for name in ("once_logged_train_good_fit_hf", "once_logged_train_good_fit_tensorboard"):
        h = load(name)
        assert sum(math.isfinite(v) for v in h.loss) == 1
        assert diagnose(h).verdict is Verdict.GOOD_FIT


def test_training_far_below_validation_is_no_underfit():
    """The penalty-underfit run with its training loss replaced by a tenth of validation:
    a network that fits its training set that well is no underfit."""
    h = load("once_logged_train_good_fit_hf")
    val = np.asarray(h.val_loss, dtype=float)
    columns = {"loss": list(0.1 * val), "val_loss": list(val)}
    assert diagnose(History.from_columns(columns, epoch=h.epoch)).verdict is not (
        Verdict.UNDERFITTING
    )


def test_a_training_loss_logged_once_far_below_validation_is_no_underfit():
    """Validation flat (it learned before the first evaluation) and the one training value
    a tenth of it: the network fits its training set, whatever validation's fall."""
    h = load("once_logged_train_good_fit_hf")
    flat = [float(np.nanmin(h.val_loss))] * len(h)
    loss = [math.nan] * (len(h) - 1) + [0.1 * flat[0]]
    columns = {"loss": loss, "val_loss": flat}
    verdict = diagnose(History.from_columns(columns, epoch=h.epoch)).verdict
    assert verdict is not Verdict.UNDERFITTING


def test_accuracy_at_chance_with_a_loss_well_above_guessing_is_diverging():
    """Adam at lr 3 on four classes: the first evaluations blow up to 1e3, then the
    validation accuracy stays at 24-31 % (chance: 25 %) with a loss of 3.4, 2.4 times
    the loss of guessing (ln 4), and training sits at 1.5: saturated outputs, not a good
    fit. The test loss confirms it (5.5, four times a constant predictor's). Since s24 the
    reason named is the blow-up at the start: the training loss fell from its first value,
    so a loss 2.4 times guessing alone no longer says saturation (a scaled underfit sits
    there too), while a validation loss that fell 300-fold in its first evaluations does."""
    h = load("saturated_at_chance_hf")
    acc = np.asarray(h.val_accuracy, dtype=float)
    assert np.nanmax(acc) - np.nanmin(acc) < 0.1
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "blew the weights up" in d.explanation
    assert label("saturated_at_chance_hf")["test"][-1] > 3 * math.log(4)


def test_a_memorizing_network_without_a_training_accuracy_shows_its_gap():
    """HF logs no training accuracy: a mean training cross-entropy of 0.0006 nats bounds
    it above 99.9 % (each mistake costs at least ln 2), while validation accuracy sits
    at 87 % and its loss is flat: overfitting, with the gap quoted as a lower bound."""
    h = load("gap_from_loss_bound_hf")
    assert not h.has("accuracy")
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert any("at least" in c.reason for c in d.causes)


def test_single_batch_losses_swinging_are_noise_not_a_runaway_optimizer():
    """Single 32-sample batches with 30 % noisy labels, logged every 10 steps: the
    training loss swings between 0.09 and 1.8 from one logged value to the next, so its
    smoothed end sits 4x above its smoothed minimum without any runaway. Validation (and
    the test loss) fell, then rose 50 %: overfitting, not diverging."""
    h = load("noisy_batches_overfit_tensorboard")
    real = np.asarray([v for v in h.loss if math.isfinite(v)])
    assert np.median(np.abs(np.diff(np.log(real)))) > 0.5  # swings by 1.6x and more
    assert diagnose(h).verdict is Verdict.OVERFITTING
    test = np.asarray(label("noisy_batches_overfit_tensorboard")["test"])
    assert test[-1] > 1.3 * test.min()


def test_a_classifier_above_half_accuracy_throughout_beat_guessing():
    """Ten classes, 30 % noisy labels: validation accuracy between 62 and 77 % at every
    evaluation, its loss swinging around 1.0. ln(1 / 0.62) = 0.48 is no loss of guessing
    here (ln 10 = 2.3 is): a network right more than half the time beat guessing whatever
    its classes, so the swings are no divergence. The test loss rose 14 % from its low."""
    h = load("above_half_accuracy_overfit_tensorboard")
    acc = np.asarray(h.val_accuracy, dtype=float)
    assert np.nanmin(acc) > 0.5 and np.nanmin(h.val_loss) > -math.log(np.nanmin(acc))
    assert diagnose(h).verdict is Verdict.OVERFITTING


@pytest.mark.parametrize("name", ["recovering_blow_up_hf", "recovering_blow_up_tensorboard"])
def test_a_regression_recovering_from_a_blow_up_is_diverging(name):
    """Regression at a huge step (Adam lr 3 and 10): the first evaluations sit 1e3-1e4
    times above the last ones, fallen within the first quarter; what follows looks like
    a slow fall (still improving) or a plateau (good fit), yet the test loss ends 10 times
    and more above a constant predictor's. No absolute level needed: the curve against
    itself."""
    h = load(name)
    val = np.asarray([v for v in h.val_loss if math.isfinite(v)])
    assert val[:2].max() > 100 * np.median(val[-len(val) // 3 :])
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "blew the weights up" in d.explanation
    assert min(label(name)["test"]) > 10


def test_a_memorized_run_whose_validation_ended_near_its_start_is_overfitting():
    """MSE regression on 40 samples: training falls to 3e-7 while validation, flat over
    its last 40 epochs, ends only 15 % below its first evaluation (its minimum of epoch
    9 smoothed away): the network memorized its samples and learned nothing that carries
    over, a large gap with a flat validation loss. The test loss ends 30 % above its low."""
    h = load("memorized_unlearned_tensorboard")
    val = np.asarray([v for v in h.val_loss if math.isfinite(v)])
    train = np.asarray([v for v in h.loss if math.isfinite(v)])
    assert train[-1] < 1e-5 * val[-1] and val[-1] > 0.8 * val[0]
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.onset_epoch is not None and d.best_epoch <= d.onset_epoch <= h.epoch[-1]
    test = np.asarray(label("memorized_unlearned_tensorboard")["test"])
    assert test[-1] > 1.25 * test.min()


def test_a_validation_loss_frozen_far_above_its_first_value_is_diverging():
    """MSE regression at SGD lr 10: validation 2e7 at its first evaluation, then 2.3e9 at
    every later one (the outputs stopped moving). Smoothing spreads the single first value
    away, yet it is a level the network reached: a curve that stays 100x above it blew up
    (overfitting multiplies a loss by a few at most). The test loss ends over 3x a
    constant predictor's."""
    h = load("frozen_after_blow_up_tensorboard")
    val = np.asarray([v for v in h.val_loss if math.isfinite(v)])
    assert np.ptp(val[1:]) < 1e-5 * val[-1] and val[-1] > 100 * val[0]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "blew up" in d.explanation
    assert label("frozen_after_blow_up_tensorboard")["test"][-1] > 3 * 0.848


def test_a_classifier_fitted_far_below_validation_is_no_blow_up():
    """Digits, 60 training samples, the training loss logged every sixth epoch and
    already 0.03 at its first value: validation sits hundreds of times above a training
    loss that never fell, the blow-up pattern of a regression. But a mean cross-entropy
    of 0.004 bounds the training accuracy above 99 % (each mistake costs ln 2 nats): the
    network fitted its samples, and validation rising 60 % from its low is overfitting."""
    h = load("fitted_classifier_far_below_validation_tensorboard")
    train = np.asarray([v for v in h.loss if math.isfinite(v)])
    val = np.asarray([v for v in h.val_loss if math.isfinite(v)])
    assert not h.has("accuracy") and train.max() < 0.1 * val.min()
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    test = np.asarray(label("fitted_classifier_far_below_validation_tensorboard")["test"])
    assert test[-1] > 1.3 * test.min()


def test_a_memorizing_network_whose_validation_still_falls_is_still_improving():
    """The memorized-but-unlearned signal reads a validation loss that stopped falling:
    ten epochs of a fine-tuning-like run, training at a tenth of validation, validation
    falling steadily by 2 % an epoch (20 % over the run, under ``UNLEARNED`` of its end)
    is still improving, not overfitting."""
    val = [0.125 * 0.98**k for k in range(10)]
    h = History.from_columns(
        {"loss": [0.1 * v for v in val], "val_loss": val}, epoch=list(range(10))
    )
    assert val[0] - val[-1] < 0.25 * val[-1]
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING


def test_validation_climbing_after_memorizing_is_overfitting():
    """The Trainer on digits: training at a fifteenth of validation, whose smoothed curve
    ends only 4 % above its minimum while its line over the last third climbs 10 % of its
    level, two residual standard deviations: overfitting (the test loss rose 19 %)."""
    h = load("climbing_after_memorizing_hf")
    val = np.asarray(h.val_loss, dtype=float)
    val = val[np.isfinite(val)]
    assert cv.tail_drop(val) < -0.05 and cv.tail_clearance(val) <= -1.0
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch <= d.onset_epoch <= h.epoch[-1]
    test = np.asarray(label("climbing_after_memorizing_hf")["test"], dtype=float)
    assert test[-1] > 1.1 * test.min()
