"""Scores logged in percent (``val_acc`` 85.3 for 0.853), read as fractions, and
classification error rates (``val_error``, ``top1_err``) read as accuracy = 1 - error.

PyTorch scripts often log ``100. * correct / total``; the rules read an accuracy in
[0, 1] (under 0.75 is weak, ``ln(1 / a)`` the loss of a constant predictor), so a curve
left in percent compares 85.3 with those thresholds and reports gaps of thousands of
points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping

#: Curves in [0, 1] as nooverfit reads them (``val_`` prefix removed).
SCORES = ("accuracy",)
#: Classification error rates as :func:`~nooverfit.logs._names.canonical` names them
#: (``val_`` prefix removed; ``err`` is ``error`` there): the share of samples wrong, 1 -
#: accuracy. Not a regression's errors (``mean_absolute_error``, ``mse``): whole names only.
ERRORS = re.compile(
    r"(top_?1_)?(error|err)(_rate)?|(mis)?classification_error|misclassification(_rate)?"
)
#: Error names that say nothing of a rate: a curve so named is a rate only in [0, 1] (or
#: named in percent); above 1 it is a regression's error (a Keras metric named ``error``
#: returning the RMSE), left as it is.
BARE = ("error", "err")


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


def error_scores(
    curves: Mapping[str, list[float]],
    *,
    percent: Collection[str] = (),
    logged: Mapping[str, str] | None = None,
) -> tuple[dict[str, list[float]], str]:
    """The curves with a classification error rate (:data:`ERRORS`) read as the accuracy
    it leaves, ``accuracy = 1 - error``, where the log holds no accuracy on that side, and
    a note naming them (``""`` when none is). An error is in percent where its name said so
    (``percent``: the curves' names logged with ``pct``, ``%``, ...) or, where the name
    says a rate (not a bare ``error``, :data:`BARE`), a finite value exceeds 1; a curve
    with a value outside [0, 100] (or [0, 1] in percent's absence) is no rate and is left
    as it is (s29 review: a regression's RMSE logged as ``error``, 6.3 falling to 1.2, was
    read as an error rate in percent). ``logged``: the name each curve was logged under, for
    the note."""
    out = dict(curves)
    said = []
    for side in ("", "val_"):
        if side + "accuracy" in curves:
            continue
        for name, values in curves.items():
            base = name.removeprefix("val_")
            if (name != side + base) or not ERRORS.fullmatch(base):
                continue
            finite = [v for v in values if math.isfinite(v)]
            said_rate = base not in BARE  # (error_rate, top1_err: a rate, maybe in %)
            above_one = bool(finite) and max(finite) > 1
            scale = 100.0 if name in percent or (said_rate and above_one) else 1.0
            if not finite or min(finite) < 0 or max(finite) > scale:
                continue
            out[side + "accuracy"] = [1 - v / scale for v in values]
            del out[name]
            said.append((logged or {}).get(name, name) + (" (in percent)" if scale == 100 else ""))
            break
    note = f"{', '.join(said)} read as accuracy = 1 - error" if said else ""
    return out, note
