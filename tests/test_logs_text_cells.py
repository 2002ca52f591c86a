"""Text cells of a log read as missing get one note naming them, in every text format,
at the line (or JSON list entry) where the cell is in the file."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

runner = CliRunner()


def _text_notes(path):
    return [n for n in read_log(path).notes if "not a number" in n]


def test_read_log_csv_text_cell_lines_count_the_lines_of_multi_line_cells(tmp_path):
    # file lines: 1 header, 2-3 epoch 0 (a quoted val_loss over two lines), 4 epoch 1,
    # 5-7 epoch 2 (a three-line quoted note before val_loss 'oops'), 8 epoch 3 ('abc')
    path = tmp_path / "log.csv"
    path.write_text(
        "epoch,note,loss,val_loss\n"
        '0,,1.0,"not\nrun"\n'
        "1,,0.9,1.0\n"
        '2,"a\nb\nc",0.8,oops\n'
        "3,,0.7,abc\n"
    )
    h = read_log(path)
    assert h.loss == (1.0, 0.9, 0.8, 0.7)
    assert math.isnan(h.val_loss[0]) and h.val_loss[1] == 1.0
    assert _text_notes(path) == [
        "1 cell of note is not a number (line 5: 'a\\nb\\nc'); "
        "3 cells of val_loss are not a number (lines 2, 7, 8: 'not\\nrun'); read as missing"
    ]


def test_read_log_jsonl_notes_text_cells_with_their_lines(tmp_path):
    rows = [
        {"epoch": 0, "loss": 1.0, "val_loss": 1.2},
        {"epoch": 1, "loss": 0.9, "val_loss": "abc"},
        {"epoch": 2, "loss": 0.8, "val_loss": "NaN"},  # a missing marker: no note
        {"epoch": 3, "loss": 0.7, "val_loss": "oops"},
        {"epoch": 4, "loss": "0.6", "val_loss": None},  # a number as text reads as it
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n\n")
    with path.open("a") as f:
        f.write("\n".join(json.dumps(r) for r in rows[2:]) + "\n")
    h = read_log(path)
    assert h.loss == (1.0, 0.9, 0.8, 0.7, 0.6)
    assert _text_notes(path) == [
        "2 cells of val_loss are not a number (lines 2, 5: 'abc'); read as missing"
    ]


def test_read_log_json_notes_text_cells_with_their_entries(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text(
        json.dumps(
            [
                {"epoch": 0, "loss": 1.0, "val_loss": 1.1},
                {"epoch": 1, "loss": 0.9, "val_loss": " abc "},
                {"epoch": 2, "loss": 0.8, "val_loss": ""},
            ],
            indent=2,
        )
    )
    assert _text_notes(listed) == [
        "1 cell of val_loss is not a number (entry 2: 'abc'); read as missing"
    ]
    keras = tmp_path / "history.json"  # Keras's History.history saved as JSON
    keras.write_text(json.dumps({"loss": [1.0, 0.9, 0.8], "val_loss": ["x", 1.0, "y"]}))
    assert _text_notes(keras) == [
        "2 cells of val_loss are not a number (entries 1, 3: 'x'); read as missing"
    ]
    assert read_log(keras).val_loss[1] == 1.0


def test_read_log_json_text_cells_of_a_discarded_restart_are_not_noted(tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [(0, "abc"), (1, 1.0), (0, 1.1), (1, "x")]  # restarted at the third line
    path.write_text(
        "".join(json.dumps({"epoch": e, "loss": 1.0, "val_loss": v}) + "\n" for e, v in rows)
    )
    assert _text_notes(path) == [
        "1 cell of val_loss is not a number (line 4: 'x'); read as missing"
    ]


def test_diagnose_prints_the_text_cell_note_of_a_jsonl_log(tmp_path):
    path = tmp_path / "log.jsonl"
    losses = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.38, 0.36]
    val = [1.0, 0.85, 0.7, "abc", 0.72, 0.8, 0.9, 1.0]
    path.write_text(
        "".join(
            json.dumps({"epoch": e, "loss": t, "val_loss": v}) + "\n"
            for e, (t, v) in enumerate(zip(losses, val, strict=True))
        )
    )
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 0, result.output
    note = "note: 1 cell of val_loss is not a number (line 4: 'abc'); read as missing"
    assert note in " ".join(result.output.split())


def test_a_log_whose_curves_hold_only_text_is_bad_input_not_a_diverged_run(tmp_path):
    # validation loss written as a tensor's repr: read as all NaN, it was a run that
    # "diverged from its first epoch" with advice to lower the learning rate
    path = tmp_path / "log.csv"
    path.write_text(
        "epoch,val_loss\n" + "".join(f"{e},tensor({1 / (e + 1):.4f})\n" for e in range(6))
    )
    with pytest.raises(ValueError, match=r"val_loss holds only text, no number \(e.g. "):
        read_log(path)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == (
        f"error: {path}: val_loss holds only text, no number (e.g. 'tensor(0.1667)', line 7); "
        "expected a number per cell"
    )


def test_a_log_whose_losses_are_nan_is_still_a_diverged_run(tmp_path):
    # Keras's CSVLogger writes "nan" for a NaN loss: a real divergence, not text
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n" + "".join(f"{e},nan,nan\n" for e in range(6)))
    assert diagnose(read_log(path)).verdict == Verdict.DIVERGING


FOCAL_F1 = Path(__file__).parent / "data" / "focal_f1_array_keras.csv"


def test_read_log_keras_one_element_array_cells_are_their_element():
    """s28 i152's hand-written Keras 3 run: ``F1Score`` returns an array, which Keras's
    ``CSVLogger`` writes as ``"[0.178]"`` in quotes of its own (``\"\"\"[0.178]\"\"\"`` in
    the file). Every such cell was NaN with a note, and ``--metric f1`` answered "metric
    'f1' not in the log" while listing f1 among the columns found. The values read are
    the elements, as the csv module and JSON read them."""
    with FOCAL_F1.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = {k: [json.loads(r[k].strip('"'))[0] for r in rows] for k in ("f1", "val_f1")}
    h = read_log(FOCAL_F1)
    assert list(h.extras["f1"]) == pytest.approx(expected["f1"])
    assert list(h.extras["val_f1"]) == pytest.approx(expected["val_f1"])
    assert not _text_notes(FOCAL_F1)
    d = diagnose(h, metric="f1")
    assert d.verdict is Verdict.OVERFITTING  # (its test curve's label, beside the log)
    assert d.gap.metric_at_last == pytest.approx(expected["f1"][-1] - expected["val_f1"][-1])


def test_a_metric_of_per_class_arrays_says_it_holds_no_numbers(tmp_path):
    """Several elements (a metric per class) are no single value: NaN with the text-cell
    note, and asking for that metric names the problem instead of calling it absent."""
    path = tmp_path / "log.csv"
    lines = ["epoch,f1,loss,val_f1,val_loss"]
    lines += [
        f'{e},"""[0.{e}, 0.5]""",{1 / (e + 1)},"""[0.{e}, 0.4]""",{1 / (e + 1)}' for e in range(6)
    ]
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert all(math.isnan(v) for v in h.extras["f1"])
    assert any("cells of f1 are not a number" in n for n in _text_notes(path))
    result = runner.invoke(app, ["diagnose", str(path), "--metric", "f1"])
    assert result.exit_code == 2
    assert "metric 'f1' holds no numbers in the log" in result.output
    assert "Traceback" not in result.output
