import importlib
import math
import re
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.history import best_index
from nooverfit.logs import read_log
from nooverfit.stopping import replay

WATCH = importlib.import_module("nooverfit.cli.watch")
LOGS = Path(__file__).parent / "fixtures" / "logs"
DATA = Path(__file__).parent / "data"
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
    looked = _once_watch_has(monkeypatch, "_stamp")  # after it found no log yet
    writer = _write_slowly(log, ["epoch,loss,val_loss\n", rows], after=looked)
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


def _once_watch_has(monkeypatch, name: str, enough=lambda result: True) -> threading.Event:
    """An event set once watch's ``name`` (``read_log`` or ``_stamp``) has returned a
    result ``enough`` accepts: a writer waits on it rather than sleeping a guessed time,
    since watch's first read can come half a second or more after it was started."""
    seen = threading.Event()
    real = getattr(WATCH, name)

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        if enough(result):
            seen.set()
        return result

    monkeypatch.setattr(WATCH, name, spy)
    return seen


def _write_slowly(
    log: Path, chunks: list[str], pause: float = 0.05, after: threading.Event | None = None
) -> threading.Thread:
    """Append ``chunks`` to ``log`` ``pause`` s apart in a thread; first wait for
    ``after`` when given (at most 30 s)."""

    def write() -> None:
        if after is not None:
            after.wait(30)
        for chunk in chunks:
            time.sleep(pause)
            with log.open("a") as f:
                f.write(chunk)

    writer = threading.Thread(target=write)
    writer.start()
    return writer


def test_watch_stops_on_what_the_log_holds_not_on_a_half_written_line(tmp_path):
    """Epoch 8's line is written in two pieces ("8,0.04,0." then "71"): read at once it
    would be val_loss 0, the best epoch. The stop must keep the best complete epoch."""
    log = tmp_path / "training.csv"
    log.write_text("epoch,loss,val_loss\n")
    vals = [1.0, 0.9, 0.8, 0.7, 0.6, 0.52, 0.48, 0.48]
    rows = [f"{i},{1 - 0.12 * i:.2f},{v}\n" for i, v in enumerate(vals)]
    rows += ["8,0.04,0.", "71\n"] + [f"{i},0.0{i},0.{70 + i}\n" for i in range(9, 13)]
    writer = _write_slowly(log, rows, pause=0.15)
    args = ["watch", str(log), "--criterion", "patience:3", "--idle", "1", "--interval", "0.02"]
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
    # each step waits until watch has read the one before: its reads come when they can
    first_run = _once_watch_has(monkeypatch, "read_log", lambda h: len(h.epoch) >= 14)
    restarted = _once_watch_has(
        monkeypatch, "read_log", lambda h: first_run.is_set() and len(h.epoch) == 1
    )
    writer = _write_slowly(log, lines[1:15], pause=0.03)
    restart = _write_slowly(log, lines[1:2], pause=0.03, after=first_run)
    rest = _write_slowly(log, lines[2:6], pause=0.03, after=restarted)
    args = ["watch", str(log), "--idle", "0.8", "--interval", "0.01"]
    result = runner.invoke(app, args)
    for thread in (writer, restart, rest):
        thread.join()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # one line: the console wraps at 80 columns
    # the restart's epoch 0 logged the same values as the first run's
    said = "the log now ends at epoch 0, before the epochs 1 to 13 shown" in out
    assert said and "(a restarted or rewritten run); following it from there" in out
    after = out.split("(a restarted or rewritten run)")[1]
    assert len(re.findall(r"epoch \d+ loss", after)) >= 4  # the restarted run's epochs 1-4
    assert "restarted run" in out  # the final diagnosis's note


def test_watch_says_which_epochs_a_log_cut_short_lost(tmp_path, monkeypatch):
    """A log rewritten with its first epochs only (a run restarted that has logged fewer
    epochs so far): watch said "the log changed from epoch 4 on", an epoch the log no
    longer holds; it says where the log ends now."""
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines(keepends=True)
    log = tmp_path / "training.csv"
    log.write_text("".join(lines[:11]))  # epochs 0-9
    read_long = _once_watch_has(monkeypatch, "read_log")  # the rewrite only after it

    def rewrite() -> None:
        read_long.wait(30)
        short = tmp_path / "short.csv"
        short.write_text("".join(lines[:5]))  # epochs 0-3
        short.replace(log)

    writer = threading.Thread(target=rewrite)
    writer.start()
    result = runner.invoke(app, ["watch", str(log), "--idle", "1", "--interval", "0.02"])
    writer.join()
    assert result.exit_code == 0, result.output
    assert (
        "the log now ends at epoch 3, before the epochs 4 to 9 shown (a restarted or "
        "rewritten run)" in " ".join(result.output.split())
    )
    assert "changed from epoch" not in result.output
    assert re.search(r"^epochs +4 *$", result.output, re.M)  # the final diagnosis: 0-3


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


