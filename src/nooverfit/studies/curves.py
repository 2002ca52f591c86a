"""Curves that explain a study: validation curves over a regularization knob, the learning
curve over training-set size with a power-law fit, the capacity curve. Pure computation;
drawing lives in :mod:`nooverfit.plots.study`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nooverfit.studies.select import Score

#: Training accuracy at or above which a setting fits its training set: a stronger setting
#: that scores worse on validation there is not underfitting (region ``"worse"``).
FITS_TRAINING = 0.995


@dataclass(frozen=True)
class ValidationCurve:
    """Train and validation accuracy over the values of one knob (mean and std over seeds).

    Attributes:
        param: the knob (``"l2"``, ``"dropout"``, ``"width"``).
        values: its values, ascending.
        train, train_std, val, val_std: accuracies per value.
        chosen: the value selected on validation.
        regions: per value, ``"overfit"``, ``"underfit"``, ``"worse"`` (stronger, worse on
            validation, yet fitting its training set: no underfit), ``"fit"`` or
            ``"halved"`` (stopped at mid-training: not placed).
        stronger: ``"up"`` if larger values regularize more (lambda, dropout), ``"down"`` if
            smaller ones do (width).
        halved: per value, the share of its seeds' runs that successive halving stopped
            at mid-training (their accuracies are from then; empty in older results).
    """

    param: str
    values: tuple[float, ...]
    train: tuple[float, ...]
    train_std: tuple[float, ...]
    val: tuple[float, ...]
    val_std: tuple[float, ...]
    chosen: float
    regions: tuple[str, ...]
    stronger: str
    halved: tuple[float, ...] = ()


def validation_curve(
    param: str,
    values: Sequence[float],
    scores: Sequence[Score],
    train_std: Sequence[float],
    *,
    stronger: str = "up",
    ties_stronger: bool = False,
) -> ValidationCurve:
    """Build a validation curve and mark its regions.

    The chosen value has the highest validation accuracy, ties broken by the lower
    validation loss (:func:`.select.best`), or with ``ties_stronger`` by the stronger
    setting (the linear rung's L2 penalty, :func:`.select.best_penalized`).

    A value is on the *overfit* side when it regularizes less than the chosen value and its
    validation accuracy is worse by more than the tolerance while training accuracy stays
    high; on the *underfit* side when it regularizes more and validation accuracy is worse,
    with its training accuracy under ``FITS_TRAINING`` (else *worse*: a setting right on
    its training samples is not underfitting, whatever it scores on validation).
    Tolerance: ``max(0.005, std of the chosen value's val accuracy)``. A value whose runs
    successive halving stopped is *halved*: its accuracies are from mid-training, so they
    say nothing about which side it is on.
    """
    order = np.argsort(values)
    vals = [float(values[i]) for i in order]
    sc = [scores[i] for i in order]
    tstd = [float(train_std[i]) for i in order]
    if ties_stronger:  # sorted by value: the stronger is the later where larger regularizes
        sign = -1 if stronger == "up" else 1
        best_i = min(range(len(sc)), key=lambda i: (-round(sc[i].val_accuracy, 12), sign * i))
    else:
        best_i = min(range(len(sc)), key=lambda i: (-sc[i].val_accuracy, sc[i].val_loss))
    tol = max(0.005, sc[best_i].val_accuracy_std)
    regions = []
    for i, s in enumerate(sc):
        weaker = i < best_i if stronger == "up" else i > best_i
        worse = s.val_accuracy < sc[best_i].val_accuracy - tol
        if s.halved:
            regions.append("halved")
        elif not worse:
            regions.append("fit")
        elif weaker:
            regions.append("overfit")
        else:
            regions.append("underfit" if s.accuracy < FITS_TRAINING else "worse")
    return ValidationCurve(
        param=param,
        values=tuple(vals),
        train=tuple(s.accuracy for s in sc),
        train_std=tuple(tstd),
        val=tuple(s.val_accuracy for s in sc),
        val_std=tuple(s.val_accuracy_std for s in sc),
        chosen=vals[best_i],
        regions=tuple(regions),
        stronger=stronger,
        halved=tuple(s.halved / max(s.seeds, 1) for s in sc),
    )


@dataclass(frozen=True)
class PowerLaw:
    """``error(n) = a * n ** -b + c``: validation error against training images per class.

    Attributes:
        a, b, c: fitted coefficients (``c`` is the error that more data cannot remove).
        ok: whether the fit converged; when False the coefficients come from a log-log line.
    """

    a: float
    b: float
    c: float
    ok: bool

    def predict(self, n: Any) -> Any:
        """Predicted error at ``n`` images per class (a float or an array of sizes)."""
        return self.a * n ** (-self.b) + self.c


def fit_power_law(sizes: Sequence[float], errors: Sequence[float]) -> PowerLaw:
    """Fit ``error = a * n**-b + c`` by least squares (``scipy.optimize.curve_fit``),
    bounded to ``a >= 0``, ``0 <= b <= 3``, ``0 <= c <= min(error)``."""
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    n = np.asarray(sizes, dtype=float)
    e = np.clip(np.asarray(errors, dtype=float), 1e-6, None)
    if len(n) >= 3:
        try:
            with warnings.catch_warnings():
                # Few points: the covariance is often undefined; only the fit is used.
                warnings.simplefilter("ignore", OptimizeWarning)
                (a, b, c), _ = curve_fit(
                    lambda x, a, b, c: a * x ** (-b) + c,
                    n,
                    e,
                    p0=(e[0] * n[0] ** 0.5, 0.5, e.min() / 2),
                    bounds=([0.0, 0.0, 0.0], [np.inf, 3.0, max(e.min(), 1e-6)]),
                    maxfev=10_000,
                )
            return PowerLaw(float(a), float(b), float(c), True)
        except (RuntimeError, ValueError):
            pass
    slope, intercept = (
        np.polyfit(np.log(n), np.log(e), 1) if len(n) >= 2 else (0.0, math.log(e[0]))
    )
    return PowerLaw(float(math.exp(intercept)), float(-slope), 0.0, False)


@dataclass(frozen=True)
class LearningCurve:
    """Validation accuracy against training images per class, for several configurations.

    Attributes:
        sizes: training images per class.
        series: name -> (mean val accuracy per size, std per size).
        train: name -> mean train accuracy per size.
        fits: name -> power law of the validation error.
        names: name -> the study's name of the configuration it draws, for a series whose
            own name does not say which (``"best single network"``: ``"dropout=0.3"``);
            ``results.json`` leaves it out when empty.
    """

    sizes: tuple[int, ...]
    series: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    train: dict[str, tuple[float, ...]]
    fits: dict[str, PowerLaw]
    names: dict[str, str] = field(default_factory=dict)

    def gain_from_doubling(self, name: str, size: int | None = None) -> float:
        """Predicted validation-accuracy gain of twice ``size`` training samples per class
        (None: the largest size of the curve)."""
        law, n = self.fits[name], size or self.sizes[-1]
        return law.predict(n) - law.predict(2 * n)

    def measured_at(self, name: str, size: float) -> float | None:
        """Mean validation accuracy of ``name`` at ``size`` per class from the measured
        points: the point itself, or linear in log size between the two around it; None
        outside the measured sizes (that would be the fit's extrapolation)."""
        sizes, values = self.sizes, self.series[name][0]
        for i, n in enumerate(sizes):
            if n == size:
                return values[i]
            if i and sizes[i - 1] < size < n:
                w = math.log(size / sizes[i - 1]) / math.log(n / sizes[i - 1])
                return values[i - 1] + w * (values[i] - values[i - 1])
        return None

    def measured_doubling(self, name: str, size: int) -> float | None:
        """The validation-accuracy gain from ``size`` to ``2 * size`` per class that the
        curve measured (:meth:`measured_at` both), or None when ``2 * size`` lies beyond
        the largest size measured."""
        low, high = self.measured_at(name, size), self.measured_at(name, 2 * size)
        return None if low is None or high is None else high - low


def learning_curve(
    sizes: Sequence[int],
    scores: Mapping[str, Sequence[Score]],
    *,
    names: Mapping[str, str] | None = None,
) -> LearningCurve:
    """Build a learning curve from per-size scores of each named configuration
    (``names``: :attr:`LearningCurve.names`, default none)."""
    series = {
        name: (tuple(s.val_accuracy for s in sc), tuple(s.val_accuracy_std for s in sc))
        for name, sc in scores.items()
    }
    train = {name: tuple(s.accuracy for s in sc) for name, sc in scores.items()}
    fits = {
        name: fit_power_law(sizes, [1 - s.val_accuracy for s in sc]) for name, sc in scores.items()
    }
    return LearningCurve(tuple(sizes), series, train, fits, dict(names or {}))
