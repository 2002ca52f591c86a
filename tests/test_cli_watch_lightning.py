"""Lightning logs read mid-epoch (as ``nooverfit watch`` reads them live): an unfinished
epoch is left out, an epoch whose losses went NaN is kept."""

import math
from pathlib import Path

from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.logs import read_log

LOGS = Path(__file__).parent / "fixtures" / "logs"
runner = CliRunner()


def _lightning_rows(epochs: int, last_steps: str = "") -> str:
    """A Lightning ``metrics.csv``: per epoch two step rows, a validation row and an
    epoch row; ``last_steps`` (step-level losses) opens one more epoch, not finished."""
    lines = ["epoch,step,train_loss_step,train_loss_epoch,val_loss,lr-Adam"]
    for e in range(epochs):
        loss = 1 / (e + 1)
        lines += [f"{e},{2 * e},{loss + 0.01:.4f},,,", f"{e},{2 * e + 1},{loss:.4f},,,"]
        lines += [f"{e},{2 * e + 1},,,{loss + 0.2:.4f},", f"{e},{2 * e + 1},,{loss:.4f},,0.001"]
    lines += [f"{epochs},{2 * epochs + k},{v},,," for k, v in enumerate(last_steps.split())]
    return "\n".join(lines) + "\n"


def test_a_lightning_log_read_mid_epoch_is_not_a_run_gone_nan(tmp_path):
    """Lightning writes an epoch's step rows before its validation and epoch rows: read
    in between (watched live, or a run stopped mid-epoch), that epoch held no epoch-level
    loss, was read as NaN, and the run was called diverging ("the loss became NaN"). It is
    left out, with a note; step losses that are NaN themselves still end the run as NaN."""
    from nooverfit import diagnose

    log = tmp_path / "metrics.csv"
    log.write_text(_lightning_rows(6, last_steps="0.1400 0.1300"))
    history = read_log(log)
    assert history.epoch == (0, 1, 2, 3, 4, 5)
    assert history.loss == read_log(_write(tmp_path / "done.csv", _lightning_rows(6))).loss
    assert "epoch 6 has only step-level values so far: left out" in history.notes
    assert diagnose(history).verdict.value != "diverging"
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.05"])
    assert result.exit_code == 0, result.output
    assert "epoch    5" in result.output and "epoch    6" not in result.output
    assert "nan" not in result.output and "DIVERGING" not in result.output
    log.write_text(_lightning_rows(6, last_steps="nan nan"))  # the run did go NaN
    gone = read_log(log)
    assert gone.epoch[-1] == 6 and math.isnan(gone.loss[-1])


def test_a_lightning_run_gone_nan_within_its_last_epoch_reads_as_nan():
    """Review i88 finding 1: the last epoch's step losses were finite, then NaN (0.3, 5.0,
    nan, nan) and its epoch-end rows NaN. The rule above left that epoch out as "only
    step-level values so far" because some step value was finite, hiding the NaN: the
    run read STILL_IMPROVING. It keeps the epoch: its loss is NaN and the run diverged."""
    from nooverfit import diagnose

    history = read_log(LOGS / "lightning_nan_mid_last_epoch.csv")
    assert history.epoch == tuple(range(11))
    assert math.isnan(history.loss[-1]) and math.isnan(history.val_loss[-1])
    assert not any("step-level values so far" in note for note in history.notes)
    assert diagnose(history).verdict.value == "diverging"


def test_a_step_loss_gone_nan_beside_a_finite_step_accuracy_keeps_the_epoch(tmp_path):
    """A step row whose loss is NaN while its accuracy is still a number: the loss went
    NaN, the epoch is not merely unfinished."""
    head = "epoch,step,train_loss_step,train_acc_step,train_loss_epoch,train_acc_epoch,val_loss\n"
    done = "0,0,0.9,0.5,,,\n0,0,,,,,1.0\n0,0,,,0.9,0.5,\n"
    sound = read_log(_write(tmp_path / "a.csv", head + done + "1,1,0.8,0.6,,,\n"))
    assert sound.epoch == (0,)
    gone = read_log(_write(tmp_path / "b.csv", head + done + "1,1,0.8,0.6,,,\n1,2,nan,0.6,,,\n"))
    assert gone.epoch == (0, 1) and math.isnan(gone.loss[-1])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
