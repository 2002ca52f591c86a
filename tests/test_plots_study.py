import dataclasses

import numpy as np
import pytest

from nooverfit.plots.remedies import _label
from nooverfit.plots.study import (
    FITS_TRAINING,
    LABELS,
    curve_view,
    plot_remedies,
    plot_run_curves,
    plot_validation_curve,
    remedy_rows,
    run_curves,
)
from nooverfit.studies.curves import ValidationCurve, validation_curve
from nooverfit.studies.evidence import evidence
from nooverfit.studies.select import Score


def _curve(values, train, val, chosen, regions, param="l2"):
    n = len(values)
    return ValidationCurve(
        param=param,
        values=tuple(values),
        train=tuple(train),
        train_std=(0.01,) * n,
        val=tuple(val),
        val_std=(0.01,) * n,
        chosen=chosen,
        regions=tuple(regions),
        stronger="up",
    )


def test_curve_view_flags_a_chosen_value_at_the_grid_edge():
    low = _curve([1e-5, 1e-3, 1e-1], [1, 0.99, 0.5], [0.9, 0.88, 0.4], 1e-5, ["fit"] * 3)
    view = curve_view(low)
    assert view.edge == "smaller" and view.log
    assert "Nothing was measured below it" in view.caption and "try smaller" in view.caption
    assert "overfit" not in view.caption  # nothing measured on the weaker side
    high = _curve([1e-5, 1e-3, 1e-1], [1, 0.99, 0.95], [0.8, 0.85, 0.9], 1e-1, ["fit"] * 3)
    assert curve_view(high).edge == "larger"
    middle = _curve([1e-5, 1e-3, 1e-1], [1, 0.99, 0.95], [0.8, 0.9, 0.85], 1e-3, ["fit"] * 3)
    assert curve_view(middle).edge is None
    # Dropout 0 is "no dropout": there are no smaller values to try.
    none = _curve([0.0, 0.3], [1, 0.99], [0.9, 0.88], 0.0, ["fit"] * 2, param="dropout")
    assert curve_view(none).edge is None
    # Nor below one step of weight averaging or one copy (the network alone) ...
    for param in ("ema_window", "copies"):
        one = _curve([1.0, 100.0], [1, 0.99], [0.9, 0.88], 1.0, ["fit"] * 2, param=param)
        assert curve_view(one).edge is None and "try smaller" not in curve_view(one).caption
    # ... but below a grid that starts above them there is
    hundred = _curve([100.0, 1000.0], [1, 1], [0.9, 0.88], 100.0, ["fit"] * 2, "ema_window")
    assert curve_view(hundred).edge == "smaller"
    three = _curve([3.0, 5.0], [1, 1], [0.9, 0.88], 3.0, ["fit"] * 2, param="ensemble_size")
    assert curve_view(three).edge == "smaller"


def test_the_caption_says_where_the_chosen_value_stands():
    """All of 0.01 to 0.3 at 89.7 %: the caption said "0.3 (best mean validation
    accuracy)" as if 0.3 alone were best."""
    x = [0.01, 0.03, 0.1, 0.3]
    tied = _curve(x, [1] * 4, [0.897, 0.897, 0.897, 0.897], 0.3, ["fit"] * 4)
    assert "= 0.3 (best mean validation accuracy, tied with 0.01, 0.03, 0.1; " in (
        curve_view(tied).caption
    )
    # the review's 9-network ensemble: tied with 3 on accuracy, chosen by log loss
    sizes = _curve([3, 5, 9], [1] * 3, [0.964, 0.962, 0.964], 9, ["fit"] * 3, "ensemble_size")
    assert (
        "= 9 (best mean validation accuracy, tied with 3; chosen among them for the "
        in (curve_view(sizes).caption)
        and "lowest mean validation log loss)" in curve_view(sizes).caption
    )
    # the linear rung's exact ties go to the larger penalty (select.best_penalized)
    rung = _curve([0.0, 1e-3, 1e-2], [1] * 3, [1.0, 1.0, 1.0], 1e-2, ["fit"] * 3, "linear_l2")
    assert "tied with 0, 0.001; chosen among them for the larger penalty)" in (
        curve_view(rung).caption
    )
    alone = _curve(x, [1] * 4, [0.8, 0.9, 0.85, 0.8], 0.03, ["fit"] * 4)
    assert "= 0.03 (best mean validation accuracy)." in curve_view(alone).caption
    behind = _curve(x, [1] * 4, [0.8, 0.9, 0.85, 0.8], 0.1, ["fit"] * 4)
    assert "= 0.1 (chosen on validation at 85.0 %; the best mean, 90.0 %, is at 0.03)" in (
        curve_view(behind).caption
    )


