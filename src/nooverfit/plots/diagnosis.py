"""`plot_diagnosis`: training and validation curves with the diagnosis drawn on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nooverfit.diagnosis import Diagnosis, Verdict
from nooverfit.history import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_diagnosis(history: History, diagnosis: Diagnosis, *, ax: Axes | None = None) -> Figure:
    """Draw train/val curves, mark the onset and best epoch, shade the overfitting region.

    Args:
        history: the curves diagnosed.
        diagnosis: the result of :func:`nooverfit.diagnose`.
        ax: axes to draw on (default: a new 7x4-inch figure).

    Returns:
        The figure holding ``ax``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure  # type: ignore[assignment]
    epochs = np.asarray(history.epoch)
    if diagnosis.monitor == "loss":
        train_name, val_name, label = "loss", "val_loss", "loss"
    else:
        train_name, val_name, label = (
            diagnosis.monitor,
            f"val_{diagnosis.monitor}",
            diagnosis.monitor,
        )
    for name, style in ((train_name, "-"), (val_name, "-")):
        if history.has(name):
            values = np.asarray(history.column(name), dtype=float)
            finite = np.isfinite(values)
            ax.plot(epochs[finite], values[finite], style, label=name.replace("_", " "))
    if diagnosis.verdict is Verdict.OVERFITTING and diagnosis.onset_epoch is not None:
        ax.axvspan(
            diagnosis.onset_epoch, epochs[-1], color="tab:red", alpha=0.12, label="overfitting"
        )
        ax.axvline(
            diagnosis.onset_epoch,
            color="tab:red",
            linestyle="--",
            label=f"onset (epoch {diagnosis.onset_epoch})",
        )
    if diagnosis.best_epoch is not None:
        ax.axvline(
            diagnosis.best_epoch,
            color="tab:green",
            linestyle=":",
            label=f"best (epoch {diagnosis.best_epoch})",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    positive = [
        v
        for n in (train_name, val_name)
        if history.has(n)
        for v in history.column(n)
        if np.isfinite(v)
    ]
    if positive and min(positive) > 0 and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    ax.set_title(f"{diagnosis.verdict.value.replace('_', ' ')}")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig
