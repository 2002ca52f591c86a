"""Figures of a study: validation curves, capacity, learning curve, remedies, curves of a run.

Each function draws from result objects (no training, no file I/O) onto ``ax`` or a new
figure and returns the figure. Figures are made without pyplot, so no GUI backend is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nooverfit.history import History
from nooverfit.studies.curves import LearningCurve, ValidationCurve

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult

TRAIN, VAL, BEST = "#1f77b4", "#d62728", "#2ca02c"
REGION_COLORS = {"overfit": "#f4a3a3", "underfit": "#a3c4f4"}


def _axes(ax: Axes | None, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def plot_validation_curve(curve: ValidationCurve, *, ax: Axes | None = None) -> Figure:
    """Train and validation accuracy over one knob, mean +- std over seeds, with the
    overfit and underfit regions shaded and the chosen value marked."""
    fig, ax = _axes(ax)
    x = np.asarray(curve.values)
    positive = x[x > 0]
    if curve.param in ("l2", "weight_decay") and len(positive) == len(x):
        ax.set_xscale("log")
    elif curve.param == "width":
        ax.set_xscale("log", base=2)
    for i, region in enumerate(curve.regions):
        if region in REGION_COLORS:
            lo = x[i - 1] if i > 0 else x[i]
            hi = x[i + 1] if i + 1 < len(x) else x[i]
            left = np.sqrt(lo * x[i]) if ax.get_xscale() == "log" else (lo + x[i]) / 2
            right = np.sqrt(hi * x[i]) if ax.get_xscale() == "log" else (hi + x[i]) / 2
            ax.axvspan(left, right, color=REGION_COLORS[region], alpha=0.35, lw=0)
    for mean, std, color, label in (
        (curve.train, curve.train_std, TRAIN, "train"),
        (curve.val, curve.val_std, VAL, "validation"),
    ):
        m, s = np.asarray(mean), np.asarray(std)
        ax.plot(x, m, "o-", color=color, label=label)
        ax.fill_between(x, m - s, m + s, color=color, alpha=0.2)
    ax.axvline(curve.chosen, color=BEST, ls="--", label=f"chosen {curve.param}={curve.chosen:g}")
    for region, color in REGION_COLORS.items():
        if region in curve.regions:
            ax.fill_between([], [], color=color, alpha=0.35, label=f"{region} region")
    ax.set_xlabel(curve.param)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Validation curve over {curve.param}")
    ax.legend(fontsize=8)
    return fig


def plot_learning_curve(curve: LearningCurve, *, ax: Axes | None = None) -> Figure:
    """Validation accuracy against training images per class (mean +- std), with the
    power-law fit of each series extended to twice the largest size."""
    fig, ax = _axes(ax)
    n = np.asarray(curve.sizes, dtype=float)
    grid = np.geomspace(n[0], 2 * n[-1], 50)
    for (name, (mean, std)), color in zip(curve.series.items(), (VAL, BEST, TRAIN), strict=False):
        m, s = np.asarray(mean), np.asarray(std)
        ax.plot(n, m, "o-", color=color, label=f"{name} (validation)")
        ax.fill_between(n, m - s, m + s, color=color, alpha=0.2)
        law = curve.fits[name]
        ax.plot(grid, 1 - law.predict(grid), ":", color=color, label=f"{name} power-law fit")
        ax.plot(n, curve.train[name], "--", color=color, alpha=0.5, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("training images per class")
    ax.set_ylabel("accuracy")
    ax.set_title("Learning curve (dashed: train accuracy)")
    ax.legend(fontsize=8)
    return fig


def plot_remedies(result: StudyResult, *, ax: Axes | None = None) -> Figure:
    """Validation accuracy (mean +- std over seeds) of the baseline, each remedy's best
    setting and the recommendation, with each one's train/val gap written beside it."""
    rows = [("baseline", result.baseline)] + [
        (f"{r.remedy}: {r.chosen.name}", r.chosen) for r in result.remedies
    ]
    rows.append((f"recommended: {result.recommended.name}", result.recommended))
    fig, ax = _axes(ax, (9.0, 0.4 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    vals = [v.score.val_accuracy for _, v in rows]
    errs = [v.score.val_accuracy_std for _, v in rows]
    colors = [VAL] + [BEST if r.helped else "#999999" for r in result.remedies] + [TRAIN]
    ax.barh(y, vals, xerr=errs, color=colors, alpha=0.8)
    ax.set_yticks(y, [label for label, _ in rows], fontsize=8)
    low = min(vals) - 0.05
    ax.set_xlim(max(0.0, low), 1.0)
    for yi, (_, v) in zip(y, rows, strict=True):
        ax.text(
            ax.get_xlim()[0] + 0.002,
            yi,
            f" gap {v.score.gap:+.3f}",
            va="center",
            fontsize=7,
            color="white",
        )
    ax.set_xlabel("validation accuracy (kept epoch)")
    ax.set_title("Each remedy alone vs the baseline")
    return fig


def plot_history(history: History, *, title: str = "", ax: Axes | None = None) -> Figure:
    """Train and validation loss of one run per epoch, the kept epoch marked."""
    fig, ax = _axes(ax)
    ax.plot(history.epoch, history.loss, color=TRAIN, label="train loss")
    ax.plot(history.epoch, history.val_loss, color=VAL, label="validation loss")
    if history.best_epoch is not None:
        ax.axvline(
            history.best_epoch, color=BEST, ls="--", label=f"kept epoch {history.best_epoch}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
