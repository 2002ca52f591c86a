"""The combination stage's joint search (studies/search.py) on hand-built validation scores."""

import dataclasses

from conftest import TINY
from nooverfit.config import RunConfig
from nooverfit.studies.combine import combine
from nooverfit.studies.search import apply, joint_search, progress_curve, search_space
from nooverfit.studies.select import Score, choose

BASE = RunConfig(model="cnn", width=16, depth=2, epochs=100, label="baseline")
CHOSEN = {
    "dropout": BASE.replace(dropout=0.3),
    "augment": BASE.replace(augment=0.5),
    "batchnorm": BASE.replace(batchnorm=True),
}


def _score(val: float, per_seed: tuple[float, ...] = ()) -> Score:
    return Score(val, 0.0, 0.5, 1.0, 0.0, 0.5, 1.0 - val, 10, max(1, len(per_seed)), per_seed)


def _additive(c: RunConfig) -> Score:
    """A known optimum: width 32, depth 3, annealed, 4x steps, half the dropout, the
    chosen augmentation; each setting adds to validation accuracy on its own."""
    gains = (
        0.03 * (c.width == 32),
        0.02 * (c.depth == 3),
        0.02 * c.cosine,
        0.01 * (c.epochs == 400) + 0.005 * (c.epochs == 200),
        0.01 * (c.dropout == 0.15),
        0.02 * (c.augment == 0.5),
    )
    return _score(0.8 + sum(gains))


def _search(evaluate, **kwargs):
    return joint_search(BASE, CHOSEN, lambda cs: [evaluate(c) for c in cs], **kwargs)


def test_first_round_is_the_helpful_remedies_together_and_retuned():
    found = _search(_additive, trials=0)
    expected = [c.replace(label="") for c in combine(BASE, CHOSEN)]
    assert [c.replace(label="") for c, _ in found] == expected
    assert found[0][0].label == "dropout=0.3 + batchnorm + augment=0.5"
    assert joint_search(BASE, {}, lambda cs: [], trials=8) == []  # nothing helped


def test_search_finds_the_known_best_combination():
    found = _search(_additive, trials=16, seed=0)
    top, s = max(found, key=lambda r: r[1].val_accuracy)
    assert s.val_accuracy == max(_additive(c).val_accuracy for c in _every_point())
    assert (top.width, top.depth, top.cosine, top.epochs) == (32, 3, True, 400)
    assert (top.dropout, top.augment) == (0.15, 0.5)
    assert "depth=3" in top.label and "4x steps" in top.label
    assert len(found) <= 3 + 16  # the first round and the trials, never more


def _every_point():
    merged = combine(BASE, CHOSEN)[0]
    space = search_space(BASE, merged, CHOSEN, max_epochs=600)
    points = [{}]
    for field, choices in space.dims:
        points = [{**p, field: v} for p in points for v in choices]
    return [apply(merged, p) for p in points]


def test_search_is_deterministic_under_its_seed():
    calls: list[list[RunConfig]] = []

    def evaluate(cs):
        calls.append(list(cs))
        return [_additive(c) for c in cs]

    a = joint_search(BASE, CHOSEN, evaluate, trials=8, round_size=4, seed=3)
    b = _search(_additive, trials=8, round_size=4, seed=3)
    assert a == b
    assert [len(c) for c in calls] == [3, 4, 4]  # fused rounds: the first, then two of 4
    assert all(c.label for batch in calls for c in batch)  # trained under their names


def test_space_respects_the_most_epochs_and_keeps_the_merged_values_first():
    merged = combine(BASE, CHOSEN)[0]
    space = dict(search_space(BASE, merged, CHOSEN, max_epochs=250).dims)
    assert space["steps"] == (1, 2)
    assert space["dropout"] == (0.3, 0.15, 0.0) and space["augment"] == (0.5, 1.0, 0.0)
    assert space["width"] == (16, 32) and space["depth"] == (2, 3)
    assert all(choices[0] == getattr(merged, f) for f, choices in space.items() if f != "steps")


def test_a_trial_that_ties_the_best_remedy_does_not_replace_it():
    # three seeds: the best trial gains 0.0 on the seed-paired difference -> the remedy stays
    remedy = _score(0.9, (0.9, 0.88, 0.92))
    tie = _score(0.9, (0.92, 0.9, 0.88))
    noisy = _score(0.91, (0.96, 0.86, 0.91))  # +1 point on average, seeds disagree
    clear = _score(0.93, (0.93, 0.91, 0.95))
    base = _score(0.85, (0.85, 0.84, 0.86))
    assert choose([[base], [remedy], [tie]]) == (1, 0)
    assert choose([[base], [remedy], [tie, noisy]]) == (1, 0)
    assert choose([[base], [remedy], [tie, noisy, clear]]) == (2, 2)


