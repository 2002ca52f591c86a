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


def test_the_best_epochs_figures_come_from_its_row_when_epoch_numbers_repeat():
    """i88's ``dup.py``: a History built through the API holding a run restarted from
    scratch, epochs 0-4 and then 0-9 (``read_log`` keeps only the last run; the API takes
    the rows as given). The best epoch is 3 of the second run, row 8: validation 0.55,
    training 0.3, so the too-little-data cause says (0.55 - 0.3) / 0.55 = 45 %, as the
    table's gap (0.25 at best). Looked up by number, the first run's epoch 3 (row 3: 1.85
    against 1.7) gave 8 %."""
    val = [0.9, 0.7, 0.6, 0.55, 0.56, 0.6, 0.65, 0.7, 0.75, 0.8]
    train = [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03]
    h = History.from_columns(
        {
            "loss": [2.0, 1.9, 1.8, 1.7, 1.6, *train],
            "val_loss": [2.0, 1.95, 1.9, 1.85, 1.8, *val],
        },
        epoch=list(range(5)) + list(range(10)),
    )
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 3
    assert np.isclose(d.gap.loss_at_best, 0.55 - 0.3)
    (cause,) = [c for c in d.causes if c.kind == "too_little_data"]
    assert f"was {100 * (0.55 - 0.3) / 0.55:.0f}% above training" in cause.reason  # 45%


def test_a_metrics_value_at_the_best_epoch_comes_from_its_row_when_epoch_numbers_repeat():
    """The same restart decided on accuracy (no loss logged): five epochs at validation
    accuracy 0.30-0.34, then a run of 30 epochs peaking at 0.90 at its epoch 3 (row 8).
    The explanation quotes that 0.9 at the best epoch; looked up by number it read the
    first run's epoch 3 (row 3, 0.33)."""
    base = _accuracy_only()
    acc, val = list(base.column("accuracy")), list(base.val_accuracy)
    val = val[6:] + [val[-1]] * 6  # the peak (0.90, epoch 9 before) now at epoch 3
    h = History.from_columns(
        {
            "accuracy": [0.3, 0.31, 0.32, 0.33, 0.34, *acc],
            "val_accuracy": [0.3, 0.31, 0.32, 0.33, 0.34, *val],
        },
        epoch=list(range(5)) + list(range(30)),
    )
    d = diagnose(h, metric="accuracy")
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 3
    assert max(val) == 0.9 and val.index(0.9) == 3
    assert f"ended at {val[-1]:.3g} against 0.9 at its best" in d.explanation
