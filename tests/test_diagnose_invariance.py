"""Regression tests from logs an independent reviewer (i53) wrote with real frameworks for
issue 15 (``tests/fixtures/logs/i53``), each beside a general test of the property it
broke: a verdict that holds when every loss is scaled or the training loss carries a
constant penalty, one best epoch and onset, per-step and per-epoch logs of one run that
read as the same epochs."""

from pathlib import Path

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit.logs import read_log

I53 = Path(__file__).parent / "fixtures" / "logs" / "i53"


# --- per-step TensorBoard logs with an ``epoch`` scalar ----------------------------------


def test_an_epoch_scalar_counting_epochs_done_gives_the_runs_epochs():
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