def test_progress_curve_shows_the_best_so_far_after_each_trial():
    scores = [_score(0.8), _score(0.9), _score(0.85), _score(0.9)]
    curve = progress_curve(scores)
    assert curve.values == (1.0, 2.0, 3.0, 4.0)
    assert curve.val == (0.8, 0.9, 0.9, 0.9)
    assert curve.chosen == 2.0  # the trial that found the best; later ties change nothing
    assert set(curve.regions) == {"fit"}


def test_a_study_with_a_search_budget_trains_its_trials_and_reports_their_curve():
    from nooverfit.studies import study

    budget = dataclasses.replace(TINY, epochs=20, search=2)
    result = study(
        "digits", width=16, train_per_class=5, budget=budget, seeds=2, learning_curves=False
    )
    assert any(r.helped for r in result.remedies)  # else there is nothing to combine
    combos = result.combinations
    assert len(combos) <= 5 + 2  # the first round and the trials
    curve = next(c for c in result.validation_curves if c.param == "search_trials")
    assert len(curve.values) >= 2 and list(curve.val) == sorted(curve.val)
    # the recommendation was selected on validation among everything, trials included
    everything = [result.baseline, *result.variants, *combos]
    assert result.recommended.score.val_accuracy >= result.baseline.score.val_accuracy
    assert any(v.name == result.recommended.name for v in everything) or (
        result.recommended.stage == "ensemble"
    )
    # the report draws the curve and places it (rendered without the other figures: fast)
    from nooverfit.plots.study import plot_validation_curve
    from nooverfit.report import captions, render
    from nooverfit.report_figures import figure_png

    figure = plot_validation_curve(curve)
    html = render(result, {"validation_search_trials": figure_png(figure)})
    assert (
        "combinations tried (joint search; best so far)"
        in captions(result)["validation_search_trials"]
    )
    assert captions(result)["validation_search_trials"] in html


def test_space_without_growth_keeps_the_knobs_and_drops_width_depth_and_steps():
    merged = combine(BASE, CHOSEN)[0]
    grown = dict(search_space(BASE, merged, CHOSEN, max_epochs=600).dims)
    space = dict(search_space(BASE, merged, CHOSEN, max_epochs=600, grow=False).dims)
    # the merged width is the baseline's here, so width is no dimension at all; two convs
    # per block (a CNN's) make a trial dearer too
    assert set(grown) - set(space) == {"width", "depth", "steps", "convs"}
    assert space["dropout"] == grown["dropout"] and space["cosine"] == (False, True)
    assert space["lr"] == (1e-3, 3e-3) and space["batchnorm"] == (True, False)
    # a smaller width that helped is searched against the baseline's, never twice it
    narrow = {**CHOSEN, "capacity": BASE.replace(width=8)}
    merged8 = combine(BASE, narrow)[0]
    space8 = dict(search_space(BASE, merged8, narrow, max_epochs=600, grow=False).dims)
    assert space8["width"] == (8, 16)


def test_search_without_growth_never_trains_a_dearer_trial():
    found = _search(_additive, trials=8, round_size=4, seed=0, grow=False)
    assert len(found) == 3 + 8
    assert all((c.width, c.depth, c.epochs) == (16, 2, 100) for c, _ in found)
    best = max(found, key=lambda r: r[1].val_accuracy)[0]
    assert best.cosine  # the one additive gain within reach is found


def test_tabular_search_runs_on_tabular_data_only_without_growth_where_search_is_off():
    from nooverfit.studies import plan

    base = RunConfig(model="mlp", width=256, epochs=50)
    quick4 = dataclasses.replace(plan.BUDGETS["quick"], tabular_search=4)

    def combination(budget: plan.StudyBudget, tabular: bool) -> plan.CombinationStage:
        stages = plan.study_stages(base, budget, tabular=tabular)
        return next(s for s in stages if isinstance(s, plan.CombinationStage))

    assert combination(quick4, True) == plan.CombinationStage(4, 600, grow=False)
    assert combination(quick4, False).search == 0  # images and audio: unchanged
    # the quick budget's default runs no trials (measured: none won on bench/tabular.py)
    assert combination(plan.BUDGETS["quick"], True).search == 0
    # a budget with its own search keeps it, growth included
    standard = dataclasses.replace(plan.BUDGETS["standard"], tabular_search=4)
    assert combination(standard, True) == plan.CombinationStage(8, 600, grow=True)
