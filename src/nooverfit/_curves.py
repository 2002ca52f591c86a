"""Curve features for :func:`nooverfit.diagnose`: cleaning, smoothing, trends.

All functions take and return float numpy arrays of one value per epoch; NaN means a
missing epoch. Smoothing is a centered running median (robust to single spikes, such as a
first epoch at 1e4 after a learning-rate blow-up) followed by a centered running mean.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:
    from nooverfit.history import History

#: Fewer validated epochs than this give ``insufficient_evidence``; no rule reads a
#: shorter curve.
MIN_EPOCHS = 3
#: Residual standard deviations (one: the curve's own noise) by which a run still
#: improving must end below the lowest level its first half reached.
REGAINED = 1.0
#: Relative fall of a line without residuals that is no more than floating-point round-off.
ROUND_OFF = 1e-9

#: Metric names whose higher values are better (matched as whole words or prefixes).
_HIGHER = re.compile(
    r"(acc|auc|auroc|f1|precision|recall|iou|dice|r2|map|top\d|bleu|rouge|score|kappa|mcc"
    r"|(?<![a-z])ap(?:\d+|[sml])?(?![a-z]))",  # ap: COCO's average precision (bbox_AP50)
    re.IGNORECASE,
)
_LOWER = re.compile(r"(loss|err|mae|mse|rmse|perplexity|ppl|nll|cost|wer|cer)", re.IGNORECASE)


def higher_is_better(name: str) -> bool:
    """Guess from a metric's name whether higher values are better (accuracy: yes, mae: no)."""
    if _LOWER.search(name):
        return False
    return bool(_HIGHER.search(name))


def lower_is_better(name: str) -> bool:
    """Whether a column's name says it is a loss or an error (``loss``, ``val_mae``)."""
    return bool(_LOWER.search(name))


def to_array(values: Sequence[float]) -> np.ndarray:
    """Float array with +-inf kept and everything unparsable as NaN."""
    return np.asarray(values, dtype=float)


