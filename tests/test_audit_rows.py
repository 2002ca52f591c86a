"""The audit names a CSV file's rows by the lines they start at, other samples by their
0-based index, said to be one (nooverfit.audit_rows)."""

import csv
import json

import numpy as np
from typer.testing import CliRunner

from nooverfit.audit import audit
from nooverfit.cli import app
from nooverfit.cli._app import console
from nooverfit.cli.audit import render
from nooverfit.data import Dataset, load_dataset, make_split
from nooverfit.data.split import split_dataset
from nooverfit.transfer.pretrain import class_subset

runner = CliRunner()


def _rows(n: int = 80) -> list[list[str]]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 4)).round(4)
    rows = [[*map(str, x[i]), "a", str(i % 2)] for i in range(n)]
    rows[2][4] = "two\nlines"  # a quoted cell with a line break: later rows move down one
    return rows


def _write(path, rows) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["f1", "f2", "f3", "f4", "note", "label"])
        writer.writerows(rows)


def _planted(tmp_path):
    """A CSV file whose test row copies a training row (both after the quoted line
    break), the split being the CLI's own (stratified by label: the copy keeps it)."""
    path, rows = tmp_path / "data.csv", _rows()
    _write(path, rows)
    ds = load_dataset(f"csv:{path}", target="label", ignore="note")
    split = split_dataset(ds, test=0.25, val=0.2, seed=0)
    test = next(int(i) for i in split.test if i > 2)
    train = next(int(i) for i in split.pool if i > 2 and ds.y[i] == ds.y[test])
    rows[test] = list(rows[train])
    _write(path, rows)
    return path, test, train


def _line_of(path, row: list[str]) -> int:
    """The line (1-based) where ``row`` is written in the file, found by reading it."""
    text = ",".join(row)
    hits = [k for k, line in enumerate(path.read_text().splitlines(), 1) if line == text]
    return hits[0]


def test_csv_lines_count_the_header_and_a_quoted_line_break(tmp_path):
    path, rows = tmp_path / "data.csv", _rows(10)
    _write(path, rows)
    ds = load_dataset(f"csv:{path}", target="label", ignore="note")
    assert ds.lines.tolist() == [2, 3, 4, *range(6, 13)]
    assert ds.lines[5] == _line_of(path, rows[5])
    kept = class_subset(ds, (1,))  # a class subset keeps each row's own line
    assert kept.lines.tolist() == ds.lines[ds.y == 1].tolist()


def test_cli_audit_names_a_leak_by_the_lines_of_the_csv_file(tmp_path):
    path, test, train = _planted(tmp_path)
    # found by hand: the two lines of the file holding the copied row's text
    text = ",".join(_rows()[train])
    hits = [k for k, line in enumerate(path.read_text().splitlines(), 1) if line == text]
    train_line, test_line = hits if train < test else hits[::-1]
    # the header and the quoted line break before them: index + 3, not index
    assert (test_line, train_line) == (test + 3, train + 3)
    args = ["audit", f"csv:{path}", "--target", "label", "--ignore", "note"]
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    said = f"test row at line {test_line} = training row at line {train_line}: exact"
    assert said in result.stdout
    assert f"test[{test}]" not in result.stdout
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    leak = next(p for p in data["duplicates"]["leaks"] if p["exact"])
    # the fields that were there kept, the lines added
    assert (leak["index"], leak["match"], leak["split"]) == (test, train, "test")
    assert (leak["line"], leak["match_line"]) == (test_line, train_line)


def test_audit_of_other_data_names_0_based_sample_indices():
    ds = load_dataset("digits")
    split = make_split(ds.y, seed=0)
    x = ds.x.copy()
    x[split.test[0]] = x[split.pool[0]]
    leaky = Dataset("planted", x, ds.y, ds.classes, ds.kind)
    report = audit(leaky, split)
    leak = next(p for p in report.duplicates.leaks if p.exact)
    assert (leak.line, leak.match_line) == (None, None)
    with console.capture() as captured:
        render(report)
    said = f"test sample {split.test[0]} (0-based) = training sample {split.pool[0]} (0-based)"
    assert said in captured.get()
