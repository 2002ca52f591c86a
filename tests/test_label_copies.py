"""Feature columns that copy the label (:mod:`nooverfit.label_copies`): the target itself
or a one-to-one relabelling, said as the file loads and listed by the audit; a column that
only agrees with the label, or agrees on too few rows, is not one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.audit import audit
from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.feature_columns import FeatureColumn
from nooverfit.label_copies import MIN_ROWS, LabelCopy, label_copy, label_copy_warnings

runner = CliRunner()


def _numeric(values, missing=None):
    return FeatureColumn("f", np.asarray(values, dtype=np.float32)[:, None], None, missing)


def _text(values):
    levels = tuple(sorted(set(values)))
    onehot = np.eye(len(levels), dtype=np.float32)[[levels.index(v) for v in values]]
    gaps = np.array([v == "" for v in values]) if "" in levels else None
    return FeatureColumn("f", onehot, levels, gaps)


def _labels(n, seed=0, classes=2):
    return np.random.default_rng(seed).integers(0, classes, n)


def test_a_one_to_one_relabelling_is_a_copy_and_names_its_pairs():
    y = _labels(40)
    found = label_copy(_numeric(1 - y), y, ("no", "yes"), target="churn")
    assert found == LabelCopy("f", 40, 40, False, (("1", "no"), ("0", "yes")), "churn")
    names = np.array(["stay", "leave"])[y]
    assert label_copy(_text(list(names)), y, ("no", "yes")).pairs == (
        ("stay", "no"),
        ("leave", "yes"),
    )
    assert label_copy(_text(list(np.array(["no", "yes"])[y])), y, ("no", "yes")).same


def test_agreement_short_of_exact_is_no_copy():
    y = _labels(40)
    agrees = y.copy()
    agrees[:2] = 1 - agrees[:2]  # 95 % of rows: a good feature, not a copy
    assert label_copy(_numeric(agrees), y, ("a", "b")) is None
    # a column that determines the label but is finer (an id, a measurement): not one to one
    assert label_copy(_numeric(np.arange(40)), y, ("a", "b")) is None
    # coarser: three classes, two values
    y3 = np.repeat([0, 1, 2], 14)
    assert label_copy(_numeric(np.minimum(y3, 1)), y3, ("a", "b", "c")) is None


def test_too_few_rows_or_one_class_is_no_copy():
    y = _labels(MIN_ROWS)
    assert label_copy(_numeric(y), y, ("a", "b")) is not None
    assert label_copy(_numeric(y[:-1]), y[:-1], ("a", "b")) is None  # 19 rows: chance
    ones = np.ones(40, dtype=np.int64)
    assert label_copy(_numeric(ones), ones, ("a", "b")) is None
    # as many classes as rows / 2: each class's rows must agree too, so at least 2 each
    y20 = np.repeat(np.arange(20), 2)[:39]
    assert label_copy(_numeric(y20), y20, [str(k) for k in range(20)]) is None


def test_missing_cells_are_left_out_of_the_comparison():
    y = _labels(50)
    values = y.astype(np.float32)
    gone = np.zeros(50, dtype=bool)
    gone[:5] = True
    values[:5] = 0.5  # a numeric column's fill; the indicator marks them
    found = label_copy(_numeric(values, gone), y, ("0", "1"))  # the label's own numbers
    assert found is not None and (found.rows, found.total) == (45, 50) and found.same
    [line] = label_copy_warnings([found], where=" of f.csv")
    assert line == (
        "column 'f' of f.csv is the label itself on all 45 rows with a value: a leak, the "
        "network reads the label off it and scores near 100 %, which no new row keeps; "
        "--ignore f leaves it out"
    )
    text = ["" if g else ("x" if k else "z") for g, k in zip(gone, y, strict=True)]
    assert label_copy(_text(text), y, ("a", "b")).rows == 45  # an empty cell: no value


def _leaky_csv(path, n=60):
    rng = np.random.default_rng(3)
    y = rng.choice(["yes", "no"], n)
    flag = np.where(y == "yes", 1, 0)
    near = flag.copy()
    near[:3] = 1 - near[:3]  # 95 % agreement
    x = rng.normal(size=n).round(3)
    lines = [f"{a},{f},{m},{t}" for a, f, m, t in zip(x, flag, near, y, strict=True)]
    path.write_text("x,flag,near,churn\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_copy_of_the_label_is_said_as_the_file_loads(tmp_path, caplog):
    """A 'flag' column of 1/0 beside the target 'churn' of yes/no, in the same rows: a
    study scored near 100 % on it without a word."""
    path = _leaky_csv(tmp_path / "c.csv")
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{path}", target="churn")
    assert data.x.shape == (60, 3)  # said, not dropped
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'flag' of {path} copies the label 'churn' one to one ('0' is 'no', '1' is "
        "'yes' on all 60 rows): a leak, the network reads the label off it and scores near "
        "100 %, which no new row keeps; --ignore flag leaves it out"
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="nooverfit"):
        load_dataset(f"csv:{path}", target="churn", ignore="flag")
    assert not caplog.records


def test_the_audit_lists_a_copy_of_the_label(tmp_path):
    path = _leaky_csv(tmp_path / "c.csv")
    data = load_dataset(f"csv:{path}", target="churn")
    report = audit(data, split_dataset(data, seed=0))
    assert [c.column for c in report.copies] == ["flag"]
    assert sum("column 'flag' copies the label 'churn'" in w for w in report.warnings) == 1
    result = runner.invoke(app, ["audit", f"csv:{path}", "--target", "churn", "--json"])
    assert result.exit_code == 0, result.output
    [copy] = json.loads(result.stdout)["copies"]
    assert copy["column"] == "flag" and copy["pairs"] == [["0", "no"], ["1", "yes"]]


@pytest.mark.parametrize("seed", range(5))
def test_no_copy_on_clean_data(seed, tmp_path):
    rng = np.random.default_rng(seed)
    n = 40
    y = rng.choice(["a", "b"], n)
    cat = rng.choice(["red", "green"], n)
    num = rng.integers(0, 2, n)
    lines = [f"{c},{k},{t}" for c, k, t in zip(cat, num, y, strict=True)]
    path = tmp_path / "d.csv"
    path.write_text("colour,bit,label\n" + "\n".join(lines) + "\n")
    data = load_dataset(f"csv:{path}", target="label")
    assert audit(data, split_dataset(data, seed=0)).copies == ()
