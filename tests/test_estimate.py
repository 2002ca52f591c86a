import itertools

from nooverfit.config import RunConfig
from nooverfit.studies import plan
from nooverfit.studies.combine import combine
from nooverfit.studies.estimate import planned_runs, stage_name, stage_runs


def test_planned_runs_exact_for_remedies_and_an_upper_bound_for_combinations():
    baseline = RunConfig(width=64, epochs=10, train_per_class=20)
    budget = plan.get_budget("quick")
    stages = plan.study_stages(baseline, budget)
    remedies = stages[0]
    assert isinstance(remedies, plan.RemediesStage)
    grids = dict(remedies.grids)
    assert stage_runs(remedies, remedies, 3) == 3 * (1 + sum(len(cs) for cs in grids.values()))
    combination = next(s for s in stages if isinstance(s, plan.CombinationStage))
    bound = stage_runs(combination, remedies, 1)
    # Whichever remedies help (and whichever of their settings), no more combinations.
    names = list(grids)
    for k in range(1, len(names) + 1):
        for helped in itertools.combinations(names, k):
            for choice in itertools.product(*(grids[n] for n in helped)):
                assert len(combine(baseline, dict(zip(helped, choice, strict=True)))) <= bound
    assert planned_runs(stages, 2) == sum(stage_runs(s, remedies, 2) for s in stages)
    assert planned_runs(stages, 2, start=1) == planned_runs(stages, 2) - stage_runs(
        remedies, remedies, 2
    )
    assert [stage_name(s) for s in stages][:2] == ["baseline and remedies", "combination"]
