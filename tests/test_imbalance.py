"""The figures accuracy hides on imbalanced classes, against hand-computed values and
sklearn's ``balanced_accuracy_score``."""

import math
import warnings

import numpy as np
import pytest

from nooverfit.imbalance import (
    balance_warnings,
    balanced_accuracy,
    imbalance,
    majority,
    one_class_warning,
    recalls,
    share_shift,
    shift_warning,
    single_class,
)


def test_majority_is_the_largest_class_and_its_share():
    assert majority([1, 1, 0, 1], 2) == (1, 0.75)
    assert majority([2, 0, 2, 0], 3) == (0, 0.5)  # a tie: the lowest index
    c, share = majority([], 3)
    assert c == -1 and math.isnan(share)


def test_recalls_and_balanced_accuracy_by_hand():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    assert recalls(y_true, y_pred, 4) == (0.5, 1.0, 0.0, None)  # class 3 has no rows
    assert balanced_accuracy(y_true, y_pred, 4) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    # answering one class scores 1 / classes, whatever the shares
    assert balanced_accuracy([0] * 97 + [1] * 3, [0] * 100, 2) == 0.5
    with pytest.raises(ValueError, match="differ in length"):
        recalls([0, 1], [0], 2)


@pytest.mark.parametrize("seed", range(6))
def test_balanced_accuracy_matches_sklearn(seed):
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    y_true = rng.choice(k, size=50, p=rng.dirichlet(np.ones(k)))
    y_pred = np.where(rng.random(50) < 0.6, y_true, rng.integers(0, k, 50))
    with warnings.catch_warnings():  # sklearn warns of predicted classes with no rows
        warnings.simplefilter("ignore")
        expected = balanced_accuracy_score(y_true, y_pred)
    assert balanced_accuracy(y_true, y_pred, k) == pytest.approx(expected)


def test_single_class_only_when_the_rows_hold_more_than_one():
    assert single_class([0, 1, 1], [1, 1, 1]) == 1
    assert single_class([1, 1, 1], [1, 1, 1]) is None  # nothing else to recognize
    assert single_class([0, 1, 1], [0, 1, 1]) is None


def test_share_shift_and_imbalance_by_hand():
    # a 20/20 training set against 92/13 test rows (review i36 #2)
    assert share_shift([20, 20], [92, 13]) == pytest.approx(92 / 105 - 0.5)
    assert share_shift([5, 5], [50, 50]) == 0.0
    assert imbalance([222, 30]) == pytest.approx(7.4)
    assert imbalance([0, 4, 2]) == 2.0
    assert math.isnan(imbalance([0, 0]))


def test_a_balanced_subsample_of_imbalanced_data_warns_and_says_what_to_do():
    out = balance_warnings([20, 20], [55, 8], [92, 13], ["no", "yes"], pool=[222, 30])
    assert (
        out[0] == "classes are imbalanced: in the whole data set the largest has 7.2x the smallest"
    )
    assert out[1].startswith(
        "class shares differ between training and test samples: training 50/50 % (no/yes), "
        "test 88/12 % (no/yes)."
    )
    assert "below always answering the largest class" in out[1]
    assert "per-class subsample of an imbalanced pool (88/12 % (no/yes))" in out[1]
    assert "--train-per-class 0" in out[1]
    # the whole pool keeps its shares: imbalanced, but not shifted
    assert balance_warnings([222, 30], [55, 8], [92, 13], ["no", "yes"]) == [
        "classes are imbalanced: in the training set the largest has 7.4x the smallest"
    ]


def test_balanced_data_and_a_balanced_subsample_of_it_do_not_warn():
    rng = np.random.default_rng(0)
    held = [int(c) for c in rng.multinomial(360, np.full(10, 0.1))]  # about 10 % each
    assert balance_warnings([20] * 10, held, held, [str(c) for c in range(10)]) == []
    assert shift_warning([20, 20], {"test": [0, 0]}, ["a", "b"]) is None  # no rows


def test_one_class_warning_names_the_class_the_models_and_where():
    text = one_class_warning(
        ["recommended", "baseline"],
        [(0, "validation"), (0, "test"), (1, "validation"), (1, "test")],
        "ok",
    )
    assert text.startswith(
        "the recommended and the baseline models answer 'ok' for every one of the "
        "validation and test rows of seeds 0, 1: never any other class"
    )
    one = one_class_warning(["baseline"], [(3, "test")], "ok")
    assert one.startswith(
        "the baseline model answers 'ok' for every one of the test rows of seed 3"
    )
