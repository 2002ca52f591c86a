"""Small wording helpers shared by the texts a person reads (diagnoses, CLI tables, the
study report): counts, and accuracies in % and points rounded one way everywhere."""

from __future__ import annotations

import math


def counted(n: int, noun: str, plural: str = "") -> str:
    """``n`` followed by its noun, singular for exactly one.

    Args:
        n: The count.
        noun: The singular noun, e.g. ``"epoch"``.
        plural: The plural where it is not ``noun + "s"`` (default: ``noun + "s"``).

    Returns:
        ``counted(1, "epoch")`` -> ``"1 epoch"``; ``counted(3, "epoch")`` -> ``"3 epochs"``.
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def loss_figure(v: float) -> str:
    """A loss, or a gap of losses, as a diagnosis's table and its texts both show it: three
    significant digits (``"0.237"``, ``"2.55e-05"``), so one quantity reads one way."""
    return f"{v:.3g}"


def gl_figure(gl: float, *, sign: bool = False) -> str:
    """Prechelt's GL (already in %, ``100 * (last / lowest - 1)``) as a diagnosis's table
    and its texts both show it: one decimal (``"9.6"``; ``sign``: ``"+9.6"``, the table's)."""
    return f"{gl:+.1f}" if sign else f"{gl:.1f}"


def pct(v: float) -> str:
    """``v`` in %, one decimal, without a "-0.0"."""
    return f"{round(100 * v, 1) + 0.0:.1f}"


#: Differences of accuracies smaller than this are the last bits of two sums of the same
#: rows counted in another order (131/143 and 135/143 against 133/143 twice; 49/75 + 51/75
#: against 2 x 50/75): one test row of a million is 1e-6.
ROUNDING = 1e-9


def exact(diff: float) -> float:
    """A difference of accuracies, 0.0 (never -0.0) where it is only float rounding
    (under :data:`ROUNDING`)."""
    return 0.0 if abs(diff) < ROUNDING else diff


def points(v: float) -> str:
    """A difference of accuracies in signed points (``+1.2``), "n/a" when not finite; one
    that is only float rounding (:func:`exact`) reads +0.0."""
    if not math.isfinite(v):
        return "n/a"
    return f"{100 * exact(v):+.1f}"  # "-0.0" kept: an interval bound just below 0 is below 0


def rounded_apart(high: float, low: float, diff: float) -> str | None:
    """The difference of two accuracies as shown (each rounded by :func:`pct` first), in
    points, where it is not the difference ``diff`` as shown (:func:`points`, of the
    unrounded accuracies): ``"2.9"`` beside "96.1% vs 93.2%" and "+3.0 points"; None where
    the two agree, so a sentence says why its figures do not add up only where they do not.
    """
    shown = round(float(pct(high)) - float(pct(low)), 1) + 0.0  # no "-0.0"
    if not math.isfinite(diff) or shown == float(points(diff)):
        return None
    return f"{shown:.1f}"
