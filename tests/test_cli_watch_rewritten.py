"""``nooverfit watch`` on a log that changes under it: a half-written line, a run
restarted into the same file, a log rewritten shorter."""

import json
import re
import threading

from typer.testing import CliRunner

from _watch import LOGS, once_watch_has, write_slowly
from nooverfit.cli import app
from nooverfit.history import best_index
from nooverfit.logs import read_log

runner = CliRunner()


def test_watch_stops_on_what_the_log_holds_not_on_a_half_written_line(tmp_path):
    """Epoch 8's line is written in two pieces ("8,0.04,0." then "71"): read at once it
    would be val_loss 0, the best epoch. The stop must keep the best complete epoch."""
    log = tmp_path / "training.csv"
    log.write_text("epoch,loss,val_loss\n")
    vals = [1.0, 0.9, 0.8, 0.7, 0.6, 0.52, 0.48, 0.48]
    rows = [f"{i},{1 - 0.12 * i:.2f},{v}\n" for i, v in enumerate(vals)]
    rows += ["8,0.04,0.", "71\n"] + [f"{i},0.0{i},0.{70 + i}\n" for i in range(9, 13)]
    writer = write_slowly(log, rows, pause=0.15)
    args = ["watch", str(log), "--criterion", "patience:3", "--idle", "3", "--interval", "0.02"]
    result = runner.invoke(app, args)
    writer.join()
    assert result.exit_code == 0, result.output
    final = read_log(log)
    assert final.epoch[best_index(final.val_loss)] == 6  # 0.48 first reached at epoch 6
    assert "keep the weights of epoch 6" in result.output
    assert "keep the weights of epoch 8" not in result.output


def test_watch_follows_a_restarted_log(tmp_path, monkeypatch):
    """A run restarted into the same file (epochs 0.. again): the epochs after the restart
    are printed, after a line saying the log changed."""
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines(keepends=True)
    log = tmp_path / "training.csv"
    log.write_text(lines[0])
    # each step waits until watch has read the one before: its reads come when they can.
    # The restart waits until watch has *shown* epoch 13, not only read it: a last epoch
    # read once is shown at the next read, once settled, and under load the restart came
    # first ("before the epochs 1 to 12 shown", 5 failures in 8 runs at load 4)
    first_run = once_watch_has(monkeypatch, "_show", lambda shown: len(shown[0]) >= 14)
    restarted = once_watch_has(
        monkeypatch, "read_log", lambda h: first_run.is_set() and len(h.epoch) == 1
    )
    writer = write_slowly(log, lines[1:15], pause=0.03)
    restart = write_slowly(log, lines[1:2], pause=0.03, after=first_run)
    rest = write_slowly(log, lines[2:6], pause=0.03, after=restarted)
    args = ["watch", str(log), "--idle", "3", "--interval", "0.01"]
    result = runner.invoke(app, args)
    for thread in (writer, restart, rest):
        thread.join()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # one line: the console wraps at 80 columns
    # the restart's epoch 0 logged the same values as the first run's
    said = "the log now ends at epoch 0, before the epochs 1 to 13 shown" in out
    assert said and "(a restarted run); following it from there" in out
    after = out.split("(a restarted run)")[1]
    assert len(re.findall(r"epoch \d+ loss", after)) >= 4  # the restarted run's epochs 1-4
    assert "restarted run" in out  # the final diagnosis's note


def test_watch_says_which_epochs_a_log_cut_short_lost(tmp_path, monkeypatch):
    """A log rewritten with its first epochs only (a run restarted that has logged fewer
    epochs so far): watch said "the log changed from epoch 4 on", an epoch the log no
    longer holds; it says where the log ends now."""
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines(keepends=True)
    log = tmp_path / "training.csv"
    log.write_text("".join(lines[:11]))  # epochs 0-9
    # the rewrite only once watch has shown epochs 0-9: the last when it has settled
    read_long = once_watch_has(monkeypatch, "_settled", lambda settled: settled)

    def rewrite() -> None:
        read_long.wait(30)
        short = tmp_path / "short.csv"
        short.write_text("".join(lines[:5]))  # epochs 0-3
        short.replace(log)

    writer = threading.Thread(target=rewrite)
    writer.start()
    result = runner.invoke(app, ["watch", str(log), "--idle", "3", "--interval", "0.02"])
    writer.join()
    assert result.exit_code == 0, result.output
    assert (
        "the log now ends at epoch 3, before the epochs 4 to 9 shown (a rewritten log)"
        in " ".join(result.output.split())
    )
    assert "changed from epoch" not in result.output
    assert re.search(r"^epochs +4 *$", result.output, re.M)  # the final diagnosis: 0-3


