"""Logs holding several runs (``logs/_resumed.py``): a run resumed from a checkpoint keeps
the epochs before the resume, a run restarted from the first epoch replaces the log."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.logs import read_log
from nooverfit.logs._resumed import join_runs


def _row(e: int) -> str:
    """A Keras CSVLogger row of a run overfitting from epoch 12 (val lowest there)."""
    loss = 2 * math.exp(-e / 6) + 0.02
    val = math.exp(-e / 5) + 0.4 + 0.02 * max(0, e - 12)
    return f"{e},{loss:.5f},{val:.5f}\n"


def test_read_log_resumed_keras_log_keeps_the_epochs_before_the_resume(tmp_path):
    """Review i111 B: epochs 0-24, then a run resumed with ``initial_epoch=20`` appending
    20-39 (``CSVLogger(append=True)``). The last run alone (20-39) put the best epoch at
    20 and advised ``--epochs 21``; the validation minimum is epoch 12."""
    log = tmp_path / "training.log"
    log.write_text(
        "epoch,loss,val_loss\n"
        + "".join(_row(e) for e in range(25))
        + "".join(_row(e) for e in range(20, 40))
    )
    history = read_log(log)
    assert history.epoch == tuple(range(40))
    assert history.val_loss[12] == min(history.val_loss)
    # the header is line 1, epochs 0-24 lines 2-26: the resumed run starts at line 27
    assert history.notes == (
        "the epoch goes back from 24 to 20 at line 27: a run resumed at epoch 20; "
        "epochs 20-24 of the earlier run replaced by the resumed run's",
    )
    result = diagnose(history)
    assert (result.best_epoch, result.epochs) == (12, 40)
    out = CliRunner().invoke(app, ["diagnose", str(log), "--format", "keras"])
    assert out.exit_code == 0, out.output
    # (a Keras CSVLogger's log: the remedy in Keras's words, epochs= in model.fit)
    said = " ".join(out.output.split())
    assert "epochs=13 in model.fit" in said and "epochs=21" not in said


def test_read_log_resumed_run_shorter_than_the_first_merges_no_rows(tmp_path):
    """Epochs from the resume on come from the resumed run only: the first run's epochs
    8-9, past where the resumed run (5-7) ended, are a branch dropped with it."""
    rows = [(e, 1.0) for e in range(10)] + [(e, 2.0) for e in range(5, 8)]
    log = tmp_path / "log.csv"
    log.write_text("epoch,val_loss\n" + "".join(f"{e},{v}\n" for e, v in rows))
    history = read_log(log)
    assert history.epoch == tuple(range(8))
    assert history.val_loss == (1.0,) * 5 + (2.0,) * 3
    assert "epochs 5-9 of the earlier run replaced" in history.notes[0]


@pytest.mark.parametrize(
    ("epochs", "kept", "says"),
    [
        # back to the first epoch: a restart, the last run only
        ([0, 1, 2, 3, 0, 1], [4, 5], ["back from 3 to 0 at the 5th row: a restarted run"]),
        # a log counting from 1 restarted at 1
        ([1, 2, 3, 1, 2], [3, 4], ["back from 3 to 1 at the 4th row: a restarted run"]),
        # resumed at 2, then resumed again at 3
        (
            [0, 1, 2, 3, 2, 3, 4, 3, 4],
            [0, 1, 4, 7, 8],
            ["resumed at epoch 2; epochs 2-3 of", "resumed at epoch 3; epochs 3-4 of"],
        ),
        # resumed at 2, then restarted: the restart replaces all before it
        ([0, 1, 2, 1, 2, 0, 1], [5, 6], ["back from 2 to 0 at the 6th row: a restarted"]),
        # resumed at epoch 2, one epoch of the earlier run replaced
        ([0, 1, 2, 2.5, 2], [0, 1, 4], ["epochs 2-2.5 of the earlier run"]),
        ([0, 1, 2, 1], [0, 3], ["a run resumed at epoch 1; epochs 1-2 of the earlier run"]),
        # validated every 2 epochs, resumed at 3
        ([0, 2, 4, 3], [0, 1, 3], ["a run resumed at epoch 3; epoch 4 of the earlier run"]),
        # Lightning's rows: several an epoch, the epoch never going back
        ([0, 0, 0, 1, 1, math.nan, 1], [0, 1, 2, 3, 4, 5, 6], []),
    ],
)
def test_join_runs_restart_and_resume(epochs, kept, says):
    rows = [{"epoch": float(e), "loss": 1.0} for e in epochs]
    got, notes = join_runs(rows)
    assert got == kept
    assert len(notes) == len(says)
    assert all(said in note for said, note in zip(says, notes, strict=True))


def _behind(epochs: int) -> list[str]:
    """A JSON-lines log whose evaluator runs behind training: the training rows of epochs
    1..``epochs``, then the validation rows of the same epochs (val lowest at epoch 6)."""
    train = [{"epoch": e, "step": 10 * e, "loss": round(1 / e, 4)} for e in range(1, epochs + 1)]
    val = [{"epoch": e, "step": 10 * e, "val_loss": abs(e - 6) / 10 + 0.5} for e in range(1, 21)]
    return [json.dumps(r) for r in train + val[:epochs]]


def test_read_log_validation_written_behind_training_completes_its_epochs(tmp_path):
    """Review i130: training rows for epochs 1-20 written before validation for epoch 1
    arrives read as a run restarted at line 21, the training curve dropped (``loss``
    missing) though no epoch repeated a value."""
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(_behind(20)) + "\n")
    history = read_log(log)
    assert history.epoch == tuple(range(1, 21))
    assert history.loss == tuple(round(1 / e, 4) for e in range(1, 21))
    assert history.val_loss == tuple(abs(e - 6) / 10 + 0.5 for e in range(1, 21))
    assert history.notes == ()
    assert diagnose(history).best_epoch == 6


def test_read_log_epochs_the_evaluator_has_not_reached_are_left_out(tmp_path):
    """Review i130: with training at epoch 10 and validation at epoch 4, epochs 5-10 read
    as logged without validation (``val_loss`` NaN, 10 epochs diagnosed), where they are
    epochs whose validation is still to come, as an unfinished last epoch is."""
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(_behind(10)[:14]) + "\n")
    history = read_log(log)
    assert history.epoch == (1, 2, 3, 4)
    assert history.val_loss == (1.0, 0.9, 0.8, 0.7)
    assert history.notes == ("epochs 5-10 have no validation value so far: left out",)
    # all validation in: the full run, no note
    log.write_text("\n".join(_behind(10)) + "\n")
    assert read_log(log).epoch == tuple(range(1, 11))
    assert read_log(log).notes == ()


def test_read_log_epochs_gone_nan_before_their_validation_are_kept(tmp_path):
    """Epochs whose training loss became NaN are a run diverging, not epochs waiting for
    their validation: they are read (and diagnosed as diverging)."""
    rows = _behind(10)[:14]
    rows[9] = json.dumps({"epoch": 10, "step": 100, "loss": math.nan})  # written NaN
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(rows) + "\n")
    assert read_log(log).epoch == tuple(range(1, 11))


@pytest.mark.parametrize(
    ("then", "kept", "says"),
    [
        # the same run restarted after its validation came in: the training loss repeats
        ([{"epoch": 1.0, "loss": 0.9}], [6], ["back from 3 to 1 at the 7th row: a restarted"]),
        # resumed at 2 after the validation came in: epoch 1's rows kept
        ([{"epoch": 2.0, "loss": 0.4}], [0, 3, 6], ["a run resumed at epoch 2; epochs 2-3"]),
        # a row of NaN going back completes nothing: a restarted run gone NaN
        ([{"epoch": 1.0, "val_loss": math.nan}], [6], ["a restarted run"]),
    ],
)
def test_join_runs_a_run_after_late_validation_still_restarts_or_resumes(then, kept, says):
    rows = [{"epoch": float(e), "loss": 1.0 / e} for e in (1, 2, 3)]
    rows += [{"epoch": 1.0, "val_loss": 0.5}, {"epoch": 2.0, "val_loss": 0.4}]
    rows += [{"epoch": 3.0, "val_loss": 0.45}, *then]
    got, notes = join_runs(rows)
    assert got == kept
    assert len(notes) == len(says)
    assert all(said in note for said, note in zip(says, notes, strict=True))


def test_read_log_resumed_jsonl_says_the_line(tmp_path):
    """A JSON-lines log counts lines as the file does, blank lines included."""
    log = tmp_path / "log.jsonl"
    records = [{"epoch": e, "loss": 1 / (e + 1), "val_loss": 1.0} for e in range(4)]
    lines = [json.dumps(r) for r in records] + [""] + [json.dumps(records[2])]
    log.write_text("\n".join(lines) + "\n")
    history = read_log(log)
    assert history.epoch == (0, 1, 2)
    assert "goes back from 3 to 2 at line 6: a run resumed at epoch 2" in history.notes[0]


def test_read_log_text_cell_and_stop_of_a_replaced_epoch_are_not_the_runs(tmp_path):
    """A text cell, and a stop, logged in rows the resumed run replaced are not noted."""
    log = tmp_path / "log.csv"
    log.write_text(
        "epoch,loss,val_loss,stop_reason\n0,1.0,1.0,\n1,0.9,0.9,\n2,0.8,abc,\n3,0.7,0.7,patience\n"
        "2,0.8,0.8,\n3,0.7,xyz,\n"
    )
    history = read_log(log)
    assert history.epoch == (0, 1, 2, 3)
    assert history.stop_reason == ""
    assert "1 cell of val_loss is not a number (line 7: 'xyz'); read as missing" in history.notes


def _tb_run(folder, steps, *, val=True):
    """One SummaryWriter over ``steps`` (a new event file in ``folder``): the training
    loss at step s is 1 / (1 + s) plus an offset per writer, so each value says which run
    wrote it; validation every step when ``val``."""
    from torch.utils.tensorboard import SummaryWriter

    offset = 10.0 * len(list(folder.glob("events.out.tfevents*")))  # 0 for the first run
    writer = SummaryWriter(str(folder))
    for s in steps:
        writer.add_scalar("train/loss", offset + 1 / (1 + s), s)
        if val:
            writer.add_scalar("val/loss", offset + 2 / (1 + s), s)
    writer.close()
    return offset


def test_a_tensorboard_run_resumed_into_its_folder_keeps_the_steps_before_the_resume(tmp_path):
    """A run of steps 0-9, resumed from a checkpoint at step 5 into the same folder (a new
    event file): steps 0-4 from the first file, 5-14 from the second, none mixed; where
    the files were merged by step, the second file's values overwrote the first's and
    nothing said so."""
    pytest.importorskip("tensorboard")
    _tb_run(tmp_path, range(10))
    offset = _tb_run(tmp_path, range(5, 15))
    h = read_log(tmp_path)
    assert h.epoch == tuple(range(15))
    assert h.loss[:5] == pytest.approx([1 / (1 + s) for s in range(5)])  # the first run's
    assert h.loss[5:] == pytest.approx([offset + 1 / (1 + s) for s in range(5, 15)])
    assert any("a run resumed at step 5" in n for n in h.notes), h.notes


def test_a_tensorboard_run_restarted_shorter_into_its_folder_is_read_alone(tmp_path):
    """A restart from step 0 that ends at step 4, beside a first run of steps 0-9: only the
    last run (5 steps), not its 5 steps followed by the first run's steps 5-9."""
    pytest.importorskip("tensorboard")
    _tb_run(tmp_path, range(10))
    offset = _tb_run(tmp_path, range(5))
    h = read_log(tmp_path)
    assert h.epoch == tuple(range(5))
    assert h.loss == pytest.approx([offset + 1 / (1 + s) for s in range(5)])
    assert any("a restarted run; reading the last run only" in n for n in h.notes), h.notes


