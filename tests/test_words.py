"""The wording helpers: counts, and differences of accuracies in points."""

import pytest

from nooverfit._words import counted


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs"), (60, "60 epochs")]
)
def test_counted_is_singular_for_exactly_one(n, expected):
    assert counted(n, "epoch") == expected


def test_counted_takes_an_irregular_plural():
    assert counted(1, "class", "classes") == "1 class"
    assert counted(3, "class", "classes") == "3 classes"


def test_points_reads_a_float_rounding_difference_as_zero():
    """Review i117: per seed 131/143 and 135/143 against 133/143 twice, the same 266 of
    286 test rows, printed "recommended − baseline on test: -0.0 points" (their means
    differ in the last bit); a difference truly below 0 still shows "-0.0"."""
    from nooverfit._words import points

    recommended = (131 / 143 + 135 / 143) / 2
    baseline = (133 / 143 + 133 / 143) / 2
    assert recommended - baseline < 0  # the last bit
    assert points(recommended - baseline) == "+0.0"
    assert points(-0.0004) == "-0.0"  # an interval bound just below 0 is below 0
    assert points(0.0) == "+0.0" and points(0.012) == "+1.2"
