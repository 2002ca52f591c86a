"""Fractional epochs (logs/_epochs.py): the epochs done when a row was logged, each row
read in the epoch it falls in."""

from __future__ import annotations

import pytest

from nooverfit.logs import read_log


def test_read_log_fractional_epochs_fall_in_the_epoch_they_end(tmp_path):
    """Training losses logged at epochs 0.25, 0.5, 0.75, 1.0 and a validation loss at
    1.0 are the first epoch's. Floored, the loss logged at 1.0 went into the next epoch,
    an epoch 0 of training alone was added, and the epoch's last loss stood for it."""
    lines = ["epoch,loss,val_loss"]
    for k in range(1, 6):
        lines += [f"{k - 1 + q},{1 / (k + q):.6f}," for q in (0.25, 0.5, 0.75, 1.0)]
        lines.append(f"{float(k)},,{0.5 + 0.02 * (k - 3) ** 2}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert h.epoch == (1, 2, 3, 4, 5)
    means = [sum(1 / (k + q) for q in (0.25, 0.5, 0.75, 1.0)) / 4 for k in range(1, 6)]
    assert h.loss == pytest.approx(means, abs=1e-6)
    assert h.val_loss == pytest.approx([0.5 + 0.02 * (k - 3) ** 2 for k in range(1, 6)])
    assert any(n.startswith("fractional epochs") for n in h.notes)


def test_read_log_whole_epochs_stay_as_logged(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n0.0,1.0,1.1\n1.0,0.8,0.9\n2.0,0.6,0.8\n")
    h = read_log(path)
    assert h.epoch == (0, 1, 2) and not any("fractional" in n for n in h.notes)


@pytest.mark.parametrize(("index", "said"), [(1, True), (0, False)])
def test_read_log_an_unnamed_index_numbers_the_epochs(tmp_path, index, said):
    """``df.index += 1; df.to_csv(path)`` without an epoch column: the file numbers its
    rows 1, 2, ... in an unnamed first column, and the text said "best epoch 2" for the
    row numbered 3. An index of 0, 1, 2, ... (pandas's own) reads as before, no note."""
    val = [0.8, 0.6, 0.5, 0.55, 0.62]
    body = "".join(f"{i + index},{0.9 - 0.1 * i},{v}\n" for i, v in enumerate(val))
    path = tmp_path / "log.csv"
    path.write_text(",loss,val_loss\n" + body)
    h = read_log(path)
    assert h.epoch == tuple(range(index, index + 5))
    assert any("unnamed first column" in n for n in h.notes) is said


def test_read_log_an_unnamed_column_of_other_numbers_is_no_epoch(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(",loss,val_loss\n3,0.9,0.8\n1,0.8,0.6\n2,0.7,0.5\n")
    assert read_log(path).epoch == (0, 1, 2)
