import pytest

from nooverfit.history import History
from nooverfit.studies.select import (
    Score,
    Step,
    breaks_tie,
    choose,
    improves,
    linear_leads,
    lowers_loss,
    paired_gain,
    score,
    steps,
)


def _score(*per_seed, loss=0.5):
    mean = sum(per_seed) / len(per_seed)
    return Score(mean, 0.0, loss, 1.0, 0.0, 0.0, 1.0 - mean, 10, len(per_seed), per_seed)


def test_score_keeps_each_seeds_validation_accuracy():
    hs = [
        History.from_columns(
            {"val_accuracy": [v], "val_loss": [0.5], "accuracy": [1.0], "loss": [0.1]}
        )
        for v in (0.8, 0.9)
    ]
    assert score(hs).val_per_seed == (0.8, 0.9)


def test_score_counts_the_runs_successive_halving_stopped():
    cols = {"val_accuracy": [0.7], "val_loss": [0.5], "accuracy": [0.9], "loss": [0.1]}
    hs = [History.from_columns(cols, stop_reason=r) for r in ("halved", "", "halved")]
    assert score(hs).halved == 2
    assert score(hs[1:2]).halved == 0


def test_paired_gain_is_mean_and_standard_error_of_seed_differences():
    gain, se = paired_gain(_score(0.82, 0.90, 0.86), _score(0.80, 0.86, 0.86))
    assert gain == pytest.approx(0.02)
    assert se == pytest.approx(0.02 / 3**0.5)  # differences 0.02, 0.04, 0: std 0.02


def test_improves_needs_a_gain_beyond_the_seeds_disagreement():
    base = _score(0.80, 0.85, 0.90)
    assert improves(_score(0.81, 0.86, 0.91), base)  # same gain on every seed
    assert not improves(_score(0.80, 0.85, 0.90, loss=0.1), base)  # a tie keeps the simpler
    # +6 on one seed, -2 on two: the mean gain (0.67) is below one standard error (2.67)
    assert not improves(_score(0.86, 0.83, 0.88), base)
    assert improves(_score(0.86, 0.83, 0.88), base, margin=0.0)


@pytest.mark.parametrize("n_val", [27, 81, 150])
def test_a_gain_of_exactly_two_standard_errors_keeps_the_simpler_in_any_seed_order(n_val):
    """Review i114: validation accuracies move by one row, so a gain on two seeds of three
    and none on the third is exactly 2 standard errors (mean 2x/3, standard error x/3);
    it passed or failed by the last bits of the sums, here by seed order. A tie at the
    margin keeps the simpler, whatever the order; one row more on the flat seed passes."""
    import itertools

    base = [round(k / n_val, 12) for k in (20, 21, 22)]
    for gains in set(itertools.permutations((2, 2, 0))):
        tied = _score(*((b * n_val + g) / n_val for b, g in zip(base, gains, strict=True)))
        gain, se = paired_gain(tied, _score(*base))
        assert gain == pytest.approx(2 * se, rel=1e-9)
        assert not improves(tied, _score(*base))
        more = tuple((b * n_val + max(g, 1)) / n_val for b, g in zip(base, gains, strict=True))
        assert improves(_score(*more), _score(*base))


def test_the_blends_one_standard_error_passes_its_exact_tie_in_any_seed_order():
    """A blend gains on one seed of three, ties on the others: exactly one standard error,
    which its margin passes (i76), whatever the order."""
    from nooverfit.studies import blend

    base = (20 / 27, 21 / 27, 22 / 27)
    for k in range(3):
        one = _score(*(b + (i == k) / 27 for i, b in enumerate(base)))
        gain, se = paired_gain(one, _score(*base))
        assert gain == pytest.approx(se, rel=1e-9)
        assert improves(one, _score(*base), margin=blend.MARGIN)


def test_improves_without_per_seed_values_compares_means_strictly():
    old = Score(0.9, 0.0, 0.3, 1.0, 0.0, 0.0, 0.1, 10, 1)
    assert not improves(old, Score(0.9, 0.0, 0.4, 1.0, 0.0, 0.0, 0.1, 10, 1))
    assert improves(old, Score(0.89, 0.0, 0.4, 1.0, 0.0, 0.0, 0.1, 10, 1))