def _onset_and_best(val: list[float]) -> tuple[int, int]:
    """The issue's definitions, computed here: the best epoch is the lowest value (the
    first on ties); overfitting starts where the centered 5-point moving average (shrunk
    at the edges) is lowest, never before the best epoch."""
    best = val.index(min(val))
    average = [
        sum(val[max(0, i - 2) : i + 3]) / len(val[max(0, i - 2) : i + 3]) for i in range(len(val))
    ]
    return max(best, average.index(min(average))), best


def _one_line(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines at the terminal's width


@pytest.mark.parametrize(
    ("log", "final"),
    [(DATA / "flat_rmsprop_hf_90", "overfitting"), (DATA / "flat_rmsprop_hf", "good_fit")],
)
def test_watch_warning_says_it_is_provisional_and_the_end_says_what_changed(log, final):
    """A real Hugging Face Trainer run (RMSprop, a flat validation loss): at epoch 10 the
    epochs so far show overfitting with best epoch and onset 8; over all 90 epochs both are
    79, and over its first 30 the run is a good fit. watch warned "overfitting from epoch
    8", then its final diagnosis said 79 (or good fit) without a word on the change."""
    history = read_log(log)
    val = list(history.val_loss)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    out = _one_line(result.output)
    rows = [line.split() for line in result.output.splitlines() if line.startswith("epoch ")]
    seen = next(int(r[1]) for r in rows if r[-1] == "overfitting")  # the first such verdict
    onset, best = _onset_and_best(val[: seen + 1])
    assert (seen, onset, best) == (10, 8, 8)
    assert (
        f"WARNING: overfitting seen at epoch {seen}: on the epochs so far, best epoch {best} "
        f"and onset about epoch {onset} (provisional: later epochs can move both; the final "
        "diagnosis dates them)" in out
    )
    then = f"note: the warning at epoch {seen} (onset {onset}, best epoch {best}, from the "
    if final == "good_fit":
        assert "GOOD FIT" in out
        assert (
            f"{then}epochs then) was provisional: with all {len(val)} epochs the verdict is "
            "good_fit" in out
        )
        return
    onset, best = _onset_and_best(val)
    assert (onset, best) == (79, 79)
    assert f"best epoch {best} overfitting from epoch {onset}" in out
    assert (
        f"{then}epochs then) was provisional: with all {len(val)} epochs overfitting starts "
        f"at epoch {onset} and the best epoch is {best}" in out
    )


def test_watch_adds_no_note_when_the_final_diagnosis_dates_overfitting_as_the_warning():
    from nooverfit.cli.watch import _revised
    from nooverfit.diagnosis import Diagnosis, Gap, Verdict

    final = Diagnosis(
        Verdict.OVERFITTING,
        onset_epoch=8,
        best_epoch=6,
        generalization_loss=9.0,
        gap=Gap(),
        epochs=30,
    )
    assert _revised((12, 8, 6), final) == ()
    assert _revised(None, final) == ()
    assert _revised((12, 9, 6), final) == (
        "the warning at epoch 12 (onset 9, best epoch 6, from the epochs then) was "
        "provisional: with all 30 epochs overfitting starts at epoch 8 and the best epoch is 6",
    )


def test_watch_end_reconciles_the_stop_with_a_later_best_epoch(tmp_path):
    """gl:5 fires at epoch 3 (0.7 is 16.7 % above the best so far, 0.6 at epoch 2) and
    names epoch 2's weights; the run went on and reached 0.4 at epoch 5, the final best
    epoch. The end must say which weights are meant, not leave 2 and 5 side by side."""
    val = [1.0, 0.8, 0.6, 0.7, 0.5, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
    log = tmp_path / "training.csv"
    rows = "".join(f"{e},{0.9 / (e + 1):.4f},{v}\n" for e, v in enumerate(val))
    log.write_text("epoch,loss,val_loss\n" + rows)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    out = _one_line(result.output)
    assert "STOP: gl:5 fired at epoch 3 (generalization_loss); keep the weights of epoch 2" in out
    assert best_index(val) == 5
    assert (
        "note: the STOP at epoch 3 named the weights of epoch 2 (val_loss 0.6, the lowest up "
        "to the stop); training went on, and over all 12 epochs the best epoch is 5 (val_loss "
        "0.4): keep epoch 5's weights if they were saved, else epoch 2's" in out
    )


def test_watch_end_adds_no_stop_note_when_the_stop_named_the_final_best_epoch(tmp_path):
    val = [1.0, 0.8, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]  # gl:5 fires at 3; 2 stays the best
    log = tmp_path / "training.csv"
    rows = "".join(f"{e},{0.9 / (e + 1):.4f},{v}\n" for e, v in enumerate(val))
    log.write_text("epoch,loss,val_loss\n" + rows)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    assert "keep the weights of epoch 2" in result.output
    assert "the STOP at epoch" not in result.output


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