def test_curve_view_never_shades_underfit_where_training_is_fitted():
    curve = _curve(
        [1e-4, 1e-3, 1e-2, 1e-1],
        [1.0, 1.0, FITS_TRAINING, 0.6],
        [0.9, 0.95, 0.9, 0.55],
        1e-3,
        ["overfit", "fit", "underfit", "underfit"],
    )
    view = curve_view(curve)
    assert [r for _, _, r in view.regions] == ["overfit", "underfit"]
    left, right, _ = view.regions[1]
    assert left == pytest.approx(np.sqrt(1e-2 * 1e-1)) and right == pytest.approx(1e-1)
    fig = plot_validation_curve(curve)
    ax = fig.axes[0]
    val = next(line for line in ax.get_lines() if line.get_label() == "validation (mean)")
    assert np.allclose(val.get_ydata(), [90, 95, 90, 55])  # in %
    assert ax.get_ylabel() == "accuracy (%)"
    assert "Hollow points" not in curve_view(curve).caption


def test_a_stronger_setting_that_fits_its_training_set_is_worse_not_underfit():
    """Review i114: results.json called capacity width=64 and mixup 0.4 "underfit" at
    100 % training accuracy (only the plot left them unshaded). Stronger and worse on
    validation, but right on its training samples: "worse"; below FITS_TRAINING: underfit."""
    from nooverfit.studies.curves import validation_curve

    scores = [
        Score(v, 0.0, 0.5, t, 0.0, 0.1, t - v, 10, 2)
        for v, t in ((0.9, 1.0), (0.95, 1.0), (0.85, 1.0), (0.6, 0.7))
    ]
    curve = validation_curve("dropout", [0.1, 0.3, 0.5, 0.7], scores, [0.0] * 4)
    assert curve.regions == ("overfit", "fit", "worse", "underfit")
    assert [r for *_, r in curve_view(curve).regions] == ["overfit", "underfit"]


def test_halved_points_are_hollow_and_the_caption_says_why():
    scores = [
        Score(v, 0.0, 0.5, t, 0.0, 0.1, t - v, 10, 2, halved=h)
        for v, t, h in ((0.9, 1.0, 0), (0.95, 1.0, 0), (0.6, 0.62, 2))
    ]
    curve = validation_curve("l2", [1e-4, 1e-3, 1e-1], scores, [0.0] * 3)
    assert curve.halved == (0.0, 0.0, 1.0)
    # the halved value is not placed: no blue "underfit" span, no sentence about one
    assert curve.regions == ("overfit", "fit", "halved")
    view = curve_view(curve)
    assert "their runs were stopped at mid-training" in view.caption
    assert "Blue" not in view.caption and [r for *_, r in view.regions] == ["overfit"]
    partly = Score(0.6, 0.0, 0.5, 0.62, 0.0, 0.1, 0.02, 10, 2, halved=1)
    some = validation_curve("l2", [1e-4, 1e-1], [scores[1], partly], [0.0] * 2)
    assert "some of their seeds were stopped" in curve_view(some).caption
    ax = plot_validation_curve(curve).axes[0]
    hollow = [
        ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "white" and len(ln.get_xdata())
    ]
    assert sorted(float(y) for ln in hollow for y in ln.get_ydata()) == pytest.approx([60, 62])


