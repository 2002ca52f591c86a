"""Figures of a study: validation curves, capacity, learning curve, remedies, run curves.

Each figure has a data function (pure: result objects in, a frozen dataclass out, which
the tests check) and a ``plot_*`` function that draws that data onto ``ax`` or a new
figure and returns the figure. Accuracies are drawn in %. Figures are made without
pyplot, so no GUI backend is used.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nooverfit.history import History

# the remedies figure lives in plots.remedies; its names stay importable from here
from nooverfit.plots.remedies import (  # noqa: F401
    BEST,
    GREY,
    TRAIN,
    VAL,
    RemedyRow,
    plot_remedies,
    remedy_rows,
)
from nooverfit.studies.curves import FITS_TRAINING, LearningCurve, ValidationCurve
from nooverfit.studies.select import kept_row

if TYPE_CHECKING:
    from nooverfit.config import RunConfig
    from nooverfit.studies.result import StudyResult

REGION_COLORS = {"overfit": "#f4a3a3", "underfit": "#a3c4f4"}
LABELS = {
    "l2": "lambda (L2)",
    "weight_decay": "weight decay",
    "dropout": "dropout rate",
    "width": "hidden width",
    "augment": "augmentation strength",
    "cutout": "cutout square side (fraction of the image side)",
    "label_smoothing": "label smoothing",
    "ensemble_size": "networks in the ensemble",
    "copies": "copies of the choice averaged (initial weights differ)",
    "mixed_copies": "copies of the choice averaged with 2 on ple16 inputs",
    "linear_share": "the linear rung's share of the blend",
    "mixup": "mixup alpha",
    "ema_window": "steps the weight average spans, 1 / (1 - decay)",
    "annealed_augment": "augmentation strength, cosine-annealed learning rate",
    "search_trials": "combinations tried (joint search; best so far)",
    "pseudo_threshold": "least confidence of a pseudo-label (unlabeled pool samples)",
    "linear_l2": "L2 penalty, linear model",
}


#: the ratio of a grid's largest positive value to its smallest from which a knob of
#: decades (a penalty) that also tries 0 is drawn on a symmetric-log axis
SPREAD = 100.0

#: a knob's value that turns it off where that is not 0 (a weight average over one step,
#: one copy: the network alone), so a choice there has no smaller values to try
OFF = {"ema_window": 1.0, "copies": 1.0}


def _axes(ax: Axes | None, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


@dataclass(frozen=True)
class CurveView:
    """What a validation curve's figure shows.

    Attributes:
        param: the knob.
        log: whether the x axis is logarithmic.
        regions: ``(left, right, region)`` spans to shade: measured values only, and no
            ``"underfit"`` span where training accuracy is at least 99.5 %.
        edge: ``"smaller"`` or ``"larger"`` when the chosen value is the grid's smallest or
            largest (try values beyond it), else None.
        caption: a sentence on what was measured on each side of the chosen value.
        linthresh: where the x axis is symmetric-logarithmic (a penalty's grid of decades
            that also holds 0, which a log axis cannot show and a linear one crowds into one
            point), the smallest positive value: linear from 0 to it, logarithmic beyond;
            None otherwise.
    """

    param: str
    log: bool
    regions: tuple[tuple[float, float, str], ...]
    edge: str | None
    caption: str
    linthresh: float | None = None


def curve_view(curve: ValidationCurve) -> CurveView:
    """The shading, grid-edge flag and caption of a validation curve, from its data."""
    x = [float(v) for v in curve.values]
    decades = curve.param in ("l2", "weight_decay", "linear_l2", "ema_window")
    log = curve.param == "width" or (decades and all(v > 0 for v in x))
    positive = [v for v in x if v > 0]
    # 0, 0.001, 0.01, 0.1, 1 on a linear axis: the first three points drawn as one
    spread = len(positive) >= 2 and max(positive) / min(positive) >= SPREAD
    linthresh = min(positive) if decades and not log and spread and min(x) == 0 else None

    def mid(a: float, b: float) -> float:
        return math.sqrt(a * b) if (log or linthresh) and a > 0 and b > 0 else (a + b) / 2

    spans = []
    for i, region in enumerate(curve.regions):
        if region not in REGION_COLORS:
            continue
        if region == "underfit" and curve.train[i] >= FITS_TRAINING:
            continue  # (results.json before "worse" called such a setting underfitting)
        left = mid(x[i - 1], x[i]) if i > 0 else x[i]
        right = mid(x[i], x[i + 1]) if i + 1 < len(x) else x[i]
        spans.append((left, right, region))
    i = x.index(float(curve.chosen))
    # "smaller"/"larger" are about the knob's values, whichever way regularizes more.
    edge = None
    if len(x) >= 2 and i == 0 and x[0] > OFF.get(curve.param, 0.0):
        edge = "smaller"  # below the knob's off value (no regularization) there is nothing
    elif len(x) >= 2 and i == len(x) - 1:
        edge = "larger"
    name = LABELS.get(curve.param, curve.param)
    shaded = {r for _, _, r in spans}
    parts = [f"Chosen {name} = {curve.chosen:g} ({_why_chosen(curve, i)})."]
    below, above = x[:i], x[i + 1 :]
    for side, values in (("below", below), ("above", above)):
        if not values:
            parts.append(f"Nothing was measured {side} it.")
    if "overfit" in shaded:
        parts.append("Red: the weaker setting overfits (validation worse, training high).")
    if "underfit" in shaded:
        parts.append("Blue: the stronger setting underfits (training accuracy falls too).")
    if edge:
        parts.append(f"The chosen value is at the edge of the grid: try {edge} values.")
    if any(curve.halved):
        some = any(0 < h < 1 for h in curve.halved)
        parts.append(
            f"Hollow points: {'some of their seeds' if some else 'their runs'} were stopped "
            "at mid-training, clearly behind their grid (successive halving), so their "
            "accuracies are from then and their region is not shaded."
        )
    return CurveView(curve.param, log, tuple(spans), edge, " ".join(parts), linthresh)


def curve_row_note(result: StudyResult, curve: ValidationCurve) -> str | None:
    """Where a validation curve's chosen value differs from the setting the remedies table
    and figure show for the same knob (a remedy's row is its best setting other than the
    baseline's: with dropout 0 chosen on the curve, the row still shows a dropout), the
    sentence that says so; None where they agree or the knob is no remedy's."""
    base = _setting(result.baseline.config, curve.param)
    if base is None:
        return None
    for o in result.remedies:
        if o.chosen.stage == "ensemble":
            continue
        value = _setting(o.chosen.config, curve.param)
        if value is None or value == base:
            continue  # another remedy's row
        if math.isclose(float(value), float(curve.chosen)):
            return None
        name, shown = LABELS.get(curve.param, curve.param), f"{value:g}"
        if curve.param == "ema_window":  # the row names the decay, the curve the steps
            name, shown = "weight average", f"{shown} steps ({o.chosen.name})"
        why = (
            "the baseline's own value: no setting of it beat the baseline"
            if math.isclose(float(curve.chosen), float(base))
            else "chosen on the curve's mean validation accuracy"
        )
        return (
            f"The remedies table's {name} row shows its best setting other than the "
            f"baseline's, {shown}; the curve's {curve.chosen:g} is {why}."
        )
    return None


def _setting(config: RunConfig, param: str) -> float | None:
    """A configuration's value on a validation curve's axis (the weight average's decay as
    the steps it spans, ``1 / (1 - decay)``, as :func:`.remedy_curves` draws it); None
    where the curve's knob is no field of it."""
    if param == "ema_window":
        return float(f"{1 / (1 - config.ema):.6g}")
    value = getattr(config, param, None)
    return None if value is None else float(value)


def _why_chosen(curve: ValidationCurve, i: int) -> str:
    """The chosen value's standing on the curve, as measured: the best mean validation
    accuracy (naming the values that tie it), or how far it is from the best."""
    best = max(curve.val)
    if curve.val[i] < best - 1e-9:
        top = curve.values[curve.val.index(best)]
        return (
            f"chosen on validation at {100 * curve.val[i]:.1f} %; the best mean, "
            f"{100 * best:.1f} %, is at {top:g}"
        )
    ties = [f"{v:g}" for j, v in enumerate(curve.values) if j != i and curve.val[j] >= best - 1e-9]
    if not ties:
        return "best mean validation accuracy"
    # validation_curve's choice among equal accuracies: the lower mean validation log loss,
    # the linear rung's the larger penalty (select.best_penalized)
    rule = (
        "the larger penalty"
        if curve.param == "linear_l2"
        else "the lowest mean validation log loss"
    )
    return (
        f"best mean validation accuracy, tied with {', '.join(ties)}; chosen among them for {rule}"
    )


def plot_validation_curve(
    curve: ValidationCurve, *, seeds: int = 2, ax: Axes | None = None
) -> Figure:
    """Train and validation accuracy (%) over one knob, mean and std over ``seeds`` seeds
    (one seed: its accuracies, no bands), with the measured overfit and underfit regions
    shaded and the chosen value marked."""
    view = curve_view(curve)
    fig, ax = _axes(ax)
    x = np.asarray(curve.values, dtype=float)
    if view.log:
        ax.set_xscale("log", base=2 if curve.param == "width" else 10)
    elif view.linthresh is not None:
        ax.set_xscale("symlog", linthresh=view.linthresh, linscale=0.5)
    for left, right, region in view.regions:
        ax.axvspan(left, right, color=REGION_COLORS[region], alpha=0.35, lw=0)
    for mean, std, color, label in (
        (curve.train, curve.train_std, TRAIN, "train"),
        (curve.val, curve.val_std, VAL, "validation"),
    ):
        m, s = 100 * np.asarray(mean), 100 * np.asarray(std)
        ax.plot(x, m, "o-", color=color, label=f"{label} ({'mean' if seeds > 1 else 'one seed'})")
        if seeds > 1:  # one seed has no spread: no band, as the caption says
            low, high = _within_accuracy(m, s)
            ax.fill_between(
                x, low, high, color=color, alpha=0.2, label=f"{label} ± std over seeds"
            )
        cut = np.asarray(curve.halved, dtype=bool)
        if cut.any():  # mid-training accuracies, not comparable to the finished points'
            ax.plot(x[cut], m[cut], "o", mfc="white", color=color, zorder=3)
    if any(curve.halved):
        ax.plot([], [], "o", mfc="white", color="gray", label="stopped at mid-training (halved)")
    chosen = f"chosen {curve.chosen:g}" + (f" (edge: try {view.edge})" if view.edge else "")
    ax.axvline(curve.chosen, color=BEST, ls="--", label=chosen)
    for region in sorted({r for _, _, r in view.regions}):
        ax.fill_between([], [], color=REGION_COLORS[region], alpha=0.35, label=f"{region} region")
    ax.set_xlabel(LABELS.get(curve.param, curve.param))
    ax.set_ylabel("accuracy (%)")
    # wrapped: a long knob's name ran past the figure's edges, cut off
    ax.set_title(
        textwrap.fill(f"Validation curve over {LABELS.get(curve.param, curve.param)}", 50)
    )
    ax.legend(fontsize=7)
    return fig


def _within_accuracy(mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A band of mean ± std in percent, cut at 0 and 100: no accuracy lies beyond them
    (a wine study's band reached 101 %, review i120)."""
    return np.clip(mean - std, 0.0, 100.0), np.clip(mean + std, 0.0, 100.0)


def plot_learning_curve(
    curve: LearningCurve, *, unit: str = "images", seeds: int = 2, ax: Axes | None = None
) -> Figure:
    """Validation accuracy (%) against training ``unit`` (images, rows, clips) per class
    (mean and std over ``seeds`` seeds; one seed: no bands), with each series' power-law
    fit extended to twice the largest size."""
    fig, ax = _axes(ax)
    n = np.asarray(curve.sizes, dtype=float)
    grid = np.geomspace(n[0], 2 * n[-1], 50)
    for (name, (mean, std)), color in zip(curve.series.items(), (VAL, BEST, TRAIN), strict=False):
        m, s = 100 * np.asarray(mean), 100 * np.asarray(std)
        shown = "mean" if seeds > 1 else "one seed"
        named = f"{name} ({curve.names[name]})" if name in curve.names else name
        ax.plot(n, m, "o-", color=color, label=f"{named}: validation ({shown})")
        if seeds > 1:
            low, high = _within_accuracy(m, s)
            ax.fill_between(
                n, low, high, color=color, alpha=0.2, label=f"{name}: ± std over seeds"
            )
        law = curve.fits[name]
        ax.plot(grid, 100 * (1 - law.predict(grid)), ":", color=color, label=f"{name}: power law")
        ax.plot(n, 100 * np.asarray(curve.train[name]), "--", color=color, alpha=0.5, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel(f"training {unit} per class")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Learning curve (dashed: train accuracy)")
    ax.legend(fontsize=7)
    return fig


@dataclass(frozen=True)
class RunCurves:
    """Per-epoch loss of one run, for the curves figure."""

    title: str
    epoch: tuple[int, ...]
    loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    kept: int
    onset: int | None  # where the diagnosis saw overfitting start, if it did


def run_curves(result: StudyResult) -> tuple[RunCurves, RunCurves]:
    """Seed 0's baseline and recommended runs (the kept epoch of each marked)."""

    def one(title: str, key: str) -> RunCurves:
        record = result.runs[key]
        h, d = record.history, record.diagnosis
        overfit = d.verdict.value == "overfitting"
        onset = d.onset_epoch
        return RunCurves(
            title,
            tuple(h.epoch),
            tuple(h.loss),
            tuple(h.val_loss),
            h.epoch[kept_row(h)],
            onset if overfit else None,
        )

    rec = result.recommended
    first = rec.runs[0]
    if rec.stage == "ensemble":  # the curves are one network's, not the average's
        names = result.extras.get("ensemble", {}).get("names") or [rec.name]
        title = f"Ensemble of {len(names)}: its first network, {names[0]}"
    else:
        title = f"Recommended: {rec.name}"
    return one("Baseline", result.baseline.runs[0]), one(title, first)


def plot_run_curves(result: StudyResult) -> Figure:
    """Training and validation loss per epoch of the baseline and the recommendation,
    side by side on the same axes (shared x and y)."""
    curves = run_curves(result)
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, c in zip(axes, curves, strict=True):
        ax.plot(c.epoch, c.loss, color=TRAIN, label="train loss")
        ax.plot(c.epoch, c.val_loss, color=VAL, label="validation loss")
        ax.axvline(c.kept, color=BEST, ls="--", label=f"kept epoch {c.kept}")
        if c.onset is not None:
            ax.axvspan(
                c.onset, c.epoch[-1], color=VAL, alpha=0.1, label=f"overfitting from {c.onset}"
            )
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(textwrap.fill(c.title, 50), fontsize=10)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("cross-entropy")
    return fig


def plot_history(history: History, *, title: str = "", ax: Axes | None = None) -> Figure:
    """Train and validation loss of one run per epoch, the kept epoch marked."""
    fig, ax = _axes(ax)
    ax.plot(history.epoch, history.loss, color=TRAIN, label="train loss")
    ax.plot(history.epoch, history.val_loss, color=VAL, label="validation loss")
    if history.kept_epoch is not None:
        ax.axvline(
            history.kept_epoch, color=BEST, ls="--", label=f"kept epoch {history.kept_epoch}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
