import itertools

from nooverfit.config import RunConfig
from nooverfit.studies import plan
from nooverfit.studies.combine import combine
from nooverfit.studies.estimate import Tally, planned_runs, stage_name, stage_runs


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


def test_stage_runs_counts_the_invariant_candidate_of_an_image_combination():
    baseline = RunConfig(width=64, epochs=10, train_per_class=20)
    remedies = plan.study_stages(baseline, plan.get_budget("quick"))[0]
    assert isinstance(remedies, plan.RemediesStage)
    plain, images = plan.CombinationStage(), plan.CombinationStage(images=True)
    # search.joint_search adds invariant() to the first round on images (with grow)
    assert stage_runs(images, remedies, 2) == stage_runs(plain, remedies, 2) + 2


def test_tally_total_never_rises_through_a_search_and_ends_at_the_runs_asked_for():
    """The total was the runs asked for plus the later stages' bounds: a combination's
    first search round dropped the rest of its bound (243 -> 210 on three seeds), and each
    later round raised the total again (222, 234)."""
    baseline = RunConfig(width=64, epochs=10, train_per_class=20)
    stages = plan.study_stages(baseline, plan.get_budget("standard"), images=True)
    remedies = stages[0]
    tally, totals = Tally(), []
    for i, stage in enumerate(stages):
        tally.start(stages, i, 3)
        totals.append(tally.total)
        if isinstance(stage, plan.CombinationStage):
            assert stage.search > 0
            for runs in (9, 12, 12):  # the first round, then two of the search's
                tally.ask(runs, more=True)
                assert tally.total == totals[-1]  # the rest of the bound stays open
        else:  # one ask: the remedies' exact count, half another stage's bound
            bound = stage_runs(stage, remedies, 3)
            tally.ask(bound if stage is remedies else bound // 2)
        totals.append(tally.total)
    assert totals == sorted(totals, reverse=True)
    assert totals[0] == planned_runs(stages, 3) and totals[-1] == tally.asked
