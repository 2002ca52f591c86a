"""A train run's ``metrics.json`` records its layout (``format``) and the nooverfit that
wrote it; ``audit --model`` refuses a newer nooverfit's run, or a damaged file, in one
line (exit 2), as every reader of nooverfit's own files does."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from nooverfit._version import __version__
from nooverfit.cli import app
from nooverfit.train_run import METRICS_FORMAT

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    args = ["train", "--train-per-class", "5", "--epochs", "2", "--width", "8"]
    trained = runner.invoke(app, [*args, "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    return out


def _rewritten(run, tmp_path, change):
    """A copy of ``run`` whose metrics.json is ``change``'s text (given the metrics)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("history.csv", "model.pt"):
        (copy / name).write_bytes((run / name).read_bytes())
    metrics = json.loads((run / "metrics.json").read_text())
    (copy / "metrics.json").write_text(change(metrics))
    return copy


def test_metrics_json_records_its_format_and_nooverfit(run):
    metrics = json.loads((run / "metrics.json").read_text())
    assert METRICS_FORMAT == 1
    assert (metrics["format"], metrics["nooverfit"]) == (1, __version__)


def test_audit_reads_a_run_written_before_metrics_json_recorded_its_format(run, tmp_path):
    older = _rewritten(
        run, tmp_path, lambda m: json.dumps({k: v for k, v in m.items() if k != "format"})
    )
    result = runner.invoke(app, ["audit", "digits", "--model", str(older), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["balance"]["train"] == [5] * 10


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda m: json.dumps({**m, "format": 2, "nooverfit": "9.0"}),
            r"metrics.json was made by a newer nooverfit \(9\.0, format 2\); this one \(.+\) "
            r"reads format up to 1: install the nooverfit that wrote it, or a later one, to load "
            r"it",
        ),
        (
            lambda m: json.dumps({**m, "format": "1"}),
            r"metrics.json has format '1'; expected a whole number from 1 to 1",
        ),
        (
            lambda m: json.dumps(m)[:100],  # a truncated file
            r"metrics.json is not readable JSON \(.+\); expected the metrics.json nooverfit "
            "train writes",
        ),
        (
            lambda m: json.dumps({k: v for k, v in m.items() if k != "config"}),
            r"metrics.json records no run's config and split; expected the metrics.json",
        ),
    ],
)
def test_audit_refuses_a_newer_or_damaged_metrics_json_in_one_line(run, tmp_path, change, words):
    copy = _rewritten(run, tmp_path, change)
    result = runner.invoke(app, ["audit", "digits", "--model", str(copy)])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"error: {copy}/")
    assert re.search(words, " ".join(result.output.split())), result.output
