"""JSON lines that are not valid JSON: skipped with one warning where the rest is a log,
one-line bad input where no line is a JSON object."""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.logs import read_log

runner = CliRunner()


def test_a_jsonl_file_without_a_json_object_line_is_bad_input_in_one_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("epoch loss val_loss\n0 1.0 1.1\n1 0.9 1.0\n2 0.8 0.9\n3 0.7 0.8\n")
    with pytest.raises(ValueError, match="holds no JSON object line"):
        read_log(path)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()  # no warning line per bad line before it
    assert line == (
        f"error: {path} holds no JSON object line (5 lines are not valid JSON: 1, 2, 3, ...); "
        "expected one JSON object per line"
    )


def test_bad_jsonl_lines_among_rows_give_one_warning(tmp_path, caplog):
    path = tmp_path / "log.jsonl"
    good = [json.dumps({"epoch": e, "loss": 1 / (e + 1), "val_loss": 1.0}) for e in range(5)]
    path.write_text("\n".join([*good[:2], *["garbage"] * 40, *good[2:], '{"epoch": 5, "lo']))
    with caplog.at_level(logging.WARNING):
        history = read_log(path)
    assert history.epoch == (0, 1, 2, 3, 4)
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: 41 lines are not valid JSON (3, 4, 5, ...); skipped (truncated?)"
    ]


def test_one_invalid_line_is_named_in_the_singular(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("epoch loss val_loss\n")
    with pytest.raises(ValueError) as caught:
        read_log(path)
    assert str(caught.value) == (
        f"{path} holds no JSON object line (1 line is not valid JSON: 1); expected one JSON "
        "object per line"
    )