def test_remedy_rows_follow_the_evidence_and_the_axis_starts_at_zero(tiny_study):
    result, _ = tiny_study
    ev = evidence(result)
    rows = remedy_rows(result, ev)
    assert rows[0].kind == "baseline" and rows[-1].kind == "recommended"
    remedies = rows[1 : 1 + len(ev.remedies)]
    assert [r.diff for r in remedies] == pytest.approx(
        [100 * d.interval.mean for d in ev.remedies]
    )
    others = [d.name for d in ev.combinations if d.name != result.recommended.name]
    # an ensemble that is the recommendation is drawn once, in the recommendation's row
    ensembles = [d for d in ev.ensembles if d.name != result.recommended.name]
    assert len(rows) == 2 + len(ev.remedies) + len(ensembles) + len(others)
    assert len({r.label for r in rows}) == len(rows)
    assert rows[0].val == pytest.approx(100 * result.baseline.score.val_accuracy)
    # remedies and combinations are "helped" by the rule the table reads: the drawn
    # interval lies above 0 (a green bar whose interval holds 0 contradicted the table);
    # a remedy selected by the 2-standard-error rule without that is "selected"
    drawn = [*ev.remedies, *ensembles, *(c for c in ev.combinations if c.name in others)]
    for row, d in zip(rows[1:-1], drawn, strict=True):
        assert (row.kind == "helped") == (d.interval.reading == "better")
        assert (row.kind == "helped") == (row.low > 0)
        assert (row.kind == "selected") == (bool(d.selected) and row.low <= 0)
    fig = plot_remedies(result, ev)
    bars, diffs = fig.axes[:2]
    assert bars.get_xlim() == (0, 100)
    assert diffs.get_legend() is None and fig.legends  # one legend for both panels
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "baseline" in labels and "recommended" in labels


def test_run_curves_share_axes(tiny_study):
    result, _ = tiny_study
    base, rec = run_curves(result)
    history = result.runs[result.baseline.runs[0]].history
    assert base.val_loss == tuple(history.val_loss)
    fig = plot_run_curves(result)
    a, b = fig.axes
    assert a.get_ylim() == b.get_ylim() and a.get_xlim() == b.get_xlim()
    assert rec.title.startswith("Recommended")


def test_the_remedies_legend_does_not_call_a_gain_within_noise_no_gain(tiny_study):
    """The digits study's remedies figure put augment (+2.3 points, [-3.2, +7.9]) under a
    grey "no gain" legend entry, where the report's table and the summary read it
    "within noise"."""
    import dataclasses

    from nooverfit.studies.evidence import Interval, PairedDifference

    result, _ = tiny_study
    ev = evidence(result)
    d = ev.remedies[0]
    noisy = dataclasses.replace(
        d, selected=False, interval=Interval(0.023, -0.032, 0.079, 0.02, 0.95, 3)
    )
    assert isinstance(noisy, PairedDifference) and noisy.interval.reading == "within noise"
    fig = plot_remedies(result, dataclasses.replace(ev, remedies=(noisy, *ev.remedies[1:])))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "no gain" not in labels and "not better beyond noise" in labels


