"""What the explanation says about training follows what the log holds: a training loss
beside a verdict decided on validation accuracy is a training curve; a log of validation
curves alone gets no claim about training, for an overfit or an underfit."""

from __future__ import annotations

import numpy as np

from nooverfit._rules import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History

EPOCHS = np.arange(40)
#: validation accuracy rising to 0.8 at epoch 15, then falling 0.01 an epoch
RISE_THEN_FALL = np.where(EPOCHS < 15, 0.5 + 0.3 * EPOCHS / 15, 0.8 - 0.01 * (EPOCHS - 15))


def _diagnose(columns: dict[str, np.ndarray]):
    history = History.from_columns(
        {k: [float(v) for v in c] for k, c in columns.items()}, epoch=[int(e) for e in EPOCHS]
    )
    return diagnose(history)


def test_a_training_loss_beside_validation_accuracy_is_a_training_curve():
    found = _diagnose({"loss": 2.0 * np.exp(-EPOCHS / 8) + 0.01, "val_accuracy": RISE_THEN_FALL})
    assert found.verdict is Verdict.OVERFITTING
    assert "kept getting better on the training data" in found.explanation
    assert "holds no training curve" not in found.explanation


def test_validation_accuracy_alone_makes_no_claim_about_training():
    found = _diagnose({"val_accuracy": RISE_THEN_FALL})
    assert found.verdict is Verdict.OVERFITTING
    assert "holds no training curve" in found.explanation
    assert "training data" not in found.explanation and "nan" not in found.explanation


def test_an_underfit_of_validation_curves_alone_makes_no_claim_about_training():
    flat = 0.5 + 0.001 * np.cos(EPOCHS[:30] * 1.7)
    history = History.from_columns({"val_loss": [float(v) for v in flat]}, epoch=list(range(30)))
    found = diagnose(history)
    assert found.verdict is Verdict.UNDERFITTING
    texts = [found.explanation, *(c.reason for c in found.causes)]
    assert not any("training and validation losses" in t for t in texts)
    assert not any("training loss fell" in t for t in texts)
    assert "holds no training curve" in found.explanation


def test_a_regression_metrics_gap_is_quoted_in_its_own_units_not_points():
    train = np.exp(-EPOCHS / 6) + 0.02
    val = np.where(
        EPOCHS < 12, np.exp(-EPOCHS / 6) + 0.1, np.exp(-2.0) + 0.1 + 0.01 * (EPOCHS - 12)
    )
    found = _diagnose({"mae": train, "val_mae": val})
    assert found.verdict is Verdict.OVERFITTING
    # by hand: 0.535335 + 0.1 + 0.27 - (0.020347 + 0.02) = 0.484 at the last epoch
    assert "trails training by 0.484 in mae." in found.explanation
    assert "points" not in found.explanation
