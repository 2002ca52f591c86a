"""Text cells of a log read as missing get one note naming them, at the line where the
cell is in the file."""

from __future__ import annotations

import math

from nooverfit.logs import read_log


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