def _inside(fig, artists):
    """Whether each artist's drawn box lies within the figure's (nothing cut off)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    return [
        box.x0 - 0.5 <= (e := a.get_window_extent(renderer)).x0 and e.x1 <= box.x1 + 0.5
        for a in artists
    ]


@pytest.mark.parametrize("param", sorted(LABELS))
def test_a_validation_curves_title_and_axis_label_fit_the_figure(param):
    """ "Validation curve over steps the weight average spans, 1 / (1 - decay)" ran past
    both edges of the figure, cut off (so did 6 other knobs' titles)."""
    curve = _curve([1.0, 2.0], [1, 1], [0.9, 0.8], 1.0, ["fit"] * 2, param=param)
    ax = plot_validation_curve(curve).axes[0]
    assert _inside(ax.figure, [ax.title, ax.xaxis.label]) == [True, True]


def test_the_remedies_legend_fits_the_figure_with_every_kind(tiny_study, monkeypatch):
    """The CNN study's figure had all five kinds of row: its one-row legend ran past both
    edges, cutting off "baseline" and "recommended"."""
    from nooverfit.plots import remedies
    from nooverfit.plots.remedies import RemedyRow

    result, _ = tiny_study
    kinds = ("baseline", "helped", "selected", "no gain", "recommended")
    rows = tuple(RemedyRow(k, k, 90.0, 1.0, 1.0, 0.5, 1.5) for k in kinds)
    monkeypatch.setattr(remedies, "remedy_rows", lambda *_: rows)
    fig = plot_remedies(result, evidence(result))
    legend = fig.legends[0]
    assert len(legend.get_texts()) == len(kinds)
    assert _inside(fig, [legend]) == [True]


def test_a_band_of_mean_and_std_stops_at_100_percent():
    """Training at 99.5 % ± 1.5 over seeds: the band drawn reached 101 % (review i120, a
    wine study's learning curve); no accuracy lies above 100 %."""
    n = 3
    near = ValidationCurve(
        param="l2",
        values=(1e-4, 1e-3, 1e-2),
        train=(0.995,) * n,
        train_std=(0.015,) * n,
        val=(0.95,) * n,
        val_std=(0.01,) * n,
        chosen=1e-3,
        regions=("fit",) * n,
        stronger="up",
    )
    fig = plot_validation_curve(near, seeds=3)
    bands = [c for c in fig.axes[0].collections if "std" in str(c.get_label())]
    assert len(bands) == 2
    tops = [float(np.max(b.get_paths()[0].vertices[:, 1])) for b in bands]
    assert max(tops) == pytest.approx(100.0) and min(tops) == pytest.approx(96.0)


def test_a_recommended_ensemble_is_drawn_once(tiny_study):
    """An ensemble that is the recommendation: the evidence lists it among the ensembles
    and the figure gives the recommendation its own row, so it was drawn twice, as
    "ensemble" and as "recommended", with the same numbers."""
    result, _ = tiny_study
    (chosen,) = [o.chosen for o in result.remedies if o.chosen.stage == "ensemble"]
    picked = dataclasses.replace(result, recommended=chosen)
    ev = evidence(picked)
    assert chosen.name in [d.name for d in ev.ensembles]  # the premise
    rows = remedy_rows(picked, ev)
    flat = [" ".join(r.label.split()) for r in rows]
    assert not any(label.startswith(chosen.name[:20]) for label in flat[:-1])
    assert rows[-1].kind == "recommended" and chosen.name[:20] in flat[-1]
    assert rows[-1].val == pytest.approx(100 * chosen.score.val_accuracy)


def test_a_recommended_remedy_alone_is_drawn_once(tiny_study):
    """A remedy alone that is the recommendation (the tabular study's linear rung): the
    figure drew it at its rank, grey, and again as "recommended", blue, with the same
    numbers, one row more than the remedies table, which has one row of it."""
    result, _ = tiny_study
    best = evidence(result).remedies[0]
    chosen = next(o.chosen for o in result.remedies if o.chosen.name == best.name)
    picked = dataclasses.replace(result, recommended=chosen)
    ev = evidence(picked)
    rows = remedy_rows(picked, ev)
    flat = [" ".join(r.label.split()) for r in rows]
    at_rank = " ".join(_label(best.role.replace("_", " "), best.name).split())
    assert at_rank not in flat
    assert rows[-1].kind == "recommended" and chosen.name[:20] in flat[-1]
    assert rows[-1].val == pytest.approx(100 * chosen.score.val_accuracy)
    ensembles = [d for d in ev.ensembles if d.name != chosen.name]
    # the table's rows: baseline, each remedy (the recommendation among them), ensembles
    # and combinations; the figure's are as many
    assert len(rows) == 1 + len(ev.remedies) + len(ensembles) + len(ev.combinations)


def test_a_penalty_grid_of_decades_with_0_is_drawn_on_a_symlog_axis():
    """The tabular study's linear-rung L2 curve (0, 0.001, 0.01, 0.1, 1) was drawn on a
    linear axis: 0, 0.001 and 0.01 fell on one point; a log axis cannot show 0."""
    values = [0.0, 1e-3, 1e-2, 1e-1, 1.0]
    regions = ["overfit", "fit", "fit", "fit", "underfit"]
    curve = _curve(values, [0.9, 0.9, 0.8, 0.7, 0.5], [0.6] * 5, 0.1, regions, "linear_l2")
    view = curve_view(curve)
    assert not view.log and view.linthresh == 1e-3
    # the overfit span ends halfway to 0.001 (linear there), the underfit one starts at
    # sqrt(0.1 * 1) (logarithmic beyond 0.001)
    assert view.regions[0] == (0.0, 5e-4, "overfit")
    left, right, region = view.regions[1]
    assert region == "underfit" and left == pytest.approx(0.1**0.5) and right == 1.0
    ax = plot_validation_curve(curve, seeds=3).axes[0]
    assert ax.get_xscale() == "symlog"
    # a grid of no decades (dropout) and one without 0 (weight decay) keep their axes
    dropout = _curve([0.0, 0.1, 0.5], [1, 1, 1], [0.9] * 3, 0.1, ["fit"] * 3, "dropout")
    assert curve_view(dropout).linthresh is None and not curve_view(dropout).log
    decay = _curve([1e-3, 1e-1], [1, 1], [0.9] * 2, 1e-3, ["fit"] * 2, "weight_decay")
    assert curve_view(decay).log and curve_view(decay).linthresh is None
