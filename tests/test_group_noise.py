"""The group-gap warning fires on a truly worse group, not on random groups of a few rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nooverfit.group_noise import exact_upper, gap_lower_bound, wilson, worse_group
from nooverfit.groups import group_gap


def test_wilson_matches_the_textbook_values():
    # Newcombe (1998), table I: 81/263 -> 0.2553-0.3662 at 95 %; 0/10 -> 0-0.2775
    assert wilson(81, 263, 1.959964) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 10, 1.959964) == pytest.approx((0.0, 0.2775), abs=1e-4)


def test_exact_bound_matches_clopper_pearson():
    # scipy.stats.beta.ppf(0.975, 82, 182) and beta.ppf(0.975, 1, 10)
    assert exact_upper(81, 263, 0.025) == pytest.approx(0.3676219, abs=1e-6)
    assert exact_upper(0, 10, 0.025) == pytest.approx(0.3084971, abs=1e-6)
    assert exact_upper(5, 5, 0.025) == 1.0


def test_the_gap_bound_is_newcombe_with_the_exact_group_bound():
    # 48/80 against 56/70: the rest's Wilson lower bound and the group's exact upper one
    z = 1.959964
    lo_r, _ = wilson(56, 70, z)
    hi_g = exact_upper(48, 80, 0.025)
    expected = (0.8 - 0.6) - math.sqrt((0.8 - lo_r) ** 2 + (hi_g - 0.6) ** 2)
    assert gap_lower_bound([48, 56], [80, 70], 0, z) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("groups", [4, 6, 10])
def test_random_groups_of_a_few_rows_rarely_warn(groups):
    """Test parts of 60 rows at 78 % accuracy, groups drawn at random: the old rule (more
    than 10 points below overall) warned in most draws; this one in at most 5 %."""
    rng = np.random.default_rng(groups)
    old = new = 0
    draws = 400
    for _ in range(draws):
        correct = rng.random(60) < 0.78
        names = rng.integers(0, groups, 60).astype(str)
        g = group_gap(correct.astype(np.int64), np.ones(60, dtype=np.int64), names)
        old += g.gap > 0.1
        new += g.below is not None
    assert old > draws / 2
    assert new <= 0.05 * draws


def test_a_truly_worse_group_is_found():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(50):
        names = np.repeat(np.array(["a", "b", "c", "d", "e", "f"]), 40)
        p = np.where(names == "c", 0.45, 0.85)  # one site scores 40 points below
        correct = rng.random(len(names)) < p
        g = group_gap(correct.astype(np.int64), np.ones(len(names), dtype=np.int64), names)
        hits += g.below == "c"
    assert hits >= 45


def test_one_group_or_an_empty_rest_is_never_worse():
    assert worse_group([0.5], [10]) is None
    assert math.isclose(gap_lower_bound([5, 0], [10, 0], 0, 2.0), -1.0)
