"""Machine-readable (--json) and log-friendly (plain lines) output of train and tune."""

import json
import re

from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.history import History

runner = CliRunner()


def test_cli_train_json_is_metrics_json_and_lines_without_a_terminal(tmp_path):
    args = ["train", "--epochs", "10", "--train-per-class", "5", "--width", "8"]
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.output
    lines = [x for x in plain.output.splitlines() if x.startswith("train: epoch ")]
    # one numbering: the lines' epochs are history.csv's and the table's (from 0)
    assert [x.split()[2] for x in lines] == [str(e) for e in range(10)]
    assert lines[-1].startswith("train: epoch 9 (10 of 10 epochs) loss ")
    assert History.load(tmp_path / "a" / "history.csv").epoch == tuple(range(10))
    assert "final (9)" in plain.output  # the table
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    saved = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert printed == saved


def test_cli_tune_prints_a_line_per_trial_and_json(tmp_path):
    out = tmp_path / "tune"
    args = ["tune", "--trials", "3", "--epochs", "3", "--train-per-class", "5"]
    args += ["--max-width", "16", "--out", str(out)]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    trials = [x for x in plain.output.splitlines() if x.startswith("tune: trial ")]
    assert sorted(int(x.split()[2]) for x in trials) == [0, 1, 2]
    # the table's importances rest on 3 trials: the report's caveat is printed under it
    flat = " ".join(plain.output.split())
    assert re.search(
        r"The parameter importances rest on ([023] complete trials|1 complete trial) "
        r"\(fewer than 30\)",
        flat,
    )
    again = runner.invoke(app, [*args, "--json"])  # the study is done: it resumes at the end
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == json.loads((out / "best.json").read_text())
