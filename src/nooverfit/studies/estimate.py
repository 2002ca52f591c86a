"""How many runs a study's plan will train, known before the first run: the total of the
progress bar. Exact for the baseline, the remedies, transfer and compare stages; an upper
bound for the combination (before the remedies are scored, every remedy may help) and the
learning curve (every size of the budget, for both series)."""

from __future__ import annotations

from collections.abc import Sequence

from nooverfit.studies import plan
from nooverfit.studies.combine import combine
from nooverfit.studies.copies import MIXED


def stage_runs(stage: plan.Stage, remedies: plan.RemediesStage | None, seeds: int) -> int:
    """Runs ``stage`` will train on ``seeds`` seeds (an upper bound where noted above)."""
    if isinstance(stage, plan.RemediesStage):
        configs = {stage.baseline, *(c for _, cs in stage.grids for c in cs)}
        return len(configs) * seeds
    if isinstance(stage, plan.TransferStage):
        return len(stage.configs) * seeds
    if isinstance(stage, plan.CompareStage):
        return len({stage.baseline, stage.candidate}) * seeds
    if isinstance(stage, plan.CombinationStage) and remedies is not None:
        # Most candidates: every remedy helped but early stopping (then one more is tried).
        helped = {n: cs[0] for n, cs in remedies.grids if cs and n != "early_stopping"}
        return (len(combine(remedies.baseline, helped)) + stage.search) * seeds
    if isinstance(stage, plan.EnsembleStage):  # the copies of the choice
        mixed = MIXED if stage.inputs and stage.copies >= 2 else 0
        return (max(0, stage.copies - 1) + mixed) * seeds
    if isinstance(stage, plan.UnlabeledStage):
        return len(stage.thresholds) * seeds
    if isinstance(stage, plan.LearningCurveStage):
        return 2 * (len(stage.budget.sizes) + 1) * seeds
    return 0


def planned_runs(stages: Sequence[plan.Stage], seeds: int, *, start: int = 0) -> int:
    """Runs the plan's stages from index ``start`` on will train (see the module
    docstring)."""
    remedies = next((s for s in stages if isinstance(s, plan.RemediesStage)), None)
    return sum(stage_runs(s, remedies, seeds) for s in stages[start:])


#: What a progress line calls each stage.
STAGE_NAMES = {
    plan.RemediesStage: "baseline and remedies",
    plan.TransferStage: "transfer",
    plan.CombinationStage: "combination",
    plan.EnsembleStage: "ensembles",
    plan.UnlabeledStage: "pseudo-labels",
    plan.LearningCurveStage: "learning curve",
    plan.ChecksStage: "checks",
    plan.CompareStage: "comparison",
}


def stage_name(stage: plan.Stage) -> str:
    """The stage in words, for progress lines."""
    return STAGE_NAMES.get(type(stage), type(stage).__name__)
