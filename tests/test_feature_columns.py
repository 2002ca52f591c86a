"""A data set's columns as its file had them (:mod:`nooverfit.feature_columns`): missing
cells and constant columns counted by hand, the audit's notes and its ``--json``."""

import json

import numpy as np
from typer.testing import CliRunner

from nooverfit.audit import audit
from nooverfit.cli import app
from nooverfit.data import Dataset, load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.feature_columns import (
    Constant,
    MissingCells,
    column_notes,
    constant_columns,
    feature_columns,
    missing_cells,
)

runner = CliRunner()


def _gappy_csv(path):
    """40 rows: x1 empty on rows 0, 5, 10 (3 cells), cat empty or NA on rows 1, 2 (2
    cells), const 5.0 everywhere, one 'only' text column of one category."""
    rng = np.random.default_rng(0)
    lines = ["x1,cat,const,only,x2,y"]
    for i in range(40):
        x1 = "" if i in (0, 5, 10) else f"{rng.normal():.3f}"
        cat = {1: "", 2: "NA"}.get(i, "ab"[i % 2])
        lines.append(f"{x1},{cat},5.0,same,{rng.normal():.3f},{'yn'[i % 2]}")
    path.write_text("\n".join(lines) + "\n")


def test_missing_and_constant_columns_by_hand(tmp_path):
    path = tmp_path / "gaps.csv"
    _gappy_csv(path)
    columns = feature_columns(load_dataset(f"csv:{path}", target="y"))
    assert [c.name for c in columns] == ["x1", "cat", "const", "only", "x2"]
    assert [c.values.shape[1] for c in columns] == [2, 4, 1, 1, 1]  # cat: '', a, b, NA
    assert missing_cells(columns) == (
        MissingCells("x1", 3, "median"),
        MissingCells("cat", 2, "category"),
    )
    assert constant_columns(columns) == (Constant("const", "5"), Constant("only", "'same'"))


def test_a_column_empty_on_every_row_is_named_so_not_as_quotes(tmp_path):
    """s29 i155: the audit's note said "column 'blank' holds '' on every row"."""
    path = tmp_path / "blank.csv"
    path.write_text("x,blank,y\n" + "".join(f"{i % 5},,{i % 2}\n" for i in range(20)))
    columns = feature_columns(load_dataset(f"csv:{path}", target="y"))
    assert constant_columns(columns) == (Constant("blank", "an empty cell"),)
    assert column_notes((), constant_columns(columns), rows=20) == [
        "column 'blank' holds an empty cell on every row: nothing to learn from (--ignore "
        "blank leaves it out)"
    ]


def test_column_notes_one_line_each():
    missing = (MissingCells("x1", 3, "median"), MissingCells("cat", 2, "category"))
    lines = column_notes(missing, (Constant("const", "5"),), rows=40)
    assert lines == [
        "missing cells (of 40 rows): 'x1' 3; filled with the median of each split's training "
        "rows and marked in the indicator column 'x1 (missing)'",
        "empty cells (of 40 rows) in text columns: 'cat' 2; read as a category of their own",
        "column 'const' holds 5 on every row: nothing to learn from (--ignore const leaves it "
        "out)",
    ]
    many = tuple(Constant(f"c{k}", "0") for k in range(10))
    (line,) = column_notes((), many, rows=5)
    assert line.startswith(
        "10 columns hold one value on every row (c0, c1, c2, c3, c4, c5, c6, "
        "c7 and 2 more): nothing to learn from (--ignore c0,c1,c2,c3,c4,c5,c6,c7,..."
    )
    (two,) = column_notes(
        (MissingCells("a", 1, "median"), MissingCells("b", 2, "median")), (), rows=5
    )
    assert two.startswith("missing cells (of 5 rows): 'a' 1, 'b' 2;")
    assert two.endswith("marked in indicator columns 'NAME (missing)'")


def test_audit_notes_and_json(tmp_path):
    path = tmp_path / "gaps.csv"
    _gappy_csv(path)
    result = runner.invoke(app, ["audit", f"csv:{path}", "--target", "y", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["missing"] == [
        {"column": "x1", "cells": 3, "filled": "median"},
        {"column": "cat", "cells": 2, "filled": "category"},
    ]
    assert data["constant"] == [
        {"column": "const", "value": "5"},
        {"column": "only", "value": "'same'"},
    ]
    assert len(data["notes"]) == 3 and not any("cells" in w for w in data["warnings"])
    tables = runner.invoke(app, ["audit", f"csv:{path}", "--target", "y"])
    assert "note: missing cells (of 40 rows): 'x1' 3" in " ".join(tables.output.split())


def test_columns_of_arrays_are_its_features():
    x = np.stack([np.zeros(30), np.arange(30) % 3], axis=1)
    ds = Dataset.from_arrays(x, np.arange(30) % 2)
    report = audit(ds, split_dataset(ds, test=0.25, val=0.2, seed=0))
    assert report.constant == (Constant("feature 0", "0"),) and report.missing == ()