def test_steps_record_each_comparison_choose_made_and_against_what():
    base = [_score(0.80, 0.85, 0.90)]
    single = [_score(0.81, 0.86, 0.91), _score(0.82, 0.87, 0.92)]  # +2 points on every seed
    # against single[1]: +1, -1, +3 points, mean 1, standard error 1.15: not 2
    combos = [_score(0.83, 0.86, 0.95)]
    assert steps([base, single, [], combos]) == (
        Step(level=1, index=1, reference=(0, 0), taken=True),
        Step(level=3, index=0, reference=(1, 1), taken=False),
    )
    assert choose([base, single, [], combos]) == (1, 1)
    assert steps([base]) == ()


def test_choose_climbs_levels_only_on_real_gains():
    base = [_score(0.80, 0.85, 0.90)]
    single = [_score(0.82, 0.86, 0.91), _score(0.81, 0.85, 0.90)]
    combos = [_score(0.83, 0.85, 0.92)]  # better mean than single[0], but noisy vs it
    ensembles = [_score(0.84, 0.88, 0.93)]
    assert choose([base]) == (0, 0)
    assert choose([base, single]) == (1, 0)
    assert choose([base, single, combos]) == (1, 0)
    assert choose([base, single, combos, ensembles]) == (3, 0)
    assert choose([base, [_score(0.80, 0.85, 0.90)]]) == (0, 0)  # a tie: the baseline


def _lossy(acc, losses):
    mean = sum(acc) / len(acc)
    return Score(
        mean, 0.0, sum(losses) / len(losses), 1.0, 0.0, 0.0, 1.0 - mean, 10, len(acc),
        tuple(acc), tuple(losses),
    )  # fmt: skip


def test_score_keeps_each_seeds_validation_loss():
    hs = [
        History.from_columns(
            {"val_accuracy": [0.8], "val_loss": [v], "accuracy": [1.0], "loss": [0.1]}
        )
        for v in (0.4, 0.6)
    ]
    assert score(hs).val_loss_per_seed == (0.4, 0.6)


def test_lowers_loss_needs_a_paired_drop_beyond_noise_and_the_floor_and_no_accuracy_loss():
    base = _lossy((0.70, 0.72, 0.71), (0.60, 0.58, 0.59))
    # the same accuracy, 0.05 nats lower on every seed: lower beyond noise
    assert lowers_loss(_lossy((0.70, 0.72, 0.71), (0.55, 0.53, 0.54)), base)
    # lower loss but a seed-paired accuracy loss: not taken
    assert not lowers_loss(_lossy((0.69, 0.72, 0.71), (0.55, 0.53, 0.54)), base)
    # -0.09, +0.02, +0.01: the mean drop (0.02) is under two standard errors (0.07)
    assert not lowers_loss(_lossy((0.70, 0.72, 0.71), (0.51, 0.60, 0.60)), base)
    # a steady drop below the floor: near-zero losses of a data set fitted perfectly
    tiny = _lossy((1.0, 1.0, 1.0), (0.0004, 0.0003, 0.0005))
    assert not lowers_loss(_lossy((1.0, 1.0, 1.0), (0.0002, 0.0001, 0.0003)), tiny)
    # unknown or infinite (diverged) losses: no claim
    assert not lowers_loss(_lossy((0.7, 0.7, 0.7), (0.5, 0.5, float("inf"))), base)
    assert not lowers_loss(Score(0.7, 0, 0.1, 1, 0, 0, 0.3, 10, 3), base)


def test_pick_ensemble_takes_the_most_accurate_among_those_that_beat_the_choice():
    from nooverfit.studies.select import pick_ensemble

    base = _lossy((0.70, 0.72, 0.71), (0.60, 0.58, 0.59))
    more_accurate = _lossy((0.75, 0.77, 0.76), (0.57, 0.55, 0.56))  # +5 points every seed
    lower_loss = _lossy((0.70, 0.72, 0.71), (0.50, 0.48, 0.49))  # same accuracy, -0.1 nats
    lowest_but_worse = _lossy((0.65, 0.67, 0.66), (0.40, 0.38, 0.39))  # loses 5 points
    noisy = _lossy((0.70, 0.72, 0.71), (0.30, 0.60, 0.60))  # its drop is within noise
    # both beat the choice (accuracy; log loss at no loss of accuracy): the more accurate
    assert pick_ensemble([lower_loss, more_accurate, lowest_but_worse], base) == 1
    assert pick_ensemble([lower_loss, lowest_but_worse], base) == 0
    assert pick_ensemble([lowest_but_worse, noisy], base) is None
    # equal accuracy: the lower log loss, then the earlier
    import dataclasses

    sharper = dataclasses.replace(more_accurate, val_loss=0.40)
    assert pick_ensemble([more_accurate, sharper], base) == 1
    assert pick_ensemble([lower_loss, lower_loss], base) == 0


