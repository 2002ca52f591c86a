"""CSV logs in the dialects users write them (logs/text.py): decimal commas, Excel's
``sep=`` line, columns aligned with spaces (pandas's ``to_string``), an ``Epoch`` column,
a unit of percent in a name; a file that is no table refused in one line."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.logs import canonical, read_log

runner = CliRunner()

#: Epochs from 1, lowest validation loss at epoch 3.
ROWS = [(1, 0.9, 0.80), (2, 0.6, 0.60), (3, 0.4, 0.50), (4, 0.3, 0.55), (5, 0.2, 0.62)]


def _write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _check(history) -> None:
    assert history.epoch == (1, 2, 3, 4, 5)
    assert history.loss == pytest.approx([t for _, t, _ in ROWS])
    assert history.val_loss == pytest.approx([v for _, _, v in ROWS])


@pytest.mark.parametrize("sep", [";", "\t"])
def test_read_log_decimal_commas(tmp_path, sep):
    """``pandas.to_csv(sep=";", decimal=",")`` and a European Excel write 0,9 for 0.9:
    every curve was text, and the log refused ('hold only text, no number')."""
    body = "".join(f"{e}{sep}{t}{sep}{v}\n".replace(".", ",") for e, t, v in ROWS)
    _check(read_log(_write(tmp_path, f"epoch{sep}loss{sep}val_loss\n{body}")))


def test_read_log_a_comma_beside_decimal_points_is_no_decimal_comma(tmp_path):
    """Excel's tab-separated export writes a step count of a thousand as "1,000": with
    decimal points in the other numbers, it is not read as 1.0."""
    body = "".join(f"{e},000\t{t}\t{v}\n" for e, t, v in ROWS)
    h = read_log(_write(tmp_path, f"step\tloss\tval_loss\n{body}", "log.tsv"))
    assert h.val_loss == pytest.approx([v for _, _, v in ROWS])
    # "1,000" is no step 1.0: the rows are not numbered 1, 2, ... by it
    assert h.epoch == (0, 1, 2, 3, 4) and not any("indexed by step" in n for n in h.notes)


def test_read_log_excel_sep_line(tmp_path):
    """Excel's "sep=;" first line was read as the header (columns found: "sep=;")."""
    body = "".join(f"{e};{t};{v}\n" for e, t, v in ROWS)
    _check(read_log(_write(tmp_path, f"sep=;\nepoch;loss;val_loss\n{body}")))


def test_read_log_columns_aligned_with_spaces(tmp_path):
    """A printed table (columns padded with spaces) was one column, refused."""
    body = "".join(f"{e:<7}{t:>8.4f}{v:>10.4f}\n" for e, t, v in ROWS)
    _check(read_log(_write(tmp_path, f"epoch     loss  val_loss\n{body}", "log.txt")))


def test_read_log_pandas_to_string_with_its_index(tmp_path):
    """``DataFrame.to_string()``: right-aligned columns, and an index column with no name
    in the header (each row one field longer than it)."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(ROWS, columns=["epoch", "loss", "val_loss"])
    _check(read_log(_write(tmp_path, frame.to_string() + "\n", "log.txt")))


@pytest.mark.parametrize("name", ["Epoch", "EPOCH", " epoch"])
def test_read_log_an_epoch_column_under_another_case(tmp_path, name):
    """An ``Epoch`` column was a curve of its own: the epochs were numbered from 0, and
    the best epoch said 2 where the log's own column says 3."""
    body = "".join(f"{e},{t},{v}\n" for e, t, v in ROWS)
    h = read_log(_write(tmp_path, f"{name},Train Loss,Val Loss\n{body}"))
    _check(h)
    assert h.columns() == ["epoch", "loss", "val_loss"]


def test_canonical_a_unit_of_percent_is_no_part_of_the_name():
    assert canonical("Val Acc (%)").target == "val_accuracy"
    assert canonical("accuracy [%]").target == "accuracy"
    assert canonical("val_acc%").target == "val_accuracy"


