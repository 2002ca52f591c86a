"""Regression tests from logs an independent reviewer (i53) wrote with real frameworks for
issue 15 (``tests/fixtures/logs/i53``), each beside a general test of the property it
broke: a verdict that holds when every loss is scaled or the training loss carries a
constant penalty, one best epoch and onset, per-step and per-epoch logs of one run that
read as the same epochs."""

from pathlib import Path

import numpy as np
import pytest

from _real_logs import LOGS, load
from nooverfit import diagnose
from nooverfit._learned import accuracy_learned
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log
from test_diagnose_metamorphic import transformed

I53 = Path(__file__).parent / "fixtures" / "logs" / "i53"


# --- per-step TensorBoard logs with an ``epoch`` scalar ----------------------------------


def test_an_epoch_scalar_counting_evaluated_at_gives_the_runs_epochs():
    """A SummaryWriter loop of 70 epochs of 4 steps logs ``epoch = ep + 1`` at each
    epoch's last step, with validation: 70 epochs (0 to 69), not 71, and the best epoch
    of the same run logged per epoch (17)."""
    h = read_log(I53 / "tbs_many_steps_ep")
    assert h.epoch == tuple(range(70))
    assert np.isfinite(h.val_loss).all()  # every epoch closes with its validation round
    assert h.best() == 17
    assert diagnose(h).best_epoch == 17


def _write_run(folder: Path, mode: str, train: np.ndarray, val: np.ndarray, per: int) -> None:
    """One run (``train``: per step; ``val``: per epoch) written by SummaryWriter with
    the ``epoch`` scalar as each convention writes it."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for ep, v in enumerate(val):
        if mode == "epoch":
            writer.add_scalar("train/loss", float(train[ep * per : (ep + 1) * per].mean()), ep)
            writer.add_scalar("val/loss", float(v), ep)
            continue
        for i in range(per):
            step = ep * per + i + 1
            writer.add_scalar("train/loss", float(train[step - 1]), step)
            if mode == "hf":  # Hugging Face's state.epoch: steps done / steps per epoch
                writer.add_scalar("epoch", step / per, step)
            elif mode == "lightning":  # Lightning's current_epoch: 0 in the first
                writer.add_scalar("epoch", float(ep), step)
        if mode == "done":  # ep + 1 at the epoch's last step, beside validation
            writer.add_scalar("epoch", float(ep + 1), step)
        writer.add_scalar("val/loss", float(v), step)
    writer.close()


@pytest.mark.parametrize("mode", ["done", "hf", "lightning"])
def test_per_step_and_per_epoch_logs_of_one_run_read_the_same(tmp_path, mode):
    pytest.importorskip("tensorboard")
    rng = np.random.default_rng(0)
    epochs, per = 30, 5
    val = 1 / (1 + np.arange(epochs)) + 0.004 * (np.arange(epochs) - 12).clip(0) ** 2
    train = np.repeat(1 / (1 + np.arange(epochs)) * 0.8, per) * rng.uniform(0.9, 1.1, epochs * per)
    _write_run(tmp_path / "epoch", "epoch", train, val, per)
    _write_run(tmp_path / mode, mode, train, val, per)
    by_epoch, by_step = read_log(tmp_path / "epoch"), read_log(tmp_path / mode)
    assert by_step.epoch == by_epoch.epoch == tuple(range(epochs))
    assert by_step.best() == by_epoch.best()
    assert by_step.loss == pytest.approx(by_epoch.loss, rel=1e-5)  # each epoch's own steps
    assert diagnose(by_step).verdict is diagnose(by_epoch).verdict


# --- the loss level against ln K is no evidence where the accuracy shows learning -------


def test_a_summed_cross_entropy_with_an_accuracy_that_moves_is_overfitting():
    """BCE with ``reduction="sum"``: validation loss 185 at best (epoch 5), then a steady
    climb to 1000, validation accuracy about 0.8 and still moving. A sum is far above the
    0.69 nats of a constant predictor, yet that says nothing: a textbook overfit."""
    h = read_log(I53 / "tb_sum_reduction")
    assert np.nanmin(h.val_loss) > 100
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == 5
    assert "saturated" not in d.explanation


def test_a_keras_log_scaled_by_100_keeps_its_verdict():
    """The reviewer's Keras moons run with every loss multiplied by 100: the accuracy
    rose from 0.65 to 1.0 on training, so the verdict and epochs stay the original's."""
    original = diagnose(read_log(I53 / "k_moons_of.csv"))
    scaled = diagnose(read_log(I53 / "k_moons_of__x100.csv"))
    assert original.verdict is Verdict.OVERFITTING
    assert (scaled.verdict, scaled.best_epoch, scaled.onset_epoch) == (
        original.verdict,
        original.best_epoch,
        original.onset_epoch,
    )