def test_watch_a_run_resumed_into_its_log_warns_once(tmp_path, monkeypatch):
    """A Keras run resumed at epoch 20 appends epochs 20-39 to a log holding 0-24: the
    STOP (epoch 16) and the warning (epoch 17) rest on epochs the resume keeps, so they
    stand; they were judged again and the warning given twice."""
    from test_logs_resumed import _row

    log = tmp_path / "training.csv"
    log.write_text("epoch,loss,val_loss\n")
    started = once_watch_has(monkeypatch, "_stamp", lambda stamp: stamp is not None)
    # each step waits until watch has read the one before (on a loaded machine rows
    # written 0.03 s apart came in fours: the log then ended past epoch 23 when read);
    # the resume waits until watch has shown epoch 24, not only read it (shown at the
    # next read, once settled: under load the resume came first, "to 23 shown")
    shown = once_watch_has(monkeypatch, "_show", lambda said: len(said[0]) >= 25)
    resumed = once_watch_has(
        monkeypatch, "read_log", lambda h: shown.is_set() and h.epoch[-1:] == (20,)
    )
    writers = (
        write_slowly(log, [_row(e) for e in range(25)], pause=0.03, after=started),
        write_slowly(log, [_row(20)], pause=0.03, after=shown),
        write_slowly(log, [_row(e) for e in range(21, 40)], pause=0.03, after=resumed),
    )
    result = runner.invoke(app, ["watch", str(log), "--idle", "3", "--interval", "0.01"])
    for writer in writers:
        writer.join()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert out.count("STOP:") == 1 and out.count("WARNING:") == 1
    assert "fired at epoch 16" in out and "overfitting seen at epoch 17" in out
    # the resumed run logged the same values: epochs 20-24 were cut, then came again
    assert re.search(r"the log now ends at epoch 2[0-3], before the epochs 2[1-4] to 24", out)
    assert "(a run resumed from a checkpoint); following it from there" in out
    assert "a run resumed at epoch 20" in out  # the final diagnosis's note


def test_watch_follows_validation_written_behind_training(tmp_path, monkeypatch):
    """Review i130: training rows for epochs 1-12 written before validation for epoch 1
    arrives (an evaluator running behind the training loop, one JSON-lines log). Watch
    read the validation rows as a restarted run: it reprinted every epoch with
    ``loss nan`` and diagnosed the validation curve alone. Now the epochs shown without
    validation are shown again once it comes in, each with both losses, and no restart is
    said."""
    train = [{"epoch": e, "loss": round(1 / e, 4)} for e in range(1, 13)]
    val = [{"epoch": e, "val_loss": abs(e - 6) / 10 + 0.5} for e in range(1, 13)]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in train))
    # validation once watch has shown the training rows (the last settled)
    shown = once_watch_has(monkeypatch, "_settled", lambda settled: True)
    writer = write_slowly(log, [json.dumps(r) + "\n" for r in val], pause=0.03, after=shown)
    args = ["watch", str(log), "--idle", "3", "--interval", "0.01"]
    result = runner.invoke(app, args)
    writer.join()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "(its validation came in after it was shown); following it from there" in out
    assert "restarted run" not in out and not re.search(r"(?<!val_)loss nan", out)
    after = out.split("following it from there")[-1]
    assert "val_loss nan" not in after
    assert re.search(r"epoch 12 loss 0\.0833 val_loss 1\.1 overfitting", after)
    assert "best epoch 6" in after
