import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nooverfit.audit import audit, audit_warnings, class_balance, model_features, sample_hashes
from nooverfit.cli import app
from nooverfit.data import Dataset, Split, load_dataset, make_split
from nooverfit.groups import group_gap
from nooverfit.models import mlp

runner = CliRunner()


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits")
    return ds, make_split(ds.y, seed=0)


def planted(ds, split):
    """Copy 3 train samples over test samples (exact) and 2 over val samples (+ noise)."""
    x = ds.x.copy()
    exact = list(zip(split.test[:3], split.pool[:3], strict=True))
    near = list(zip(split.val[:2], split.pool[3:5], strict=True))
    for dst, src in exact:
        x[dst] = x[src]
    rng = np.random.default_rng(0)
    for dst, src in near:
        x[dst] = x[src] + rng.normal(0, 1e-3, x[src].shape).astype(np.float32)
    x[split.pool[10]] = x[split.pool[11]]  # a duplicate inside train
    return Dataset("planted", x, ds.y, ds.classes, ds.kind), exact, near


def test_audit_finds_planted_leakage(digits):
    ds, split = digits
    leaky, exact, near = planted(ds, split)
    report = audit(leaky, split)
    found = {(p.index, p.match, p.exact) for p in report.duplicates.leaks}
    assert {(int(d), int(s), True) for d, s in exact} <= found
    assert {(int(d), int(s), False) for d, s in near} <= found
    assert report.duplicates.count("test", exact=True) == 3
    assert report.duplicates.count("val", exact=False) == 2
    assert report.duplicates.count("train", exact=True) == 1
    assert any("leakage" in w for w in report.warnings)
    clean = audit(ds, split)
    assert clean.duplicates.leaks == () and not any("leakage" in w for w in clean.warnings)


def test_sample_hashes_equal_only_for_equal_samples():
    x = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0000001]], np.float32)
    h = sample_hashes(x)
    assert h[0] == h[1] and h[0] != h[2]


def test_coverage_flags_homogeneous_training_data(digits):
    ds, split = digits
    # train only on "bulldogs": one cluster of inputs; test also has far-away samples
    rng = np.random.default_rng(1)
    x = ds.x.copy()
    shifted = split.test[:100]
    x[shifted] = np.clip(x[shifted] + rng.uniform(0.5, 1.0, x[shifted].shape), 0, 2)
    report = audit(Dataset("shift", x, ds.y, ds.classes, ds.kind), split, examples=5)
    assert report.coverage.far["test"] >= 100 / len(split.test) - 0.01
    assert report.coverage.far["val"] < 0.12
    assert {p.index for p in report.coverage.examples} <= set(shifted.tolist())
    assert any("coverage" in w and "test" in w for w in report.warnings)
    # the threshold is the 95 % quantile of train-to-train nearest-neighbour distances
    from sklearn.neighbors import NearestNeighbors

    pool = ds.x[split.pool].reshape(len(split.pool), -1)
    d, _ = NearestNeighbors(n_neighbors=2).fit(pool).kneighbors(pool)
    assert report.coverage.threshold == pytest.approx(np.quantile(d[:, 1][d[:, 1] > 0], 0.95))


def test_class_balance_counts(digits):
    ds, split = digits
    b = class_balance(ds.y, split, ds.classes)
    assert b.test == tuple(np.bincount(ds.y[split.test], minlength=10))
    assert sum(b.train) + sum(b.val) + sum(b.test) == len(ds)
    lopsided = Split(np.array([0, 1, 2, 3]), np.array([4]), np.array([5]), 0)
    y = np.array([0, 0, 0, 1, 0, 1])
    assert class_balance(y, lopsided, ("a", "b")).imbalance == 3.0


