import math

import numpy as np
import pytest

from nooverfit.config import RunConfig
from nooverfit.history import History
from nooverfit.studies import plan
from nooverfit.studies.combine import combine
from nooverfit.studies.curves import fit_power_law, learning_curve, validation_curve
from nooverfit.studies.labels import describe
from nooverfit.studies.select import Score, best, improves, kept_row, score


def _history(val_acc, val_loss, acc, *, kept_epoch=None, stop_reason="completed"):
    n = len(val_acc)
    return History.from_columns(
        {"val_accuracy": val_acc, "val_loss": val_loss, "accuracy": acc, "loss": [0.1] * n},
        kept_epoch=kept_epoch,
        stop_reason=stop_reason,
    )


def _score(val, *, loss=0.5, std=0.0, acc=1.0):
    return Score(val, std, loss, acc, 0.0, 0.0, acc - val, 10, 1)


def test_score_uses_kept_epoch_and_averages_over_seeds():
    a = _history([0.5, 0.9, 0.8], [1.0, 0.3, 0.4], [0.6, 0.95, 1.0], kept_epoch=1)
    b = _history([0.5, 0.7, 0.8], [1.0, 0.5, 0.45], [0.6, 0.9, 1.0])  # no early stopping: last
    s = score([a, b])
    assert kept_row(a) == 1 and kept_row(b) == 2
    assert b.best_epoch == 2 and a.best_epoch == 1
    assert s.val_accuracy == pytest.approx((0.9 + 0.8) / 2)
    assert s.val_accuracy_std == pytest.approx(0.05)
    assert s.val_loss == pytest.approx((0.3 + 0.45) / 2)
    assert s.gap == pytest.approx(((0.95 - 0.9) + (1.0 - 0.8)) / 2)
    assert s.seeds == 2


def test_score_counts_diverged_runs_as_failures():
    bad = _history(
        [0.1, float("nan")], [2.0, float("nan")], [0.1, float("nan")], stop_reason="diverged"
    )
    s = score([bad])
    assert s.val_accuracy == 0.0 and math.isinf(s.val_loss)


def test_best_prefers_accuracy_then_loss_then_first():
    scores = [
        _score(0.9, loss=0.4),
        _score(0.92, loss=0.5),
        _score(0.92, loss=0.3),
        _score(0.92, loss=0.3),
    ]
    assert best(scores) == 2
    assert not improves(_score(0.9, loss=0.3), _score(0.9, loss=0.4))  # ties: the simpler
    assert not improves(_score(0.89, loss=0.1), _score(0.9, loss=0.4))


def test_remedy_variants_cover_each_remedy_over_the_budget_grid():
    base = RunConfig(width=256, epochs=5, train_per_class=20)
    budget = plan.get_budget("quick")
    variants = plan.remedy_variants(base, budget)
    assert set(variants) == set(plan.REMEDIES) - {"cosine"}  # annealing: standard, thorough
    assert set(plan.remedy_variants(base, plan.get_budget("standard"))) == set(plan.REMEDIES)
    # L2 in AdamW's decoupled form under Adam, the coupled penalty under SGD
    assert [c.weight_decay for c in variants["l2"]] == list(budget.weight_decay)
    assert all(c.l2 == 0 for c in variants["l2"])
    sgd = plan.remedy_variants(base.replace(optimizer="sgd"), budget)
    assert [c.l2 for c in sgd["l2"]] == list(budget.l2)
    assert [c.label_smoothing for c in variants["label_smoothing"]] == list(budget.smoothing)
    assert [c.dropout for c in variants["dropout"]] == list(budget.dropout)
    assert all(c.width < 256 for c in variants["capacity"])
    assert all(c.train_per_class == 20 and c.seed == 0 for cs in variants.values() for c in cs)
    assert variants["inputs"] == []  # images: no input encoding
    tabular = plan.remedy_variants(base, budget, tabular=True)["inputs"]
    assert [c.inputs for c in tabular] == ["ple", "onehot"]
    assert tabular[0].replace(inputs="standard") == base.replace(label=tabular[0].label)


def test_combine_merges_helpful_remedies_and_retunes_lightly():
    base = RunConfig(width=64, epochs=5)
    chosen = {
        "l2": base.replace(l2=1e-3),
        "dropout": base.replace(dropout=0.5),
        "batchnorm": base.replace(batchnorm=True),
    }
    combos = combine(base, chosen)
    merged = combos[0]
    assert (merged.l2, merged.dropout, merged.batchnorm) == (1e-3, 0.5, True)
    assert any(c.l2 == pytest.approx(3.3e-4) for c in combos)
    assert any(c.dropout == 0.3 for c in combos)
    assert len({c.key for c in combos}) == len(combos)
    assert describe(merged, base) == "l2=0.001 + dropout=0.5 + batchnorm"
    encoded = combine(base, {**chosen, "inputs": base.replace(inputs="ple")})[0]
    assert encoded.inputs == "ple"
    assert describe(encoded, base) == "l2=0.001 + dropout=0.5 + batchnorm + inputs ple"


