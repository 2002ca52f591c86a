"""Whether a group's accuracy is below the rest's by more than its size explains (pure).

A test set of 60 rows over 6 recording sites holds about 10 rows a site: one site scores
20 points below the others by chance alone in most random assignments. A group counts as
worse only when the 95 % interval of (rest's accuracy - group's accuracy) lies above 0,
built as Newcombe's hybrid interval (Newcombe 1998, "Interval estimation for the
difference between independent proportions", method 10) but with the group's exact
(Clopper-Pearson) bound in place of its Wilson one: Wilson's is too narrow for a group of
three rows all wrong, which random groups give often enough. Every group is tested, so
the level is split among them (Bonferroni): 5 % for the whole audit, not for each group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

#: Family-wise error rate of the group test: all groups together.
LEVEL = 0.05


def wilson(correct: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / n`` at normal quantile ``z``."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def exact_upper(correct: int, n: int, alpha: float) -> float:
    """Clopper-Pearson upper bound of ``correct / n`` (one-sided ``alpha``): the ``1 -
    alpha`` quantile of Beta(correct + 1, n - correct)."""
    from scipy.stats import beta

    return 1.0 if correct >= n else float(beta.ppf(1 - alpha, correct + 1, n - correct))


def gap_lower_bound(correct: Sequence[float], counts: Sequence[int], k: int, z: float) -> float:
    """Lower bound of the interval of (rest's accuracy - group ``k``'s accuracy)."""
    n_g, n_r = counts[k], sum(counts) - counts[k]
    if n_g == 0 or n_r == 0:
        return -1.0
    c_g = correct[k]
    c_r = sum(correct) - c_g
    p_g, p_r = c_g / n_g, c_r / n_r
    hi_g = exact_upper(round(c_g), n_g, 1 - NormalDist().cdf(z))
    lo_r, _ = wilson(c_r, n_r, z)
    return (p_r - p_g) - math.sqrt((p_r - lo_r) ** 2 + (hi_g - p_g) ** 2)


def worse_group(
    accuracy: Sequence[float], counts: Sequence[int], *, level: float = LEVEL
) -> int | None:
    """The group whose accuracy is furthest below the rest's beyond chance (the largest
    lower bound above 0, at family-wise ``level`` over all groups), else None."""
    if len(counts) < 2:
        return None
    z = NormalDist().inv_cdf(1 - level / (2 * len(counts)))  # two-sided, Bonferroni
    correct = [round(a * n) for a, n in zip(accuracy, counts, strict=True)]
    bounds = [gap_lower_bound(correct, counts, k, z) for k in range(len(counts))]
    best = max(range(len(counts)), key=lambda k: bounds[k])
    return best if bounds[best] > 0 else None