def fill_missing(x: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaN epochs between finite ones; edges take the nearest value.

    Returns an all-NaN array when ``x`` has no finite value.
    """
    finite = np.isfinite(x)
    if finite.all() or not finite.any():
        return x.copy() if finite.all() else np.full_like(x, np.nan)
    idx = np.arange(len(x))
    return np.interp(idx, idx[finite], x[finite])


def window(n: int) -> int:
    """Smoothing window for ``n`` epochs: an odd width of about n/10, between 1 and 7."""
    if n < 5:
        return 1
    w = max(3, min(7, n // 10))
    return w if w % 2 else w + 1


def smooth(x: np.ndarray, width: int | None = None) -> np.ndarray:
    """Centered running median then running mean of ``width`` epochs (edges padded).

    Args:
        x: values per epoch, finite (use :func:`fill_missing` first).
        width: odd window in epochs (default :func:`window` of ``len(x)``).
    """
    w = window(len(x)) if width is None else width
    if w <= 1 or len(x) < w:
        return x.astype(float, copy=True)
    half = w // 2
    padded = np.pad(x, half, mode="edge")
    median = np.median(sliding_window_view(padded, w), axis=1)
    padded = np.pad(median, half, mode="edge")
    return np.mean(sliding_window_view(padded, w), axis=1)


def moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    """Centered moving average of ``width`` epochs; windows shrink at the edges."""
    half = width // 2
    sums = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(len(x))
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, len(x))
    return (sums[hi] - sums[lo]) / (hi - lo)


def oscillation(x: np.ndarray) -> tuple[float, float]:
    """Swing and progress of a positive curve over its second half.

    Returns:
        ``(swing, progress)``: swing is ``(sum |d log x| - |net change of log x|) / steps``
        over the second half (0 for a monotone curve); progress is the median of the
        second half divided by the median of the first (< 1: still improving).
    """
    half = len(x) // 2
    if half < 2 or not np.all(x > 0):
        return 0.0, 0.0
    logs = np.log(x[half:])
    steps = np.diff(logs)
    swing = (float(np.sum(np.abs(steps))) - abs(float(logs[-1] - logs[0]))) / len(steps)
    return swing, float(np.median(x[half:]) / np.median(x[:half]))


def reversals(x: np.ndarray) -> float:
    """Back-and-forth of a positive curve in log space: at each change of direction the
    smaller of the two moves, summed and divided by the number of moves. 0 for a
    monotone curve and small for a U (one turn); large for a curve thrown up and down."""
    if len(x) < 3 or not np.all(x > 0):
        return 0.0
    steps = np.diff(np.log(x))
    turns = steps[:-1] * steps[1:] < 0
    sizes = np.minimum(np.abs(steps[:-1]), np.abs(steps[1:]))
    return float(np.sum(sizes[turns]) / len(steps))


def ratio(a: float, b: float) -> float:
    """``a / b`` with 0/0 = 1 and x/0 = inf."""
    if b == 0:
        return 1.0 if a == 0 else math.inf
    return a / b


def last_third(x: np.ndarray, least: int) -> np.ndarray:
    """The last third of ``x``'s points and one more (the stretch the tail tests fit a
    line to), at least ``least`` points where ``x`` has them."""
    n = len(x)
    return x[n - max(least, n // 3 + 1) :]


def recent_low(x: np.ndarray) -> int:
    """Position in ``x`` of the lowest value of its last third (:func:`last_third`, at
    least two points; the first on ties): where the curve last set a low. A curve still
    improving sets it at its end; one that has flattened set it some way back, though its
    smoothed end (edge-padded) still reads lowest; an early lucky value outside the last
    third does not count against a curve that keeps falling."""
    tail = last_third(x, 2)
    return len(x) - len(tail) + int(np.argmin(tail))


def tail_drop(x: np.ndarray) -> float:
    """Relative fall of ``x`` over the last third of its points (at least two): the
    least-squares line's drop across that stretch over the mean level there. Positive
    when falling; per share of the run, so logging every second epoch leaves it alone."""
    tail = last_third(x, 2)
    if len(tail) < 2:
        return 0.0
    t = np.arange(len(tail), dtype=float)
    slope = float(np.polyfit(t, tail, 1)[0])
    level = float(np.mean(np.abs(tail)))
    return -slope * (len(tail) - 1) / level if level > 0 else 0.0


def tail_fall_share(x: np.ndarray) -> float:
    """How far ``x`` fell over its last third (at least two points), as a share of where
    that stretch began: the least-squares line's drop over the line's first value, in
    [0, 1) for a positive curve that falls and stays positive (the words "fell 57 %").

    :func:`tail_drop` measures the drop over the stretch's mean level, which the rules
    compare with small thresholds; quoted, it reads "fell 141 %" of a regression loss
    falling threefold within its last third. Where the line itself ends at or below 0 (a
    steep fall to near zero) the stretch's first and last values are compared instead.
    Negative when rising."""
    tail = last_third(x, 2)
    if len(tail) < 2:
        return 0.0
    t = np.arange(len(tail), dtype=float)
    slope, icept = (float(v) for v in np.polyfit(t, tail, 1))
    start, end = icept, icept + slope * (len(tail) - 1)
    if start > 0 and end > 0:
        return (start - end) / start
    first, last = float(tail[0]), float(tail[-1])
    return (first - last) / first if first > 0 else tail_drop(x)


def _tail_line(x: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """The last third of ``x`` (at least 3 points), the slope of its least-squares line
    and the residuals' variance around it; None for fewer than 3 points."""
    tail = last_third(x, 3)
    if len(tail) < 3:
        return None
    t = np.arange(len(tail), dtype=float)
    slope, icept = np.polyfit(t, tail, 1)
    resid = tail - (slope * t + icept)
    return tail, float(slope), float(np.sum(resid**2)) / (len(tail) - 2)