def test_get_budget_rejects_unknown_names():
    with pytest.raises(ValueError, match="budget must be one of"):
        plan.get_budget("huge")


def test_learning_curve_sizes_stop_at_what_the_pool_has():
    budget = plan.get_budget("quick")
    assert plan.learning_curve_sizes(budget, 30) == [5, 10, 20, 30]
    assert plan.learning_curve_sizes(budget, 50) == [5, 10, 20, 50]


def test_learning_curve_sizes_drop_a_size_near_the_largest():
    """A pool of 51 per class trained 50 and 51, two runs of one point of the curve."""
    quick = plan.get_budget("quick")  # (5, 10, 20, 50)
    assert plan.learning_curve_sizes(quick, 51) == [5, 10, 20, 51]
    assert plan.learning_curve_sizes(quick, 62) == [5, 10, 20, 62]  # 62 < 50 * 1.25
    assert plan.learning_curve_sizes(quick, 63) == [5, 10, 20, 50, 63]  # 63 >= 62.5
    assert plan.learning_curve_sizes(quick, 6) == [6]  # 5 and 6: one point, no curve
    standard = plan.get_budget("standard")  # digits' pool: 104 of its smallest class
    assert plan.learning_curve_sizes(standard, 104) == [5, 10, 20, 50, 104]


def test_validation_curve_marks_overfit_below_and_underfit_above_the_choice():
    values = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    scores = [_score(0.85), _score(0.88), _score(0.92), _score(0.915), _score(0.6, acc=0.62)]
    curve = validation_curve("l2", values, scores, [0.0] * 5)
    assert curve.chosen == 1e-3
    assert curve.regions == ("overfit", "overfit", "fit", "fit", "underfit")


def test_validation_curve_for_width_treats_small_as_strong():
    # the narrow network underfits: training accuracy falls with validation's
    scores = [_score(0.6, acc=0.62), _score(0.9), _score(0.85)]
    curve = validation_curve("width", [16, 64, 256], scores, [0.0] * 3, stronger="down")
    assert curve.regions == ("underfit", "fit", "overfit")


def test_power_law_fit_recovers_known_coefficients():
    n = np.array([5, 10, 20, 50, 100, 200], dtype=float)
    err = 0.8 * n**-0.7 + 0.02
    law = fit_power_law(n, err)
    assert law.ok
    assert law.b == pytest.approx(0.7, rel=0.05)
    assert law.c == pytest.approx(0.02, abs=0.005)
    assert law.predict(400) == pytest.approx(0.8 * 400**-0.7 + 0.02, rel=0.02)


def test_learning_curve_predicts_gain_from_doubling():
    sizes = [5, 10, 20, 40]
    scores = {"a": [_score(1 - (0.5 * n**-0.5 + 0.01)) for n in sizes]}
    curve = learning_curve(sizes, scores)
    expected = 0.5 * 40**-0.5 - 0.5 * 80**-0.5
    assert curve.gain_from_doubling("a") == pytest.approx(expected, rel=0.05)
    at_ten = 0.5 * 10**-0.5 - 0.5 * 20**-0.5  # the study's own size, inside the curve
    assert curve.gain_from_doubling("a", 10) == pytest.approx(at_ten, rel=0.05)


def test_the_doubling_gain_the_curve_measured_is_read_from_its_points():
    """The review's 5-9 digits study: measured 91.9 % at 10 and at 20 per class, while
    the power-law fit claimed +2.7 points for doubling; the measured gain is 0, and a
    gain to a size between measured points is interpolated in log size."""
    from nooverfit.studies.curves import LearningCurve

    sizes = [5, 10, 20, 50, 104]
    accs = [0.867, 0.919, 0.919, 0.959, 0.974]
    curve = learning_curve(sizes, {"baseline": [_score(a) for a in accs]})
    assert isinstance(curve, LearningCurve)
    assert curve.measured_doubling("baseline", 10) == pytest.approx(0.0)
    assert curve.gain_from_doubling("baseline", 10) > 0.01  # the fit disagrees
    # 20 -> 40: 40 lies between 20 and 50, at log(2) / log(2.5) of the way
    w = np.log(2) / np.log(2.5)
    assert curve.measured_doubling("baseline", 20) == pytest.approx(w * (0.959 - 0.919))
    assert curve.measured_doubling("baseline", 104) is None  # beyond: only the fit
    assert curve.measured_at("baseline", 3) is None
