import math

import pytest
from scipy import stats

from nooverfit.studies.evidence import (
    evidence,
    paired,
    t_interval,
    t_quantile,
    val_per_seed,
)
from nooverfit.studies.evidence_words import reading


def test_t_quantile_matches_tables():
    # Student's t tables: two-sided 95 % for 2 and 9 degrees of freedom, one-sided 90 % for 1.
    assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=1e-6)
    assert t_quantile(0.975, 9) == pytest.approx(2.262157, abs=1e-6)
    assert t_quantile(0.9, 1) == pytest.approx(3.077684, abs=1e-6)
    with pytest.raises(ValueError, match="df must be"):
        t_quantile(0.975, 0)


@pytest.mark.parametrize(
    "a, b",
    [
        ((0.93, 0.95, 0.94), (0.904, 0.939, 0.931)),
        ((0.5, 0.7, 0.6, 0.65, 0.55), (0.52, 0.66, 0.61, 0.6, 0.5)),
    ],
)
def test_t_interval_matches_scipy_paired_t_test(a, b):
    d = paired("x", "l2", "val_accuracy", range(len(a)), a, b)
    reference = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert d.interval.low == pytest.approx(reference.low)
    assert d.interval.high == pytest.approx(reference.high)
    assert d.per_seed == pytest.approx([x - y for x, y in zip(a, b, strict=False)])


def test_interval_readings():
    assert t_interval([0.029, 0.021, 0.025]).reading == "better"
    # The issue's +2.9, +1.1, +0.9 points: the t interval over 3 seeds is [-1.1, +4.4].
    issue = t_interval([0.029, 0.011, 0.009])
    assert issue.reading == "within noise"
    assert (issue.low, issue.high) == pytest.approx((-0.0110, 0.0437), abs=5e-4)
    assert t_interval([0.02, -0.01, 0.005]).reading == "within noise"
    assert t_interval([-0.03, -0.02, -0.025]).reading == "worse"
    assert t_interval([0.0, 0.0]).reading == "no change"
    one = t_interval([0.01])
    assert math.isnan(one.low) and one.within_noise and one.n == 1


def test_evidence_pairs_every_remedy_with_the_baseline_by_seed(tiny_study):
    result, _ = tiny_study
    ev = evidence(result)
    seeds = tuple(result.settings.seeds)
    assert ev.seeds == seeds
    base = val_per_seed(result, result.baseline)
    # The mean of the per-seed values is the variant's score, so the table agrees.
    assert sum(base) / len(base) == pytest.approx(result.baseline.score.val_accuracy)
    outcomes = {o.remedy: o for o in result.remedies}
    # the ensemble is not one remedy alone: apart from the ranked remedies
    assert {d.role for d in ev.remedies} == set(outcomes) - {"ensemble"}
    assert [d.role for d in ev.ensembles] == ["ensemble"] * ("ensemble" in outcomes)
    for d in ev.remedies:
        assert d.selected == outcomes[d.role].helped
    for d in ev.ensembles:  # selected only when it is the recommendation (the log-loss rule)
        assert d.selected == (True if d.name == result.recommended.name else None)
    for d in (*ev.remedies, *ev.ensembles):
        assert d.baseline == base
        assert d.interval.mean == pytest.approx(outcomes[d.role].delta)
    means = [d.interval.mean for d in ev.remedies]
    assert means == sorted(means, reverse=True)  # ranked by the evidence
    test = ev.test
    assert test.candidate == result.test["recommended"].per_seed
    assert test.baseline == result.test["baseline"].per_seed


def test_evidence_reports_every_seeds_verdict(tiny_study):
    result, _ = tiny_study
    ev = evidence(result)
    got = [result.runs[k].diagnosis.verdict.value for k in result.baseline.runs]
    assert [v.verdict for v in ev.verdicts] == got
    assert ev.agree == got.count(ev.verdict) == max(got.count(v) for v in got)


def test_accuracy_intervals_stay_within_plus_minus_100_points():
    """Two seeds at -0.3 and +0.5: the t interval reaches about [-5, +5]; a difference of
    accuracies cannot, so the bounds are cut there (the mean and reading are unchanged)."""
    raw = t_interval([-0.3, 0.5])
    assert raw.low < -1 and raw.high > 1
    d = paired("x", "dropout", "val_accuracy", [0, 1], [0.6, 0.9], [0.9, 0.4])
    assert (d.interval.low, d.interval.high) == (-1.0, 1.0)
    assert d.interval.mean == pytest.approx(raw.mean) and d.interval.reading == "within noise"


