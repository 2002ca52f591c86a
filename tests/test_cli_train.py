import json

from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.history import History

runner = CliRunner()


def test_train_writes_history_metrics_and_model(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["train", "--train-per-class", "5", "--epochs", "3", "--width", "16", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    history = History.load(out / "history.csv")
    assert len(history) == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["width"] == 16
    assert len(metrics["split"]["train"]) == 50
    assert set(metrics["split"]["train"]).isdisjoint(metrics["split"]["val"])
    assert (out / "model.pt").exists()


def test_train_bad_l2_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "--l2", "-1", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "l2 must be" in result.output
    assert "Traceback" not in result.output
