"""`diagnose`: a verdict on a training run from its curves alone.

Pure and deterministic: a :class:`~nooverfit.history.History` in, a frozen
:class:`Diagnosis` out, in well under a millisecond per run. The rules, in order:

1. **diverging** - the run recorded a divergence, a loss is infinite or ends in NaN, or the
   smoothed training loss ends more than 20 % above its own minimum and by more than 1 % of
   its early value (it got worse while training: exploding), or it swings by more
   than 10 % per epoch (in log space, beyond its net trend) over the second half without
   getting lower than in the first half, or the validation loss sits over 100x the
   training loss while training makes no progress.
2. **insufficient_evidence** - no validation curve, or fewer than ``MIN_EPOCHS`` epochs.
3. **overfitting** - the smoothed validation loss rose more than ``RISE`` (15 %) above its
   minimum at least two epochs before the end (unless early stopping ended the run there),
   or the network memorized the training set: training loss below a tenth of both its
   start and the validation loss, with the validation loss no longer falling.
4. **still_improving** - the smoothed validation loss still falls by more than 1 % per
   epoch over the last third of the run, at more than a quarter of its average rate
   (the curve has not bent yet).
5. **underfitting** - validation is within 50 % of training and either the training loss
   never fell below half its first-epoch value or the training metric (accuracy-like,
   in [0, 1]) stayed below 0.75.
6. **good_fit** - otherwise.

Features are read from curves smoothed by a running median then mean (robust to spikes).
The onset of overfitting is the minimum of the validation loss smoothed by a centered
5-epoch moving average (Prechelt's ``E_opt`` on a smoothed curve). The generalization
loss is Prechelt's ``GL = 100 * (E_va(last) / E_opt - 1)`` on the raw curve, in percent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from nooverfit import _curves as cv
from nooverfit.history import History

#: Fewer validated epochs than this give ``insufficient_evidence``.
MIN_EPOCHS = 4
#: Smoothed validation-loss rise above its minimum that counts as overfitting (fraction).
RISE = 0.15
#: Smoothed training-loss rise above its minimum that counts as diverging (fraction).
DIVERGE_RISE = 0.2
#: ... provided the rise is also at least this share of the loss's early scale (the
#: median of its first three epochs): a loss near zero (e.g. 0.001 -> 0.002 with batch
#: norm on small batches) is noise, not an optimizer running away.
DIVERGE_FLOOR = 0.01
#: Validation/training loss ratio that, without training progress, means a blow-up.
BLOWUP = 100.0
#: Width in epochs of the centered moving average whose minimum is the onset.
ONSET_WINDOW = 5
#: Back-and-forth change of log(training loss) per epoch that counts as oscillating.
OSCILLATION = 0.1
_EARLY_STOPS = ("patience", "generalization_loss", "progress_quotient", "up")


class Verdict(str, Enum):
    """What the curves say about the run."""

    OVERFITTING = "overfitting"
    UNDERFITTING = "underfitting"
    GOOD_FIT = "good_fit"
    STILL_IMPROVING = "still_improving"
    DIVERGING = "diverging"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


@dataclass(frozen=True)
class Gap:
    """Validation minus training, signed so that positive means worse on validation.

    Attributes:
        loss_at_best: ``val_loss - loss`` at the best epoch (NaN when either is missing).
        loss_at_last: the same at the last epoch.
        metric: the metric compared (e.g. ``"accuracy"``), or ``None``.
        metric_at_best: ``train - val`` for higher-is-better metrics, ``val - train``
            otherwise, at the best epoch.
        metric_at_last: the same at the last epoch.
    """

    loss_at_best: float = math.nan
    loss_at_last: float = math.nan
    metric: str | None = None
    metric_at_best: float = math.nan
    metric_at_last: float = math.nan


@dataclass(frozen=True)
class Cause:
    """A likely cause, with a one-sentence reason drawn from the curves."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Remedy:
    """A remedy, with its reason and a concrete setting to try (e.g. ``--epochs 13``)."""

    kind: str
    reason: str
    setting: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one run and the evidence behind it.

    Attributes:
        verdict: the :class:`Verdict`.
        onset_epoch: epoch where overfitting starts (smoothed val-loss minimum), only
            for ``overfitting``.
        best_epoch: epoch with the lowest raw validation loss (``None`` without one).
        generalization_loss: Prechelt's GL of the last epoch vs the best, in percent.
        gap: train/validation gaps at the best and the last epoch.
        causes: likely causes, most likely first.
        remedies: remedies, most promising first.
        explanation: a short plain-language paragraph.
        missing: what evidence was missing (for ``insufficient_evidence``).
        epochs: number of epochs in the history.
        monitor: the curve the decision was made on (``"loss"`` or a metric name).
    """

    verdict: Verdict
    onset_epoch: int | None
    best_epoch: int | None
    generalization_loss: float
    gap: Gap
    causes: tuple[Cause, ...] = ()
    remedies: tuple[Remedy, ...] = ()
    explanation: str = ""
    missing: tuple[str, ...] = ()
    epochs: int = 0
    monitor: str = "loss"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the verdict as its string value, NaN left to the writer)."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        """The inverse of :meth:`to_dict` (e.g. a run's diagnosis read from results.json)."""
        return cls(
            verdict=Verdict(data["verdict"]),
            onset_epoch=data["onset_epoch"],
            best_epoch=data["best_epoch"],
            generalization_loss=data["generalization_loss"],
            gap=Gap(**data["gap"]),
            causes=tuple(Cause(**c) for c in data.get("causes", ())),
            remedies=tuple(Remedy(**r) for r in data.get("remedies", ())),
            explanation=data.get("explanation", ""),
            missing=tuple(data.get("missing", ())),
            epochs=data.get("epochs", 0),
            monitor=data.get("monitor", "loss"),
        )


@dataclass(frozen=True)
class Evidence:
    """Curve features the rules and the advice share (indices are positions, not epochs)."""

    epochs: tuple[int, ...]
    train: np.ndarray  # smoothed training curve, (n,)
    val: np.ndarray  # smoothed validation curve, (n,)
    onset: int
    best: int
    rise: float  # smoothed val at the end / at its minimum - 1
    learned: float  # smoothed train minimum / first train value
    memorized: bool
    still_falling: bool
    early_stopped: bool
    extra: dict[str, float] = field(default_factory=dict)


def diagnose(history: History, *, metric: str | None = None) -> Diagnosis:
    """Give a verdict on ``history`` (see the module docstring for the rules).

    Args:
        history: per-epoch curves; NaN epochs are interpolated, higher-is-better metrics
            are turned into errors (``1 - accuracy``) when no loss is logged.
        metric: metric whose train/val gap is reported and, when the history has no
            validation loss, decided on (default: ``"accuracy"`` when logged).

    Returns:
        The :class:`Diagnosis`.

    Raises:
        ValueError: if ``metric`` names a column the history does not have.
    """
    from nooverfit import _advice

    metric = _pick_metric(history, metric)
    n = len(history)
    monitor, train_raw, val_raw = _decision_curves(history, metric)
    gap = _gap(history, metric, train_raw, val_raw)
    diverged = _diverged(history, train_raw, val_raw)
    if diverged:
        return _advice.build(Verdict.DIVERGING, history, gap, None, monitor, reason=diverged)
    missing = []
    if not np.isfinite(val_raw).any():
        missing.append("a validation curve (val_loss or val_<metric>)")
    if np.isfinite(val_raw).sum() < MIN_EPOCHS:
        missing.append(f"at least {MIN_EPOCHS} epochs with validation values (got {n})")
    if missing:
        return _advice.build(
            Verdict.INSUFFICIENT_EVIDENCE, history, gap, None, monitor, missing=tuple(missing)
        )
    ev = _evidence(history, train_raw, val_raw)
    if (ev.rise > RISE and ev.onset <= n - 3 and not ev.early_stopped) or ev.memorized:
        verdict = Verdict.OVERFITTING
    elif ev.still_falling:
        verdict = Verdict.STILL_IMPROVING
    elif cv.ratio(float(ev.val[ev.best]), float(ev.train[ev.best])) < 1.5 and (
        ev.learned > 0.5 or _weak_metric(history, metric, ev.best)
    ):
        verdict = Verdict.UNDERFITTING
    else:
        verdict = Verdict.GOOD_FIT
    return _advice.build(verdict, history, gap, ev, monitor)


def _weak_metric(history: History, metric: str | None, best: int) -> bool:
    """Whether a higher-is-better metric in [0, 1] stayed below 0.75 on the training set."""
    if metric is None or not cv.higher_is_better(metric):
        return False
    values = _column(history, metric)
    finite = values[np.isfinite(values)]
    if not finite.size or finite.min() < 0 or finite.max() > 1:
        return False
    return bool(np.max(finite) < 0.75)


def _pick_metric(history: History, metric: str | None) -> str | None:
    if metric is None:
        return "accuracy" if history.has("accuracy") or history.has("val_accuracy") else None
    if not (history.has(metric) or history.has(f"val_{metric}")):
        names = ", ".join(history.columns())
        raise ValueError(f"metric {metric!r} not in the log; columns found: {names}")
    return metric


def _column(history: History, name: str) -> np.ndarray:
    if name in ("loss", "accuracy", "val_loss", "val_accuracy") or name in history.extras:
        return cv.to_array(history.column(name))
    return np.full(len(history), np.nan)


def _decision_curves(history: History, metric: str | None) -> tuple[str, np.ndarray, np.ndarray]:
    """The (train, val) curves to decide on, as errors: lower is better."""
    train, val = _column(history, "loss"), _column(history, "val_loss")
    if np.isfinite(val).any() or metric is None:
        return "loss", train, val
    train, val = _column(history, metric), _column(history, f"val_{metric}")
    if cv.higher_is_better(metric):
        both = np.concatenate([train, val])
        finite = both[np.isfinite(both)]
        if finite.size and finite.min() >= 0 and finite.max() <= 1:
            return metric, 1 - train, 1 - val
        top = float(finite.max()) if finite.size else 0.0
        return metric, top + abs(top) * 0.01 + 1e-12 - train, top + abs(top) * 0.01 + 1e-12 - val
    return metric, train, val


def _gap(history: History, metric: str | None, train: np.ndarray, val: np.ndarray) -> Gap:
    finite = np.isfinite(val)
    if not finite.any():
        return Gap(metric=metric)
    best = int(np.nanargmin(np.where(finite, val, np.nan)))
    last = int(np.flatnonzero(finite)[-1])
    loss_t, loss_v = _column(history, "loss"), _column(history, "val_loss")
    values: dict[str, float] = {
        "loss_at_best": float(loss_v[best] - loss_t[best]),
        "loss_at_last": float(loss_v[last] - loss_t[last]),
    }
    if metric is not None:
        m_t, m_v = _column(history, metric), _column(history, f"val_{metric}")
        sign = 1.0 if cv.higher_is_better(metric) else -1.0
        values["metric_at_best"] = float(sign * (m_t[best] - m_v[best]))
        values["metric_at_last"] = float(sign * (m_t[last] - m_v[last]))
    return Gap(metric=metric, **values)


def _diverged(history: History, train: np.ndarray, val: np.ndarray) -> str:
    """A one-sentence reason when the run diverged, else an empty string."""
    if history.stop_reason == "diverged":
        return "the run stopped because its loss became NaN or infinite"
    for name, curve in (("training", train), ("validation", val)):
        if np.isinf(curve).any():
            epoch = history.epoch[int(np.flatnonzero(np.isinf(curve))[0])]
            return f"the {name} loss became infinite at epoch {epoch}"
    finite = np.isfinite(train)
    if finite.any() and not finite[-1] and not np.isfinite(val[-1]) and len(train) > 1:
        return f"the training loss became NaN at epoch {history.epoch[-1]}"
    if finite.sum() < MIN_EPOCHS:
        return ""
    smooth = cv.smooth(cv.fill_missing(train))
    low = int(np.argmin(smooth))
    early = float(np.median(train[np.isfinite(train)][:3]))
    rise_needed = max(DIVERGE_RISE * smooth[low], DIVERGE_FLOOR * early)
    if smooth[low] > 0 and smooth[-1] - smooth[low] > rise_needed and low < len(train) - 2:
        with np.errstate(over="ignore"):  # a minimum near 0 makes the ratio overflow
            rise = 100 * (smooth[-1] / smooth[low] - 1)
        by = f"{rise:.0f}%" if np.isfinite(rise) else "many times"
        return (
            f"the smoothed training loss rose {by} above its minimum at epoch "
            f"{history.epoch[low]}: the optimizer is unstable"
        )
    half = len(train) // 2
    val_filled = cv.fill_missing(val)
    if half >= 2 and np.isfinite(val_filled).all():
        filled = cv.fill_missing(train)
        t1, t2 = float(np.median(filled[:half])), float(np.median(filled[half:]))
        v2 = float(np.median(val_filled[half:]))
        if t2 > 0 and v2 > BLOWUP * t2 and t2 > 0.5 * t1:
            return (
                f"the validation loss ({v2:.3g}) is {v2 / t2:.0f}x the training loss while "
                "training makes no progress: the weights blew up"
            )
    swing, progress = cv.oscillation(cv.fill_missing(train))
    if swing > OSCILLATION and progress > 0.8:
        return (
            f"the training loss swings {100 * swing:.0f}% per epoch without improving "
            "over the second half of the run"
        )
    return ""


def _evidence(history: History, train_raw: np.ndarray, val_raw: np.ndarray) -> Evidence:
    n = len(val_raw)
    val = cv.smooth(cv.fill_missing(val_raw))
    has_train = np.isfinite(train_raw).any()
    train = cv.smooth(cv.fill_missing(train_raw)) if has_train else np.full(n, np.nan)
    onset = int(np.argmin(cv.moving_average(cv.fill_missing(val_raw), ONSET_WINDOW)))
    best = int(np.nanargmin(np.where(np.isfinite(val_raw), val_raw, np.nan)))
    low = float(np.min(val))
    rise = cv.ratio(float(val[-1]), low) - 1 if low > 0 else 0.0
    tail = max(0, n - max(3, n // 3))
    tail_slope = cv.relative_slope(val, tail)
    mean_slope = cv.relative_slope(val, 0)
    still_falling = tail_slope < -0.01 and tail_slope <= 0.25 * mean_slope
    learned, memorized = 1.0, False
    if has_train and train[0] > 0:
        learned = float(np.min(train) / train[0])
        memorized = bool(
            train[-1] <= 0.1 * train[0] and train[-1] <= 0.1 * val[-1] and tail_slope > -0.005
        )
    return Evidence(
        epochs=tuple(history.epoch),
        train=train,
        val=val,
        onset=onset,
        best=best,
        rise=rise,
        learned=learned,
        memorized=memorized,
        still_falling=still_falling,
        early_stopped=history.stop_reason in _EARLY_STOPS,
        extra={"tail_slope": tail_slope, "mean_slope": mean_slope},
    )
