"""Long-format logs (one row per split and epoch) read as one curve per split."""

import csv
from pathlib import Path

import pytest

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

LONG = Path(__file__).parent / "data" / "long_split_digits.csv"


def test_read_log_long_format_reads_each_split_as_its_curve():
    """A real custom loop (a 512-wide MLP on 100 digits, Adam at 1e-3, 80 epochs) writing
    ``epoch,split,loss,acc``, a ``train`` and a ``valid`` row an epoch. The two rows' losses
    fell into one column before: the validation loss, last in each epoch, read as the
    training loss, and no validation curve (insufficient evidence)."""
    rows = list(csv.DictReader(LONG.open()))
    train = [float(r["loss"]) for r in rows if r["split"] == "train"]
    valid = [float(r["loss"]) for r in rows if r["split"] == "valid"]
    valid_acc = [float(r["acc"]) for r in rows if r["split"] == "valid"]
    h = read_log(LONG)
    assert len(h) == len(train) == len(valid) == 80
    assert h.loss == pytest.approx(train)
    assert h.val_loss == pytest.approx(valid)
    assert h.val_accuracy == pytest.approx(valid_acc)
    assert any("one row per split (column split: train, valid)" in n for n in h.notes)
    assert not any("not a number" in n for n in h.notes)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == valid.index(min(valid))


def test_read_log_long_format_jsonl_with_a_test_split(tmp_path):
    path = tmp_path / "log.jsonl"
    lines = []
    for e in range(6):
        for split, loss in (("Train", 1 / (e + 1)), ("Validation", 1.0 - e / 20), ("test", 0.9)):
            lines.append(f'{{"epoch": {e}, "phase": "{split}", "loss": {loss}}}')
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert h.loss == pytest.approx([1 / (e + 1) for e in range(6)])
    assert h.val_loss == pytest.approx([1.0 - e / 20 for e in range(6)])
    assert h.extras["test_loss"] == pytest.approx([0.9] * 6)


def test_read_log_text_column_of_other_words_is_no_split(tmp_path):
    path = tmp_path / "log.csv"
    rows = [f"{e},{1 / (e + 1)},{1.0 - e / 20},{'ok' if e % 2 else 'resumed'}" for e in range(6)]
    path.write_text("epoch,loss,val_loss,status\n" + "\n".join(rows) + "\n")
    h = read_log(path)
    assert h.val_loss == pytest.approx([1.0 - e / 20 for e in range(6)])
    assert not any("one row per split" in n for n in h.notes)
