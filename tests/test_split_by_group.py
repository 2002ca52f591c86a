"""``split_by_group`` / ``--split-by-group``: the groups a loader only describes (a CSV's
group column) kept whole by the split, as ``speech:`` data's are."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.errors import BadInput

runner = CliRunner()


def _patients(path, patients=30, visits=4, seed=0):
    """A CSV of ``patients`` x ``visits`` rows: a patient's rows share a label and lie near
    each other (the dependence a per-sample split leaks)."""
    rng = np.random.default_rng(seed)
    lines = ["patient,a,b,label"]
    for p in range(patients):
        centre, label = rng.normal(size=2), p % 2
        for _ in range(visits):
            a, b = centre + 0.1 * rng.normal(size=2)
            lines.append(f"p{p},{a:.3f},{b:.3f},{'yes' if label else 'no'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _straddling(groups, split):
    """Groups with rows in more than one of pool, validation and test."""
    where = [set(groups[split.pool]), set(groups[split.val]), set(groups[split.test])]
    return {g for g in set(groups) if sum(g in part for part in where) > 1}


def test_a_per_sample_split_straddles_patients_and_split_by_group_keeps_them_whole(tmp_path):
    path = _patients(tmp_path / "p.csv")
    plain = load_dataset(f"csv:{path}", target="label", group="patient")
    assert plain.groups is not None and not plain.whole_groups
    assert _straddling(plain.groups, split_dataset(plain, seed=0))  # the leak fixed below
    whole = load_dataset(f"csv:{path}", target="label", group="patient", split_by_group=True)
    assert whole.whole_groups and whole.x.shape == plain.x.shape  # the group is no feature
    for seed in (0, 1, 2):
        split = split_dataset(whole, seed=seed)
        assert split.whole_groups and not _straddling(whole.groups, split)
        assert len(split.pool) + len(split.val) + len(split.test) == len(whole.y)


def test_split_by_group_without_groups_is_one_line_error(tmp_path):
    path = _patients(tmp_path / "p.csv")
    with pytest.raises(BadInput, match="has no groups to keep whole; expected csv:PATH with"):
        load_dataset(f"csv:{path}", target="label", split_by_group=True)


def test_cli_train_split_by_group_records_a_whole_group_split(tmp_path):
    path = _patients(tmp_path / "p.csv")
    out = tmp_path / "run"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--groups", "patient"]
    fast = ["--epochs", "2", "--width", "8", "--out", str(out)]
    result = runner.invoke(app, [*args, "--split-by-group", *fast])
    assert result.exit_code == 0, result.output
    split = json.loads((out / "metrics.json").read_text())["split"]
    assert split["whole_groups"] is True
    groups = np.array([line.split(",")[0] for line in path.read_text().split()[1:]])
    parts = [set(groups[split[k]]) for k in ("pool", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    again = ["--epochs", "2", "--out", str(tmp_path / "other")]
    bad = runner.invoke(app, ["train", "--data", "digits", "--split-by-group", *again])
    assert bad.exit_code == 2 and "has no groups to keep whole" in bad.output
    assert "Traceback" not in bad.output
