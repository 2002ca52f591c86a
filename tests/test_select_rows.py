"""The selection's noise floor from the validation rows (select.row_floor): hand-computed."""

import math

import pytest

from nooverfit.studies.select import (
    MARGIN,
    Score,
    choose,
    improves,
    paired_gain,
    pick_ensemble,
    row_floor,
    steps,
)


def _score(*per_seed, loss=0.5, losses=()):
    mean = sum(per_seed) / len(per_seed)
    return Score(mean, 0.0, loss, 1.0, 0.0, 0.0, 1.0 - mean, 10, len(per_seed), per_seed, losses)


def _rows(base, gained, n):
    """Per-seed accuracies ``base`` (as row counts of ``n``) with ``gained`` rows more."""
    return _score(*((b + g) / n for b, g in zip(base, gained, strict=True)))


def test_row_floor_is_mcnemars_least_standard_error():
    # one row in 120 on each of 3 seeds: sqrt(3 * (1/120) / 120) / 3 = sqrt(3) / 360
    assert row_floor([1 / 120] * 3, [120] * 3) == pytest.approx(math.sqrt(3) / 360)
    # the signs do not cancel: each seed's difference has its own coin tosses
    assert row_floor([2 / 100, -2 / 100], [100, 100]) == pytest.approx(math.sqrt(4) / 200)
    assert row_floor([0.0, 0.0, 0.0], [50, 50, 50]) == 0.0
    assert row_floor([0.1], []) == 0.0  # rows unknown: no floor


def test_one_row_on_each_of_three_seeds_no_longer_passes_at_120_validation_rows():
    """The issue's case: the seeds agree exactly, so their spread says 0 and any gain
    passed; 3 net rows of 360 are sqrt(3) = 1.73 floors, below the margin of 2."""
    base = _rows([90, 92, 88], [0, 0, 0], 120)
    plus_one = _rows([90, 92, 88], [1, 1, 1], 120)
    assert improves(plus_one, base)  # without the rows: the old rule
    assert not improves(plus_one, base, rows=(120, 120, 120))
    gain, se = paired_gain(plus_one, base, (120, 120, 120))
    assert gain == pytest.approx(1 / 120)
    assert se == pytest.approx(math.sqrt(3) / 360)


def test_a_gain_needs_more_than_margin_squared_net_rows():
    """Equal gains of g rows on 3 seeds of n rows: the mean is g/n, the floor
    sqrt(3g)/(3n), so it passes where 3g > MARGIN**2 = 4 net rows, whatever n."""
    for n in (30, 120, 1000):
        base = _rows([n // 2] * 3, [0] * 3, n)
        one = _rows([n // 2] * 3, [1] * 3, n)  # 3 rows: sqrt(3) = 1.73 floors
        two = _rows([n // 2] * 3, [2] * 3, n)  # 6 rows: sqrt(6) = 2.45 floors
        assert not improves(one, base, rows=(n,) * 3)
        assert improves(two, base, rows=(n,) * 3)
    assert MARGIN**2 == 4


def test_a_large_consistent_gain_still_passes():
    base = _rows([80, 84, 78], [0, 0, 0], 120)
    better = _rows([80, 84, 78], [9, 11, 10], 120)  # +30 rows of 360: 8.3 points
    assert improves(better, base, rows=(120, 120, 120))
    gain, se = paired_gain(better, base, (120, 120, 120))
    # the seeds' spread (std 1/120, se 1/(120 sqrt 3)) is below the floor sqrt(30)/360
    assert se == pytest.approx(math.sqrt(30) / 360)
    assert gain / se == pytest.approx(math.sqrt(30))


def test_the_floor_never_lowers_the_seeds_standard_error():
    base = _score(0.80, 0.85, 0.90)
    noisy = _score(0.86, 0.83, 0.88)  # +6, -2, -2 points: se 2.67 points, above the floor
    assert paired_gain(noisy, base, (1000,) * 3) == pytest.approx(paired_gain(noisy, base))


def test_exact_ties_keep_the_simpler_with_or_without_rows():
    base = _rows([60, 61, 62], [0, 0, 0], 120)
    assert not improves(_rows([60, 61, 62], [0, 0, 0], 120), base, rows=(120,) * 3)
    assert choose([[base], [_rows([60, 61, 62], [0, 0, 0], 120)]], rows=(120,) * 3) == (0, 0)


def test_choose_and_steps_pass_the_rows_to_each_comparison():
    base = _rows([90, 92, 88], [0, 0, 0], 120)
    remedy = _rows([90, 92, 88], [1, 1, 1], 120)  # 3 rows: within the floor
    combo = _rows([90, 92, 88], [4, 3, 4], 120)  # 11 rows over the baseline
    levels = [[base], [remedy], [combo]]
    assert choose(levels) == (2, 0)  # old rule: the remedy, then the combination
    assert [s.taken for s in steps(levels)] == [True, True]
    assert [s.taken for s in steps(levels, rows=(120,) * 3)] == [False, True]
    assert choose(levels, rows=(120,) * 3) == (2, 0)
    assert choose([[base], [remedy]], rows=(120,) * 3) == (0, 0)


def test_pick_ensemble_applies_the_floor_to_accuracy_only():
    base = _rows([90, 92, 88], [0, 0, 0], 120)
    ens = _rows([90, 92, 88], [1, 1, 1], 120)
    assert pick_ensemble([ens], base) == 0
    assert pick_ensemble([ens], base, rows=(120,) * 3) is None
    # the same +1 row, with a log loss lower by 0.05 nats on every seed: admitted on loss
    base_l = _score(*base.val_per_seed, losses=(0.40, 0.42, 0.41))
    ens_l = _score(*ens.val_per_seed, losses=(0.35, 0.37, 0.36))
    assert pick_ensemble([ens_l], base_l, rows=(120,) * 3) == 0
