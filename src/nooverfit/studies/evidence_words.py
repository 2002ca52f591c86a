"""What a study's seed-paired differences show, in words: the reading of a difference
(better, within noise, selected on which rule), why a selected one is weak evidence, and
why a candidate ahead of the recommendation was not chosen. The words agree with what
selection did (:mod:`.select`); the numbers come from :mod:`.evidence` and
:mod:`.passed_over`. Pure: differences in, sentences out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nooverfit._words import pct, points, rounded_apart
from nooverfit.studies.evidence import Evidence, PairedDifference, evidence
from nooverfit.studies.passed_over import PassedOver, Why
from nooverfit.studies.select import TIE

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult, Variant


def reading(d: PairedDifference, unit: str = "samples", *, short: bool = False) -> str:
    """What a difference shows, in words that agree with what selection did.

    ``"better"``/``"worse"`` (the interval excludes 0), ``"within noise"``, ``"no change"``;
    a remedy the selection counted as helping although its 95 % interval includes 0 says
    so and on which rule; one seed has no noise estimate; the same gain on every seed (a
    zero-width interval) is counted in validation ``unit`` rather than called better.
    ``short``: the terminal table's form.
    """
    from nooverfit.studies.select import MARGIN, beyond

    i = d.interval
    said = i.reading
    if said == "no change":
        return said
    if said == "one seed: no interval":
        return f"{'selected; ' if d.selected else ''}one seed: no noise estimate"
    if said == "the same on every seed":
        size = f" ({_count(i.mean, d.rows)} validation {unit})" if d.rows else ""
        text = f"the same difference on every seed{size}"
        text += "" if short else ": no spread to measure noise by"
        return f"selected; {text}" if d.selected else text
    if said == "better" and d.selected is False:
        return f"better, though not selected (gain ≤ {MARGIN:g} standard errors)"
    if said == "within noise" and d.selected:
        past = beyond(i.mean, i.sd / math.sqrt(i.n), MARGIN)
        gain = f"{'>' if past else '≤'} {MARGIN:g}"
        if short:
            return f"selected (gain {gain} SE); 95 % interval includes 0"
        # below the margin against the baseline, it passed each step against the choice
        # before it (a blend with the linear model at its own, smaller margin)
        steps = "" if past else " step by step, each against the choice before it"
        return (
            f"selected{steps}; against the baseline, gain {gain} standard errors of the "
            f"seed-paired differences; the {100 * i.level:.0f} % interval includes 0"
        )
    return said


def _count(gain: float, rows: Sequence[int]) -> str:
    """A gain in validation samples: ``"+1 of 18"`` (the first seed's split size)."""
    n = rows[0]
    return f"{round(gain * n):+d} of {n}"


def weakness(d: PairedDifference, unit: str = "samples", *, linear: bool = False) -> str | None:
    """Why a (selected) difference is weak evidence, in words, or None when its interval
    lies beyond 0: one seed (no noise estimate), the same gain on every seed (no spread),
    or a 95 % interval that includes 0. ``linear``: the difference is of the linear rung,
    selected as the simplest level (:func:`.select.linear_leads`), not for a gain."""
    from nooverfit.studies import blend
    from nooverfit.studies.select import MARGIN

    i = d.interval
    last = f" (the blend with the linear model, {blend.MARGIN:.0f})" if blend.named(d.name) else ""
    rule = (
        "it was selected as the simplest level, not for a gain: the linear rung (no "
        "hidden layer) comes first where its mean validation accuracy is at least the "
        f"baseline's, and no network with hidden layers beat it by {MARGIN:g} standard "
        "errors of the seed-paired validation differences"
        if linear
        else f"it was selected because each step of the selection gained more than {MARGIN:g}"
        f"{last} standard errors of the seed-paired validation differences (or, tied on "
        "accuracy, lowered the validation log loss)"
    )
    if i.n < 2:
        return "one seed, so no noise estimate: any validation gain is selected"
    if i.reading == "no change":
        return "the same validation accuracy as the baseline on every seed"
    if i.flat:
        size = f" ({_count(i.mean, d.rows)} validation {unit})" if d.rows else ""
        return f"the same difference on every seed{size}, no spread to measure noise by"
    if i.within_noise:
        return (
            f"its {100 * i.level:.0f} % interval against the baseline on validation, "
            f"[{100 * i.low:+.1f}, {100 * i.high:+.1f}] points, includes 0; {rule}"
        )
    return None


def recommendation_weakness(
    result: StudyResult, unit: str = "samples", *, ev: Evidence | None = None
) -> str | None:
    """:func:`weakness` of the recommendation against the baseline on validation, in the
    words of the rule that selected it (a linear rung that led is no gain of 2 standard
    errors: the networks had to beat it). ``ev``: the study's :func:`.evidence.evidence`,
    computed where not given."""
    from nooverfit.studies.select import linear_leads

    rec = result.recommended
    rung = [o.chosen.score for o in result.remedies if o.chosen.stage == "linear"]
    linear = rec.stage == "linear" and linear_leads(rung, result.baseline.score)
    validation = (ev if ev is not None else evidence(result)).validation
    return weakness(validation, unit, linear=linear)


def passed_over_reason(p: PassedOver) -> str:
    """Why the selection did not choose ``p.candidate``, although its mean validation
    accuracy is above the recommendation's, in the selection's own numbers: its
    seed-paired gain over the choice it had to beat, as points (the table's rounding, with
    what the rounded accuracies give where that differs) and as standard errors of the
    per-seed differences (cut, not rounded, to 2 decimals, up to :data:`.select.TIE`: a
    ratio under the margin never reads as the margin), against the margin the rule asked for."""
    ref = _called(p.reference)
    if p.why is Why.NOT_LEVEL_BEST:
        kind = "combination" if p.candidate.stage == "combination" else "remedy alone"
        return (
            f"not chosen: the selection compares only the {kind} of highest mean validation "
            f"accuracy with the choice so far, {ref}"
        )
    per_seed = ", ".join(points(d) for d in p.per_seed)
    if p.per_seed and all(abs(d) <= 1e-12 for d in p.per_seed):
        return (
            f"not chosen: tied with {ref} on every seed, and its validation log loss not "
            f"lower by {p.margin:g} standard errors (a tie keeps the simpler)"
        )
    gain = f"{points(p.gain)} points over {ref} on validation"
    apart = rounded_apart(p.candidate.score.val_accuracy, p.reference.score.val_accuracy, p.gain)
    if apart is not None:  # the accuracies as the table rounds them
        gain += (
            f" (of the unrounded accuracies: {pct(p.candidate.score.val_accuracy)} − "
            f"{pct(p.reference.score.val_accuracy)} as rounded gives {apart})"
        )
    if per_seed:
        gain += f", per seed {per_seed}"
    if p.gain > 1e-12 and p.se > 0:
        # cut as `select.beyond` compares: up to its TIE, a ratio of exactly 1 (seeds
        # 0, 0, +2.2) is 1.00, not the 0.99 its last float bits give
        ratio = math.floor(100 * p.gain / p.se * (1 + TIE)) / 100
        gain += f": {ratio:.2f} standard errors of the seed-paired differences"
    ask = f"{p.margin:g} standard error{'' if f'{p.margin:g}' == '1' else 's'}"
    if p.why is Why.NOT_ADMISSIBLE:
        return (
            f"not chosen: {gain}, not beyond noise (the selection asks more than {ask} of an "
            "ensemble), and its validation log loss no lower by as many at no loss of accuracy"
        )
    if p.gain <= 1e-12:
        return f"not chosen: {gain}: no gain"
    return (
        f"not chosen: {gain}, not beyond noise (the selection asks more than {ask} of a more "
        "complex candidate)"
    )


def _called(v: Variant) -> str:
    """A variant as a reason names it: "the baseline", "the linear model (NAME)", NAME."""
    if v.stage == "baseline":
        return "the baseline"
    if v.stage == "linear":
        return f"the linear model ({v.name})"
    return v.name
