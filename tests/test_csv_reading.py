"""Reading a CSV file's rows (data/sources.py:read_numbered): separators, a BOM, line
endings, and each row's number in the file for error messages."""

from __future__ import annotations

import pytest

from nooverfit.data import load_dataset
from nooverfit.data.sources import read_numbered


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_quoted_line_break_stays_in_its_cell_and_later_rows_keep_their_file_line(tmp_path, end):
    """Review i117: a quoted cell holding a line break ("multi<newline>line", as Excel
    writes a cell with Alt+Enter) lost the break ("multiline"), and every later row was
    numbered one line short: "holds 'oops' (row 5)" for the file's line 6."""
    text = end.join(["x,note,label", "1,plain,a", '2,"multi' + end + 'line",b', "", "oops,c,a"])
    path = tmp_path / "q.csv"
    path.write_bytes(("\ufeff" + text + end).encode())
    header, body, numbers = read_numbered(path)
    assert header == ["x", "note", "label"]
    # read as text, a Windows line break is "\n" as any other
    assert body == [["1", "plain", "a"], ["2", "multi\nline", "b"], ["oops", "c", "a"]]
    assert numbers == [2, 3, 6]  # the row's first line; line 5 is blank


def test_a_stray_word_is_named_at_its_line_past_a_quoted_line_break(tmp_path, caplog):
    rows = [
        f'{i % 5},"{"a" + chr(10) + "b" if i == 3 else "c, d"}",{"ab"[i % 2]}' for i in range(9)
    ]
    path = tmp_path / "w.csv"
    path.write_text("x,note,label\n" + "\n".join([*rows, "oops,e,a"]) + "\n")
    load_dataset(f"csv:{path}", target="label")
    assert "'oops' (row 12)" in caplog.text  # 1 header + 10 rows + the break's line
