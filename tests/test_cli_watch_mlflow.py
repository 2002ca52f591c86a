"""``nooverfit watch`` on an MLflow run folder: lines appended to its ``metrics/<name>``
files are new epochs; an experiment folder of several runs asks for one at once."""

import time

import pytest
from typer.testing import CliRunner

from _watch import once_watch_has, write_slowly
from nooverfit.cli import app
from nooverfit.logs import read_log
from nooverfit.stopping import replay
from test_logs_mlflow import T0, N, curves, epoch_run, metric

runner = CliRunner()


def test_watch_follows_an_mlflow_run_as_its_metric_files_grow(tmp_path, monkeypatch):
    """As ``mlflow.log_metric(name, value, step=epoch)`` writes them: each epoch a line
    appended to ``metrics/train_loss``, then one to ``metrics/val_loss``. Each epoch is
    printed once it is complete, once."""
    run = tmp_path / "mlruns" / "0" / "abc123"
    metric(run, "train_loss", [(0, curves(0)[0])])
    metric(run, "val_loss", [(0, curves(0)[1])])
    lines = [
        (run / "metrics" / name, f"{T0 + 1000 * e} {curves(e)[i]!r} {e}\n")
        for e in range(1, N)
        for name, i in (("train_loss", 0), ("val_loss", 1))
    ]
    looked = once_watch_has(monkeypatch, "_stamp", lambda stamp: stamp is not None)
    writer = write_slowly(run, lines, pause=0.01, after=looked)
    args = ["watch", str(run), "--criterion", "gl:5", "--idle", "0.8", "--interval", "0.01"]
    result = runner.invoke(app, args)
    writer.join()
    assert result.exit_code == 0, result.output
    out = result.output
    followed = out.split("final diagnosis")[0].splitlines()
    epochs = [line.split()[1] for line in followed if line.startswith("epoch ")]
    assert epochs == [str(e) for e in range(N)], out
    ref = replay("gl:5", read_log(run).val_loss)
    assert out.count("STOP:") == 1 and f"fired at epoch {ref.stop_epoch}" in out
    assert out.count("WARNING:") == 1
    assert "changed" not in out and "final diagnosis" in out and "OVERFITTING" in out


def test_watch_an_mlflow_experiment_of_several_runs_asks_for_one_at_once(tmp_path):
    """An experiment folder holds one run per training: watch waited the whole --idle
    (300 s by default) before its error. It asks at once, in one line, in the words of
    read_log (which diagnose --plot/--stopping refuse the folder with too)."""
    experiment = tmp_path / "mlruns" / "1"
    epoch_run(experiment / "aaa")
    epoch_run(experiment / "bbb")
    with pytest.raises(ValueError) as err:
        read_log(experiment)
    began = time.monotonic()
    args = ["watch", str(experiment), "--idle", "30", "--interval", "0.05"]
    result = runner.invoke(app, args)
    assert time.monotonic() - began < 10 and result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"error: {err.value}"]
    assert "holds 2 runs (aaa, bbb); pass one of them" in result.output
