"""Lightning logs read mid-epoch (as ``nooverfit watch`` reads them live): an unfinished
epoch is left out, an epoch whose losses went NaN is kept."""

import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _watch import once_watch_has, write_slowly
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


def _plain_rows(epochs: int) -> list[list[str]]:
    """Lightning's ``metrics.csv`` under its defaults (``self.log("train_loss", loss)`` in
    ``training_step``: a plain name on step rows; ``val_loss`` and ``val_acc`` on the
    epoch's validation row), as chunks flushed mid-epoch: two step rows, then the third
    with the validation row. Validation is lowest at epoch 12 (0.4907)."""
    chunks, step = [], 0
    for e in range(epochs):
        loss = 2.0 * math.exp(-e / 6) + 0.02
        val = math.exp(-e / 5) + 0.4 + 0.02 * max(0, e - 12)
        rows = []
        for s in range(3):  # the steps' losses: loss + 0.04, + 0.02, + 0: their mean + 0.02
            rows.append(f"{e},{step},{loss + 0.02 * (2 - s):.4f},,\n")
            step += 1
        chunks += [rows[:2], [rows[2], f"{e},{step - 1},,{val:.4f},0.8\n"]]
    return chunks


def test_read_log_plain_step_loss_is_averaged_and_an_epoch_without_validation_left_out(
    tmp_path,
):
    """Review i111 A: a plain ``train_loss`` on step rows read as the last step's (one
    batch's) loss; the mean of the epoch's steps is what Lightning's ``train_loss_epoch``
    holds. An epoch read before its validation row, which every earlier epoch holds, is
    still running: left out, not shown with val_loss NaN."""
    rows = [row for chunk in _plain_rows(3) for row in chunk]
    log = _write(tmp_path / "metrics.csv", HEAD + "".join(rows[:10]))
    history = read_log(log)
    assert history.epoch == (0, 1)
    assert history.loss == pytest.approx((2.04, 2 * math.exp(-1 / 6) + 0.04), abs=1e-4)
    assert history.val_loss == (1.4, 1.2187)
    assert "epoch 2 has no validation value so far: left out" in history.notes
    assert "train_loss is logged up to 3 times an epoch: averaged per epoch" in history.notes
    # the epoch's steps went NaN: kept, read as NaN (a run diverging, not one running)
    gone = _write(tmp_path / "nan.csv", HEAD + "".join(rows[:8]) + "2,6,nan,,\n")
    assert read_log(gone).epoch == (0, 1, 2) and math.isnan(read_log(gone).loss[2])


HEAD = "epoch,step,train_loss,val_loss,val_acc\n"


def test_watch_a_lightning_log_flushed_mid_epoch_prints_each_epoch_once(tmp_path, monkeypatch):
    """Review i111 A: watch printed each epoch twice (val_loss nan, then its value), said
    "the log changed from epoch N on (a restarted or rewritten run)" at every epoch, and
    judged again printed the STOP 14 times and the warning 13 times in 30 epochs."""
    log = _write(tmp_path / "metrics.csv", HEAD)
    started = once_watch_has(monkeypatch, "_stamp", lambda stamp: stamp is not None)
    writer = write_slowly(log, ["".join(c) for c in _plain_rows(24)], pause=0.03, after=started)
    args = ["watch", str(log), "--idle", "0.6", "--interval", "0.01"]
    result = runner.invoke(app, args)
    writer.join()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "changed" not in out and "restarted" not in out and "nan" not in out
    assert [int(e) for e in re.findall(r"^epoch +(\d+) ", out, re.M)] == list(range(24))
    assert out.count("STOP:") == 1 and out.count("WARNING:") == 1
    assert "keep the weights of epoch 12" in out


def test_watch_real_lightning_csv_logger_shows_no_epoch_it_later_changes(tmp_path):
    """A real ``CSVLogger`` saves at every logging call (each step row, the validation
    row, the epoch-level row), rewriting the file when a column first appears. At every
    save the epochs watch would print (the last one once it holds its validation loss,
    and its training loss where it logs one at the epoch's end) are those of the finished
    log, and the plain step ``train_loss`` folds to Lightning's own epoch mean."""
    pl = pytest.importorskip("lightning.pytorch", reason="the lightning extra is missing")
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from nooverfit.cli.watch import _common, _rows, _settled

    class Net(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(8, 2)

        def training_step(self, batch, _):
            loss = F.cross_entropy(self.net(batch[0]), batch[1])
            self.log("train_loss", loss)  # Lightning's default: on_step only
            self.log("mean_loss", loss, on_step=False, on_epoch=True)  # the reference
            return loss

        def validation_step(self, batch, _):
            logits = self.net(batch[0])
            self.log("val_loss", F.cross_entropy(logits, batch[1]))
            self.log("val_acc", (logits.argmax(1) == batch[1]).float().mean())

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    saved: list[str] = []

    class Logger(pl.loggers.CSVLogger):
        def save(self) -> None:
            super().save()
            path = Path(self.experiment.metrics_file_path)
            if path.exists():
                saved.append(path.read_text())

    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(48, 8, generator=gen), torch.randint(0, 2, (48,), generator=gen)
    trainer = pl.Trainer(
        max_epochs=3,
        logger=Logger(tmp_path),
        log_every_n_steps=1,
        accelerator="cpu",
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    train = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=8)
    trainer.fit(Net(), train, DataLoader(TensorDataset(x[32:], y[32:]), batch_size=16))
    final = read_log(Path(trainer.logger.log_dir) / "metrics.csv")
    assert final.epoch == (0, 1, 2)
    assert final.loss == pytest.approx(final.column("mean_loss"), rel=1e-5)
    done = _rows(final)
    for i, text in enumerate(saved):
        rows = _rows(read_log(_write(tmp_path / f"save{i}.csv", text)))
        ready = len(rows) if _settled(rows, rows) else len(rows) - 1
        assert _common(rows[:ready], done) == ready, text
