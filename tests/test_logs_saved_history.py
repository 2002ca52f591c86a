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
