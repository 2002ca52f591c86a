"""Reading a CSV file's rows (data/sources.py:read_numbered): separators, a BOM, line
endings, and each row's number in the file for error messages."""

from __future__ import annotations

import numpy as np
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


def test_a_delimiter_closing_each_line_makes_no_column(tmp_path, caplog):
    """s29 i155: "a,b,y," (some exporters close every line with the delimiter) gave an
    unnamed feature of empty cells, which the audit named "column '' holds an empty cell
    on every row" and one-hot encoded."""
    rows = "".join(f"{i % 5},{i % 3},{'ab'[i % 2]},\n" for i in range(12))
    path = tmp_path / "t.csv"
    path.write_text("a,b,y,\n" + rows)
    data = load_dataset(f"csv:{path}", target="y")
    assert [c.name for c in data.columns.features] == ["a", "b"]
    assert data.x.shape == (12, 2)
    assert (
        f"{path}: 1 column with no name and no value (a delimiter closing each line) left out"
        in (caplog.text)
    )
    # a named column of empty cells stays (the audit says it is constant)
    path.write_text("a,b,y,c\n" + rows)
    assert [c.name for c in load_dataset(f"csv:{path}", target="y").columns.features] == [
        "a",
        "b",
        "c",
    ]


def test_lines_of_spaces_only_are_no_rows(tmp_path):
    """s29 i155: an editor's padding at the file's end ("   ") was a row: "row 3 has 1
    field, expected 3"."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,x\n   \n\t\n3,4,z\n  \n")
    assert read_numbered(path) == (["a", "b", "y"], [["1", "2", "x"], ["3", "4", "z"]], [2, 5])


def test_a_numpy_archive_is_told_as_one_not_as_an_excel_workbook(tmp_path):
    """i165: a .npz file (a zip archive) read as "a zip file, as an Excel workbook (.xlsx)
    is; save it as 'CSV UTF-8'"."""
    import numpy as np

    from nooverfit.errors import BadInput

    path = tmp_path / "arrays.npz"
    np.savez(path, x=np.zeros((3, 2)), y=np.zeros(3))
    with pytest.raises(BadInput, match=r": a NumPy \.npz archive \(numpy\.savez\), not a table\)"):
        read_numbered(path)


def test_a_file_of_nul_bytes_is_refused_as_binary_not_read_as_a_header(tmp_path):
    """i165: NUL and control bytes are valid UTF-8: their "header" was the file's bytes,
    and the message printed them raw ("no column 'y' ...; one of: \\x00\\x01\\x02")."""
    from nooverfit.errors import BadInput

    path = tmp_path / "t.csv"
    path.write_bytes(b"\x00\x01\x02,y\n\x00,1\n")
    with pytest.raises(BadInput) as err:
        read_numbered(path)
    assert str(err.value) == (
        f"CSV file {path} is a binary file, not text; expected a UTF-8 CSV file with a header row"
    )


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x82",
            "a zip archive, as an Excel workbook (.xlsx) is; save it as 'CSV UTF-8'",
        ),
        (b"\x1f\x8b\x08\x00", "a gzip file; decompress it first (gunzip)"),
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16 text, as Excel's 'Unicode Text' is"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls); save it as"),
        ("größe,y\n1,a\n".encode("latin-1"), ""),
        # s31 i168: every kind describe_file knows, named alone where no how-to applies
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image)"),
        (b"%PDF-1.7\n\xe2\xe3\xcf\xd3", "a PDF document)"),
    ],
)
def test_a_file_that_is_no_utf8_text_says_what_it_looks_like(tmp_path, data, said):
    """s29 i155: an Excel workbook, a gzip file or UTF-16 text was only "not UTF-8 text
    (byte 0x82 at offset 12)"."""
    from nooverfit.errors import BadInput

    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(BadInput) as err:
        read_numbered(path)
    message = str(err.value)
    assert message.startswith(f"CSV file {path} is not UTF-8 text (byte ")
    assert message.endswith("); expected a UTF-8 CSV file with a header row")
    assert (f": {said}" in message) if said else (":" not in message.split("(byte")[1])


def test_describe_file_names_kinds_only_and_knows_a_numpy_archive_by_its_name(tmp_path):
    """s31 i168: sources._what_it_is was a twin of errors.describe_file that alone knew a
    .npz archive and an old Excel workbook; describe_file now names each kind (no how-to:
    UTF-16 said "(save it as UTF-8)" inside a checkpoint error's parentheses), and the
    CSV reader adds its how-to to that kind."""
    from nooverfit._io import not_a_checkpoint
    from nooverfit.errors import describe_file

    zipped = b"PK\x03\x04\x14\x00"
    assert describe_file(zipped) == "a zip archive"
    assert describe_file(zipped, tmp_path / "arrays.NPZ") == "a NumPy .npz archive"
    assert describe_file(zipped, "book.xlsx") == "a zip archive"
    assert describe_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") == "an old Excel workbook (.xls)"
    assert describe_file("a,b\n".encode("utf-16")) == "UTF-16 text"
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.zeros(2))
    assert str(not_a_checkpoint("--pretrained", path)) == (
        f"--pretrained {path} is not a readable PyTorch checkpoint (a NumPy .npz archive); "
        "expected a file written by torch.save"
    )