def tail_significance(x: np.ndarray) -> float:
    """How many standard errors the least-squares line over the last third (at least 3
    points) falls by: its slope over the slope's standard error, from the residuals
    around the line (the curve's own epoch-to-epoch noise). Positive when falling; 0 for
    fewer than 3 points; large for a curve falling without noise."""
    fit = _tail_line(x)
    if fit is None:
        return 0.0
    tail, slope, noise = fit
    t = np.arange(len(tail), dtype=float)
    se = math.sqrt(noise / float(np.sum((t - t.mean()) ** 2)))
    level = float(np.mean(np.abs(tail)))
    if se <= 1e-12 * max(level, 1e-300):
        return _noiseless(tail, slope)
    return float(-slope / se)


def tail_clearance(x: np.ndarray) -> float:
    """By how many residual standard deviations the least-squares line over the last third
    (at least 3 points) falls across that stretch: the fall against the curve's own
    point-to-point noise. Unlike :func:`tail_significance` (a t statistic, which grows
    with the square root of the number of points) it stays put when every second
    evaluation is dropped, for noise independent between evaluations. Positive when
    falling; 0 for fewer than 3 points; infinite for a curve falling without noise."""
    fit = _tail_line(x)
    if fit is None:
        return 0.0
    tail, slope, noise = fit
    spread = math.sqrt(noise)
    level = float(np.mean(np.abs(tail)))
    if spread <= 1e-12 * max(level, 1e-300):
        return _noiseless(tail, slope)
    return float(-slope * (len(tail) - 1) / spread)


def _noiseless(tail: np.ndarray, slope: float) -> float:
    """The clearance of a line with no residuals: infinite where it falls by more than
    round-off (``ROUND_OFF`` of its level), else 0. A constant stretch (an accuracy stuck
    at one value) fits a slope of about 1e-17 of either sign, which is no fall (i70 042
    read as still improving at a validation accuracy of 0.1003 over its last third)."""
    level = float(np.mean(np.abs(tail)))
    fall = -slope * (len(tail) - 1)
    return math.inf if fall > ROUND_OFF * level else 0.0


def column(history: History, name: str) -> np.ndarray:
    """The column ``name`` as floats (NaN for a missing value), all NaN when absent."""
    if name in ("loss", "accuracy", "val_loss", "val_accuracy") or name in history.extras:
        return to_array(history.column(name))
    return np.full(len(history), np.nan)


def accuracy(history: History, metric: str | None, prefix: str) -> np.ndarray:
    """The ``prefix + metric`` column when it is accuracy-like and in [0, 1], else NaN."""
    n = len(history)
    if metric is None or not higher_is_better(metric):
        return np.full(n, np.nan)
    values = column(history, prefix + metric)
    finite = values[np.isfinite(values)]
    if not finite.size or finite.min() < 0 or finite.max() > 1:
        return np.full(n, np.nan)
    return values


def below_early_level(x: np.ndarray) -> float:
    """By how many residual standard deviations the end of ``x`` lies below the lowest
    level its first half reached: the lowest point of the smoothed first half (a level,
    not one lucky evaluation) minus the last-third least-squares line at the last point,
    over the residual spread around that line (the curve's own epoch-to-epoch noise).
    A curve still improving ends clearly below anything its first half reached; an
    oscillating plateau whose last third happens to tilt down ends about where its early
    minimum already was. Infinite for fewer than ``2 * MIN_EPOCHS`` points or a tail
    without noise (nothing to compare), so it blocks nothing there."""
    n = len(x)
    fit = _tail_line(x) if n >= 2 * MIN_EPOCHS else None
    if fit is None:
        return math.inf
    tail, slope, noise = fit
    t = np.arange(len(tail), dtype=float)
    end = float(np.mean(tail)) + slope * (len(tail) - 1 - float(np.mean(t)))
    early = float(np.min(smooth(x)[: (n + 1) // 2]))
    spread = math.sqrt(noise)
    if spread <= 1e-12 * max(float(np.mean(np.abs(tail))), 1e-300):
        return math.inf
    return (early - end) / spread
