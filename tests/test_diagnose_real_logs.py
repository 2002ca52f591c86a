"""Reading real logs (``tests/_real_logs.py``) as a user points ``diagnose`` at them: a
Hugging Face file and its checkpoint folder, per-step TensorBoard logs, a restarted run, a
folder of several runs, and ``--fail-on``'s exit codes."""

import json
import shutil
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from _real_logs import LOGS, REAL, load
from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.diagnosis import Verdict
from nooverfit.logs import list_runs, read_log


def test_hugging_face_file_and_checkpoint_folder_read_alike():
    a, b = load("overfit_hf"), load("overfit_hf_checkpoint")
    state = json.loads((REAL / LOGS["overfit_hf"]).read_text())
    assert a == b
    assert len(a) == state["num_train_epochs"]  # fractional epochs grouped, not steps
    assert any("averaged per epoch" in n for n in a.notes)
    assert a.has("loss") and a.has("val_loss") and a.has("val_accuracy")


def test_tensorboard_per_step_logs_become_epochs():
    with_epoch, without = load("steps_epoch_tensorboard"), load("steps_only_tensorboard")
    assert len(with_epoch) == len(without) <= 30
    assert with_epoch.val_loss == pytest.approx(without.val_loss)
    assert not with_epoch.notes
    assert any("validation rounds" in n for n in without.notes)


def test_restarted_run_diagnoses_the_last_run(tmp_path):
    first = (REAL / LOGS["collapse_keras"]).read_text()
    second = (REAL / LOGS["short_still_falling_keras"]).read_text()
    log = tmp_path / "training.log"
    log.write_text(first + "".join(second.splitlines(keepends=True)[1:]))
    h = read_log(log)
    assert any("restarted run" in n for n in h.notes)
    assert h == replace(load("short_still_falling_keras"), notes=h.notes)
    assert diagnose(h).verdict is Verdict.STILL_IMPROVING


def test_folder_of_runs_is_listed_never_merged(tmp_path):
    for name in ("gap_flat_val_lightning", "steps_epoch_tensorboard"):
        shutil.copytree(REAL / LOGS[name], tmp_path / name)
    runs = list_runs(tmp_path)
    assert len(runs) == 2
    with pytest.raises(ValueError, match="holds 2 runs"):
        read_log(tmp_path)
    result = CliRunner().invoke(app, ["diagnose", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 runs" in result.output and "overfitting" in result.output
    failed = CliRunner().invoke(app, ["diagnose", str(tmp_path), "--fail-on", "overfitting"])
    assert failed.exit_code == 1


@pytest.mark.parametrize(
    ("name", "fail_on", "code"),
    [
        ("memorization_tensorboard", "overfitting,diverging", 1),
        ("collapse_keras", "overfitting,diverging", 1),
        ("steps_epoch_tensorboard", "overfitting,diverging", 0),
        ("steps_epoch_tensorboard", "overfit", 2),
        # verdict names are read case-insensitively (the report prints "OVERFITTING")
        ("memorization_tensorboard", "Overfitting", 1),
        ("collapse_keras", "DIVERGING,Good-Fit", 1),
        ("steps_epoch_tensorboard", "Overfitting,Diverging", 0),
    ],
)
def test_fail_on_exit_codes(name, fail_on, code):
    result = CliRunner().invoke(app, ["diagnose", str(REAL / LOGS[name]), "--fail-on", fail_on])
    assert result.exit_code == code, result.output


def test_folder_table_gives_the_run_names_the_width(tmp_path):
    """At 80 columns the folder's table keeps its short columns whole (a verdict, the
    numbers and their headers on one line each) and gives the run's path what is left;
    it had folded every path into 17-character pieces beside an "overfitting from"
    header."""
    long = "a_run_whose_name_is_rather_long_for_a_table_cell"
    for name in ("gap_flat_val_lightning", "steps_epoch_tensorboard"):
        shutil.copytree(REAL / LOGS[name], tmp_path / f"{long}_{name}")
    result = CliRunner().invoke(app, ["diagnose", str(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if "verdict" in line)
    assert "epochs" in header and "best epoch" in header and "onset" in header
    row = next(line for line in lines if long[:10] in line)
    # the verdict stays whole on the run's first line, and the path gets 25+ characters
    assert "overfitting" in row or "good_fit" in row
    assert len(row.split("│")[1].strip()) >= 25
    assert max(len(line) for line in lines) <= 80
