"""The study's HTML report: one self-contained file (figures embedded as PNG data URIs)
that opens offline and reads top-down: verdict, recommendation, remedies, curves, and what
each technique does."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

from nooverfit._io import atomic_write_text

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult

#: Plain-words explanations of the techniques, shown at the end of the report.
TECHNIQUES = {
    "L2 regularization (lambda)": (
        "Adds lambda/2 times the sum of squared weights to the loss, so every step also "
        "shrinks the weights a little. Small weights make a smoother function that cannot "
        "bend around every training example. Too small a lambda changes nothing (overfit "
        "side of the curve); too large a lambda flattens the network until it cannot fit "
        "even the training data (underfit side)."
    ),
    "Dropout": (
        "During training each hidden unit is switched off at random with probability p, so "
        "the network cannot rely on any single unit or on fragile co-adaptations between "
        "units. It behaves like an average over many thinner networks. At test time all "
        "units are used."
    ),
    "Batch normalization": (
        "Normalizes each layer's inputs over the mini-batch. It mainly makes training faster "
        "and more stable; the noise of the batch statistics also regularizes a little."
    ),
    "Early stopping": (
        "Watches the validation loss and keeps the weights from the epoch where it was "
        "lowest; training past that point only memorizes the training set."
    ),
    "Data augmentation": (
        "Shows the network slightly changed copies of each training example (small shifts "
        "and rotations for digit images, never flips) so it learns what does not change the "
        "label. More diverse data is the most direct cure for overfitting."
    ),
    "Smaller capacity": (
        "A network with fewer units has fewer ways to memorize the training set. The capacity "
        "curve shows where fewer units start to cost accuracy."
    ),
    "Transfer learning": (
        "Starts from a network trained on a larger related data set and retrains only the "
        "layers that must change (often the input and output layers), so the few training "
        "examples only have to teach what is new."
    ),
}


def figure_uri(fig: Figure) -> str:
    """Encode a figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def study_figures(result: StudyResult) -> dict[str, Figure]:
    """Every figure of the report, by file stem (also saved as ``plots/<stem>.png``)."""
    from nooverfit.plots import study as plots

    base_run = result.runs[result.baseline.runs[0]].history
    rec_run = result.runs[result.recommended.runs[0]].history
    figures = {
        "baseline_curves": _diagnosis_figure(base_run, "Baseline"),
        "recommended_curves": _diagnosis_figure(rec_run, "Recommended"),
        "remedies": plots.plot_remedies(result),
    }
    for curve in result.validation_curves:
        figures[f"validation_{curve.param}"] = plots.plot_validation_curve(curve)
    if result.capacity is not None:
        figures["capacity"] = plots.plot_validation_curve(result.capacity)
    if result.learning is not None:
        figures["learning_curve"] = plots.plot_learning_curve(result.learning)
    return figures


def _diagnosis_figure(history: Any, title: str) -> Figure:
    from nooverfit._rules import diagnose
    from nooverfit.plots.diagnosis import plot_diagnosis

    fig = plot_diagnosis(history, diagnose(history))
    fig.axes[0].set_title(f"{title}: {fig.axes[0].get_title()}".rstrip(": "))
    return fig


def _pct(v: float) -> str:
    """``v`` in %, one decimal, without a "-0.0"."""
    return f"{round(100 * v, 1) + 0.0:.1f}"


def render(result: StudyResult, figures: dict[str, Figure]) -> str:
    """The report as HTML text."""
    env = Environment(
        loader=PackageLoader("nooverfit", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    images = {name: figure_uri(fig) for name, fig in figures.items()}
    return env.get_template("report.html").render(
        r=result, images=images, techniques=TECHNIQUES, pct=_pct
    )


def write_report(result: StudyResult, path: str | Path) -> Path:
    """Render the report and write it atomically to ``path``."""
    return atomic_write_text(path, render(result, study_figures(result)))
