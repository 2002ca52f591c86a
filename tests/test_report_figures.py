"""Section 4 shows every figure the study draws (and writes to plots/): a knob's curve
missing from the report's list (the linear rung's L2 penalty, cutout, the pseudo-label
threshold) was written to plots/ but left out of report.html."""

from __future__ import annotations

import dataclasses
import re

from nooverfit.report import render
from nooverfit.report_figures import FIGURES, figure_order, study_pngs


def test_figure_order_keeps_the_reports_order_then_any_other():
    names = ["learning_curve", "validation_new_knob", "curves", "validation_linear_l2"]
    assert figure_order(names) == [
        "curves",
        "validation_linear_l2",
        "learning_curve",
        "validation_new_knob",
    ]
    assert figure_order([]) == []
    assert len(set(FIGURES)) == len(FIGURES)


def test_the_report_shows_every_figure_the_study_draws(tiny_study):
    result, _ = tiny_study
    curve = result.validation_curves[0]
    extra = [
        dataclasses.replace(curve, param=param)
        for param in ("linear_l2", "cutout", "pseudo_threshold")
    ]
    more = dataclasses.replace(result, validation_curves=(*result.validation_curves, *extra))
    figures = study_pngs(more)
    assert {"validation_linear_l2", "validation_cutout", "validation_pseudo_threshold"} <= set(
        figures
    )
    html = render(more, figures)
    shown = re.findall(r'<img src="data:image/png;base64,[^"]*" alt="([^"]+)">', html)
    assert sorted(shown) == sorted(figures)
    # each with its caption, as written from the curve
    caption = html.split('alt="validation_linear_l2">')[1].split("</figcaption>")[0]
    assert "Chosen L2 penalty, linear model = " in caption
