"""Scores logged in percent (``val_acc`` 85.3 for 0.853), read as fractions.

PyTorch scripts often log ``100. * correct / total``; the rules read an accuracy in
[0, 1] (under 0.75 is weak, ``ln(1 / a)`` the loss of a constant predictor), so a curve
left in percent compares 85.3 with those thresholds and reports gaps of thousands of
points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Curves in [0, 1] as nooverfit reads them (``val_`` prefix removed).
SCORES = ("accuracy",)


def percent_scores(curves: Mapping[str, list[float]]) -> tuple[dict[str, list[float]], str]:
    """The curves with each score curve logged in percent divided by 100, and a note
    naming them (``""`` when none is). A score curve is in percent when every finite
    value lies in [0, 100] and one exceeds 1, which a fraction never does."""
    out = dict(curves)
    scaled = []
    for name, values in curves.items():
        base = name.removeprefix("val_")
        finite = [v for v in values if math.isfinite(v)]
        if base in SCORES and finite and 1 < max(finite) <= 100 and min(finite) >= 0:
            out[name] = [v / 100 for v in values]
            scaled.append(name)
    note = f"{', '.join(scaled)} logged in percent: read as a fraction" if scaled else ""
    return out, note
