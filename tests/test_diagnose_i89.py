"""i88's review of the issue-15 rules, findings 4 and 5 (finding 3, the blown-up fit
read from its level, is in ``tests/test_diagnose_i85.py``).

The too-little-data texts quote the gap at the best epoch as the table shows it: the
validation loss's excess over training as a share, or, where the curve decided on is a
metric (a log without a loss), the metric's shortfall in its own units, an accuracy's in
points. The figures quoted at the best epoch come from that epoch's row, also where a
``History`` built through the API repeats epoch numbers (a log appended after a restart).
"""

import numpy as np

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def _accuracy_only() -> History:
    """i88's ``acc_only.csv``: epoch, accuracy, val_accuracy, no loss. Validation
    accuracy peaks at 0.90 (epoch 9) where training has 0.95, then falls."""
    n = 30
    acc = [min(0.999, 0.5 + 0.05 * i) for i in range(n)]
    val = [min(0.90, 0.45 + 0.05 * i) - 0.004 * max(0, i - 12) for i in range(n)]
    return History.from_columns({"accuracy": acc, "val_accuracy": val}, epoch=list(range(n)))


def test_too_little_data_quotes_an_accuracy_gap_in_points_as_the_table_does():
    d = diagnose(_accuracy_only(), metric="accuracy")
    assert d.verdict is Verdict.OVERFITTING and d.monitor == "accuracy"
    # the reference: the logged accuracies at the best epoch, 0.95 - 0.90 (the table's row)
    assert d.best_epoch == 9
    assert np.isclose(d.gap.metric_at_best, 0.95 - 0.90)
    points = f"{100 * d.gap.metric_at_best:.1f} points"
    assert points == "5.0 points"
    (cause,) = [c for c in d.causes if c.kind == "too_little_data"]
    assert f"validation accuracy trailed training by {points}" in cause.reason
    assert "loss" not in cause.reason and "%" not in cause.reason
    kinds = ("augmentation", "more_data", "transfer_learning")
    quoting = [r for r in d.remedies if r.kind in kinds]
    assert len(quoting) == 3
    for remedy in quoting:
        assert f"gap of {points}" in remedy.reason and "%" not in remedy.reason


def test_too_little_data_still_quotes_a_loss_gap_as_a_share():
    """Unchanged where the loss decides: (0.8 - 0.4) / 0.8 = 50 % at the best epoch."""
    n = 20
    val = [2.0 - 0.3 * i if i < 4 else 0.8 + 0.05 * (i - 4) for i in range(n)]
    train = [2.0 - 0.4 * i if i < 4 else max(0.05, 0.4 - 0.03 * (i - 4)) for i in range(n)]
    d = diagnose(History.from_columns({"loss": train, "val_loss": val}, epoch=list(range(n))))
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 4
    (cause,) = [c for c in d.causes if c.kind == "too_little_data"]
    assert "the validation loss was 50% above training" in cause.reason
    (more,) = [r for r in d.remedies if r.kind == "more_data"]
    assert "shrink a 50% gap" in more.reason
