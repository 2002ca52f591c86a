"""A Keras History saved with ``np.save`` or ``pickle`` (common in notebooks): refused in
one line (exit 2) that names the file's kind and how to save the curves instead; nooverfit
does not unpickle (loading a pickle runs code). Before: "a binary file"."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.errors import describe_file

runner = CliRunner()
HISTORY = {"loss": [0.9, 0.5, 0.3], "val_loss": [0.8, 0.6, 0.7]}


def _np_save(path):
    np.save(path, HISTORY)  # a 0-d array of objects: the dict pickled


def _pickle(path):
    path.write_bytes(pickle.dumps(HISTORY))


@pytest.mark.parametrize(
    ("name", "write", "kind"),
    [
        ("history.npy", _np_save, "a NumPy .npy file"),
        ("history.pkl", _pickle, "a Python pickle"),
    ],
)
def test_a_pickled_history_is_refused_with_how_to_save_it(tmp_path, name, write, kind):
    path = tmp_path / name
    write(path)
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {path} is {kind}, not text;")
    assert "json.dump(history.history" in line and "does not unpickle" in line


def test_an_array_of_numbers_is_no_pickle(tmp_path):
    path = tmp_path / "losses.npy"
    np.save(path, np.arange(10.0))
    assert describe_file(path.read_bytes()[:64]) == "a NumPy .npy file"
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2
    assert "unpickle" not in result.output


@pytest.mark.parametrize(
    ("head", "kind", "how"),
    [
        # s32: a data frame of the history saved in a binary format was "a binary file"
        (b"PAR1\x15\x04\x15\x00\x15", "a Parquet file", "df.to_csv("),
        (b"ARROW1\x00\x00\xff\xff", "an Arrow (Feather) file", "df.to_csv("),
        # s33 i174: Feather v1 (feather-format, pandas before pyarrow 0.17) was "a binary file"
        (b"FEA1\x00\x00\x00\x00\x00", "a Feather (v1) file", "df.to_csv("),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "an old Excel workbook (.xls)", "df.to_csv("),
        (b"PK\x03\x04\x14\x00\x06\x00", "a zip archive", "an Excel workbook (.xlsx): save"),
        (b"\x89HDF\r\n\x1a\n\x00\x00", "an HDF5 file", ""),  # a Keras .h5 model, no table
    ],
)
def test_a_table_saved_in_a_binary_format_is_refused_with_how_to_save_it(
    tmp_path, head, kind, how
):
    path = tmp_path / "history.bin"
    path.write_bytes(head + bytes(64))
    result = runner.invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {path} is {kind}, not text;")
    assert (how in line) if how else line.endswith("TensorBoard event file or run folder")
