"""``pd.DataFrame(history.history).to_json(path)``, in each of pandas's layouts, reads as
``json.dump(history.history)`` does (before, its default layout read as "no curve
recognized; columns found: none")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nooverfit import diagnose
from nooverfit.logs import list_runs, read_log
from nooverfit.logs._frame_json import frame_lists

EPOCHS = np.arange(40)
HISTORY = {
    "loss": list(2.0 * np.exp(-EPOCHS / 6) + 0.01),
    "val_loss": list(0.6 + 0.5 * np.exp(-EPOCHS / 5) + 0.004 * np.maximum(0, EPOCHS - 15) ** 1.5),
    "accuracy": list(1 - np.exp(-EPOCHS / 6) / 2),
    "val_accuracy": list(0.8 - 0.001 * EPOCHS),
}


@pytest.mark.parametrize("orient", ["columns", "index", "split", "table", "records"])
def test_each_pandas_layout_reads_as_the_keras_history(tmp_path, orient):
    keras = tmp_path / "keras.json"
    keras.write_text(json.dumps(HISTORY))
    frame = tmp_path / f"{orient}.json"
    pd.DataFrame(HISTORY).to_json(frame, orient=orient)
    want, got = read_log(keras), read_log(frame)
    assert got.epoch == want.epoch
    for curve in HISTORY:
        # to_json writes 10 decimals
        np.testing.assert_allclose(getattr(got, curve), getattr(want, curve), atol=1e-10)
    a, b = diagnose(got), diagnose(want)
    assert (a.verdict, a.best_epoch, a.onset_epoch, a.explanation) == (
        b.verdict,
        b.best_epoch,
        b.onset_epoch,
        b.explanation,
    )


def test_a_frame_indexed_by_epoch_keeps_its_epochs(tmp_path):
    """Row labels 1..40 (a frame indexed as the CSV's epoch column): the epochs are the
    labels, as the same frame written as CSV with its index as epoch reads."""
    frame = pd.DataFrame(HISTORY, index=EPOCHS + 1)
    frame.to_json(tmp_path / "h.json")
    frame.rename_axis("epoch").to_csv(tmp_path / "h.csv")
    got, want = read_log(tmp_path / "h.json"), read_log(tmp_path / "h.csv")
    assert got.epoch == want.epoch == tuple(range(1, 41))
    assert diagnose(got).best_epoch == diagnose(want).best_epoch


def test_a_folder_lists_a_frame_s_json_as_a_run(tmp_path):
    pd.DataFrame(HISTORY).to_json(tmp_path / "history.json")
    (tmp_path / "config.json").write_text(json.dumps({"lr": {"0": 0.1}, "name": "x"}))
    assert list_runs(tmp_path) == [tmp_path / "history.json"]


@pytest.mark.parametrize(
    "data",
    [
        {"loss": [1.0, 0.5]},  # Keras's own layout: read as it is
        {"model": {"width": 64}, "loss": {"0": 1.0}},  # a label that is no row number
        {"lr": {"0": 0.1}, "name": "x"},  # a value that is no column
        [{"loss": 1.0}],
        {},
    ],
)
def test_other_json_is_no_frame(data):
    assert frame_lists(data) is None


def test_missing_cells_stay_missing():
    data = {"loss": {"0": 1.0, "1": 0.5}, "val_loss": {"1": 0.7}}
    assert frame_lists(data) == {"loss": [1.0, 0.5], "val_loss": [None, 0.7]}
