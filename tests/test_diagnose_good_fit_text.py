"""The good-fit sentence says what its figures are (s28, i150's review): a GL against the
single lowest value beside the moving average the rule reads, and a validation curve that
ends better than training said that way, not as a negative gap."""

import numpy as np

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History


def _dropout_fit() -> History:
    """Training under dropout stays above validation; validation flattens by epoch 15."""
    e = np.arange(40)
    val = 0.2 + 0.8 * 0.7**e
    train = val + 0.05
    acc = 0.95 - 0.5 * 0.7**e
    return History.from_columns(
        {"loss": train, "val_loss": val, "accuracy": acc, "val_accuracy": acc + 0.02}
    )


def test_validation_ahead_of_training_is_said_so():
    d = diagnose(_dropout_fit())
    assert d.verdict is Verdict.GOOD_FIT
    assert d.gap.loss_at_last < 0 and d.gap.metric_at_last < 0
    assert "validation ended ahead of training by 0.05 in loss and 2.0 points in accuracy" in (
        d.explanation
    )
    assert "a gap of -" not in d.explanation


def test_a_lead_in_one_figure_and_a_trail_in_the_other_are_told_apart():
    h = _dropout_fit()
    acc = np.asarray(h.accuracy)
    mixed = History.from_columns(
        {"loss": h.loss, "val_loss": h.val_loss, "accuracy": acc, "val_accuracy": acc - 0.03}
    )
    d = diagnose(mixed)
    assert d.verdict is Verdict.GOOD_FIT
    assert (
        "validation ended ahead of training by 0.05 in loss and behind it by 3.0 points in "
        "accuracy" in d.explanation
    )


def test_a_gl_against_a_lucky_low_names_the_average_the_rule_reads():
    """One lucky low (0.30 in a curve at 0.40 +- 0.01): GL 37 % against it, while the
    5-evaluation average the rule reads rose a few percent: noise, not a drift."""
    rng = np.random.default_rng(0)
    val = list(0.4 + 1.6 * 0.6 ** np.arange(15)) + list(0.4 + 0.01 * rng.standard_normal(25))
    val[20] = 0.30
    train = [0.9 * v for v in val]
    d = diagnose(History.from_columns({"loss": train, "val_loss": val}))
    assert d.verdict is Verdict.GOOD_FIT
    gl = d.generalization_loss
    assert gl >= 30
    assert f"ended {gl:.1f}% above it (GL), while the curve smoothed over 5 evaluations rose" in (
        d.explanation
    )
    said = float(d.explanation.split("evaluations rose ")[1].split("%")[0])
    assert said < 10


def test_the_smoothing_named_is_the_one_the_rule_used():
    """A run of 100 evaluations is smoothed over 7 (``_curves.window``), and the text
    names 7 (i153's review: it said 5 whatever the run's length)."""
    rng = np.random.default_rng(0)
    val = list(0.4 + 1.6 * 0.6 ** np.arange(15)) + list(0.4 + 0.01 * rng.standard_normal(85))
    val[70] = 0.30
    d = diagnose(History.from_columns({"loss": [0.9 * v for v in val], "val_loss": val}))
    assert d.verdict is Verdict.GOOD_FIT
    assert "smoothed over 7 evaluations rose" in d.explanation