def test_read_log_accuracy_named_with_its_percent_unit_is_read_as_a_fraction(tmp_path):
    body = "".join(f"{e},{t},{v},{90 - 10 * v:.1f}\n" for e, t, v in ROWS)
    h = read_log(_write(tmp_path, f"Epoch,Train Loss,Val Loss,Val Acc (%)\n{body}"))
    assert h.val_accuracy == pytest.approx([(90 - 10 * v) / 100 for _, _, v in ROWS], abs=1e-3)
    assert "val_accuracy logged in percent: read as a fraction" in h.notes


def test_diagnose_keras_2_console_output_reads_as_its_table(tmp_path):
    """Keras 2's console output saved to a file (``5/5 [====] - 0s 3ms/step - loss: ...``)
    reads as the table of the same values, epochs numbered as printed (it was refused as a
    table of one column named 'Epoch 1/5' until s31; tests/test_logs_console.py reads
    Keras 3's against its CSVLogger)."""
    lines = [
        f"Epoch {e}/5\n5/5 [====] - 0s 3ms/step - loss: {t} - val_loss: {v}\n" for e, t, v in ROWS
    ]
    path = _write(tmp_path, "".join(lines), "train.log")
    table = read_log(
        _write(tmp_path, "epoch,loss,val_loss\n" + "".join(f"{e},{t},{v}\n" for e, t, v in ROWS))
    )
    h = read_log(path)
    assert (h.epoch, h.loss, h.val_loss) == (table.epoch, table.loss, table.val_loss)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OVERFITTING")


def test_read_log_rows_of_another_length_give_one_warning(tmp_path, caplog):
    text = "epoch,loss,val_loss\n0,1,1\n1,0.9\n2,0.8,0.9,5\n3,0.7\n4,0.6\n5,0.5,0.6\n"
    path = _write(tmp_path, text)
    with caplog.at_level(logging.WARNING):
        h = read_log(path)
    assert h.epoch == (0, 5)
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: 4 rows do not have the header's 3 fields (line 3: 2, line 4: 4, line 5: 2, "
        "...); skipped (truncated?)"
    ]


def test_read_log_a_settled_file_keeps_its_last_line_without_a_line_end(tmp_path, caplog):
    """``df.to_string()`` written to a file, or a log saved by an editor that adds no
    final line end: the last epoch was left out as one still being written, with a
    warning. A file unchanged for ``SETTLED`` seconds is complete; a fresh one still
    leaves out its last line (cut mid-value, see test_diagnose_review)."""
    import os
    import time

    from nooverfit.logs.text import SETTLED

    body = "\n".join(f"{e},{t},{v}" for e, t, v in ROWS)
    path = _write(tmp_path, f"epoch,loss,val_loss\n{body}")
    assert read_log(path).epoch == (1, 2, 3, 4)
    then = time.time() - SETTLED - 1
    os.utime(path, (then, then))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _check(read_log(path))
    assert not caplog.records


def test_a_curve_named_twice_is_refused_in_one_line_not_read_from_the_last(tmp_path):
    """s30 i165: ``epoch,loss,loss,val_loss`` was read with the second ``loss`` column,
    the first dropped without a word (each row's cells are keyed by name). A repeated name
    that is no curve (two ``time`` columns) is read as before."""
    body = "".join(f"{e},{t},{t / 2},{v}\n" for e, t, v in ROWS)
    path = _write(tmp_path, "epoch,loss,loss,val_loss\n" + body)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "columns 2 and 3 of the header are both named 'loss'" in lines[0]
    assert "expected each curve's column named once" in lines[0]
    rows = "".join(f"{e},1,1,{t},{v}\n" for e, t, v in ROWS)
    timed = _write(tmp_path, "epoch,time,time,loss,val_loss\n" + rows, name="timed.csv")
    history = read_log(timed)
    assert list(history.loss) == [t for _, t, _ in ROWS]
    assert list(history.val_loss) == [v for _, _, v in ROWS]
