import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.logs import read_log
from nooverfit.stopping import replay

LOGS = Path(__file__).parent / "fixtures" / "logs"
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
    result = runner.invoke(
        app, ["watch", str(tmp_path / "x.csv"), "--idle", "0.2", "--interval", "0.05"]
    )
    assert result.exit_code == 2
    assert "never held a readable log" in result.output