@pytest.mark.parametrize(
    ("verdicts", "share"),
    [
        (["o", "o", "o"], "all 3 seeds"),
        (["o", "u", "o"], "2 of 3 seeds (the majority)"),
        (["u", "o"], "1 of 2 seeds (no majority; the first seed's of the most common)"),
    ],
)
def test_the_verdicts_share_says_majority_only_when_there_is_one(verdicts, share, tiny_study):
    import dataclasses

    from nooverfit.studies.evidence import SeedVerdict

    seeds = tuple(SeedVerdict(seed=i, verdict=v, onset_epoch=None) for i, v in enumerate(verdicts))
    top = max(verdicts.count(v) for v in verdicts)
    ev = dataclasses.replace(evidence(tiny_study[0]), verdicts=seeds, agree=top)
    assert ev.share == share


def _remedy(candidate, baseline, rows=()):
    """A remedy's difference, with the selection's own verdict on it (select.improves)."""
    from nooverfit.studies.evidence import paired
    from nooverfit.studies.select import Score, improves

    def score(values):
        return Score(sum(values) / len(values), 0, 0, 0, 0, 0, 0, 0, len(values), tuple(values))

    helped = improves(score(candidate), score(baseline))
    seeds = tuple(range(len(candidate)))
    return paired("x", "x", "val_accuracy", seeds, candidate, baseline, selected=helped, rows=rows)


def test_a_selected_remedy_is_not_shown_as_merely_within_noise():
    """Selection counts a remedy as helping at 2 standard errors of the seed-paired
    differences; the 95 % t interval over 3 seeds is 4.3 of them wide each side. The
    reading said "within noise" of a remedy every combination then used."""
    from nooverfit.studies.evidence_words import reading, weakness

    d = _remedy([0.83, 0.81, 0.85], [0.80, 0.80, 0.80])  # +3, +1, +5: 2.6 standard errors
    assert d.selected and d.interval.within_noise
    text = reading(d, "images")
    assert "selected" in text and "2 standard errors" in text and "includes 0" in text
    assert "includes 0" in weakness(d, "images")
    not_selected = _remedy([0.84, 0.79, 0.85], [0.80, 0.80, 0.80])  # 1.4 standard errors
    assert not not_selected.selected and reading(not_selected) == "within noise"


def test_a_stepwise_selection_under_2_se_over_the_baseline_does_not_claim_2_se():
    """An ensemble admitted against the choice before it (log loss at no loss of accuracy)
    can sit under 2 standard errors of the baseline: mroz's ensemble of 3 gained +1.2
    points (0, -1.8, +5.3; t = 0.55 by hand) and read "selected (gain >= 2 SE)"."""
    from nooverfit.studies.evidence import paired
    from nooverfit.studies.evidence_words import reading

    d = paired(
        "ens",
        "ensemble",
        "val_accuracy",
        (0, 1, 2),
        [0.80, 0.782, 0.853],
        [0.80, 0.80, 0.80],
        selected=True,
    )
    mean, sd = (
        0.035 / 3,
        ((0.0 - 0.035 / 3) ** 2 + (-0.018 - 0.035 / 3) ** 2 + (0.053 - 0.035 / 3) ** 2) ** 0.5
        / 2**0.5,
    )
    assert mean / (sd / 3**0.5) < 2 and d.interval.within_noise  # t about 0.55
    assert reading(d, short=True) == "selected (gain ≤ 2 SE); 95 % interval includes 0"
    assert reading(d).startswith(
        "selected step by step, each against the choice before it; against the baseline, "
        "gain ≤ 2 standard errors"
    )
    past = paired(
        "r", "r", "val_accuracy", (0, 1, 2), [0.83, 0.81, 0.85], [0.8] * 3, selected=True
    )
    assert reading(past, short=True) == "selected (gain > 2 SE); 95 % interval includes 0"
    assert reading(past).startswith("selected; against the baseline, gain > 2 standard errors")


