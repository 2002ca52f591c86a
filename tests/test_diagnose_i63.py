"""A run whose validation loss ends no lower than its first half already reached is not
still improving (issue 15, "inconsistent numbers"; i63): an oscillating plateau whose last
third happens to tilt down read as "still falling steadily" with its best epoch 26 epochs
before the end. :func:`nooverfit._curves.below_early_level` measures how far the end lies
below the first half's lowest level, in the curve's own noise."""

import math

import numpy as np

from nooverfit._curves import REGAINED, below_early_level, last_third, smooth


def _reference(x: np.ndarray) -> float:
    """The same measure written with ``np.polyval``: the last-third line at its last
    point against the smoothed first half's minimum, over the residual spread."""
    tail = last_third(x, 3)
    t = np.arange(len(tail), dtype=float)
    coef = np.polyfit(t, tail, 1)
    resid = tail - np.polyval(coef, t)
    spread = math.sqrt(float(np.sum(resid**2)) / (len(tail) - 2))
    early = float(np.min(smooth(x)[: (len(x) + 1) // 2]))
    return (early - float(np.polyval(coef, t[-1]))) / spread


def test_below_early_level_matches_a_polyval_reference():
    rng = np.random.default_rng(63)
    for _ in range(20):
        n = int(rng.integers(6, 60))
        x = 1 / (1 + np.arange(n) * rng.uniform(0, 0.3)) + rng.normal(0, 0.02, n)
        assert math.isclose(below_early_level(x), _reference(x), rel_tol=1e-9, abs_tol=1e-9)


def test_short_or_noiseless_curves_block_nothing():
    assert below_early_level(np.array([1.0, 0.9, 0.8, 0.7, 0.6])) == math.inf
    assert below_early_level(np.linspace(1.0, 0.5, 30)) == math.inf


def test_an_oscillating_plateau_ends_at_its_early_level_a_falling_curve_below_it():
    """A plateau between 0.184 and 0.21 from epoch 4 on (the issue's numbers) ends within
    its noise of what its first half reached; a curve falling 1/sqrt(epoch) ends many
    noise widths below it."""
    rng = np.random.default_rng(15)
    epochs = np.arange(1, 31)
    plateau = np.where(epochs < 4, 0.5 - 0.1 * epochs, 0.197) + rng.uniform(-0.013, 0.013, 30)
    assert below_early_level(plateau) <= REGAINED
    falling = 1 / np.sqrt(epochs) + rng.normal(0, 0.005, 30)
    assert below_early_level(falling) > 5 * REGAINED
