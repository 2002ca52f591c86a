"""The thread count results.json records for the report's command is the one the runs
were trained with: a rerun reading every run back under another ``--threads`` keeps the
count they were trained with, and a study whose runs were trained with two counts (or
with one its store did not record) names none (s31 i170: the rerun's own count was
recorded, so the command did not repeat the runs bit for bit)."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.studies.store import NOT_RUNS, THREADS

ARGS = ["study", "--train-per-class", "5", "--width", "8", "--seeds", "2", "--epochs", "2"]


@pytest.fixture
def threads_kept():
    """``--threads`` sets torch's count for the whole process: put it back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _study(out, threads: int) -> dict:
    done = CliRunner().invoke(
        app, ["--threads", str(threads), *ARGS, "--no-classic", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    return json.loads((out / "results.json").read_text())


def test_the_recorded_count_is_the_one_the_runs_trained_with(tmp_path, threads_kept):
    out = tmp_path / "study"
    assert _study(out, 1)["extras"]["threads"] == 1
    assert json.loads((out / "runs" / THREADS).read_text()) == [1]
    # every run read back under 2 threads: still 1
    assert _study(out, 2)["extras"]["threads"] == 1
    # one run lost and trained again under 2 threads: two counts, none named
    lost = next(p for p in sorted((out / "runs").glob("*.json")) if p.name not in NOT_RUNS)
    lost.unlink()
    mixed = _study(out, 2)
    assert "threads" not in mixed["extras"]
    assert json.loads((out / "runs" / THREADS).read_text()) == [1, 2]


def test_runs_stored_without_a_count_name_none(tmp_path, threads_kept):
    out = tmp_path / "study"
    _study(out, 1)
    (out / "runs" / THREADS).unlink()  # as a store written before the count was recorded
    assert "threads" not in _study(out, 1)["extras"]
