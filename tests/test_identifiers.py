"""Numeric columns that look like row identifiers (:mod:`nooverfit.identifiers`): the
shape's bounds by hand, a file numbered in label order, one numbered at random, and clean
data sets on which nothing fires."""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.audit import audit
from nooverfit.cli import app
from nooverfit.data import Dataset, load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.identifiers import CHANCE, identifier_shape

runner = CliRunner()


@pytest.mark.parametrize(
    ("values", "shape"),
    [
        (np.arange(1, 201), "increasing"),
        (np.arange(200, 0, -1), "decreasing"),
        # 200 distinct in a range of 200: 200 * 199 / (2 * 200) = 99.5 > ln(1000) = 6.9
        (np.random.default_rng(0).permutation(200) + 1000, ""),
        # 100 distinct in a range of up to 10**6: 100 * 99 / (2 * 10**6) < 6.9, measured
        (np.random.default_rng(0).choice(10**6, 100, replace=False), None),
        (np.round(np.random.default_rng(0).normal(size=200), 3), None),  # not whole
        (np.random.default_rng(0).integers(18, 90, 200), None),  # ages repeat
        (np.arange(1, 7), None),  # 2 / 6! = 0.0028 > CHANCE; 6 * 5 / (2 * 6) = 2.5 < 6.9
        (np.arange(1, 8), "increasing"),  # 2 / 7! = 0.0004 < CHANCE
        (np.array([3, 1, 2]), None),
    ],
)
def test_identifier_shape_bounds(values, shape):
    assert identifier_shape(values) == shape


def test_identifier_shape_density_bound_by_hand():
    # 60 distinct whole numbers: 60 * 59 / 2 = 1770 pairs, dense while the range R keeps
    # 1770 / R > ln(1000) = 6.9078: R = 256 is (6.914), R = 257 is not (6.887)
    assert math.log(1 / CHANCE) == pytest.approx(6.9078, abs=1e-4)
    rng = np.random.default_rng(1)
    inner = rng.choice(np.arange(1, 255), 58, replace=False)
    values = rng.permutation(np.concatenate([[0, 255], inner]))
    assert identifier_shape(values) == ""
    assert identifier_shape(np.where(values == 255, 256, values)) is None


def _numbered_csv(path, *, sort: bool, seed: int = 0) -> None:
    """200 rows of noise features and random labels, numbered 1..200 down the file; the
    rows sorted by label first when ``sort``."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["a", "b"], 200)
    if sort:
        labels = np.sort(labels)
    x = np.round(rng.normal(size=(200, 2)), 3)
    lines = ["record_id,x1,x2,y"] + [
        f"{i + 1},{x[i, 0]},{x[i, 1]},{labels[i]}" for i in range(200)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_an_identifier_in_label_order_predicts_the_label(tmp_path):
    path = tmp_path / "sorted.csv"
    _numbered_csv(path, sort=True)
    ds = load_dataset(f"csv:{path}", target="y")
    split = split_dataset(ds, test=0.25, val=0.2, seed=0)
    report = audit(ds, split)
    (found,) = report.identifiers
    assert (found.column, found.low, found.high, found.rows) == ("record_id", 1, 200, 200)
    assert found.order == "increasing" and found.held_out == "val"
    # the majority share by hand: validation rows of the training rows' commonest label
    common = np.bincount(ds.y[split.pool]).argmax()
    assert found.majority == np.mean(ds.y[split.val] == common)
    # two blocks of labels: 5 neighbours are wrong only next to the one boundary
    assert found.score >= 0.9 and found.predictive
    (line,) = [w for w in report.warnings if "record_id" in w]
    assert line.startswith(
        "column 'record_id' looks like a row identifier (whole numbers 1 to 200, one per row, "
        "increasing down the file) and predicts the label (alone, the label of its 5 nearest "
        f"training rows is right on {found.score:.0%} of validation rows"
    )
    assert line.endswith("--ignore record_id leaves it out")
    ignored = load_dataset(f"csv:{path}", target="y", ignore=["record_id"])
    assert audit(ignored, split).identifiers == ()


def test_an_identifier_in_random_order_is_named_without_predicting(tmp_path):
    path = tmp_path / "numbered.csv"
    _numbered_csv(path, sort=False)
    result = runner.invoke(app, ["audit", f"csv:{path}", "--target", "y", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (found,) = data["identifiers"]
    assert found["column"] == "record_id" and not found["predictive"]
    # labels drawn at random: 5 neighbours score what chance gives, within Z errors
    margin = 3.09 * math.sqrt(found["majority"] * (1 - found["majority"]) / 36)
    assert found["score"] - found["majority"] <= margin
    (line,) = [w for w in data["warnings"] if "record_id" in w]
    assert "a network can learn the training rows by it, and it says nothing of a new row" in line


def test_shuffled_whole_numbers_in_a_dense_range_count_too():
    rng = np.random.default_rng(3)
    ids = rng.permutation(300) + 5000  # unordered, 300 of 300 values
    x = np.stack([ids, rng.normal(size=300)], axis=1)
    ds = Dataset.from_arrays(x, rng.integers(0, 2, 300))
    (found,) = audit(ds, split_dataset(ds, test=0.25, val=0.2, seed=0)).identifiers
    assert (found.column, found.order, found.low, found.high) == ("feature 0", "", 5000, 5299)


@pytest.mark.parametrize("name", ["wine", "breast_cancer", "iris"])
def test_no_identifier_or_constant_on_clean_data(tmp_path, name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    path = tmp_path / f"{name}.csv"
    header = ",".join(f"f{j}" for j in range(bunch.data.shape[1])) + ",y"
    rows = [
        ",".join(f"{v!r}" for v in r.tolist()) + f",{t}"
        for r, t in zip(bunch.data, bunch.target, strict=True)
    ]
    path.write_text("\n".join([header, *rows]) + "\n")
    ds = load_dataset(f"csv:{path}", target="y")
    report = audit(ds, split_dataset(ds, test=0.25, val=0.2, seed=0))
    assert report.identifiers == () and report.constant == () and report.missing == ()
    assert report.notes == ()


def test_digits_gets_no_column_findings():
    ds = load_dataset("digits")  # constant border pixels are no column of a file
    report = audit(ds, split_dataset(ds, test=0.25, val=0.2, seed=0))
    assert (report.identifiers, report.constant, report.missing, report.notes) == ((),) * 4
