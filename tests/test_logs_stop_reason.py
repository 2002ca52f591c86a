"""How a run ended, read back from its log: a ``stop_reason`` column holds nooverfit's
text (``history.csv``) or a :attr:`StopReason.code` (what the Lightning callback logs,
loggers taking numbers only), and the diagnosis reads it as it reads ``train``'s."""

from __future__ import annotations

import json
import math

import pytest

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

EPOCHS = 15  # patience:5 stops the curves below at epoch 14, 5 epochs past the best (9)


def _curves() -> tuple[list[float], list[float]]:
    """tests/test_monitor.py's overfitting curves: validation best at epoch 9."""
    train = [math.exp(-e / 6) for e in range(EPOCHS)]
    val = [1.0 - 0.5 * (1 - math.exp(-e / 3)) + 0.02 * max(0, e - 9) for e in range(EPOCHS)]
    return train, val


def _lightning_csv(stop: dict[int, str]) -> str:
    """A Lightning ``CSVLogger`` ``metrics.csv`` (a validation row, then the epoch-end
    training row, per epoch; one optimizer step an epoch), ``stop`` giving the
    ``stop_reason`` cell of an epoch's training row."""
    train, val = _curves()
    lines = ["epoch,step,stop_reason,train_loss_epoch,val_loss"]
    for e in range(EPOCHS):
        lines.append(f"{e},{e},,,{val[e]!r}")
        lines.append(f"{e},{e},{stop.get(e, '')},{train[e]!r},")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("1.0", "patience"), ("2", "generalization_loss"), ("4.0", "up"), ("patience", "patience")],
)
def test_read_log_stop_reason_at_the_last_epoch_is_the_runs(tmp_path, cell, reason):
    path = tmp_path / "metrics.csv"
    path.write_text(_lightning_csv({EPOCHS - 1: cell}))
    history = read_log(path)
    assert history.epoch == tuple(range(EPOCHS)) and history.stop_reason == reason
    assert diagnose(history).verdict is Verdict.GOOD_FIT  # the kept weights are epoch 9's


def test_read_log_without_stop_reason_reads_the_same_epochs_as_overfitting(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(_lightning_csv({}))
    history = read_log(path)
    assert history.stop_reason == "" and history.epoch == tuple(range(EPOCHS))
    assert diagnose(history).verdict is Verdict.OVERFITTING


@pytest.mark.parametrize("stop", [{9: "1.0"}, {EPOCHS - 1: "42"}, {EPOCHS - 1: "1.5"}])
def test_read_log_stop_reason_before_the_end_or_unknown_is_no_stop(tmp_path, stop):
    # a run that went on after epoch 9 was not stopped there; 42 and 1.5 are no code
    path = tmp_path / "metrics.csv"
    path.write_text(_lightning_csv(stop))
    history = read_log(path)
    assert history.stop_reason == ""
    assert diagnose(history).verdict is Verdict.OVERFITTING


def test_read_log_stop_reason_of_a_restarted_log_is_the_last_runs(tmp_path):
    # the first run stopped at epoch 3; the run restarted into the same file did not stop
    first = "epoch,step,stop_reason,train_loss_epoch,val_loss\n" + "".join(
        f"{e},{e},{'1.0' if e == 3 else ''},0.5,0.9\n" for e in range(4)
    )
    path = tmp_path / "metrics.csv"
    path.write_text(first + "".join(f"{e},{e},,0.5,0.9\n" for e in range(6)))
    history = read_log(path)
    assert len(history) == 6 and history.stop_reason == ""


def test_read_log_jsonl_stop_reason_code(tmp_path):
    train, val = _curves()
    rows = [
        {"epoch": e, "loss": train[e], "val_loss": val[e]}
        | ({"stop_reason": 3} if e == EPOCHS - 1 else {})
        for e in range(EPOCHS)
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_log(path).stop_reason == "progress_quotient"


def test_read_log_tensorboard_stop_reason_scalar(tmp_path):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    train, val = _curves()
    writer = SummaryWriter(str(tmp_path / "run"))
    for e in range(EPOCHS):  # two steps an epoch, as a Lightning TensorBoardLogger writes
        writer.add_scalar("train_loss_step", train[e], 2 * e)
        writer.add_scalar("epoch", e, 2 * e + 1)
        writer.add_scalar("val_loss", val[e], 2 * e + 1)
        writer.add_scalar("train_loss_epoch", train[e], 2 * e + 1)
        if e == EPOCHS - 1:
            writer.add_scalar("stop_reason", 1.0, 2 * e + 1)
    writer.close()
    history = read_log(tmp_path / "run")
    assert history.epoch == tuple(range(EPOCHS)) and history.stop_reason == "patience"
    assert diagnose(history).verdict is Verdict.GOOD_FIT
