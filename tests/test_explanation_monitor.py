"""The explanation names the validation curve the verdict was decided on (_explanation.py):
a log of validation accuracy alone is not said to hold a validation loss."""

import math

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def test_good_fit_on_validation_accuracy_names_accuracy():
    """It read "A good fit: validation loss reached its best at epoch 29" of a log with no
    validation loss (the table said "decided on val_accuracy")."""
    acc = [0.9 - 0.4 * math.exp(-e / 3) for e in range(30)]
    d = diagnose(
        History.from_columns({"loss": [1 / (e + 1) for e in range(30)], "val_accuracy": acc})
    )
    assert (d.verdict, d.monitor) == (Verdict.GOOD_FIT, "accuracy")
    assert d.explanation.startswith("A good fit: validation accuracy reached its best at epoch 29")
    assert "validation loss" not in d.explanation


def test_still_improving_on_validation_accuracy_names_accuracy():
    acc = [0.5 + 0.012 * e for e in range(15)]
    d = diagnose(
        History.from_columns({"loss": [1 / (e + 1) for e in range(15)], "val_accuracy": acc})
    )
    assert (d.verdict, d.monitor) == (Verdict.STILL_IMPROVING, "accuracy")
    assert "after 15 epochs the validation accuracy is still improving steadily" in d.explanation
    assert "validation loss" not in d.explanation