def test_group_gap_hand_computed():
    pred = np.array([0, 1, 1, 0, 0, 1])
    y = np.array([0, 1, 0, 0, 1, 1])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    g = group_gap(pred, y, groups)
    assert g.groups == ("a", "b") and g.accuracy == pytest.approx((2 / 3, 2 / 3))
    g = group_gap(pred, y, np.array(["a", "a", "b", "b", "b", "b"]))
    assert g.worst == "b" and g.gap == pytest.approx(4 / 6 - 2 / 4)


def test_audit_group_gap_and_model_features(digits):
    ds, split = digits
    torch.manual_seed(0)
    model = mlp(64, 10, width=8, depth=1)
    groups = np.where(ds.y < 5, "low", "high")
    report = audit(ds, split, model=model, groups=groups)
    pred = model(torch.as_tensor(ds.x[split.val])).argmax(1).numpy()
    ref = group_gap(pred, ds.y[split.val], groups[split.val], heard={"low", "high"})
    assert report.groups == ref and report.groups.held_out_gap is None  # every group heard
    feats = model_features(model, ds.x[:4])
    assert feats.shape == (4, 8) and (feats >= 0).all()  # after the ReLU
    json.dumps(report.to_dict())  # serializable
    # 2 of 4 against 2 of 2 is what four rows give by chance: no warning
    g = group_gap(
        np.array([0, 1, 1, 0, 0, 1]), np.array([0, 1, 0, 0, 1, 1]), np.array(list("aabbbb"))
    )
    assert not [w for w in audit_warnings(replace(report, groups=g)) if "group gap" in w]
    # 20 of 40 against 180 of 200: the warning names the group's size, in points of accuracy
    y = np.zeros(240, dtype=np.int64)
    pred = np.r_[np.ones(20), np.zeros(20), np.ones(20), np.zeros(180)].astype(np.int64)
    g = group_gap(pred, y, np.array(["b"] * 40 + ["a"] * 200))
    texts = [w for w in audit_warnings(replace(report, groups=g)) if w.startswith("group gap")]
    assert texts == [
        "group gap: 'b' (40 rows) scores 50% against 90% on the other 200 rows, 40 points "
        "below: more than its size explains (95 % over all groups)"
    ]


