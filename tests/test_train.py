from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import run_configs
from nooverfit.history import History
from nooverfit.models import build_model
from nooverfit.train import batch_order, evaluate, fit, make_optimizer

SMALL = RunConfig(width=16, epochs=3, train_per_class=5, batch_size=16)
# 5 images per class and a high learning rate: val loss bottoms out at epoch 15, then rises
OVERFIT = RunConfig(width=32, epochs=25, lr=1e-2, train_per_class=5, batch_size=16)


@pytest.fixture(scope="module")
def digits():
    return load_split("digits", seed=0, device="cpu")


def _fit(config: RunConfig, data, **kwargs):
    model = build_model(config, data.in_shape, data.num_classes)
    return model, fit(model, data, config, **kwargs)


def _curves(history: History) -> tuple:
    return history.loss, history.accuracy, history.val_loss, history.val_accuracy


def test_fit_same_seed_gives_identical_history(digits):
    config = SMALL.replace(dropout=0.3, augment=0.5)  # exercises dropout and augment RNGs
    model_a, a = _fit(config, digits)
    model_b, b = _fit(config, digits)
    assert _curves(a) == _curves(b)
    for x, y in zip(model_a.state_dict().values(), model_b.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    _, c = _fit(config.replace(seed=1), digits)
    assert _curves(c) != _curves(a)


def test_fit_does_not_touch_the_global_rng(digits):
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    _fit(SMALL.replace(dropout=0.5), digits)
    assert torch.equal(torch.rand(3), expected)


def test_fit_train_metrics_are_eval_mode_on_the_clean_train_subset(digits):
    # dropout, augmentation and an L2 penalty all change the training-mode loss; the recorded
    # loss must still be plain cross-entropy of the final model in eval mode on clean data.
    config = SMALL.replace(dropout=0.5, augment=1.0, l2=1e-2, batchnorm=True)
    model, history = _fit(config, digits)
    train = digits.train_index(train_per_class=5)
    scores = evaluate(model, digits.x[train], digits.y[train])
    assert history.loss[-1] == pytest.approx(scores.loss, rel=1e-6)
    assert history.accuracy[-1] == pytest.approx(scores.accuracy)
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert history.val_loss[-1] == pytest.approx(val.loss, rel=1e-6)
    assert history.val_accuracy[-1] == pytest.approx(val.accuracy)
    # and it is not the training-mode loss (dropout on)
    model.train()
    with torch.no_grad():
        noisy = F.cross_entropy(model(digits.x[train]), digits.y[train]).item()
    assert noisy != pytest.approx(scores.loss, rel=1e-3)
    assert history.stop_reason == "completed" and history.kept_epoch == 2


def test_fit_records_lr_seconds_and_epochs(digits):
    _, history = _fit(SMALL, digits)
    assert history.epoch == (0, 1, 2)
    assert history.extras["lr"] == (1e-3,) * 3
    assert all(s > 0 for s in history.extras["seconds"])
    assert history.columns() == [
        "epoch",
        "accuracy",
        "loss",
        "lr",
        "seconds",
        "val_accuracy",
        "val_loss",
    ]


def test_fit_early_stopping_restores_best_epoch_weights(digits):
    model, history = _fit(OVERFIT.replace(early_stopping="patience:3"), digits)
    assert history.stop_reason == "patience"
    assert len(history) < OVERFIT.epochs
    best = history.kept_epoch
    assert best == history.best_epoch == int(np.argmin(history.val_loss))
    assert best < len(history) - 1
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(history.val_loss[best], rel=1e-6)
    assert val.loss != pytest.approx(history.val_loss[-1], rel=1e-3)


def test_fit_restores_best_weights_also_when_not_stopped(digits):
    model, history = _fit(OVERFIT.replace(early_stopping="patience:1000"), digits)
    assert history.stop_reason == "completed" and len(history) == OVERFIT.epochs
    best = history.kept_epoch
    assert best == history.best_epoch == int(np.argmin(history.val_loss))
    assert best < len(history) - 1
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(history.val_loss[best], rel=1e-6)


@pytest.mark.parametrize("criterion", ["gl:5", "up:1"])
def test_fit_prechelt_criteria_stop_and_restore(digits, criterion):
    model, history = _fit(OVERFIT.replace(early_stopping=criterion), digits)
    assert history.stop_reason in ("generalization_loss", "up")
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(min(history.val_loss), rel=1e-6)


def test_fit_without_early_stopping_keeps_final_weights(digits):
    model, history = _fit(OVERFIT.replace(epochs=18), digits)
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(history.val_loss[-1], rel=1e-6)
    assert history.kept_epoch == 17
    assert history.best_epoch == int(np.argmin(history.val_loss)) < 17


@pytest.mark.parametrize("early_stopping", [None, "patience:1000", "gl:1000"])
def test_fit_keep_best_ends_with_the_lowest_val_loss_weights(digits, early_stopping):
    """Keras's restore_best_weights (lowest val_loss, first on ties: best_index) with or
    without early stopping; the library's default stays the last epoch's weights."""
    from nooverfit.history import best_index

    config = OVERFIT.replace(epochs=18, early_stopping=early_stopping)
    model, history = _fit(config, digits, keep_best=True)
    best = best_index(history.val_loss)
    assert best is not None and best < len(history) - 1  # else the test shows nothing
    assert history.kept_epoch == history.best_epoch == history.best() == history.epoch[best]
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(history.val_loss[best], rel=1e-6)
    assert val.loss != pytest.approx(history.val_loss[-1], rel=1e-3)
    # the same run without keep_best: identical curves (no RNG drawn), weights as before
    other, again = _fit(config, digits)
    assert _curves(again) == _curves(history)
    val = evaluate(other, digits.x[digits.val_index], digits.y[digits.val_index])
    last = best if early_stopping else len(history) - 1
    assert val.loss == pytest.approx(history.val_loss[last], rel=1e-6)


def test_fit_keep_best_keeps_the_best_finite_epoch_of_a_diverged_run(digits):
    config = SMALL.replace(epochs=20, lr=1e6, optimizer="sgd", batch_size=64)
    model, history = _fit(config, digits, keep_best=True)
    assert history.stop_reason == "diverged"
    assert history.kept_epoch == history.best_epoch == history.best() is not None
    val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
    assert val.loss == pytest.approx(history.val_loss[history.kept_epoch], rel=1e-6)


@pytest.mark.parametrize("early_stopping", [None, "patience:10"])
def test_fit_divergence_ends_with_reason_not_exception(digits, early_stopping):
    # one step per epoch: epoch 0 ends with a huge but finite loss, epoch 1 with NaN
    config = SMALL.replace(
        epochs=20, lr=1e6, optimizer="sgd", batch_size=64, early_stopping=early_stopping
    )
    model, history = _fit(config, digits)
    assert history.stop_reason == "diverged"
    assert len(history) < 20
    assert not math.isfinite(history.loss[-1]) or not math.isfinite(history.val_loss[-1])
    if early_stopping:  # the best finite weights (epoch 0) are kept
        assert history.kept_epoch == 0 and math.isfinite(history.val_loss[0])
        val = evaluate(model, digits.x[digits.val_index], digits.y[digits.val_index])
        assert math.isfinite(val.loss)
        assert val.loss == pytest.approx(history.val_loss[history.kept_epoch], rel=1e-6)


@pytest.mark.parametrize("engine", ["sequential", "fused"])
def test_trained_history_best_epoch_is_the_diagnosis_and_kept_epoch_the_last(digits, engine):
    """Issue 15: a study's results.json said "best_epoch": 17 (the epoch whose weights were
    kept, the last without early stopping) where the diagnosis's best epoch was earlier.
    ``best_epoch`` has one meaning, the diagnosis's; the weights kept are ``kept_epoch``."""
    from nooverfit import diagnose
    from nooverfit.history import best_index

    (run,) = run_configs([OVERFIT.replace(epochs=18)], digits, engine=engine)
    history = run.history
    assert history.stop_reason == "completed" and history.kept_epoch == 17
    best = diagnose(history).best_epoch
    assert history.best_epoch == best == best_index(history.val_loss) < 17
    written = history.to_dict()  # as results.json holds it
    assert (written["kept_epoch"], written["best_epoch"]) == (17, best)
    again = History.from_dict(written)
    assert (again.kept_epoch, again.best_epoch) == (17, best)


def test_fit_callback_sees_logs_and_can_stop(digits):
    seen = []

    def callback(epoch, logs):
        seen.append((epoch, dict(logs)))
        return epoch == 1

    _, history = _fit(SMALL.replace(epochs=5), digits, callbacks=[callback])
    assert history.stop_reason == "requested" and len(history) == 2
    assert [e for e, _ in seen] == [0, 1]
    assert seen[1][1]["val_loss"] == history.val_loss[1]
    assert set(seen[0][1]) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_fit_history_csv_and_json_round_trip(digits, tmp_path):
    _, history = _fit(SMALL, digits)
    from_csv = History.load(history.save(tmp_path / "h.csv"))
    from_json = History.load(history.save(tmp_path / "h.json"))
    for again in (from_csv, from_json):
        assert _curves(again) == _curves(history)
        assert again.extras["lr"] == history.extras["lr"]
    assert (from_json.stop_reason, from_json.kept_epoch) == ("completed", 2)
    header = (tmp_path / "h.csv").read_text().splitlines()[0]
    assert header == "epoch,accuracy,loss,lr,seconds,val_accuracy,val_loss"


def test_batch_order_is_a_seeded_permutation_per_epoch():
    a = batch_order(3, 0, 50)
    assert sorted(a.tolist()) == list(range(50))
    assert torch.equal(a, batch_order(3, 0, 50))
    assert not torch.equal(a, batch_order(3, 1, 50))
    assert not torch.equal(a, batch_order(4, 0, 50))


def test_make_optimizer_kinds_and_decay_groups():
    model = build_model(SMALL, (1, 8, 8), 10)
    sgd = make_optimizer(model, SMALL.replace(optimizer="sgd", lr=0.1, weight_decay=0.01))
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["momentum"] == 0.9
    assert [g["weight_decay"] for g in sgd.param_groups] == [0.01, 0.0]
    adam = make_optimizer(model, SMALL)
    assert isinstance(adam, torch.optim.AdamW)
    assert [g["weight_decay"] for g in adam.param_groups] == [0.0, 0.0]  # plain Adam


def test_evaluate_matches_torch_in_chunks(monkeypatch):
    torch.manual_seed(0)
    model = build_model(SMALL.replace(dropout=0.5), (1, 8, 8), 10)
    x, y = torch.randn(23, 1, 8, 8), torch.randint(0, 10, (23,))
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    monkeypatch.setattr("nooverfit.train.EVAL_CHUNK", 5)
    scores = evaluate(model, x, y)
    assert scores.loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert scores.accuracy == pytest.approx((logits.argmax(1) == y).float().mean().item())
    assert model.training  # mode restored


def test_run_configs_returns_results_in_order_equal_to_fit(digits):
    configs = [SMALL.replace(epochs=2), SMALL.replace(epochs=2, l2=1e-2, seed=1)]
    results = run_configs(configs, digits)
    assert [r.config for r in results] == configs
    model, history = _fit(configs[1], digits)
    assert _curves(results[1].history) == _curves(history)
    for key, value in model.state_dict().items():
        assert torch.equal(results[1].state[key], value)
    assert results[0].engine == "sequential"
    with pytest.raises(ValueError, match="engine must be one of"):
        run_configs(configs, digits, engine="warp")


def test_fit_refuses_a_config_that_is_no_run_config(digits):
    model = build_model(SMALL, digits.in_shape, digits.num_classes)
    with pytest.raises(TypeError, match="config must be a RunConfig, got dict"):
        fit(model, digits, {"epochs": 3})


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_fit_refuses_weights_of_another_dtype_than_the_data(digits, dtype):
    model = build_model(SMALL, digits.in_shape, digits.num_classes).to(dtype)
    with pytest.raises(ValueError, match=f"parameters are {dtype} but the data is torch.float32"):
        fit(model, digits, SMALL)


def test_fit_refuses_a_model_with_nothing_to_train(digits):
    frozen = build_model(SMALL, digits.in_shape, digits.num_classes).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(frozen, digits, SMALL)


def test_fit_names_the_samples_a_model_cannot_read(digits):
    flat = torch.nn.Sequential(torch.nn.Linear(64, 10))  # digits are (1, 8, 8) images
    with pytest.raises(ValueError, match=r"cannot read the data's samples of shape \(1, 8, 8\)"):
        fit(flat, digits, SMALL)
    rows = torch.nn.Sequential(torch.nn.Linear(8, 10))  # reads each row: (1, 1, 8, 10)
    with pytest.raises(ValueError, match=r"shape \(1, 1, 8, 10\); expected \(1, 10\)"):
        fit(rows, digits, SMALL)


def test_evaluate_refuses_no_samples_where_it_gave_a_perfect_loss():
    model = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match="at least one; got 0 and 0"):
        evaluate(model, torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="got 3 and 2"):
        evaluate(model, torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))


def test_evaluate_refuses_one_output_where_it_scored_a_perfect_loss():
    """One output per sample: cross-entropy over a single class is 0 and every argmax is
    class 0, so all-zero labels scored loss 0 and accuracy 1 (review i116). The model is
    left in the mode it came in."""
    model = torch.nn.Linear(4, 1).train()
    with pytest.raises(ValueError, match=r"shape \(3, 1\); expected one score per class"):
        evaluate(model, torch.zeros(3, 4), torch.zeros(3, dtype=torch.long))
    assert model.training
    two = torch.nn.Linear(4, 2)
    torch.nn.init.zeros_(two.bias)
    scores = evaluate(two, torch.zeros(3, 4), torch.zeros(3, dtype=torch.long))
    assert scores.loss == pytest.approx(math.log(2))  # equal scores of 2 classes: ln 2