def test_breaks_tie_only_where_every_seed_ties_and_log_loss_drops_beyond_noise():
    base = _lossy((0.9, 0.8, 0.85), (0.30, 0.32, 0.28))
    # loss drops 0.05, 0.06, 0.04 (mean 0.05, standard error 0.01/sqrt(3)): a clear drop
    sharper = _lossy((0.9, 0.8, 0.85), (0.25, 0.26, 0.24))
    assert breaks_tie(sharper, base)
    assert choose([[base], [sharper]]) == (1, 0)
    # one seed a row worse: no tie, and no accuracy gain either -> the baseline stays
    worse = _lossy((0.9, 0.78, 0.85), (0.25, 0.26, 0.24))
    assert not breaks_tie(worse, base) and choose([[base], [worse]]) == (0, 0)
    # drops 0.05, -0.02, 0.04: mean 0.0233 < 2 standard errors (2 * 0.0219) -> noise
    noisy = _lossy((0.9, 0.8, 0.85), (0.25, 0.34, 0.24))
    assert not breaks_tie(noisy, base) and choose([[base], [noisy]]) == (0, 0)
    # a drop below the 0.01-nat floor does not count
    assert not breaks_tie(_lossy((0.9, 0.8, 0.85), (0.295, 0.315, 0.275)), base)
    # without per-seed values there is nothing to pair
    assert not breaks_tie(_score(1.0, 1.0, 1.0, loss=0.01), _score(1.0, 1.0, 1.0))


def test_no_log_loss_decision_where_the_simpler_gets_every_validation_row_right():
    # penguins (bench/README.md, i72): every variant 100 % on validation on every seed; the
    # penalized linear rung's log loss is higher only because its weights are smaller
    rung = _lossy((1.0, 1.0, 1.0), (0.048, 0.031, 0.035))
    network = _lossy((1.0, 1.0, 1.0), (0.010, 0.005, 0.007))
    assert not lowers_loss(network, rung) and not breaks_tie(network, rung)
    assert choose([[rung], [network]]) == (0, 0)  # the simpler stays
    from nooverfit.studies.select import pick_ensemble

    assert pick_ensemble([network], rung) is None
    # one seed short of perfect: log loss decides again
    imperfect = _lossy((1.0, 0.98, 1.0), (0.048, 0.061, 0.035))
    assert lowers_loss(_lossy((1.0, 0.98, 1.0), (0.010, 0.025, 0.007)), imperfect)


def test_linear_leads_where_its_best_variant_scores_at_least_the_baseline():
    baseline = _score(0.70, 0.70, 0.70)
    assert not linear_leads([], baseline)  # no rung (images, the default study)
    # best of the rung by mean: 0.7 (ties the baseline's mean: the simpler leads)
    assert linear_leads([_score(0.60, 0.70, 0.65), _score(0.72, 0.68, 0.70)], baseline)
    assert not linear_leads([_score(0.69, 0.70, 0.70)], baseline)  # 0.003 behind


def test_choose_keeps_the_leading_rung_unless_a_network_beats_it_beyond_noise():
    rung, baseline = _score(0.70, 0.72, 0.71), _score(0.70, 0.70, 0.70)
    # differences to the rung 0.03, -0.01, 0.01: mean 0.01, standard error
    # 0.02 / sqrt(3) = 0.0115, so a gain of 0.87 standard errors (< 2): the rung stays
    remedy = _score(0.73, 0.71, 0.72)
    assert choose([[rung], [baseline, remedy]]) == (0, 0)
    # differences 0.05, 0.04, 0.045: mean 0.045, standard error 0.0029: it replaces it
    stronger = _score(0.75, 0.76, 0.755)
    assert choose([[rung], [baseline, remedy, stronger]]) == (1, 2)
