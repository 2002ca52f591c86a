"""The captions of a study's figures, written from the data each figure shows: what is
drawn, and where a figure's chosen value is not the study's recommendation, why."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import TYPE_CHECKING

from nooverfit.studies.blend import members_phrase

if TYPE_CHECKING:
    from nooverfit.studies.curves import ValidationCurve
    from nooverfit.studies.evidence import Evidence
    from nooverfit.studies.result import StudyResult


def captions(result: StudyResult, ev: Evidence | None = None) -> dict[str, str]:
    """What each figure shows, written from the data it shows (``ev``: the study's
    :func:`~nooverfit.studies.evidence.evidence`, read again where not given)."""
    from nooverfit.plots.study import curve_row_note, curve_view
    from nooverfit.techniques import sample_unit

    unit = sample_unit(result)  # (rows on tabular data, not images)

    seeds = len(result.settings.seeds) or result.baseline.score.seeds
    out = {
        "curves": "Training and validation loss per epoch of the first seed's baseline (left) "
        "and recommended (right) runs, on the same axes; the dashed line is the epoch each "
        "run kept; shaded: where that run's diagnosis saw overfitting start.",
        "remedies": _remedies_caption(result, seeds, ev),
        "learning_curve": f"Learning curve: validation accuracy over training {unit} per "
        f"class ({f'mean, band ± std over {seeds} seeds' if seeds > 1 else 'one seed'}), "
        "with power-law fits (dotted)." + _best_single(result),
    }
    tuning = {
        "tune_history": "Optuna: validation accuracy of every trial and the best so far.",
        "tune_slice": "Optuna: each searched parameter against validation accuracy, one "
        "point per trial (darker: later trials).",
        "tune_parallel": "Optuna: every complete trial across all parameters, coloured by "
        "validation accuracy.",
        "tune_contour": "Optuna: validation accuracy over the two most important parameters "
        "(interpolated between trials).",
    }
    out.update(tuning)
    for curve in (*result.validation_curves, result.capacity):
        if curve is not None:
            name = "capacity" if curve.param == "width" else f"validation_{curve.param}"
            bands = f" Bands: ± std over {seeds} seeds." if seeds > 1 else " One seed: no bands."
            out[name] = curve_view(curve).caption + bands
    for curve in result.validation_curves:
        if note := curve_row_note(result, curve):
            out[f"validation_{curve.param}"] += " " + note
    if "validation_ensemble_size" in out:
        out["validation_ensemble_size"] += " " + _ensemble_choice(result)
    for curve in result.validation_curves:
        if curve.param == "linear_share":
            out["validation_linear_share"] += " " + _blend_choice(result, curve.chosen)
        if curve.param in ("copies", "mixed_copies"):
            out[f"validation_{curve.param}"] += " " + _copies_choice(result, curve)
    if result.capacity is not None and result.capacity.chosen == result.baseline.config.width:
        # the remedies table names the capacity remedy's best width, never the baseline's
        out["capacity"] += " The chosen width is the baseline's own."
    return out


#: what each kind of row of the remedies figure is drawn as, in words
#: (:func:`nooverfit.plots.remedies.remedy_rows`' kinds, in the legend's order)
_REMEDY_COLORS = {
    "baseline": "Red: the baseline.",
    "helped": "Green: the interval lies above 0.",
    "selected": "Light green: selected by the study's rule (a seed-paired gain of more than "
    "{margin:g} standard errors) although the wider 95 % interval crosses 0.",
    "no gain": "Grey: not better beyond noise.",
    "recommended": "Blue: the recommendation.",
}
#: ... with one seed (no interval; the selection counts any validation gain)
_ONE_SEED_COLORS = {
    "selected": "Light green: selected by the study's rule, which with one seed counts any "
    "validation gain.",
    "no gain": "Grey: not selected (one seed: no noise estimate).",
}


def _remedies_caption(result: StudyResult, seeds: int, ev: Evidence | None) -> str:
    """The remedies figure's caption: what its two panels show, and the colours of the
    rows it draws, only those (a study with no row above 0 was told what green meant)."""
    from nooverfit.plots.remedies import remedy_rows
    from nooverfit.studies.evidence import evidence
    from nooverfit.studies.select import MARGIN

    drawn = {row.kind for row in remedy_rows(result, ev if ev is not None else evidence(result))}
    if seeds > 1:
        head = (
            f"Left: validation accuracy of each remedy's best setting (mean over {seeds} "
            "seeds, bars ± std over seeds, axis from 0 %). Right: its difference from the "
            "baseline seed by seed, mean and 95 % t interval; an interval that crosses 0 is "
            "within noise."
        )
        words = _REMEDY_COLORS
    else:
        head = (
            "Left: validation accuracy of each remedy's best setting (one seed, axis from "
            "0 %). Right: its difference from the baseline on that seed; one seed gives no "
            "interval."
        )
        words = {**_REMEDY_COLORS, **_ONE_SEED_COLORS}
    colors = [words[kind].format(margin=MARGIN) for kind in words if kind in drawn]
    return " ".join([head, *colors])


def _best_single(result: StudyResult) -> str:
    """Which network the learning curve's "best single network" is, where it draws one:
    the study's most accurate on validation of those trained from scratch, drawn because
    the recommendation is not one such network (an ensemble, say)."""
    name = result.learning.names.get("best single network") if result.learning else None
    if name is None:
        return ""
    return (
        f" The best single network is {name}, the most accurate on validation of the "
        "networks trained from scratch alone: the recommendation is not one."
    )


def _ensemble_choice(result: StudyResult) -> str:
    """Why the recommendation is (or is not) an ensemble, for the ensemble-size caption (a
    blend's reason is the share's caption's: :func:`_blend_choice`)."""
    rec = result.recommended
    if (blend := _blend_parts(rec.name)) is not None:
        return (
            f"The recommendation blends the choice before it ({blend[1]}) with the linear "
            "model: see the figure of the linear rung's share of the blend."
        )
    by = _by(result, 2)
    if rec.stage != "ensemble":
        return (
            "No ensemble is recommended: none beat the choice before it on validation "
            f"accuracy {by}, or on log loss at no loss of accuracy."
        )
    kept = result.extras.get("ensemble", {})
    return (
        f"The recommended ensemble averages {members_phrase(kept)}: "
        f"of the ensembles that beat the choice before them (validation accuracy {by}, or "
        f"log loss at no loss of accuracy), the most accurate on "
        f"validation, then of lowest mean validation log loss ({rec.score.val_loss:.3f})."
    )


def _by(result: StudyResult, margin: int, *, of: str = "") -> str:
    """By how much a candidate had to beat the choice on validation accuracy: more than
    ``margin`` standard errors (``of`` what), as :func:`.select.improves` asks (a gain of
    exactly ``margin`` keeps the choice); with one seed there is no standard error, and any
    gain counts."""
    if (len(result.settings.seeds) or result.baseline.score.seeds) > 1:
        return f"by more than {margin} standard error{'s' if margin != 1 else ''}{of}"
    return "by any gain (one seed: no standard error)"


def _blend_choice(result: StudyResult, chosen: float) -> str:
    """Which share the recommendation has, for the caption of the rung's share curve, whose
    ``chosen`` is its best mean validation accuracy: a blend replaces the choice (share 0)
    only where it beats it by 1 standard error (:func:`.select.pick_ensemble` at
    ``blend.MARGIN``), so the two can differ."""
    rec = result.recommended
    by = _by(result, 1, of=" of the seed-paired differences")
    rule = f"beat the choice (share 0) on validation accuracy {by}, or on log loss at no loss"
    rule += " of accuracy"
    blend = _blend_parts(rec.name)
    if blend is None:
        said = (
            "The recommendation is no blend (share 0)."
            if math.isclose(chosen, 0.0)
            else f"No blend is recommended (share 0): no share {rule}."
        )
        return f"{said}{_blend_row(result, chosen)}"
    share = blend[0]
    kept = result.extras.get("ensemble", {})
    head = f"The recommended blend, the rung's share {share}, averages {members_phrase(kept)}"
    why = (
        f"of the shares that {rule}, the most accurate on validation, then of lowest mean "
        f"validation log loss ({rec.score.val_loss:.3f})"
    )
    if math.isclose(float(share), chosen):
        return f"{head}: {why}."
    return f"{head}, not the curve's {chosen:g}: {why}."


def _blend_row(result: StudyResult, chosen: float) -> str:
    """Where the remedies table's blend row (the blend of highest mean validation accuracy
    of the shares above 0, :func:`.blend.run_blend`) is not the share the curve marks (0:
    the choice alone), the sentence that names its share; "" where they agree or the table
    has no blend row."""
    row = next((o.chosen for o in result.remedies if o.remedy == "blend"), None)
    parts = None if row is None else _blend_parts(row.name)
    if parts is None or math.isclose(float(parts[0]), chosen):
        return ""
    return f" The remedies table's blend row is its best share above 0, {parts[0]}."


def _copies_choice(result: StudyResult, curve: ValidationCurve) -> str:
    """Whether the copies a copies curve marks are recommended: copies replace the choice
    only where they beat it (:func:`.select.pick_ensemble`), so the curve's best mean and
    the recommendation can differ."""
    found = re.fullmatch(
        r"ensemble of (\d+) copies of .+?(?: and (\d+) on (\S+) inputs)?(?: \+ .+)?",
        result.recommended.name,
    )
    if found is None:
        return f"No copies are recommended: the recommendation is {result.recommended.name}."
    k, mixed = int(found[1]), found[2] is not None
    if mixed != (curve.param == "mixed_copies"):
        other = f"with {found[2]} on {found[3]} inputs" if mixed else "in one encoding"
        return f"The recommendation is {k} copies {other}: see that figure."
    if math.isclose(k, curve.chosen):
        return f"The recommendation is these {k} copies."
    return f"The recommendation holds {k} copies, not the curve's {curve.chosen:g}."


def _blend_parts(name: str) -> tuple[Fraction, str] | None:
    """The rung's share and the choice's name in a blend's name (``blend.blend_members``
    titles it "ensemble of RUNG at 1/4 and CHOICE at 3/4"); None for any other name."""
    found = re.fullmatch(r"ensemble of .+? at (\d+)/(\d+) and (.+) at \d+/\d+", name)
    if found is None:
        return None
    return Fraction(int(found[1]), int(found[2])), found[3]
