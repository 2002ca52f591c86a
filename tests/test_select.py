import pytest

from nooverfit.history import History
from nooverfit.studies.select import Score, choose, improves, paired_gain, score


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


def test_improves_without_per_seed_values_compares_means_strictly():
    old = Score(0.9, 0.0, 0.3, 1.0, 0.0, 0.0, 0.1, 10, 1)
    assert not improves(old, Score(0.9, 0.0, 0.4, 1.0, 0.0, 0.0, 0.1, 10, 1))
    assert improves(old, Score(0.89, 0.0, 0.4, 1.0, 0.0, 0.0, 0.1, 10, 1))


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
