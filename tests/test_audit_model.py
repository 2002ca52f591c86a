"""``audit --model`` feeds the run's network what ``predict`` would feed it: missing cells
filled with the training pool's medians, categories one-hot, features scaled with the
statistics of the pool the run trained from (not of its per-class training subset)."""

import csv
import json

import numpy as np
import torch
from typer.testing import CliRunner

from nooverfit.audit import audit
from nooverfit.cli import app
from nooverfit.cli.audit import load_run
from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.saved_model import load_study_model, model_card, save_card
from nooverfit.train_run import train_run


def _write_csv(path, n=240, seed=0):
    """Three classes told apart by two numbers on large, shifted scales and a category;
    a fifth of ``size``'s cells missing. ``kind`` repeats the label: audit's groups."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    size = 100 + 40 * y + rng.normal(0, 25, n)
    weight = -50 + 20 * y + rng.normal(0, 15, n)
    color = np.where(rng.random(n) < 0.6, np.array(["red", "green", "blue"])[y], "grey")
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["size", "weight", "color", "kind", "label"])
        for i in range(n):
            cell = "" if rng.random() < 0.2 else f"{size[i]:.2f}"
            w.writerow([cell, f"{weight[i]:.2f}", color[i], f"k{y[i]}", f"c{y[i]}"])


def test_audit_model_scores_each_class_as_predict_does(tmp_path):
    torch.set_num_threads(1)
    path = tmp_path / "rows.csv"
    _write_csv(path)
    spec = f"csv:{path}"
    data = load_split(spec, target="label", group="kind", seed=0, device="cpu")
    assert data.dataset.columns is not None and any(
        c.fill is not None for c in data.dataset.columns.features
    )  # else the test shows nothing: a numeric column with missing cells
    # a per-class training subset: its statistics differ from the pool's
    config = RunConfig(width=16, epochs=15, train_per_class=8, lr=1e-2)
    run = train_run(config, data, out=tmp_path / "run", data_name=spec)
    # predict: the run's network with the card a study writes for it
    study = tmp_path / "study"
    study.mkdir()
    torch.save(run.network.state_dict(), study / "best_model.pt")
    card = model_card(data.dataset, [(config, data)], name="run", ensemble=False)
    assert card["refused"] is None
    save_card(card, study / "best_model.pt")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    model = load_study_model(study)

    def predicted(part: np.ndarray) -> dict[str, float]:
        """predict's accuracy per class (group ``k<c>``) on the CSV rows ``part``."""
        labels, _ = model.scores([rows[i] for i in part])
        truth = data.dataset.y[part]
        return {f"k{c}": float(np.mean(labels[truth == c] == c)) for c in range(3)}

    # audit --model: accuracy per group (here: per class) on the validation rows
    args = ["audit", spec, "--target", "label", "--groups", "kind", "--model"]
    result = CliRunner().invoke(app, [*args, str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.output)["groups"]
    assert dict(zip(groups["groups"], groups["accuracy"], strict=True)) == predicted(
        data.split.val
    )
    # and on the test rows, through the library call the command makes
    network, used, pool, trained = load_run(tmp_path / "run", data.dataset)
    report = audit(
        data.dataset, used, model=network, group_split="test", pool=pool, scaling=trained.inputs
    )
    assert report.groups is not None
    test = predicted(data.split.test)
    assert dict(zip(report.groups.groups, report.groups.accuracy, strict=True)) == test
    assert 0 < min(test.values()) < 1  # a network neither perfect nor useless
