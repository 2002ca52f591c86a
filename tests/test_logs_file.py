"""Text logs as they reach a user's disk (logs/_file.py): a UTF-8 byte-order mark, UTF-16,
gzip; a binary file refused in one line, by ``diagnose`` and at once by ``watch``."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.logs import read_log

runner = CliRunner()

#: A Keras-style log counting epochs from 1, lowest validation loss at epoch 3.
ROWS = [(1, 0.9, 0.80), (2, 0.6, 0.60), (3, 0.4, 0.50), (4, 0.3, 0.55), (5, 0.2, 0.62)]
CSV = "epoch,loss,val_loss\n" + "".join(f"{e},{t},{v}\n" for e, t, v in ROWS)


def _check(history) -> None:
    assert history.epoch == (1, 2, 3, 4, 5)
    assert history.val_loss == pytest.approx([v for _, _, v in ROWS])
    assert history.columns() == ["epoch", "loss", "val_loss"]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_read_log_a_byte_order_mark_leaves_the_epoch_column_its_name(tmp_path, end):
    """Excel's "CSV UTF-8" starts with a BOM: it was read into the first name
    ('\\ufeffepoch'), so the epoch column was a curve of its own and the epochs were
    numbered from 0 (the best epoch said 2 where the log says 3)."""
    path = tmp_path / "log.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.replace("\n", end).encode())
    _check(read_log(path))


def test_read_log_a_json_lines_log_with_a_byte_order_mark_keeps_its_first_line(tmp_path):
    """The BOM made the first line invalid JSON: it was skipped as truncated."""
    path = tmp_path / "log.jsonl"
    lines = [json.dumps({"epoch": e, "loss": t, "val_loss": v}) for e, t, v in ROWS]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    _check(read_log(path))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_read_log_reads_utf16_as_powershell_writes_it(tmp_path, encoding):
    """Windows PowerShell's ``python train.py > log.csv`` writes UTF-16 with a BOM; it
    was refused as 'UTF-16 text (save it as UTF-8), not text'."""
    path = tmp_path / "log.csv"
    bom = b"\xfe\xff" if encoding.endswith("be") else b""
    path.write_bytes(bom + CSV.replace("\n", "\r\n").encode(encoding))
    _check(read_log(path))


def test_read_log_reads_a_gzipped_log_and_finds_it_in_a_folder(tmp_path):
    path = tmp_path / "runs" / "log.csv.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(CSV.encode()))
    _check(read_log(path))
    _check(read_log(path.parent))  # the folder's one log
    jsonl = tmp_path / "log.jsonl.gz"  # the format from the name inside
    lines = [json.dumps({"epoch": e, "loss": t, "val_loss": v}) for e, t, v in ROWS]
    jsonl.write_bytes(gzip.compress("\n".join(lines).encode()))
    _check(read_log(jsonl))


def test_read_log_a_gzipped_log_being_written_gives_its_complete_rows(tmp_path):
    """Appended members are read in turn; a member cut short gives what it holds so far,
    its last line cut mid-row left out as in a plain log."""
    path = tmp_path / "log.csv.gz"
    rows = CSV.splitlines(keepends=True)
    whole = gzip.compress("".join(rows[:4]).encode()) + gzip.compress("".join(rows[4:]).encode())
    path.write_bytes(whole)
    _check(read_log(path))
    cut = gzip.compress("".join(rows[:4]).encode()) + gzip.compress(b"4,0.3,0.55\n5,0.2,0.6")
    path.write_bytes(cut[:-8])  # the second member lacks its trailer
    assert read_log(path).epoch == (1, 2, 3, 4)


def test_diagnose_a_binary_or_damaged_gzip_log_is_one_line_with_exit_2(tmp_path):
    pickled = tmp_path / "model.csv"
    pickled.write_bytes(b"\x80\x04\x95\x00\x00\x00")
    damaged = tmp_path / "log.csv.gz"
    damaged.write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    inside = tmp_path / "weights.csv.gz"
    inside.write_bytes(gzip.compress(b"\x80\x04\x95\x00\x00\x00"))
    expected = {
        pickled: "is a Python pickle, not text; expected a CSV/JSON log",
        damaged: "is a damaged gzip file (",
        inside: "is a gzip file holding a Python pickle, not text",
    }
    for path, said in expected.items():
        result = runner.invoke(app, ["diagnose", str(path)])
        assert result.exit_code == 2, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"error: {path} ") and said in line


def test_watch_refuses_a_binary_log_at_once(tmp_path):
    """A binary file never becomes a log: watch said so only after --idle (300 s by
    default), having waited for it to change."""
    path = tmp_path / "model.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = runner.invoke(app, ["watch", str(path), "--idle", "60", "--interval", "0.01"])
    assert result.exit_code == 2, result.output
    assert "is a PNG image, not text" in result.output
    assert "never held a readable log" not in result.output  # (said after --idle)


def test_diagnose_a_folder_without_a_log_names_what_it_looked_for(tmp_path):
    """A folder of a data file: the error named only the frameworks' files, as if a
    CSV log would not have been found there."""
    (tmp_path / "data.csv").write_text("a,b,label\n1,2,x\n")
    result = runner.invoke(app, ["diagnose", str(tmp_path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "or a CSV/JSON log (a header naming an epoch or a loss); expected a log file" in line


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        ("log.csv", "huggingface", "expected a Trainer's trainer_state.json"),
        (
            "log.json",
            "auto",
            "expected a JSON object of lists (Keras's history.history) or a list of objects, "
            "one per epoch",
        ),
    ],
)
def test_diagnose_a_log_that_is_not_json_says_what_was_expected(tmp_path, name, fmt, expected):
    path = tmp_path / name
    path.write_text(CSV)
    result = runner.invoke(app, ["diagnose", str(path), "--format", fmt])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {path} is not valid JSON (") and line.endswith(expected)