def _classifier(epochs: int = 60, *, overfit: bool = True) -> History:
    """A classifier's mean cross-entropy curves and accuracies (a hand-made reference)."""
    e = np.arange(epochs, dtype=float)
    train = 0.69 * np.exp(-e / 8) + 0.01
    val = 0.69 * np.exp(-e / 6) + 0.3 + (0.004 * (e - 20).clip(0) if overfit else 0.0)
    acc = 1 - 0.5 * np.exp(-e / 6)
    val_acc = 0.85 - 0.35 * np.exp(-e / 5) + 0.005 * np.sin(e)
    return History.from_columns(
        {"loss": train, "val_loss": val, "accuracy": acc, "val_accuracy": val_acc}
    )


@pytest.mark.parametrize("overfit", [True, False])
@pytest.mark.parametrize(("train_scale", "val_scale"), [(100, 100), (1e4, 1e4), (32, 400)])
def test_scaled_or_summed_losses_of_a_learning_classifier_keep_the_verdict(
    overfit, train_scale, val_scale
):
    """Every loss times a constant, or summed over batches of 32 and a validation set of
    400 (``reduction="sum"``): the accuracies rose, so the verdict is the mean's."""
    h = _classifier(overfit=overfit)
    columns = {n: list(h.column(n)) for n in ("loss", "val_loss", "accuracy", "val_accuracy")}
    columns["loss"] = [train_scale * v for v in columns["loss"]]
    columns["val_loss"] = [val_scale * v for v in columns["val_loss"]]
    expected = diagnose(h).verdict
    assert expected is Verdict.OVERFITTING  # (a rise, or the accuracy gap when flat)
    assert diagnose(History.from_columns(columns)).verdict is expected


# --- a constant penalty on the training loss ----------------------------------------------


def test_a_constant_added_to_a_keras_mae_training_loss_keeps_overfitting():
    """The reviewer's Keras MAE run (friedman1) with 1 added to every training loss: the
    training loss now sits above validation, but the ``mae`` column beside it holds no
    penalty and shows the memorization: overfitting, as the original."""
    original = diagnose(read_log(I53 / "k_friedman_mae_of.csv"))
    penalized = diagnose(read_log(I53 / "k_friedman_mae_of__plus1.csv"))
    assert original.verdict is Verdict.OVERFITTING
    assert (penalized.verdict, penalized.best_epoch) == (original.verdict, original.best_epoch)


@pytest.mark.parametrize("penalty", [0.1, 1.0, 10.0])
def test_a_penalty_on_the_training_loss_beside_a_logged_error_keeps_the_verdict(penalty):
    """A regression whose training MAE falls to a tenth of validation's while validation
    drifts up a little (memorization); a constant of any size on the training loss alone,
    with ``mae``/``val_mae`` logged, leaves the verdict alone."""
    e = np.arange(80, dtype=float)
    train = 0.6 * np.exp(-e / 3) + 0.05  # flat once validation turns: no widening gap
    val = 0.45 * np.exp(-e / 6) + 0.5 + 0.001 * (e - 15).clip(0)
    columns = {"loss": train, "mae": train, "val_loss": val, "val_mae": val}
    expected = diagnose(History.from_columns(columns)).verdict
    assert expected is Verdict.OVERFITTING
    penalized = columns | {"loss": train + penalty}
    assert diagnose(History.from_columns(penalized)).verdict is expected


# The gap read from the ln 2 bound on a training cross-entropy is scale-bound by design
# (test_diagnose_metamorphic's BOUND_GAP): a loss 1000x larger bounds nothing.
LEARNED = [
    n
    for n in sorted(LOGS)
    if n not in {"gap_from_loss_bound_hf", "gap_from_loss_bound_tensorboard"}
    and accuracy_learned(load(n))
]


@pytest.mark.parametrize("name", LEARNED)
def test_real_runs_whose_accuracy_learned_keep_their_verdict_with_larger_losses(name):
    """Every loss multiplied by 10, 100 or 1000 (a sum over samples, a scaled loss): a
    real run whose accuracy shows it learned keeps its verdict."""
    h = load(name)
    expected = diagnose(h).verdict
    for scale in (10.0, 100.0, 1000.0):
        assert diagnose(transformed(h, scale=scale)).verdict is expected, scale
