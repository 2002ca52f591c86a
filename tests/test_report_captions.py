"""The figure captions against the recommendation: the share the linear rung's curve
marks is said to be (or not to be) the one recommended, the ensemble-size figure does not
count a blend's networks as its own and gives the reason of its choice, and the capacity
figure says when the baseline's width is the chosen one."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from nooverfit.report_captions import captions
from nooverfit.studies.curves import ValidationCurve


def _share_curve(chosen: float, val: tuple[float, ...]) -> ValidationCurve:
    return ValidationCurve(
        param="linear_share",
        values=(0.0, 0.25, 0.5, 0.75),
        train=(0.95, 0.94, 0.93, 0.9),
        train_std=(0.01,) * 4,
        val=val,
        val_std=(0.01,) * 4,
        chosen=chosen,
        regions=("fit",) * 4,
        stronger="up",
    )


def _with_share_curve(result, curve):
    kept = [c for c in result.validation_curves if c.param != "linear_share"]
    return dataclasses.replace(result, validation_curves=(*kept, curve))


def test_the_share_caption_says_no_blend_is_recommended_where_the_curve_marks_one(tiny_study):
    result, _ = tiny_study
    assert " at " not in result.recommended.name  # the tiny study recommends no blend
    # the curve's best mean, 0.5, did not beat the choice by the blend's margin
    curve = _share_curve(0.5, (0.90, 0.90, 0.91, 0.89))
    text = captions(_with_share_curve(result, curve))["validation_linear_share"]
    assert text.startswith("Chosen the linear rung's share of the blend = 0.5")
    assert "No blend is recommended" in text
    assert "share 0" in text


def test_a_recommended_blend_is_explained_under_its_share_not_the_ensemble_size(tiny_study):
    result, _ = tiny_study
    assert any(c.param == "ensemble_size" for c in result.validation_curves)
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    choice = "ensemble of 3: a, b, c"
    blend = dataclasses.replace(
        ensemble, name=f"ensemble of lin at 1/2 and {choice} at 1/2", stage="ensemble"
    )
    # the rung at 1/2, each of the choice's 3 networks at 1/6: 3:1:1:1
    shares = [Fraction(1, 2)] + [Fraction(1, 2) / 3] * 3
    ratio = ":".join(str(int(s / min(shares))) for s in shares)
    kept = {"names": ["lin", "a", "b", "c"], "weights": [float(s) for s in shares]}
    as_blend = dataclasses.replace(
        _with_share_curve(result, _share_curve(0.5, (0.90, 0.90, 0.93, 0.89))),
        recommended=blend,
        extras={**result.extras, "ensemble": kept},
    )
    text = captions(as_blend)
    size, share = text["validation_ensemble_size"], text["validation_linear_share"]
    assert "averages 4 networks" not in size  # the size curve's ensembles are not the blend
    assert choice in size and "share of the blend" in size
    assert f"averages 4 networks weighted {ratio}" in share
    assert "by more than 1 standard error" in share and "2 standard errors" not in share
    assert f"({blend.score.val_loss:.3f})" in share


def _copies_curve(param: str, values: tuple[float, ...], chosen: float) -> ValidationCurve:
    n = len(values)
    return ValidationCurve(
        param=param,
        values=values,
        train=(0.95,) * n,
        train_std=(0.01,) * n,
        val=(0.90,) * n,
        val_std=(0.01,) * n,
        chosen=chosen,
        regions=("fit",) * n,
        stronger="up",
    )


def test_the_copies_captions_say_which_copies_are_recommended(tiny_study):
    """i82: the copies curve marked 4 while the recommendation held no copies, and its
    caption did not say so."""
    result, _ = tiny_study
    plain = _copies_curve("copies", (1.0, 2.0, 4.0), 4.0)
    mixed = _copies_curve("mixed_copies", (1.0, 2.0), 2.0)
    base = dataclasses.replace(result, validation_curves=(*result.validation_curves, plain, mixed))
    text = captions(base)
    want = f"No copies are recommended: the recommendation is {result.recommended.name}."
    assert text["validation_copies"].endswith(want)
    assert text["validation_mixed_copies"].endswith(want)

    def recommending(name):
        rec = dataclasses.replace(result.recommended, name=name, stage="ensemble")
        return captions(dataclasses.replace(base, recommended=rec))

    two = recommending("ensemble of 2 copies of dropout=0.1")
    assert two["validation_copies"].endswith(
        "The recommendation holds 2 copies, not the curve's 4."
    )
    assert two["validation_mixed_copies"].endswith(
        "The recommendation is 2 copies in one encoding: see that figure."
    )
    both = recommending("ensemble of 2 copies of l2=0.01 and dropout=0.1 and 2 on ple16 inputs")
    assert both["validation_mixed_copies"].endswith("The recommendation is these 2 copies.")
    assert both["validation_copies"].endswith(
        "The recommendation is 2 copies with 2 on ple16 inputs: see that figure."
    )


def test_the_capacity_caption_says_when_the_baseline_width_is_chosen(tiny_study):
    import dataclasses

    from nooverfit.report import captions

    result, _ = tiny_study
    curve = result.capacity
    assert curve is not None
    width = float(result.baseline.config.width)
    at_base = dataclasses.replace(result, capacity=dataclasses.replace(curve, chosen=width))
    assert captions(at_base)["capacity"].endswith("The chosen width is the baseline's own.")
    other = next(v for v in curve.values if v != width)
    elsewhere = dataclasses.replace(result, capacity=dataclasses.replace(curve, chosen=other))
    assert "baseline's own" not in captions(elsewhere)["capacity"]


def test_the_ensemble_size_caption_gives_the_reason_of_the_choice(tiny_study):
    """The caption said the 9-network ensemble was chosen for the best mean validation
    accuracy "tied with 3"; ensembles are recommended by validation log loss."""
    import dataclasses

    from nooverfit.report import captions

    result, _ = tiny_study
    assert any(c.param == "ensemble_size" for c in result.validation_curves)
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    names = {"names": ["a", "b", "c"]}
    as_ensemble = dataclasses.replace(
        result, recommended=ensemble, extras={**result.extras, "ensemble": names}
    )
    text = captions(as_ensemble)["validation_ensemble_size"]
    assert "The recommended ensemble averages 3 networks" in text
    assert f"lowest mean validation log loss ({ensemble.score.val_loss:.3f})" in text
    if result.recommended.stage != "ensemble":
        assert "No ensemble is recommended" in captions(result)["validation_ensemble_size"]


def test_the_learning_curve_counts_rows_on_tabular_data(tiny_study):
    # the figure and its caption said "training images per class" of a CSV's rows, which
    # the rest of the report calls rows
    from nooverfit.report_figures import study_figures

    result, _ = tiny_study
    assert result.learning is not None
    assert "training images per class" in captions(result)["learning_curve"]
    tabular = dataclasses.replace(
        result, settings=dataclasses.replace(result.settings, kind="tabular")
    )
    assert "training rows per class" in captions(tabular)["learning_curve"]
    axis = study_figures(tabular)["learning_curve"].axes[0]
    assert axis.get_xlabel() == "training rows per class"


def _raised(result, remedy: str, gains: tuple[float, ...]):
    """``result`` with ``remedy``'s best setting ahead of the baseline by ``gains`` on
    each seed's validation accuracy."""
    base = result.baseline.score.val_per_seed
    outcomes = []
    for o in result.remedies:
        if o.remedy == remedy:
            val = tuple(b + g for b, g in zip(base, gains, strict=True))
            score = dataclasses.replace(o.chosen.score, val_per_seed=val)
            o = dataclasses.replace(o, chosen=dataclasses.replace(o.chosen, score=score))
        outcomes.append(o)
    return dataclasses.replace(result, remedies=tuple(outcomes))


