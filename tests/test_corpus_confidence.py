"""The corpus labels' confidence (``bench/_corpus_confidence.py``), the validation ceiling's
own constant predictor and the fresh8 batch's data and draws."""

import numpy as np
import pytest

from conftest import bench_module

labels = bench_module("_corpus_labels")
confidence = bench_module("_corpus_confidence")


def _samples(curve: np.ndarray, n: int = 300, seed: int = 0) -> list[np.ndarray]:
    """Per-sample test losses whose mean follows ``curve``: each sample has its own level
    (hard and easy samples) and its own noise per evaluation, as a real test set's do."""
    rng = np.random.default_rng(seed)
    level = rng.exponential(size=n)
    return [c * level * rng.lognormal(0, 0.5, size=n) for c in curve]


def _votes(curve: np.ndarray, regime: str = "good_fit", n: int = 300) -> dict[str, int]:
    epochs = list(range(len(curve)))

    def label_of(test, acc):
        return labels.label(regime, test, test, epochs, 5.0)[0]

    return confidence.label_votes(label_of, _samples(curve, n), [None] * len(curve), seed=1)


def _u(rise: float, n: int = 30) -> np.ndarray:
    return np.concatenate([np.linspace(2, 1, 10), 1 + rise * np.linspace(0, 1, n - 9)[1:]])


def test_a_rise_far_above_the_threshold_is_a_confident_label():
    votes = _votes(_u(0.6))
    fields = confidence.confidence_fields(votes, "overfitting")
    assert sum(votes.values()) == confidence.DRAWS
    assert fields["label_confidence"] >= 0.95 and not fields["ambiguous"]


def test_a_rise_at_the_overfitting_threshold_is_ambiguous():
    # the smoothed end lies just over 10 % above the minimum: a resampled test set of 150
    # puts it on either side of TEST_RISE
    curve = _u(0.12)
    votes = _votes(curve, n=150)
    chosen = labels.label("good_fit", curve, curve, list(range(len(curve))), 5.0)[0]
    assert chosen == "overfitting" and len(votes) >= 2
    assert confidence.confidence_fields(votes, chosen)["ambiguous"]


def test_runs_without_per_sample_losses_get_no_confidence():
    assert confidence.label_votes(lambda t, a: "good_fit", [], [], seed=0) == {}
    assert confidence.confidence_fields({}, "good_fit") == {}
    assert confidence.confidence_fields({"good_fit": 3}, None) == {}


def test_the_bootstrap_resamples_the_same_samples_at_every_evaluation():
    # a constant per-sample loss gives a flat curve in every draw: the same resample
    # applies to each evaluation (resampling each on its own would make it jagged)
    flat = [np.arange(1.0, 101.0)] * 6
    for test, acc in confidence.bootstrap_curves(flat, [None] * 6, draws=5, seed=0):
        assert acc is None and np.ptp(test) == 0


def test_the_validation_label_reads_the_validation_sets_own_constant():
    # an underfit flat at 1.05x the validation targets' variance is an underfit; against
    # a test set whose variance is 10 % lower it looked like a failed run
    val = [1.3, 1.1, 1.06, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05]
    record = {"regime": "underfitting", "test": val, "val_epochs": list(range(9))}
    record["constant"] = 0.9
    assert labels.validation_label(record, val, 0.0) == "diverging"
    assert labels.validation_label(record, val, 0.0, 1.0) == "underfitting"


def test_a_run_built_to_overfit_needs_its_logs_own_evidence_for_the_validation_label():
    # validation flat at 0.05 from epoch 4 on: without the log's curves the regime
    # confirmed the overfit; with them, only an accuracy gap does
    val = [0.5, 0.2, 0.1, 0.06] + [0.05] * 12
    record = {"regime": "overfitting", "test": val, "val_epochs": list(range(16))}
    record["constant"] = 0.69
    flat = {"train_eval": [0.01] * 16, "train_acc": [1.0] * 16, "loss": "ce"}
    assert labels.validation_label(record, val, 0.0, 0.69) == "overfitting"
    no_gap = flat | {"test_acc": [0.98] * 16}
    assert labels.validation_label(record, val, 0.0, 0.69, no_gap) is None
    gap = flat | {"test_acc": [0.85] * 16}
    assert labels.validation_label(record, val, 0.0, 0.69, gap) == "overfitting"


@pytest.mark.parametrize(
    "name",
    ["bow", "rare", "steps", "counts", "laplace", "skewed", "ordinal", "twolevel", "sawtooth"],
)
def test_fresh8_and_later_data_sets_hold_a_large_test_set_apart(name):
    data = bench_module("_corpus_data")
    d = data.load_data(name, 0)
    assert len(d["x_test"]) == data.LABEL_TEST and len(d["x_val"]) == 300
    rows = {tuple(x) for s in ("x_pool", "x_val", "x_test") for x in d[s]}
    assert len(rows) == 4000 or name == "bow"  # word counts repeat between short texts
    if name == "rare":
        assert 0.02 < d["y_test"].mean() < 0.07


def test_fresh8_draws_mae_and_unusual_lengths():
    options = bench_module("_corpus_options")
    rng = np.random.default_rng(0)
    lengths = set()
    for i in range(60):
        regime = ("overfitting", "good_fit", "still_improving", "underfitting", "diverging")[i % 5]
        draw = {"regime": regime, "framework": ("tensorboard", "hf", "lightning_tb")[i % 3]}
        draw |= {"loss": ("ce", "mse")[i % 2], "epochs": 60, "batch": 32, "n_train": 400}
        options.part_options("fresh8", draw, rng)
        assert draw["loss"] in ("ce", "mae")
        lengths.add(draw["epochs"])
        if regime == "still_improving":
            assert draw["epochs"] in (3, 4, 6)
        if draw["framework"] == "lightning_tb":
            assert draw["epochs"] <= 25 and draw["n_train"] <= 200
    assert {300, 500} & lengths
