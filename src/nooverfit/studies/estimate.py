"""How many runs a study's plan will train, known before the first run: the total of the
progress bar. Exact for the baseline, the remedies, transfer and compare stages; an upper
bound for the combination (before the remedies are scored, every remedy may help), the
ensembles (copies of any choice), and the learning curve (every size of the budget, for
both series). :class:`Tally` replaces each stage's bound by the runs it asks for, so the
total only falls as the plan firms up."""

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
        invariant = int(stage.images and stage.grow)  # search.joint_search adds one on images
        return (len(combine(remedies.baseline, helped)) + invariant + stage.search) * seeds
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


class Tally:
    """The progress total of a running study: the runs its stages asked for so far, plus
    the bound (:func:`stage_runs`) on the runs the current stage may still ask for and on
    the later stages' runs.

    Each bound is an upper bound, replaced by the runs its stage asks for: the total never
    rises, and it falls to the runs trained once the last stage has asked for its runs.
    """

    def __init__(self) -> None:
        self.asked = 0  # runs the stages so far asked for
        self._current = 0  # bound on the runs the current stage may still ask for
        self._later = 0  # bound on the later stages' runs

    @property
    def total(self) -> int:
        """The study's runs, at most: ``asked`` plus the bounds still open."""
        return self.asked + self._current + self._later

    def start(self, stages: Sequence[plan.Stage], i: int, seeds: int) -> None:
        """Stage ``stages[i]`` starts (on ``seeds`` seeds): its bound opens; the earlier
        stages' bounds are closed."""
        remedies = next((s for s in stages if isinstance(s, plan.RemediesStage)), None)
        self._current = stage_runs(stages[i], remedies, seeds)
        self._later = planned_runs(stages, seeds, start=i + 1)

    def ask(self, runs: int, *, more: bool = False) -> None:
        """The current stage asks for ``runs`` runs; ``more``: it may ask again (the
        combination's search rounds), so what is left of its bound stays open."""
        self.asked += runs
        self._current = max(0, self._current - runs) if more else 0


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
