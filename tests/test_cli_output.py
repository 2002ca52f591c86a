"""Machine-readable (--json) and log-friendly (plain lines) output of train and tune."""

import json

from typer.testing import CliRunner

from nooverfit.cli import app

runner = CliRunner()


def test_cli_train_json_is_metrics_json_and_lines_without_a_terminal(tmp_path):
    args = ["train", "--epochs", "10", "--train-per-class", "5", "--width", "8"]
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.output
    lines = [x for x in plain.output.splitlines() if x.startswith("train: epoch ")]
    assert [x.split()[2] for x in lines] == [f"{e}/10" for e in range(1, 11)]
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
    again = runner.invoke(app, [*args, "--json"])  # the study is done: it resumes at the end
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == json.loads((out / "best.json").read_text())