def test_the_remedies_caption_names_only_the_colours_its_figure_draws(tiny_study):
    """A tabular study whose remedies were all within noise had a caption explaining its
    green and light green rows; its figure drew grey ones, a red and a blue, and no green."""
    result, _ = tiny_study
    text = captions(result)["remedies"]
    assert "green" not in text.lower()
    assert "Grey: not better beyond noise." in text
    assert "Red: the baseline." in text and "Blue: the recommendation." in text
    # +5.0 and +5.1 points on the 2 seeds: 95 % interval 5.05 +- 12.71 * 0.0707 / sqrt 2,
    # [+4.4, +5.7], above 0: drawn green
    remedy = next(o.remedy for o in result.remedies if o.chosen.stage != "ensemble")
    text = captions(_raised(result, remedy, (0.05, 0.051)))["remedies"]
    assert "Green: the interval lies above 0." in text and "Light green" not in text


def test_the_share_caption_names_the_blend_rows_share_where_the_curve_marks_0(tiny_study):
    """The moons CSV study: the curve marked share 0 ("The recommendation is no blend")
    while the remedies table showed a blend row at 1/4, its best share above 0, unsaid."""
    result, _ = tiny_study
    ensemble = next(o for o in result.remedies if o.chosen.stage == "ensemble")
    row = dataclasses.replace(
        ensemble.chosen, name="ensemble of lin at 1/4 and baseline at 3/4", stage="ensemble"
    )
    blend = dataclasses.replace(ensemble, remedy="blend", chosen=row)
    with_row = dataclasses.replace(result, remedies=(*result.remedies, blend))
    curve = _share_curve(0.0, (0.93, 0.92, 0.91, 0.89))
    text = captions(_with_share_curve(with_row, curve))["validation_linear_share"]
    assert text.endswith(
        "The recommendation is no blend (share 0). The remedies table's blend row is its "
        "best share above 0, 1/4."
    )
    # the curve marking the row's own share: nothing to add
    same = captions(_with_share_curve(with_row, _share_curve(0.25, (0.90, 0.93, 0.91, 0.89))))
    assert "blend row" not in same["validation_linear_share"]
    # no blend row (the tiny study has none): nothing to add
    assert "blend row" not in captions(_with_share_curve(result, curve))["validation_linear_share"]