def test_identical_gains_and_one_seed_are_not_called_better():
    """A zero-width interval from the same gain on every seed (one image of 18 on both)
    read "better"; one seed's positive gain is selected with no noise estimate."""
    from nooverfit.studies.evidence_words import reading, weakness

    same = _remedy([0.5 + 1 / 18, 0.6 + 1 / 18], [0.5, 0.6], rows=(18, 18))
    assert same.selected and same.interval.low == same.interval.high
    assert reading(same, "images") == (
        "selected; the same difference on every seed (+1 of 18 validation images): "
        "no spread to measure noise by"
    )
    assert "+1 of 18 validation images" in weakness(same, "images")
    one = _remedy([0.82], [0.80])
    assert one.selected and reading(one) == "selected; one seed: no noise estimate"
    assert weakness(one).startswith("one seed, so no noise estimate")


def test_readings_agree_with_selection_on_many_differences():
    """Whatever the per-seed gains, a remedy the selection took is never read as
    "within noise", and one it refused is never read as plainly "better"."""
    import random

    from nooverfit.studies.evidence_words import reading

    rng = random.Random(0)
    for _ in range(300):
        n = rng.choice([2, 3, 5])
        base = [rng.uniform(0.5, 0.9) for _ in range(n)]
        cand = [b + rng.choice([-1, 1, 2, 3]) * rng.uniform(0, 0.03) for b in base]
        d = _remedy(cand, base, rows=(100,) * n)
        text = reading(d)
        if d.selected:
            assert text == "better" or text.startswith("selected")
        else:  # with 2 to 5 seeds the 95 % interval is wider than 2 standard errors
            assert not text.startswith("selected") and text != "better"


def test_only_the_recommended_ensemble_reads_selected_and_it_is_always_shown(tiny_study):
    """The list said "the ensemble (of 3): +6.3 points - selected" while the study
    recommended another ensemble (of 9, lowest validation log loss) shown nowhere in it."""
    import dataclasses

    result, _ = tiny_study
    stage_best = next(o.chosen for o in result.remedies if o.chosen.stage == "ensemble")
    other = dataclasses.replace(stage_best, name="ensemble of 9: elsewhere")
    as_other = dataclasses.replace(result, recommended=other)
    ev = evidence(as_other)
    by_name = {d.name: d for d in ev.ensembles}
    assert by_name[stage_best.name].selected is None  # measured, not the selection
    assert by_name[other.name].selected is True
    assert "selected" not in reading(by_name[stage_best.name])
    ev_rec = evidence(dataclasses.replace(result, recommended=stage_best))
    assert [d.selected for d in ev_rec.ensembles] == [True]


def test_a_linear_rung_that_led_is_not_said_to_have_gained_2_standard_errors(tiny_study):
    """A wine study recommended "l2=0.1 + linear + cosine lr" at +1.2 validation points
    (per seed +0.0, +3.7, +0.0: 1 standard error), and the report and summary said "it
    was selected because each step of the selection gained at least 2 standard errors";
    the linear rung leads where it scores at least the baseline, and was never tested
    against it (select.linear_leads): the networks had to beat it."""
    import dataclasses

    from nooverfit.studies.evidence_words import recommendation_weakness
    from nooverfit.studies.result import RemedyOutcome

    result, _ = tiny_study
    base = result.baseline.score
    gained = (base.val_per_seed[0], base.val_per_seed[1] + 0.04)
    score = dataclasses.replace(
        base, val_per_seed=gained, val_accuracy=sum(gained) / 2, val_accuracy_std=0.02
    )
    linear = dataclasses.replace(
        result.remedies[0].chosen, name="l2=0.1 + linear", stage="linear", score=score
    )
    outcome = RemedyOutcome("linear", linear, False, 0.02, 0.0)
    led = dataclasses.replace(result, recommended=linear, remedies=(*result.remedies, outcome))
    why = recommendation_weakness(led, "rows")
    assert why is not None and "includes 0" in why
    assert "selected as the simplest level, not for a gain" in why
    assert "each step of the selection gained" not in why
    other = dataclasses.replace(led, recommended=dataclasses.replace(linear, stage="l2"))
    assert "each step of the selection gained" in recommendation_weakness(other, "rows")
