"""The misses that rest on a regression's target scale (``bench/_corpus_scale.py``)."""

import pytest

from conftest import bench_module

scale = bench_module("_corpus_scale")

#: The manifest fields of s30's batch 14 run 171004 (Keras, friedman2, Adam at lr 10: MSE
#: from 2.2e5 to 1.3e3 on standardized targets, read as still improving).
BLOWN_REGRESSION = {
    "id": "171004_keras_friedman2_diverging",
    "kind": "reg",
    "label": "diverging",
    "why": "test loss stayed 10x above a constant predictor's: saturated outputs",
}


def test_scale_bound_a_regression_labelled_diverging_by_the_constant_s_level():
    assert scale.scale_bound(BLOWN_REGRESSION, "still_improving")
    swung = {
        **BLOWN_REGRESSION,
        "why": "test loss swung and never got below a constant predictor's",
    }
    assert scale.scale_bound(swung, "underfitting")


def test_scale_bound_no_right_verdict_nor_a_classifier():
    assert not scale.scale_bound(BLOWN_REGRESSION, "diverging")
    # a classifier's level of guessing is in its log (ln K, read off the accuracy)
    assert not scale.scale_bound({**BLOWN_REGRESSION, "kind": "cls"}, "still_improving")


@pytest.mark.parametrize(
    "why",
    [
        "non-finite test loss",
        "test loss ended far above its minimum",
        "test and clean training loss rose together",
    ],
)
def test_scale_bound_no_failure_read_from_the_curve_itself(why):
    assert not scale.scale_bound({**BLOWN_REGRESSION, "why": why}, "overfitting")


@pytest.mark.parametrize(
    ("label", "verdict", "expected"),
    [
        ("underfitting", "good_fit", True),
        ("good_fit", "underfitting", True),
        ("underfitting", "still_improving", False),
        ("good_fit", "overfitting", False),
        ("still_improving", "good_fit", False),
        (None, "good_fit", False),
    ],
)
def test_scale_bound_only_the_underfit_good_fit_split_of_a_regression(label, verdict, expected):
    record = {"kind": "reg", "label": label, "why": "test curve flat"}
    assert scale.scale_bound(record, verdict) is expected
