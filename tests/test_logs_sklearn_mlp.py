"""scikit-learn's MLPClassifier / MLPRegressor printed at ``verbose=True`` read as the
estimator's own curves (``loss_curve_``, ``validation_scores_``). Before (s33 i174) the
output was refused: "has a header (Iteration 1, loss = ...) but no complete row"."""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit.logs import detect_format, read_log
from nooverfit.logs._sklearn_mlp import counted_on

pytest.importorskip("sklearn")


def _printed(model, x, y, path):
    """Fit ``model``; its printed output in ``path``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        model.fit(x, y)
    path.write_text(out.getvalue())
    return model


def test_mlp_classifier_output_reads_as_its_curves(tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    log = tmp_path / "train.log"
    model = MLPClassifier((32,), verbose=True, early_stopping=True, random_state=0)
    model = _printed(model, x[:400] / 16, y[:400], log)
    assert "Validation score: " in log.read_text()
    assert detect_format(log) == "console"
    h = read_log(log)
    assert h.epoch == tuple(range(1, model.n_iter_ + 1))  # printed from 1
    assert h.loss == tuple(float(f"{v:.8f}") for v in model.loss_curve_)  # "%.8f"
    np.testing.assert_allclose(h.val_accuracy, model.validation_scores_, atol=5e-7)  # "%f"
    assert not h.has("val_loss") and not h.has("accuracy")  # no loss invented
    assert "val_score" not in h.extras
    # early stopping restores the weights of the first best score
    assert h.kept_epoch == int(np.argmax(model.validation_scores_)) + 1
    assert h.stop_reason == ("patience" if model.n_iter_ < model.max_iter else "")
    assert any("count of 40 validation samples" in n for n in h.notes)  # 10 % of 400
    assert diagnose(h).monitor == "accuracy"


def test_mlp_regressor_output_reads_its_r2_as_a_score_not_a_loss(tmp_path):
    from sklearn.datasets import load_diabetes
    from sklearn.neural_network import MLPRegressor

    x, y = load_diabetes(return_X_y=True)
    log = tmp_path / "train.log"
    model = MLPRegressor(
        hidden_layer_sizes=(16,), verbose=True, early_stopping=True, max_iter=30, random_state=0
    )
    model = _printed(model, (x - x.mean(0)) / x.std(0), y / 100, log)
    h = read_log(log)
    assert h.epoch == tuple(range(1, 31))
    assert h.loss == tuple(float(f"{v:.8f}") for v in model.loss_curve_)
    assert min(model.validation_scores_) < 0  # R^2: no accuracy
    np.testing.assert_allclose(h.extras["val_score"], model.validation_scores_, atol=5e-7)
    assert not h.has("val_loss") and not h.has("val_accuracy")
    assert any("R^2 for MLPRegressor" in n and "no train/validation gap" in n for n in h.notes)
    assert diagnose(h).monitor == "score"


def test_mlp_output_without_early_stopping_is_a_training_loss(tmp_path):
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    log = tmp_path / "train.log"
    model = _printed(
        MLPRegressor(hidden_layer_sizes=(8,), verbose=True, max_iter=5), x, x[:, 0], log
    )
    h = read_log(log)
    assert h.loss == tuple(float(f"{v:.8f}") for v in model.loss_curve_)
    assert h.kept_epoch is None and not h.has("val_score")


@pytest.mark.parametrize(
    ("scores", "n"),
    [
        ([0.1, 0.15, 0.2, 0.25, 0.3], 20),
        ([round(k / 180, 6) for k in (20, 97, 151, 170, 171, 171)], 180),  # as "%f" prints
        ([round(k / 7919, 6) for k in (3000, 5000, 7000, 7500, 7600)], 7919),
        ([0.663796, 0.496303, 0.202647, 0.531813, 0.646209], None),  # R^2 of a regressor
        ([-0.5, 0.25, 0.5, 0.75, 1.0], None),  # below 0: no accuracy
        ([0.25, 0.5, 0.75, 1.0], None),  # too few to tell
        ([0.25, 0.5, math.nan, 0.75, 1.0], None),
    ],
)
def test_counted_on_finds_the_validation_set_of_an_accuracy(scores, n):
    assert counted_on(scores) == n
