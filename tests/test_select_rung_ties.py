"""The linear rung's variant on a validation accuracy tie: the larger L2 penalty, not the
lower log loss (penguins: every variant 100 % on validation, the unpenalized fit the
least log loss and the lowest test accuracy)."""

from __future__ import annotations

import pytest

from nooverfit.config import RunConfig
from nooverfit.studies.curves import validation_curve
from nooverfit.studies.findings import rung_best
from nooverfit.studies.remedy_curves import remedy_curves
from nooverfit.studies.result import Variant
from nooverfit.studies.select import Score, best, best_penalized, choose
from nooverfit.studies.stages import _outcome


def _score(per_seed, loss):
    mean = sum(per_seed) / len(per_seed)
    return Score(mean, 0.0, loss, 1.0, 0.0, 0.0, 1.0 - mean, 10, len(per_seed), tuple(per_seed))


# penguins' rung as main's study saw it (bench/README.md, i66's dumps): l2 0, 0.001, 0.01
# at 100 % on every seed, log loss 0.005, 0.010, 0.038; l2 0.1 at 99.4 %; l2 1 at 87.2 %
PENALTIES = [0.0, 0.001, 0.01, 0.1, 1.0]
PENGUINS = [
    _score([1.0, 1.0, 1.0], 0.005),
    _score([1.0, 1.0, 1.0], 0.010),
    _score([1.0, 1.0, 1.0], 0.038),
    _score([50 / 52, 1.0, 1.0], 0.157),
    _score([44 / 52, 46 / 52, 46 / 52], 0.516),
]


def test_a_tie_goes_to_the_largest_penalty_not_the_lowest_loss():
    assert best(PENGUINS) == 0  # within a remedy's grid: the lowest log loss
    assert best_penalized(PENGUINS, PENALTIES) == 2  # l2 = 0.01: the most penalized at 100 %


def test_a_higher_accuracy_beats_a_larger_penalty():
    # 2/3 against 0.65: the smaller penalty wins outright, whatever the loss
    scores = [_score([2 / 3, 2 / 3, 2 / 3], 0.9), _score([0.6, 0.7, 0.65], 0.1)]
    assert best_penalized(scores, [0.0, 1.0]) == 0
    # the same mean from different seeds (0.6 + 0.7 + 0.7 = 0.7 + 0.6 + 0.7): a tie
    tied = [_score([0.6, 0.7, 0.7], 0.1), _score([0.7, 0.6, 0.7], 0.9)]
    assert best_penalized(tied, [0.0, 0.1]) == 1
    assert best_penalized(tied, [0.1, 0.0]) == 0  # whatever the order listed


def test_best_penalized_needs_one_penalty_per_score():
    with pytest.raises(ValueError):
        best_penalized(PENGUINS, PENALTIES[:2])


def _variant(l2, s):
    config = RunConfig(depth=0, l2=l2, cosine=True)
    return Variant(f"l2={l2} + linear", "linear", config, s, "", ())


def test_the_study_takes_the_penalized_variant_for_the_rungs_row_level_and_curve():
    rung = [_variant(v, s) for v, s in zip(PENALTIES, PENGUINS, strict=True)]
    assert rung_best(rung).config.l2 == 0.01
    base = Variant("baseline", "baseline", RunConfig(), _score([1.0, 1.0, 1.0], 0.02), "", ())
    assert _outcome("linear", rung, base).chosen.config.l2 == 0.01  # the report's row
    assert _outcome("l2", rung, base).chosen.config.l2 == 0.0  # other grids: lowest loss
    # as choose's first level: a network at 100 % whose loss 0.02 is 0.018 under the
    # penalized rung's 0.038 ties every seed; without per-seed losses it cannot break it
    assert choose([[rung_best(rung).score], [base.score]]) == (0, 0)
    (curve,) = remedy_curves(base, {"linear": rung})
    assert curve.param == "linear_l2" and curve.chosen == 0.01


def test_a_curve_with_ties_stronger_marks_the_strongest_tied_value():
    # stronger "down" (a larger value regularizes less): the tie goes to the smaller value
    scores = [_score([0.8, 0.8, 0.8], 0.1), _score([0.8, 0.8, 0.8], 0.5)]
    down = validation_curve("x", [1.0, 2.0], scores, [0.0, 0.0], stronger="down")
    assert down.chosen == 1.0  # lower loss
    tied = validation_curve("x", [1.0, 2.0], scores[::-1], [0.0, 0.0], stronger="down",
                            ties_stronger=True)  # fmt: skip
    assert tied.chosen == 1.0  # the smaller, stronger value, though its loss is 0.5
    up = validation_curve("x", [1.0, 2.0], scores, [0.0, 0.0], ties_stronger=True)
    assert up.chosen == 2.0
