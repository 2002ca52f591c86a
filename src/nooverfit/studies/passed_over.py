"""Why a candidate ahead of the recommendation on mean validation accuracy was not chosen:
the comparison of the selection that left it out, replayed on the study's scores.

The selection (:mod:`.stages`) climbs from the simplest candidate up, and a candidate
replaces the choice so far only on the seed-paired rules of :mod:`.select`. Each step
that replaces the choice gains validation accuracy (:func:`.select.improves`) or ties it
(:func:`.select.breaks_tie`, :func:`.select.lowers_loss` at no loss of accuracy), so the
recommendation's mean is at least that of every choice before it: a candidate ahead of it
was never chosen. It was either compared with the choice so far and not better beyond
noise, or not the best of its level (only the best is compared), or an ensemble that
:func:`.select.admissible` refused. Pure computation on a :class:`StudyResult`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from nooverfit.studies import blend
from nooverfit.studies.findings import selection_levels
from nooverfit.studies.select import MARGIN, admissible, paired_gain, steps

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult, Variant

#: how far above the recommendation's mean validation accuracy a candidate must be to
#: count as ahead (floating-point noise of equal means is not ahead)
AHEAD = 1e-12
#: the remedies whose rows are the ensemble stage's candidates (against the choice of
#: :func:`.select.choose`, by :func:`.select.pick_ensemble`)
ENSEMBLE_STAGE = ("ensemble", "copies", "shifted")


class Why(Enum):
    """Why the selection did not choose a candidate."""

    #: the best of its level, compared with the choice so far: not better beyond noise
    #: (:func:`.select.improves`) nor tied on every seed at a lower log loss
    NOISE = "not better beyond noise"
    #: not the best of its level by mean validation accuracy, which alone was compared
    NOT_LEVEL_BEST = "not the best of its level"
    #: an ensemble, blend or pseudo-label student that :func:`.select.admissible` refused
    NOT_ADMISSIBLE = "not admissible"


@dataclass(frozen=True)
class PassedOver:
    """A candidate ahead of the recommendation on validation, and why it was left out.

    Attributes:
        candidate: the candidate variant (a row of the report's remedies table).
        why: the rule that left it out.
        reference: the choice so far it was compared with; for
            :attr:`Why.NOT_LEVEL_BEST`, the best of its level, compared instead.
        gain: mean seed-paired validation accuracy difference ``candidate - reference``
            (a fraction; :func:`.select.paired_gain`).
        se: the standard error of that difference (0 with one seed).
        margin: the standard errors of gain the rule asked for.
    """

    candidate: Variant
    why: Why
    reference: Variant
    gain: float
    se: float
    margin: float

    @property
    def per_seed(self) -> tuple[float, ...]:
        """``candidate - reference`` on each seed (empty where the scores lack them)."""
        a, b = self.candidate.score.val_per_seed, self.reference.score.val_per_seed
        if not a or len(a) != len(b):
            return ()
        return tuple(x - y for x, y in zip(a, b, strict=True))


def passed_over(result: StudyResult) -> tuple[PassedOver, ...]:
    """Each candidate of the remedies table ahead of the recommendation on mean validation
    accuracy, with the comparison that left it out, in the table's order (remedies,
    ensembles, combinations). Empty for a tuning or comparison result, and where the
    replayed selection does not reach the study's recommendation (a result it cannot
    replay: then no reason is better than a wrong one)."""
    rec = result.recommended
    if result.extras.get("tuning") or not result.remedies:
        return ()
    rows = [*(o.chosen for o in result.remedies), *result.combinations]
    ahead = [
        v
        for v in rows
        if v.name != rec.name and v.score.val_accuracy > rec.score.val_accuracy + AHEAD
    ]
    if not ahead:
        return ()
    why = _replay(result)
    return tuple(why[v.name] for v in ahead if v.name in why)


def _compared(candidate: Variant, reference: Variant, why: Why, margin: float) -> PassedOver:
    gain, se = paired_gain(candidate.score, reference.score)
    return PassedOver(candidate, why, reference, gain, se, margin)


def _replay(result: StudyResult) -> dict[str, PassedOver]:
    """The selection's comparisons, by candidate name: :func:`.select.steps` on the levels
    of :func:`.findings.selection_levels` (each remedy's best setting stands for its grid:
    the best of the bests is the best of all), then the ensemble stage, the blend and the
    pseudo-label student against the choice each had to beat."""
    rec, base = result.recommended, result.baseline
    chosen = [o.chosen for o in result.remedies]
    networks = [v for v in chosen if v.stage not in ("ensemble", "pseudo_labels", "transfer")]
    transfer = [v for v in chosen if v.stage == "transfer"]
    levels = selection_levels(base, networks, transfer, result.combinations)
    out: dict[str, PassedOver] = {}
    choice = levels[0][0]
    for s in steps([[v.score for v in lv] for lv in levels]):
        top = levels[s.level][s.index]
        if s.taken:
            choice = top
        else:
            out[top.name] = _compared(
                top, levels[s.reference[0]][s.reference[1]], Why.NOISE, MARGIN
            )
        for v in levels[s.level]:
            if v is not top:
                out[v.name] = _compared(v, top, Why.NOT_LEVEL_BEST, MARGIN)
    if rec.stage not in ("ensemble", "pseudo_labels") and choice.name != rec.name:
        return {}  # the replay does not reach the study's choice: say nothing
    known = {v.name: v for v in (*result.variants, rec)}
    teacher = known.get(str(result.extras.get("pseudo_labels", {}).get("teacher", "")))
    for o in result.remedies:
        v, ref = o.chosen, None
        if o.remedy in ENSEMBLE_STAGE:
            ref, margin = choice, MARGIN
        elif o.remedy == "blend":
            ref, margin = known.get(_blended(v.name)), blend.MARGIN
        elif o.remedy == "pseudo_labels":
            ref, margin = teacher, MARGIN
        else:
            continue
        if ref is not None and not admissible(v.score, ref.score, margin=margin):
            out[v.name] = _compared(v, ref, Why.NOT_ADMISSIBLE, margin)
    return out


def _blended(name: str) -> str:
    """The choice a blend averages with the rung, from the blend's name (the title of
    :func:`.blend.blend_members`: "ensemble of RUNG at 1/4 and CHOICE at 3/4"); "" for
    another name."""
    m = re.fullmatch(r"ensemble of .+? at \d+/\d+ and (.+) at \d+/\d+", name)
    return m.group(1) if m else ""
