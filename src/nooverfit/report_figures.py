"""The study report's figures: which it draws, in what order it shows them, each drawn
once as PNG bytes for its file under ``plots/`` and for the report (computing stays in
:mod:`nooverfit.plots`)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from nooverfit.techniques import sample_unit

if TYPE_CHECKING:
    from nooverfit.studies.evidence import Evidence
    from nooverfit.studies.result import StudyResult


def figure_png(fig: Figure) -> bytes:
    """``fig`` drawn as PNG (100 dpi): drawn once, the bytes go both to its file under
    ``plots/`` and into the report."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def study_pngs(result: StudyResult, ev: Evidence | None = None) -> dict[str, bytes]:
    """Every figure of the report drawn as PNG (:func:`study_figures`, :func:`figure_png`;
    ``ev``: the study's :func:`~nooverfit.studies.evidence.evidence`, computed where not
    given)."""
    return {stem: figure_png(fig) for stem, fig in study_figures(result, ev).items()}


def study_figures(result: StudyResult, ev: Evidence | None = None) -> dict[str, Figure]:
    """Every figure of the report, by file stem (also saved as ``plots/<stem>.png``;
    ``ev``: the study's :func:`~nooverfit.studies.evidence.evidence`, computed where not
    given)."""
    from nooverfit.plots import study as plots
    from nooverfit.studies.evidence import evidence

    figures = {
        "curves": plots.plot_run_curves(result),
        "remedies": plots.plot_remedies(result, ev if ev is not None else evidence(result)),
    }
    seeds = len(result.settings.seeds) or result.baseline.score.seeds  # as the captions
    for curve in result.validation_curves:
        figures[f"validation_{curve.param}"] = plots.plot_validation_curve(curve, seeds=seeds)
    if result.capacity is not None:
        figures["capacity"] = plots.plot_validation_curve(result.capacity, seeds=seeds)
    if result.learning is not None:
        unit = sample_unit(result)
        figures["learning_curve"] = plots.plot_learning_curve(
            result.learning, unit=unit, seeds=seeds
        )
    return figures


#: the order section 4 shows the figures in; a figure not named here (a knob's curve added
#: later) follows them, so every figure :func:`study_figures` draws (and plots/ holds) is shown
FIGURES = (
    "curves",
    "remedies",
    "validation_l2",
    "validation_weight_decay",
    "validation_dropout",
    "validation_augment",
    "validation_cutout",
    "validation_label_smoothing",
    "validation_mixup",
    "validation_ema_window",
    "validation_annealed_augment",
    "validation_ensemble_size",
    "validation_copies",
    "validation_mixed_copies",
    "validation_linear_l2",
    "validation_linear_share",
    "validation_search_trials",
    "validation_pseudo_threshold",
    "capacity",
    "learning_curve",
    "tune_history",
    "tune_slice",
    "tune_parallel",
    "tune_contour",
)


def figure_order(names: Iterable[str]) -> list[str]:
    """The figures ``names`` in the order the report shows them: :data:`FIGURES`' order,
    then any other in the order given."""
    names = list(names)
    return [n for n in FIGURES if n in names] + [n for n in names if n not in FIGURES]
