"""``nooverfit watch``: following a growing log, waiting for one not yet created, and
bad input (a criterion, a folder, a log never created, never readable) in one line, exit 2."""

import re
import threading
import time

import pytest
from typer.testing import CliRunner

from _watch import LOGS, once_watch_has, write_slowly
from nooverfit.cli import app
from nooverfit.logs import read_log
from nooverfit.stopping import replay

runner = CliRunner()


def test_watch_follows_a_growing_log_and_warns_once(tmp_path):
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines(keepends=True)
    log = tmp_path / "training.csv"
    log.write_text(lines[0])

    def write() -> None:
        for line in lines[1:]:
            time.sleep(0.02)
            with log.open("a") as f:
                f.write(line)

    writer = threading.Thread(target=write)
    writer.start()
    result = runner.invoke(
        app, ["watch", str(log), "--criterion", "gl:5", "--idle", "0.6", "--interval", "0.01"]
    )
    writer.join()
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("epoch ") >= 20
    ref = replay("gl:5", read_log(log).val_loss)
    assert out.count("STOP:") == 1
    assert f"fired at epoch {ref.stop_epoch}" in out
    assert out.count("WARNING:") == 1
    assert "final diagnosis" in out and "OVERFITTING" in out


def test_watch_bad_criterion_exit_2(tmp_path):
    result = runner.invoke(app, ["watch", str(tmp_path / "x.csv"), "--criterion", "soon"])
    assert result.exit_code == 2
    assert "not understood" in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # review i130: an unknown --format was said only once --idle ran out (300 s)
        (["--format", "xml"], "error: --format must be one of auto, keras, lightning, "),
        # review i130: --idle -1 read "in [0, ...]", --idle 0 "must be > 0"
        (["--idle", "0"], "error: --idle must be a number in (0, 1000000000], got 0.0"),
        (["--idle", "-1"], "error: --idle must be a number in (0, 1000000000], got -1.0"),
        (["--interval", "0"], "error: --interval must be a number in (0, 1000000], got 0.0"),
        # i165: one column as both curves watched a run with no gap, whatever it did
        (["--train-col", "loss", "--val-col", "loss"], "error: --train-col and --val-col both"),
    ],
)
def test_watch_bad_option_is_one_line_exit_2_at_once(tmp_path, args, said):
    log = tmp_path / "training.csv"
    log.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n")
    start = time.monotonic()
    result = runner.invoke(app, ["watch", str(log), "--idle", "30", *args])
    assert time.monotonic() - start < 10  # not after --idle
    assert result.exit_code == 2, result.output
    assert result.output.startswith(said) and result.output.count("\n") == 1, result.output


def test_watch_never_written_log_exit_2(tmp_path):
    (tmp_path / "x.csv").touch()  # created by the training, never written to
    result = runner.invoke(
        app, ["watch", str(tmp_path / "x.csv"), "--idle", "0.2", "--interval", "0.05"]
    )
    assert result.exit_code == 2
    assert "never held a readable log" in result.output


