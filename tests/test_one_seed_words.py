"""A one-seed study's summary and captions say the selection's one-seed rule (any
validation gain counts: no standard error), as the report's remedies section does; the
digits study at --seeds 1 printed "at a seed-paired validation gain of 2 standard errors
(SE)" and "(means over 1 seed)"."""

from __future__ import annotations

import dataclasses

import pytest

from nooverfit.cli._app import console
from nooverfit.cli.study_summary import print_summary
from nooverfit.studies.evidence import evidence
from test_store import KWARGS


@pytest.fixture(scope="module")
def one_seed():
    from nooverfit.studies import study

    return study("digits", **KWARGS, classic=False)  # one seed, the store tests' study


def _printed(result) -> str:
    with console.capture() as captured:
        print_summary(result)
    return " ".join(captured.get().split())


def test_the_one_seed_summary_says_any_gain_is_selected(one_seed):
    ev = evidence(one_seed)
    assert len(ev.seeds) == 1
    assert any(d.selected for d in (*ev.remedies, *ev.ensembles))
    flat = _printed(one_seed)
    assert "2 standard errors" not in flat
    assert (
        "selected: the study counts a remedy as helping at any validation gain: one seed has "
        "no standard error." in flat
    )
    assert "(one seed)" in flat and "means over 1 seed" not in flat


def test_a_several_seed_summary_keeps_the_standard_error_rule(tiny_study):
    flat = _printed(tiny_study[0])
    assert "(mean over 2 seeds)" in flat  # the baseline recommended: its test accuracy alone
    if "selected:" in flat:
        assert "at a seed-paired validation gain of more than 2 standard errors (SE)" in flat


def _with_choice_curves(result):
    """``result`` with an ensemble-size and a blend-share curve, whose captions give the
    rule an ensemble or a blend had to pass to replace the choice."""
    from nooverfit.studies.curves import ValidationCurve

    def curve(param, values):
        n = len(values)
        return ValidationCurve(
            param=param,
            values=values,
            train=(1.0,) * n,
            train_std=(0.0,) * n,
            val=(0.9,) * n,
            val_std=(0.0,) * n,
            chosen=values[0],
            regions=("fit",) * n,
            stronger="up",
        )

    extra = (curve("ensemble_size", (3.0, 5.0)), curve("linear_share", (0.25, 0.5)))
    kept = [
        c for c in result.validation_curves if c.param not in ("ensemble_size", "linear_share")
    ]
    return dataclasses.replace(result, validation_curves=(*kept, *extra))


def test_the_one_seed_ensemble_and_blend_captions_say_any_gain_counts(one_seed, tiny_study):
    from nooverfit.report_captions import captions

    one = captions(_with_choice_curves(one_seed))
    for name in ("validation_ensemble_size", "validation_linear_share"):
        assert "standard errors" not in one[name] and "1 standard error" not in one[name]
    assert (
        "accuracy by any gain (one seed: no standard error), or on log loss"
        in one["validation_ensemble_size"]
    )
    assert (
        "no share beat the choice (share 0) on validation accuracy by any gain (one seed: no "
        "standard error), or on log loss" in one["validation_linear_share"]
    )
    several = captions(_with_choice_curves(tiny_study[0]))
    assert "by more than 1 standard error of the seed-paired" in several["validation_linear_share"]
    assert "accuracy by more than 2 standard errors, or" in several["validation_ensemble_size"]


def test_the_one_seed_remedies_figure_has_no_interval_or_spread_in_its_words(one_seed):
    """The one-seed digits figure's legend read "selected by the selection's steps, interval
    includes 0" and "not better beyond noise", its axes "mean ± std over seeds" and "95 % t
    interval", where its caption says one seed gives no interval."""
    from nooverfit.plots.remedies import plot_remedies

    # the baseline recommended, so the selected remedy (the study's recommendation, drawn
    # once, in the recommendation's row) is drawn at its rank, with its legend words
    shown = dataclasses.replace(one_seed, recommended=one_seed.baseline)
    fig = plot_remedies(shown, evidence(shown))
    words = [t.get_text() for t in fig.legends[0].get_texts()]
    words += [ax.get_xlabel() for ax in fig.axes[:2]]
    flat = " ".join(words)
    for said in ("interval includes 0", "beyond noise", "± std", "95 %"):
        assert said not in flat
    assert "selected (one seed: any validation gain)" in words
    assert "on that seed: no interval" in flat


def test_a_several_seed_remedies_figure_keeps_its_interval_words(tiny_study):
    from nooverfit.plots.remedies import plot_remedies

    result, _ = tiny_study
    fig = plot_remedies(result, evidence(result))
    assert "95 % t interval" in fig.axes[1].get_xlabel()
    assert "mean ± std over seeds" in fig.axes[0].get_xlabel()


def test_one_seed_curves_draw_no_bands_their_captions_say_they_lack(one_seed, tiny_study):
    """The one-seed digits figures' legends listed "train ± std over seeds" bands (of
    zero width) where the captions say "One seed: no bands"."""
    from nooverfit.plots.study import plot_learning_curve
    from nooverfit.report_captions import captions
    from nooverfit.report_figures import study_figures

    figures = study_figures(one_seed)
    said = captions(one_seed)
    curves = [n for n in figures if n.startswith("validation_") or n == "capacity"]
    assert curves
    for name in curves:
        legend = [t.get_text() for t in figures[name].axes[0].get_legend().get_texts()]
        assert not any("± std" in t for t in legend), name
        assert "validation (one seed)" in legend and "One seed: no bands." in said[name]
    learning = tiny_study[0].learning
    one = plot_learning_curve(learning, seeds=1).axes[0].get_legend().get_texts()
    assert not any("± std" in t.get_text() for t in one)
    several = plot_learning_curve(learning, seeds=2).axes[0].get_legend().get_texts()
    assert any("± std over seeds" in t.get_text() for t in several)


def test_the_remedies_figures_row_labels_do_not_run_over_each_other(one_seed):
    """The one-seed digits figure's ensemble of three 8-remedy combinations took a 14-line
    label, written over its neighbours' rows."""
    import dataclasses
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from nooverfit.plots.remedies import LABEL_LINES, plot_remedies, remedy_rows

    long = " + ".join(f"remedy{i}=0.{i}" for i in range(8))
    rec = dataclasses.replace(one_seed.recommended, name=f"ensemble of 3: {long}, {long}, {long}")
    result = dataclasses.replace(one_seed, recommended=rec)
    ev = evidence(result)
    rows = remedy_rows(result, ev)
    assert rows[-1].label.count("\n") + 1 == LABEL_LINES and rows[-1].label.endswith("…")
    fig = plot_remedies(result, ev)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    boxes = sorted(
        (t.get_window_extent(canvas.get_renderer()) for t in fig.axes[0].get_yticklabels()),
        key=lambda b: b.y0,
    )
    assert all(low.y1 <= high.y0 + 0.5 for low, high in itertools.pairwise(boxes))
