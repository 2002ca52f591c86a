"""``nooverfit diagnose`` on the files nooverfit itself writes beside a run's log (s33
i175): a train run's metrics.json and model card were "no training or validation curve
recognized ... columns found: none", its model.pt "a zip archive ... a zipped run folder:
unzip it", tune's best.json "columns found: trials", and a study's runs/<key>.json (which
holds the run's curves) "columns found: none"."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.engine import RunResult
from nooverfit.history import History
from nooverfit.studies.store import RunStore

runner = CliRunner()


@pytest.fixture(scope="module")
def train_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "run"
    args = ["train", "--train-per-class", "5", "--epochs", "4", "--width", "8"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _refusal(path) -> str:
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()  # one line, no traceback
    return line


def test_a_train_runs_metrics_json_is_refused_naming_its_history(train_run):
    assert _refusal(train_run / "metrics.json") == (
        f"error: {train_run / 'metrics.json'} is a nooverfit train run's summary (its best "
        f"and final epochs), not a training log; expected its log "
        f"{train_run / 'history.csv'}, or the run's folder {train_run}"
    )


def test_a_model_card_is_refused_naming_the_logs(train_run):
    assert _refusal(train_run / "model.json") == (
        f"error: {train_run / 'model.json'} is a nooverfit model card (what predict reads), "
        "not a training log; expected the run's log: a train run's history.csv, a study's "
        f"histories/ files, or the folder {train_run} to diagnose"
    )


def test_a_checkpoint_is_named_as_one_not_as_a_zipped_folder(train_run, tmp_path):
    line = _refusal(train_run / "model.pt")
    assert line.startswith(
        f"error: {train_run / 'model.pt'} is a PyTorch checkpoint (torch.save), not text;"
    )
    assert "diagnose the log saved with it" in line and "unzip" not in line
    # any torch.save file, whatever its archive's name inside
    torch.save({"w": torch.zeros(2)}, tmp_path / "weights.bin")
    assert "is a PyTorch checkpoint (torch.save)" in _refusal(tmp_path / "weights.bin")


def test_the_run_folder_itself_is_diagnosed(train_run):
    result = runner.invoke(app, ["diagnose", str(train_run), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["log"] == str(train_run / "history.csv")


def test_tunes_best_json_is_refused_naming_the_best_trials_log(tmp_path):
    best = tmp_path / "best.json"
    keys = ("best_trial", "val_accuracy", "config", "importances", "counts", "trials")
    best.write_text(json.dumps({k: {} if k != "trials" else [] for k in keys}))
    assert _refusal(best) == (
        f"error: {best} is nooverfit tune's summary (its best trial), not a training log; "
        f"expected the best trial's log {tmp_path / 'best_history.csv'}, or the tuning's "
        f"folder {tmp_path}"
    )


def test_a_studys_stored_run_is_diagnosed_as_its_histories_csv(tmp_path):
    history = History.from_columns(
        {
            "loss": [1.0, 0.6, 0.4, 0.25, 0.15, 0.1, 0.06, 0.04],
            "val_loss": [1.1, 0.8, 0.7, 0.72, 0.8, 0.9, 1.0, 1.1],
            "accuracy": [0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99],
            "val_accuracy": [0.45, 0.6, 0.65, 0.64, 0.63, 0.62, 0.6, 0.6],
        },
        stop_reason="completed",
        kept_epoch=2,
    )
    config = RunConfig(epochs=8, label="baseline")
    store = RunStore(tmp_path / "runs")
    store.put(RunResult(config, history, {}, "sequential"), weights=False)
    (stored,) = store.records()
    (tmp_path / "histories").mkdir()  # as the study writes histories/, beside results.json
    history.save(tmp_path / "histories" / "baseline.csv")
    (tmp_path / "results.json").write_text("{}")

    def diagnosis(path) -> dict:
        result = runner.invoke(app, ["diagnose", str(path), "--json"])
        assert result.exit_code == 0, result.output
        return {k: v for k, v in json.loads(result.output).items() if k != "log"}

    stored_run = diagnosis(stored)
    assert stored_run == diagnosis(tmp_path / "histories" / "baseline.csv")
    assert stored_run["framework"] == "nooverfit"  # (its remedies in nooverfit's flags)
    assert stored_run["verdict"] == "overfitting" and stored_run["best_epoch"] == 2