def test_watch_log_in_a_missing_folder_is_one_line_exit_2(tmp_path):
    result = runner.invoke(
        app, ["watch", str(tmp_path / "typo" / "x.csv"), "--idle", "5", "--interval", "0.05"]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output
    assert "does not exist" in result.output and "watching" not in result.output


def test_watch_waits_for_a_log_not_yet_created(tmp_path, monkeypatch):
    """watch started before the training: the log appears later and is followed."""
    log = tmp_path / "later.csv"
    rows = "".join(f"{e},{1 / (e + 1):.4f},{0.5 + abs(e - 10) / 40:.4f}\n" for e in range(30))
    looked = once_watch_has(monkeypatch, "_stamp")  # after it found no log yet
    writer = write_slowly(log, ["epoch,loss,val_loss\n", rows], after=looked)
    result = runner.invoke(app, ["watch", str(log), "--idle", "1", "--interval", "0.05"])
    writer.join()
    assert result.exit_code == 0, result.output
    assert "waiting up to 1 s for it to be created" in result.output
    assert "final diagnosis" in result.output


def test_watch_log_never_created_exit_2(tmp_path):
    result = runner.invoke(
        app, ["watch", str(tmp_path / "x.csv"), "--idle", "0.2", "--interval", "0.05"]
    )
    assert result.exit_code == 2
    assert "was never created" in result.output


def test_watch_says_why_a_log_never_read_and_when_pq_cannot_fire(tmp_path):
    """A folder of two runs cannot be watched: the error says so. ``pq`` on a log
    without training loss never fires: watch says so once instead of staying silent."""
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text((LOGS / "keras_overfit.csv").read_text())
    result = runner.invoke(app, ["watch", str(tmp_path), "--idle", "0.2", "--interval", "0.05"])
    assert result.exit_code == 2 and "holds 2 runs" in result.output
    log = tmp_path / "val_only.csv"
    log.write_text(
        "epoch,val_loss\n" + "".join(f"{e},{1 + (e - 5) ** 2 / 50}\n" for e in range(9))
    )
    args = ["watch", str(log), "--criterion", "pq:0.5", "--idle", "0.2", "--interval", "0.05"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.output.count("needs the training loss") == 1


def test_watch_says_early_why_a_log_with_rows_cannot_be_read(tmp_path):
    # complete rows whose columns are no curve: said once when half of --idle has passed
    # (at most 10 s), not only in the error when --idle runs out
    log = tmp_path / "x.csv"
    log.write_text("epoch,foo,bar\n0,1,2\n1,1,2\n")
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.6", "--interval", "0.05"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    (note,) = [line for line in lines if line.startswith("note:")]
    assert "no training or validation curve recognized" in note and "still waiting" in note
    assert "never held a readable log" in lines[-1]


def test_watch_says_at_once_a_csv_log_written_without_the_named_column(tmp_path):
    """--val-col naming a column the log's header lacks, rows already written under it:
    the column can never appear, yet watch waited the whole --idle (300 s by default)
    before its error. It says so at once, in one line, naming the columns found."""
    log = tmp_path / "x.csv"
    log.write_text("epoch,loss,val\n0,1.0,1.1\n1,0.9,1.0\n")
    began = time.monotonic()
    args = ["watch", str(log), "--val-col", "val_loss_x", "--idle", "2", "--interval", "0.05"]
    result = runner.invoke(app, args)
    assert time.monotonic() - began < 10 and result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        f"error: column 'val_loss_x' (--val-col) is not in {log}, whose header is written "
        "(columns: epoch, loss, val) with rows under it; expected one of its columns"
    )
    assert "Traceback" not in result.output and log.read_text().startswith("epoch,loss,val\n")
    result = runner.invoke(app, [*args[:2], "--train-col", "tl", *args[4:]])
    assert result.exit_code == 2 and "column 'tl' (--train-col) is not in" in result.output


def test_watch_waits_for_a_named_column_while_no_row_is_written(tmp_path, monkeypatch):
    """A header alone may still be rewritten (a logger that widens it when a metric first
    appears): the column named is waited for, and the log is followed once it is there."""
    log = tmp_path / "later.csv"
    log.write_text("epoch,loss\n")
    looked = once_watch_has(monkeypatch, "_stamp", lambda stamp: stamp is not None)
    rows = "".join(f"{e},{1 / (e + 1):.4f},{0.5 + abs(e - 10) / 40:.4f}\n" for e in range(20))
    writer = threading.Thread(
        target=lambda: (looked.wait(30), time.sleep(0.1), log.write_text("epoch,loss,v\n" + rows))
    )
    writer.start()
    args = ["watch", str(log), "--val-col", "v", "--idle", "1", "--interval", "0.05"]
    result = runner.invoke(app, args)
    writer.join()
    assert result.exit_code == 0, result.output
    assert "final diagnosis" in result.output


def test_watch_interrupted_before_the_log_was_created_says_so(tmp_path, monkeypatch):
    """Ctrl-C a few seconds in, before the log appeared: watch said "x.csv was never
    created in 300 s", a wait that never happened. It says it was interrupted."""
    from _watch import WATCH

    def interrupt(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(WATCH, "_stamp", interrupt)
    result = runner.invoke(app, ["watch", str(tmp_path / "x.csv"), "--interval", "0.05"])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"error: {tmp_path / 'x.csv'} was not created in the \d+ s before the interruption; "
        "expected a log being written",
        last,
    ), last
    assert "300 s" not in last


@pytest.mark.parametrize("validated", ["val_acc", ""])
def test_watch_says_once_that_a_log_without_val_loss_never_stops(tmp_path, validated):
    """A log without validation loss: watch printed 'val_loss nan' at every epoch and no
    word that its criterion, which reads the validation loss, could never fire. A log of
    validation accuracy shows it on each line, as the verdict reads it."""
    log = tmp_path / "log.csv"
    header = "epoch,loss" + (f",{validated}" if validated else "")
    rows = [
        f"{e},{1 / (e + 1):.4f}" + (f",{0.6 + 0.01 * e:.2f}" if validated else "")
        for e in range(8)
    ]
    log.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.2", "--interval", "0.05"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note: no val_loss")]
    then = "the verdict reads val_accuracy" if validated else "no verdict is possible before"
    columns = "loss, val_accuracy" if validated else "loss"
    assert len(notes) == 1 and notes[0].startswith(
        f"note: no val_loss in the 8 epochs logged so far (columns: {columns}): the "
        f"early-stopping criterion reads it and will not fire; {then}"
    )
    shown = "val_accuracy 0.67" if validated else "val_loss nan"
    assert re.search(rf"epoch +7  loss 0\.125  {shown}  ", result.output)


def test_watch_gives_a_log_three_epochs_to_log_a_validation_loss(tmp_path):
    """Keras's validation_freq=3 logs the first validation loss at epoch 2: two epochs
    without it are no reason for the note."""
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,val_loss\n0,1.0,NA\n1,0.5,NA\n")
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.2", "--interval", "0.05"])
    assert result.exit_code == 0, result.output
    assert "epoch    1  loss 0.5  val_loss nan" in result.output
    assert "no val_loss" not in result.output
