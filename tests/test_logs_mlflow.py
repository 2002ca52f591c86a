"""MLflow's file store (``mlruns/<experiment>/<run>/metrics/<name>``) read as a log."""

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.diagnosis import Verdict
from nooverfit.logs import detect_format, list_runs, read_log

N = 30
T0 = 1_700_000_000_000  # ms


def curves(e: int) -> tuple[float, float, float]:
    """Epoch ``e`` of a run fitting its training set while validation levels off and rises."""
    train = 1.15 * math.exp(-e / 5) + 0.05
    val = 0.5 * math.exp(-e / 5) + 0.7 + 0.01 * e
    return train, val, 0.5 + 0.18 * (1 - math.exp(-e / 5))


def metric(run: Path, name: str, values: list[tuple[int, float]]) -> None:
    """Write ``<run>/metrics/<name>`` as MLflow's file store does."""
    path = run / "metrics" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{T0 + 1000 * i} {v!r} {step}" for i, (step, v) in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")


def epoch_run(run: Path, names=("train_loss", "val_loss", "val_accuracy")) -> Path:
    """A run logged with ``mlflow.log_metric(name, value, step=epoch)``."""
    run.mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: x\nstatus: 3\n")
    (run / "params").mkdir()
    (run / "params" / "lr").write_text("0.001")
    for name, i in zip(names, range(3), strict=False):
        metric(run, name, [(e, curves(e)[i]) for e in range(N)])
    return run


def test_read_log_mlflow_run_folder_logged_by_epoch(tmp_path):
    run = epoch_run(tmp_path / "mlruns" / "0" / "abc123")
    for path in (run, run / "metrics"):
        h = read_log(path)
        assert detect_format(path) == "mlflow"
        assert h.epoch == tuple(range(N)) and not h.steps_as_epochs
        assert h.loss == pytest.approx([curves(e)[0] for e in range(N)])
        assert h.val_loss == pytest.approx([curves(e)[1] for e in range(N)])
        assert h.val_accuracy == pytest.approx([curves(e)[2] for e in range(N)])
        assert diagnose(h).verdict == Verdict.OVERFITTING
        assert list_runs(path) == [path]


@pytest.mark.parametrize(
    "names",
    [
        ("train/loss", "val/loss", "val/accuracy"),  # '/' in a name: sub-folders
        ("training_loss", "validation_loss", "val_acc"),
        ("loss", "val_loss", "val_accuracy"),
    ],
)
def test_read_log_mlflow_metric_names(tmp_path, names):
    h = read_log(epoch_run(tmp_path / "run", names))
    assert h.loss == pytest.approx([curves(e)[0] for e in range(N)])
    assert h.val_loss == pytest.approx([curves(e)[1] for e in range(N)])
    assert h.val_accuracy == pytest.approx([curves(e)[2] for e in range(N)])


def test_read_log_mlflow_global_steps_validation_closes_epochs(tmp_path):
    # training loss per batch at global steps, validation every 10 steps (one epoch)
    run, k = tmp_path / "run", 10
    metric(run, "train_loss", [(s, curves(s // k)[0] + 0.01 * (s % 2)) for s in range(N * k)])
    metric(run, "val_loss", [((e + 1) * k - 1, curves(e)[1]) for e in range(N)])
    h = read_log(run)
    assert len(h.epoch) == N
    assert h.val_loss == pytest.approx([curves(e)[1] for e in range(N)])
    assert h.loss == pytest.approx([curves(e)[0] + 0.005 for e in range(N)])
    assert any("validation rounds" in n for n in h.notes)
    assert diagnose(h).verdict == Verdict.OVERFITTING


def test_read_log_mlflow_epoch_metric_numbers_the_epochs(tmp_path):
    run, k = tmp_path / "run", 4
    metric(run, "epoch", [(s, float(s // k)) for s in range(N * k)])
    metric(run, "loss", [(s, curves(s // k)[0]) for s in range(N * k)])
    metric(run, "val_loss", [(e * k + k - 1, curves(e)[1]) for e in range(N)])
    h = read_log(run)
    assert h.epoch == tuple(range(N))
    assert h.val_loss == pytest.approx([curves(e)[1] for e in range(N)])
    assert h.loss == pytest.approx([curves(e)[0] for e in range(N)])


def test_read_log_mlflow_without_steps_reads_the_lines_in_order(tmp_path):
    run = tmp_path / "run"
    for name, i in (("train_loss", 0), ("val_loss", 1)):
        metric(run, name, [(0, curves(e)[i]) for e in range(N)])
    h = read_log(run)
    assert h.val_loss == pytest.approx([curves(e)[1] for e in range(N)])
    assert any("no step logged" in n for n in h.notes)


def test_read_log_mlflow_experiment_folder_asks_which_run(tmp_path):
    experiment = tmp_path / "mlruns" / "1"
    a, b = epoch_run(experiment / "aaa"), epoch_run(experiment / "bbb")
    (experiment / "meta.yaml").write_text("name: demo\n")
    # a run's artifacts are its own, not a run of their own
    (a / "artifacts").mkdir()
    (a / "artifacts" / "history.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n")
    assert list_runs(experiment) == [a, b]
    epoch_run(tmp_path / "mlruns" / ".trash" / "ccc")  # a run deleted in MLflow
    assert list_runs(tmp_path / "mlruns") == [a, b]
    with pytest.raises(ValueError, match="holds 2 runs"):
        read_log(experiment)
    result = CliRunner().invoke(app, ["diagnose", str(experiment), "--json"])
    assert result.exit_code == 0, result.output
    assert result.output.count("overfitting") >= 2


def test_read_log_mlflow_one_metric_file_names_its_run_folder(tmp_path):
    run = epoch_run(tmp_path / "mlruns" / "0" / "abc123")
    with pytest.raises(ValueError, match="one MLflow metric file") as err:
        read_log(run / "metrics" / "val_loss")
    assert str(run) in str(err.value) and "1700000000000" not in str(err.value)
    result = CliRunner().invoke(app, ["diagnose", str(run / "metrics" / "val_loss")])
    assert result.exit_code == 2
    assert "one MLflow metric file" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_read_log_mlflow_run_without_curves_is_a_one_line_error(tmp_path):
    run = tmp_path / "run"
    metric(run, "gpu_memory", [(e, 1.0) for e in range(5)])
    with pytest.raises(ValueError, match=r"no training or validation curve.*gpu_memory"):
        read_log(run)
    result = CliRunner().invoke(app, ["diagnose", str(run)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_epoch_rows_training_values_only_are_one_epoch_a_step():
    # no validation round to close epochs: each step is one (it divided by zero rounds)
    from nooverfit.logs.tensorboard import epoch_rows

    rows, notes, shown, _ = epoch_rows({s: {"train/loss": 1.0 / (s + 1)} for s in range(10)})
    assert [r["epoch"] for r in rows] == list(range(10)) and not shown and not notes


def test_read_log_mlflow_training_loss_only(tmp_path):
    run = tmp_path / "run"
    metric(run, "train_loss", [(s, 1.0 / (s + 1)) for s in range(10)])
    h = read_log(run)
    assert h.loss == pytest.approx([1.0 / (s + 1) for s in range(10)])
    assert not h.has("val_loss")
