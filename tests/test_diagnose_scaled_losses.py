"""A classifier's loss scaled by a constant or summed over samples (issue 15's metamorphic
test): the failed-run rules compare a cross-entropy with the loss of guessing, ``ln K``
nats, so a loss ten or a hundred times a mean cross-entropy sits above that level however
well the network learned. Both losses falling far below where they started
(:func:`nooverfit._learned.losses_fell`, a ratio of each curve to itself) is the
scale-free evidence that spares them; a run thrown out at its start, or one whose loss
jumped and stayed, is not spared."""

import numpy as np
import pytest

from _real_logs import LOGS, label, load
from nooverfit import diagnose
from nooverfit._learned import losses_fell
from nooverfit.history import History
from test_diagnose_metamorphic import BOUND_GAP, transformed

#: The classifiers among the real-run fixtures whose losses fell, and that did not fail.
LEARNED = [
    "gap_flat_val_lightning",
    "noisy_still_falling_keras",
    "penalty_underfit_keras",
    "noisy_steps_overfit_tensorboard",
    "noisy_batches_overfit_tensorboard",
    "above_half_accuracy_overfit_tensorboard",
    "fitted_classifier_far_below_validation_tensorboard",
    "climbing_after_memorizing_hf",
    "good_fit_minimum_before_end_keras",
    "scaled_memorizing_overfit_tensorboard",
    "imbalanced_memorizing_overfit_tensorboard",
]


def _history(loss, val_loss, val_accuracy):
    return History.from_columns(
        {"loss": loss, "val_loss": val_loss, "val_accuracy": val_accuracy},
        epoch=list(range(1, len(loss) + 1)),
    )


def test_the_learned_fixtures_are_the_classifiers_whose_losses_fell():
    found = []
    for name in sorted(set(LOGS) - BOUND_GAP):
        h = load(name)
        if h.has("val_accuracy") and losses_fell(h) and label(name)["verdict"] != "diverging":
            found.append(name)
    assert sorted(found) == sorted(LEARNED)


@pytest.mark.parametrize("scale", [10.0, 100.0])
@pytest.mark.parametrize("name", LEARNED)
def test_a_learning_classifiers_scaled_losses_keep_its_verdict(name, scale):
    h = load(name)
    assert diagnose(h).verdict.value == label(name)["verdict"]
    assert diagnose(transformed(h, scale=scale)).verdict.value == label(name)["verdict"]


def test_a_memorizing_classifier_summed_over_a_batch_of_128_is_still_overfitting():
    # the validation minimum (1.2 nats a sample) summed over 128 samples is 153, above
    # the 13.8 nats a constant predictor scores over a million classes; until s21 the
    # saturation test called it diverging (the accuracy's later half holds still)
    h = load("scaled_memorizing_overfit_tensorboard")
    summed = transformed(h, scale=128.0)
    assert np.nanmin(summed.val_loss) > np.log(1e6)
    d = diagnose(summed)
    assert d.verdict.value == "overfitting"
    assert (d.best_epoch, d.onset_epoch) == (diagnose(h).best_epoch, diagnose(h).onset_epoch)


def test_losses_that_fell_are_told_from_a_jump_that_stayed_and_a_thrown_start():
    epochs = np.arange(20)
    val_acc = list(np.full(20, 0.95))  # one class holds 95 % of the samples
    fell = _history(
        list(6.3 * np.exp(-epochs / 6)), list(3.6 - 1.7 * (1 - np.exp(-epochs / 4))), val_acc
    )
    assert losses_fell(fell)  # (a loss ten times a mean cross-entropy, learning)
    stayed = _history(list(np.full(20, 8.06)), list(np.full(20, 8.1)), val_acc)
    assert not losses_fell(stayed)  # saturated: the loss stays where it jumped
    thrown = _history(
        list(3.5e4 * 10.0 ** -np.minimum(epochs, 6) + 0.1),
        list(5.8e4 * 10.0 ** -np.minimum(epochs, 2) + 2306),
        val_acc,
    )
    assert not losses_fell(thrown)  # validation fell 25-fold: the start was thrown out
    short = _history([0.6, 0.1], [0.5, 0.3], [0.9, 0.95])
    assert not losses_fell(short)  # too few values to read a fall from
