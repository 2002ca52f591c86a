"""A study's figures per class (review i36 #1, #2): the pure summary against hand-computed
values, and studies of tiny imbalanced CSVs through the CLI (results.json, report, lines)."""

import html
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.studies.class_scores import summarize, summary_line

# 10 rows: rows 0-4 validation, 5-9 test; classes "a" (0) and "b" (1)
Y = np.array([0, 0, 0, 0, 1, 0, 0, 0, 1, 1])
ROWS = {0: {"val": np.arange(5), "test": np.arange(5, 10)}}


def test_summarize_by_hand():
    predictions = {
        "recommended": {0: {"val": np.array([0, 0, 0, 0, 1]), "test": np.array([0, 0, 1, 1, 0])}},
        "baseline": {0: {"val": np.zeros(5, int), "test": np.zeros(5, int)}},
    }
    out = summarize(Y, ROWS, predictions, ["a", "b"])
    assert out["majority"]["val"] == {"class": ["a"], "per_seed": [0.8], "share": 0.8}
    assert out["majority"]["test"] == {"class": ["a"], "per_seed": [0.6], "share": 0.6}
    rec = out["recommended"]
    # test: a rows 5, 6, 7 -> 0, 0, 1 (2/3 right); b rows 8, 9 -> 1, 0 (1/2 right)
    assert rec["recall"] == pytest.approx([2 / 3, 1 / 2])
    assert rec["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert rec["single_class"] == []
    base = out["baseline"]
    assert base["balanced_accuracy"] == 0.5 and base["recall"] == [1.0, 0.0]
    assert base["single_class"] == [
        {"seed": 0, "split": "val", "class": "a"},
        {"seed": 0, "split": "test", "class": "a"},
    ]
    assert len(out["warnings"]) == 1
    assert out["warnings"][0].startswith(
        "the baseline model answers 'a' for every one of the validation and test rows of seed 0"
    )
    line = summary_line(out)
    assert line.startswith(
        "Always answering the training data's largest class ('a') scores 60.0% on the same test "
        "rows "
        "(validation 80.0%); balanced accuracy on test (mean recall per class): "
        "recommended 58.3%, baseline 50.0%; recommended's recall per class: a 67%, b 50%"
    )


def test_the_constant_answer_is_the_training_pools_largest_class():
    # the pool (rows 8, 9: both "b") says "b"; the held-out rows are mostly "a"
    rows = {0: {**ROWS[0], "pool": np.array([8, 9])}}
    predictions = {"baseline": {0: {"val": Y[:5], "test": Y[5:]}}}
    out = summarize(Y, rows, predictions, ["a", "b"])
    assert out["majority"]["val"] == {"class": ["b"], "per_seed": [0.2], "share": 0.2}
    assert out["majority"]["test"] == {"class": ["b"], "per_seed": [0.4], "share": 0.4}


def test_summarize_warns_of_a_training_set_whose_shares_differ():
    # a 1/1 training set drawn from a 4/1 pool (here the validation rows: only counts matter)
    training = {"train": np.array([0, 4]), "pool": np.arange(5)}
    predictions = {"baseline": {0: {"val": Y[:5], "test": Y[5:]}}}
    out = summarize(Y, ROWS, predictions, ["a", "b"], training=training)
    assert out["baseline"]["balanced_accuracy"] == 1.0
    assert len(out["warnings"]) == 1  # the data, 11/4 in all, is under 3x imbalanced
    assert out["warnings"][0].startswith(
        "class shares differ between training and validation samples: training 50/50 % (a/b)"
    )


def _csv(tmp_path, name, n, rare, shift):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    y = np.where(rng.random(n) < rare, "rare", "ok")
    x[y == "rare", 0] += shift
    path = tmp_path / name
    pd.DataFrame({"a": x[:, 0].round(3), "b": x[:, 1].round(3), "y": y}).to_csv(path, index=False)
    return path


def _run(path, out, *options):
    base = ["study", "--data", f"csv:{path}", "--target", "y", "--width", "8", "--seeds", "2"]
    result = CliRunner().invoke(app, [*base, *options, "--no-classic", "--out", str(out)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())  # the console wraps at 80 columns
    results = json.loads((out / "results.json").read_text())
    report = " ".join(html.unescape((out / "report.html").read_text()).split())
    return flat, results, report


def test_a_network_that_only_answers_the_big_class_is_named(tmp_path):
    """Review i36 #1: 96 % 'ok' rows and features that say nothing of the class."""
    from sklearn.metrics import balanced_accuracy_score

    import nooverfit as no

    path = _csv(tmp_path, "one.csv", 200, rare=0.04, shift=0.0)
    out = tmp_path / "s"
    flat, results, report = _run(path, out, "--train-per-class", "0", "--epochs", "30")
    scores = results["extras"]["class_scores"]
    data = pd.read_csv(path)
    y = data["y"].to_numpy()
    for i, split in enumerate(results["splits"]):
        assert scores["majority"]["test"]["per_seed"][i] == pytest.approx(
            np.mean(y[split["test"]] == "ok")
        )
        assert scores["majority"]["val"]["per_seed"][i] == pytest.approx(
            np.mean(y[split["val"]] == "ok")
        )
    # the saved network (the first seed's) against sklearn on the same test rows
    test = results["splits"][0]["test"]
    pred = np.asarray(no.load_study_model(out).predict(data.drop(columns=["y"]).iloc[test]))
    rec = scores["recommended"]
    assert rec["balanced_per_seed"][0] == pytest.approx(balanced_accuracy_score(y[test], pred))
    assert set(pred) == {"ok"}  # it never answers anything else...
    assert {"seed": results["settings"]["seeds"][0], "split": "test", "class": "ok"} in rec[
        "single_class"
    ]
    # ... and the user is told so, in words, everywhere
    share = 100 * scores["majority"]["test"]["share"]
    assert f"the training data's largest class ('ok') scores {share:.1f}% on the same test" in flat
    assert "balanced accuracy on test (mean recall per class): recommended 50.0%" in flat
    warning = "models answer 'ok' for every one of the validation and test rows of seed"
    assert f"Warning: the recommended and the baseline {warning}" in flat
    assert warning in report and 'id="majority-rate"' in report
    assert f"<b>{share:.1f}%</b> on the same test rows" in report


def test_a_balanced_subsample_of_imbalanced_data_is_flagged(tmp_path):
    """Review i36 #2: --train-per-class N of an imbalanced CSV shifts the prior. The
    class-balance warnings are computed once (they were in the audit's warnings too, and
    the report dropped the copies as it rendered)."""
    path = _csv(tmp_path, "shift.csv", 280, rare=0.14, shift=1.5)
    out = tmp_path / "s"
    flat, results, report = _run(path, out, "--train-per-class", "10", "--epochs", "3")
    audit = results["extras"]["audit"]
    b = audit["balance"]
    assert b["train"] == [10, 10]
    assert sum(b["pool"]) + sum(b["val"]) + sum(b["test"]) == 280  # the whole pool counted
    whole = [p + v + t for p, v, t in zip(b["pool"], b["val"], b["test"], strict=True)]
    assert b["data_imbalance"] == pytest.approx(max(whole) / min(whole))
    # computed once: the class scores' warnings hold them, the study's audit does not
    warned = results["extras"]["class_scores"]["warnings"]
    shifted = [w for w in warned if w.startswith("class shares differ")]
    assert len(shifted) == 1 and "--train-per-class 0" in shifted[0]
    assert not set(warned) & set(audit["warnings"])
    assert not any(w.startswith(("class shares differ", "classes are")) for w in audit["warnings"])
    assert "Warning: class shares differ between training and" in flat
    assert "--train-per-class 0" in flat
    assert f"{b['data_imbalance']:.2f}× in the whole data set" in report
    assert "training 10/10 of the pool's" in report
    # once in the report: under the class scores, not again in the audit's list
    assert report.count(shifted[0].split(";")[0]) == 1
