"""What a study's stages have found so far (:class:`Findings`), and the two records every
stage adds to it: a remedy's outcome against the baseline and a validation curve. Apart
from :mod:`.stages` so that a stage's helper module (:mod:`.blend`) can take the findings
without importing the stage runner that calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nooverfit.config import RunConfig
from nooverfit.studies.curves import LearningCurve, ValidationCurve, validation_curve
from nooverfit.studies.ensemble import Members
from nooverfit.studies.result import RemedyOutcome, Variant
from nooverfit.studies.select import Score, best, best_penalized, improves, linear_leads


@dataclass
class Findings:
    """What the stages found so far.

    Attributes:
        baseline: the baseline variant (set by the first stage).
        variants: baseline and every remedy's variants, trained from scratch.
        outcomes: each remedy's best variant against the baseline, in plan order.
        chosen: the configuration of each remedy that beat the baseline.
        transfer: the transfer strategies' variants.
        combinations: the combined variants.
        recommended: the variant selected on validation (or the compared candidate).
        best_scratch: the best variant trained from scratch (the learning curve's).
        validation_curves, capacity, learning: the curves.
        extras: the checks' sections of the result (audit, shortcut).
        ensembles: the members of each ensemble variant, by its name.
    """

    baseline: Variant | None = None
    variants: list[Variant] = field(default_factory=list)
    outcomes: list[RemedyOutcome] = field(default_factory=list)
    chosen: dict[str, RunConfig] = field(default_factory=dict)
    transfer: list[Variant] = field(default_factory=list)
    combinations: list[Variant] = field(default_factory=list)
    recommended: Variant | None = None
    best_scratch: Variant | None = None
    validation_curves: tuple[ValidationCurve, ...] = ()
    capacity: ValidationCurve | None = None
    learning: LearningCurve | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    ensembles: dict[str, Members] = field(default_factory=dict)

    @property
    def base(self) -> Variant:
        if self.baseline is None:
            raise RuntimeError("the plan has no baseline stage before this one")
        return self.baseline


def rung_best(rung: Sequence[Variant]) -> Variant:
    """The linear rung's best variant: ties on validation accuracy go to the larger L2
    penalty (:func:`.select.best_penalized`)."""
    return rung[best_penalized([v.score for v in rung], [v.config.l2 for v in rung])]


def selection_levels(
    base: Variant,
    variants: Sequence[Variant],
    transfer: Sequence[Variant],
    combinations: Sequence[Variant],
) -> list[list[Variant]]:
    """The levels of :func:`.select.choose`, simplest first: the baseline; a remedy alone
    (``variants``, the remedies' settings trained from scratch, not the baseline) or a
    transfer strategy; a combination. Where the linear rung (``variants`` of stage
    ``"linear"``) scores at least the baseline (:func:`.select.linear_leads`), its best
    (:func:`rung_best`) is the first level instead and the baseline network joins the
    remedies' level: the networks with hidden layers must beat logistic regression beyond
    noise. The study's selection and the report's replay of it
    (:mod:`.passed_over`) both build their levels here."""
    rung = [v for v in variants if v.stage == "linear"]
    if linear_leads([v.score for v in rung], base.score):
        networks = [base, *(v for v in variants if v.stage != "linear")]
        return [[rung_best(rung)], [*networks, *transfer], list(combinations)]
    return [[base], [*variants, *transfer], list(combinations)]


def outcome(remedy: str, variants: list[Variant], base: Variant) -> RemedyOutcome:
    """``remedy``'s best variant by validation against ``base`` (the linear rung's by
    :func:`rung_best`)."""
    if remedy == "linear":
        pick = rung_best(variants)
    else:
        pick = variants[best([v.score for v in variants])]
    return RemedyOutcome(
        remedy=remedy,
        chosen=pick,
        helped=improves(pick.score, base.score),
        delta=pick.score.val_accuracy - base.score.val_accuracy,
        gap_delta=pick.score.gap - base.score.gap,
    )


def add_curve(found: Findings, param: str, x: list[float], scores: list[Score]) -> None:
    """Append the validation curve of ``param`` over ``x`` to ``found``."""
    curve = validation_curve(param, x, scores, [s.accuracy_std for s in scores])
    found.validation_curves = (*found.validation_curves, curve)