def test_tensorboard_files_of_other_tags_in_one_folder_are_merged(tmp_path):
    """Two writers in one folder with their own tags (training in one file, validation in
    another, both from step 0) are one run, not a restart."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    for tag in ("train/loss", "val/loss"):
        writer = SummaryWriter(str(tmp_path))
        for s in range(6):
            writer.add_scalar(tag, 1 / (1 + s), s)
        writer.close()
    h = read_log(tmp_path)
    assert h.epoch == tuple(range(6)) and h.has("loss") and h.has("val_loss")
    assert not any("run" in n for n in h.notes), h.notes


def test_event_files_of_a_folder_sort_in_the_order_written(tmp_path):
    """A writer's tenth file in the same second (counter 10) comes after its ninth, not
    between its first and second as a string sort puts it."""
    from nooverfit.logs.tensorboard import event_files

    names = [f"events.out.tfevents.1764580000.host.42.{n}" for n in (0, 1, 2, 9, 10, 11)]
    names += ["events.out.tfevents.1764580001.host.42.0"]
    for name in reversed(names):
        (tmp_path / name).write_bytes(b"")
    assert [f.name for f in event_files(tmp_path)] == names


CONTINUED = Path(__file__).parent / "data" / "continued_fit_twice_digits_keras.csv"


def test_read_log_fit_called_twice_on_one_model_is_one_run():
    """s28 i152's hand-written Keras 3 run: ``model.fit()`` called twice on the same model
    (40 epochs each, ``CSVLogger(append=True)``, no ``initial_epoch``), so the epoch
    column goes back to 0 at line 42 while the weights train on: the second fit's first
    training loss is 0.0020, where the first ended (0.0021), not where it began (1.5).
    Read as a restart, the first fit was dropped, and with it validation's lowest epoch
    (21; its test curve, never seen by the diagnosis, is lowest in the first fit too):
    the best epoch said was the second fit's 4th. Both fits are one run, its epochs
    numbered on."""
    with CONTINUED.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == list(range(40)) * 2
    val = [float(r["val_loss"]) for r in rows]
    side = json.loads(CONTINUED.with_name(CONTINUED.stem + "_test_curve.json").read_text())
    assert int(np.argmin(side["test_loss"])) < 40
    h = read_log(CONTINUED)
    assert h.epoch == tuple(range(80))
    assert h.val_loss == pytest.approx(val) and h.loss == pytest.approx(
        [float(r["loss"]) for r in rows]
    )
    assert h.notes == (
        "the epoch goes back from 39 to 0 at line 42, but training went on from where it "
        "was (its losses start near the earlier run's last): read as one run, its epochs "
        "numbered on from 40",
    )
    assert diagnose(h).best_epoch == int(np.argmin(val)) == 21


def test_read_log_a_restart_from_scratch_is_still_a_restart(tmp_path):
    """A second run starting where the first started (new weights), or near neither
    run's end while the first fell too little to tell the two apart, is a restart."""
    log = tmp_path / "log.csv"
    again = "".join(_row(e) for e in range(5))
    log.write_text("epoch,loss,val_loss\n" + "".join(_row(e) for e in range(25)) + again)
    assert read_log(log).epoch == tuple(range(5))
    flat = "".join(f"{e},{1 - 0.01 * e},{1.1 - 0.01 * e}\n" for e in range(10))
    log.write_text("epoch,loss,val_loss\n" + flat + "0,0.9,1.0\n1,0.89,0.99\n")
    assert read_log(log).epoch == (0, 1)


def test_read_log_runs_going_on_twice_number_on_and_keep_a_resume_within(tmp_path):
    """Three fits of one model (epochs 0-9 each), the third resumed at its epoch 5 from a
    checkpoint: epochs 0-29, the resume replacing 25-29 as a resume does."""
    loss = [2 * math.exp(-k / 5) for k in range(30)]
    lines = [f"{k % 10},{loss[k]:.6f},{loss[k] + 0.1:.6f}\n" for k in range(30)]
    lines += [f"{e},{loss[20 + e] * 0.9:.6f},{loss[20 + e] + 0.05:.6f}\n" for e in range(5, 10)]
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,val_loss\n" + "".join(lines))
    h = read_log(log)
    assert h.epoch == tuple(range(30))
    assert h.loss[25:] == pytest.approx([loss[k] * 0.9 for k in range(25, 30)], abs=1e-6)
    assert sum("training went on" in n for n in h.notes) == 2
    assert any("a run resumed at epoch 25" in n for n in h.notes)
