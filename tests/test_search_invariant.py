"""The joint search's image trial (:func:`nooverfit.studies.search.invariant`)."""

from nooverfit.config import RunConfig
from nooverfit.studies.combine import combine
from nooverfit.studies.search import _point_of, invariant, joint_search, search_space
from nooverfit.studies.select import Score

BASE = RunConfig(model="cnn", width=16, depth=2, epochs=30, label="baseline")
CHOSEN = {"dropout": BASE.replace(dropout=0.3), "batchnorm": BASE.replace(batchnorm=True)}


def _score(configs):
    return [Score(0.9, 0.0, 0.3, 1.0, 0.0, 0.0, 0.1, 10, 1, (0.9,), (0.3,)) for _ in configs]


def test_invariant_is_the_augmented_recipe_and_a_point_of_the_image_space():
    merged = combine(BASE, CHOSEN)[0].replace(label="")
    trial = invariant(BASE, merged, max_epochs=600)
    assert (trial.augment, trial.batchnorm, trial.cosine, trial.convs) == (1.0, True, True, 2)
    assert (trial.width, trial.depth, trial.dropout) == (32, 2, 0.3)
    assert trial.lr == 3 * merged.lr and trial.epochs == 4 * 30
    assert invariant(BASE, merged, max_epochs=60).epochs == 60  # 2x: the most allowed
    space = search_space(BASE, merged, CHOSEN, max_epochs=600, shifts=True)
    assert dict(space.dims)["augment"] == (0.0, 1.0)  # offered though it did not help alone
    assert _point_of(trial, merged, space) is not None
    assert "augment" not in dict(search_space(BASE, merged, CHOSEN, max_epochs=600).dims)


def test_the_first_round_holds_the_image_trial_only_with_shifts_and_growth():
    seen: list[list[RunConfig]] = []

    def evaluate(configs):
        seen.append(list(configs))
        return _score(configs)

    joint_search(BASE, CHOSEN, evaluate, trials=0, shifts=True)
    assert any(c.augment == 1.0 and c.convs == 2 for c in seen[0])
    seen.clear()
    joint_search(BASE, CHOSEN, evaluate, trials=0)
    assert not any(c.augment == 1.0 for c in seen[0])
    seen.clear()
    joint_search(BASE, CHOSEN, evaluate, trials=0, shifts=True, grow=False)
    assert not any(c.augment == 1.0 for c in seen[0])
