"""``train --classes``, as ``study --classes``: the classes kept (``5-9``, ``cat,dog``) are
relabelled from 0 and split anew; the run records them, so that ``predict`` answers in the
original class names and ``audit --model`` names other classes; a bad spec is refused in
the study's one line."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.transfer.pretrain import subset_classes

runner = CliRunner()
TINY = ["--threads", "1", "--width", "4", "--depth", "1", "--epochs", "1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A ``train --classes 5-9`` run and a ``study --classes 5-9`` of the same digits."""
    root = tmp_path_factory.mktemp("classes")
    train = ["train", "--classes", "5-9", *TINY, "--out", str(root / "train")]
    result = runner.invoke(app, train)
    assert result.exit_code == 0, result.output
    study = ["study", "--classes", "5-9", *TINY, "--seeds", "1", "--no-classic"]
    result = runner.invoke(app, [*study, "--out", str(root / "study")])
    assert result.exit_code == 0, result.output
    return root / "train", root / "study"


def test_train_classes_splits_the_subset_as_the_study_does(runs):
    train, study = runs
    metrics = json.loads((train / "metrics.json").read_text())
    results = json.loads((study / "results.json").read_text())
    assert metrics["data options"]["classes"] == "5-9"
    # the study's seed 0 split of the same subset: the same indices into the same samples
    (split,) = results["splits"]
    for part in ("pool", "val", "test"):
        assert metrics["split"][part] == split[part]
    subset = subset_classes(load_dataset("digits"), "5-9")
    assert len(subset.y) == results["settings"]["samples"] == 896
    expected = split_dataset(subset, test=0.25, val=0.2, seed=0)
    assert metrics["split"]["test"] == expected.test.tolist()


def test_train_classes_card_names_the_original_classes_as_the_studys(runs):
    train, study = runs
    card = json.loads((train / "model.json").read_text())
    best = json.loads((study / "best_model.json").read_text())
    assert card["classes"] == best["classes"] == ["5", "6", "7", "8", "9"]


def _predict(folder, x_path):
    result = runner.invoke(app, ["--threads", "1", "predict", str(folder), "--data", str(x_path)])
    assert result.exit_code == 0, result.output
    return list(csv.reader(io.StringIO(result.output)))


def test_predict_on_a_train_classes_run_answers_in_the_original_labels(tmp_path, runs):
    """The outputs 0-4 of a network trained on digits 5-9 are digits 5-9, as predict on the
    study's folder says them; a well-trained run names the right digit."""
    out = tmp_path / "run"
    args = ["train", "--classes", "5-9", "--threads", "1", "--width", "32", "--epochs", "15"]
    result = runner.invoke(app, [*args, "--lr", "1e-2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    subset = subset_classes(load_dataset("digits"), "5-9")
    test = json.loads((out / "metrics.json").read_text())["split"]["test"]
    np.save(tmp_path / "x.npy", subset.x[test])
    rows = _predict(out, tmp_path / "x.npy")
    header, predicted = rows[0], [r[0] for r in rows[1:]]
    assert header == _predict(runs[1], tmp_path / "x.npy")[0]
    assert header == ["prediction", "p_5", "p_6", "p_7", "p_8", "p_9"]
    truth = [subset.classes[k] for k in subset.y[test]]  # "5".."9", not 0-4
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) > 0.8


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ("3-99", "classes must be labels in 0..9, got 10-99 outside them"),
        ("kat", "classes must look like 0-4 or 5,7,9 or class names"),
        ("0", "the data has one class only ('0'); expected at least 2 classes"),
    ],
)
def test_train_refuses_bad_classes_in_the_studys_one_line(tmp_path, classes, message):
    said = {}
    for command in ("train", "study"):
        out = tmp_path / command
        result = runner.invoke(app, [command, "--classes", classes, *TINY, "--out", str(out)])
        assert result.exit_code == 2, result.output
        (said[command],) = result.output.strip().splitlines()
        assert said[command].startswith("error: ") and message in said[command]
        assert not (out / "metrics.json").exists() and not (out / "results.json").exists()
    assert said["train"] == said["study"]


def test_train_classes_help_is_the_studys():
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def helped(command: str) -> str:
        (option,) = [p for p in commands[command].params if p.name == "classes"]
        return option.help

    assert helped("train") == helped("study") == helped("audit")
    assert "5-9 or cat,dog (relabelled from 0)" in helped("train")


def test_audit_model_of_a_train_classes_run_names_the_classes(runs):
    train, _ = runs
    result = runner.invoke(app, ["audit", "digits", "--model", str(train)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "was trained on digits with --classes 5-9, given no --classes here" in line
    result = runner.invoke(app, ["audit", "digits", "--classes", "5-8", "--model", str(train)])
    assert result.exit_code == 2, result.output
    assert "with --classes 5-9, given --classes 5-8 here" in result.output
    # the same classes, spelled otherwise: the run's own data
    args = ["audit", "digits", "--classes", "9,5-8", "--model", str(train), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["balance"]["classes"] == ["5", "6", "7", "8", "9"]


def test_changed_options_compares_classes_as_the_classes_named():
    from nooverfit.train_run import changed_options

    recorded = {"target": None, "ignore": None, "groups": None, "classes": "5-9"}
    assert changed_options(recorded, {"classes": "5,6,7-9"}) == []
    assert changed_options(recorded, {"classes": "5-8"}) == [("--classes 5-9", "--classes 5-8")]
    named = {**recorded, "classes": "cat, dog"}
    assert changed_options(named, {"classes": "dog,cat"}) == []
    assert changed_options(named, {}) == [("--classes cat, dog", "no --classes")]