def _csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,site,label"]
    for i in range(80):
        label = i % 2
        site = "north" if i % 4 < 2 else "south"
        a, b = rng.normal(label * 2, 1), rng.normal(0, 1)
        rows.append(f"{a:.4f},{b:.4f},{site},{label}")
    rows.append(rows[1])  # an exact duplicate row
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_audit_json_with_groups(tmp_path):
    path = _csv(tmp_path)
    args = ["audit", f"csv:{path}", "--target", "label", "--groups", "site", "--json"]
    args += ["--epochs", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["groups"]["groups"] == ["north", "south"]
    assert len(data["balance"]["train"]) == 2
    assert data["name"].startswith("csv:")


def test_cli_audit_tables_and_model_run(tmp_path):
    run = tmp_path / "run"
    trained = runner.invoke(
        app,
        ["train", "--train-per-class", "5", "--epochs", "2", "--width", "8", "--out", str(run)],
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["audit", "digits", "--model", str(run)])
    assert result.exit_code == 0, result.output
    assert "coverage" in result.output and "duplicates" in result.output
    assert "training 1.00; whole data set" in result.output
    # the audit is of the 5 images per class the run trained on, beside the pool
    result = runner.invoke(app, ["audit", "digits", "--model", str(run), "--json"])
    balance = json.loads(result.stdout)["balance"]
    assert balance["train"] == [5] * 10
    split = json.loads((run / "metrics.json").read_text())["split"]
    assert sum(balance["pool"]) == len(split["pool"]) and len(split["train"]) == 50
    result = runner.invoke(app, ["audit", "digits", "--model", str(run), "--space", "features"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["audit", "digits", "--space", "features"])
    assert bad.exit_code == 2 and "needs --model" in bad.output


def test_cli_audit_bad_input_exit_2(tmp_path):
    result = runner.invoke(app, ["audit", "digits", "--groups", "breed"])
    assert result.exit_code == 2 and "has no groups" in result.output
    result = runner.invoke(app, ["audit", "digits", "--model", str(tmp_path)])
    assert result.exit_code == 2 and "not a training run" in result.output
    path = _csv(tmp_path)
    result = runner.invoke(app, ["audit", f"csv:{path}", "--target", "label", "--groups", "x"])
    assert result.exit_code == 2 and "no group column" in result.output


def _one_line(result, words):
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert lines == [f"error: {words}"], result.output


def test_cli_audit_refuses_a_wrong_space_or_model_before_any_training(tmp_path, monkeypatch):
    """--space featurs with --groups trained the group-gap baseline first (50 epochs), then
    refused the option; --model of a missing folder said "not a training run"."""
    import nooverfit.train

    def trained(*args, **kwargs):
        raise AssertionError("trained before the options were checked")

    monkeypatch.setattr(nooverfit.train, "fit", trained)
    path = _csv(tmp_path)
    args = ["audit", f"csv:{path}", "--target", "label", "--groups", "site"]
    _one_line(
        runner.invoke(app, [*args, "--space", "featurs"]),
        "--space must be 'input' or 'features', got 'featurs'",
    )
    _one_line(
        runner.invoke(app, [*args, "--space", "features"]),
        "--space features needs --model RUN_DIR (a trained network)",
    )
    expected = "expected a nooverfit train --out folder (metrics.json, model.pt)"
    missing = tmp_path / "nope"
    _one_line(
        runner.invoke(app, [*args, "--model", str(missing)]),
        f"--model {missing} does not exist; {expected}",
    )
    study = tmp_path / "study"
    study.mkdir()
    (study / "best_model.pt").write_bytes(b"")
    _one_line(
        runner.invoke(app, [*args, "--model", str(study)]),
        f"--model {study} is a study's folder (best_model.pt); {expected}",
    )


def test_cli_audit_model_refuses_data_other_than_the_runs(tmp_path):
    """Review i39 #4: the run's split indices were applied to any data: rows reordered gave
    a silently wrong split, fewer rows or other columns a traceback."""
    path = _csv(tmp_path)
    run = tmp_path / "run"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--epochs", "2"]
    trained = runner.invoke(app, [*args, "--width", "8", "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    lines = path.read_text().splitlines()
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("\n".join(lines[:41]) + "\n")
    for data in (["audit", f"csv:{fewer}", "--target", "label"], ["audit", "digits"]):
        result = runner.invoke(app, [*data, "--model", str(run)])
        assert result.exit_code == 2, result.output
        assert "was trained on other data" in result.output and "Traceback" not in result.output
    # a feature column taken as the groups: the weights no longer fit the inputs
    args = ["audit", f"csv:{path}", "--target", "label", "--groups", "site", "--model", str(run)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "with no --groups, given --groups site here" in " ".join(result.output.split())
    # a run written before metrics.json recorded the content: its weights are checked
    metrics = json.loads((run / "metrics.json").read_text())
    del metrics["data content"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "weights do not fit" in result.output, result.output


def test_cli_audit_model_takes_the_same_data_moved_and_refuses_rows_reordered(tmp_path):
    """metrics.json records the data's content: a moved file is the same data, reordered
    rows (same name, same size) are not."""
    path = _csv(tmp_path)
    run = tmp_path / "run"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--epochs", "2"]
    assert runner.invoke(app, [*args, "--width", "8", "--out", str(run)]).exit_code == 0
    moved = tmp_path / "moved.csv"
    moved.write_text(path.read_text())
    result = runner.invoke(
        app, ["audit", f"csv:{moved}", "--target", "label", "--model", str(run)]
    )
    assert result.exit_code == 0, result.output
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *rows[::-1]]) + "\n")
    result = runner.invoke(app, ["audit", f"csv:{path}", "--target", "label", "--model", str(run)])
    assert result.exit_code == 2 and "before its content changed" in result.output
