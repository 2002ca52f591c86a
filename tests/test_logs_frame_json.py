"""``pd.DataFrame(history.history).to_json(path)``, in each of pandas's layouts, reads as
``json.dump(history.history)`` does (before, its default layout read as "no curve
recognized; columns found: none")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit.logs import list_runs, read_log
from nooverfit.logs._frame_json import frame_lists

EPOCHS = np.arange(40)
HISTORY = {
    name: [float(v) for v in curve]
    for name, curve in {
        "loss": 2.0 * np.exp(-EPOCHS / 6) + 0.01,
        "val_loss": 0.6 + 0.5 * np.exp(-EPOCHS / 5) + 0.004 * np.maximum(0, EPOCHS - 15) ** 1.5,
        "accuracy": 1 - np.exp(-EPOCHS / 6) / 2,
        "val_accuracy": 0.8 - 0.001 * EPOCHS,
    }.items()
}


ORIENTS = ["columns", "index", "split", "table", "records"]


def _layout(orient: str, history: dict[str, list[float]], index: list[int]) -> object:
    """``pd.DataFrame(history, index=index).to_json(orient=orient)``'s JSON, built by hand
    (pandas is no dependency of the tests; the test below checks the reading on
    pandas's own files where it is installed)."""
    names = list(history)
    rows = [{n: history[n][i] for n in names} for i in range(len(index))]
    if orient == "columns":
        return {n: {str(r): history[n][i] for i, r in enumerate(index)} for n in names}
    if orient == "index":
        return {str(r): rows[i] for i, r in enumerate(index)}
    if orient == "split":
        return {"columns": names, "index": index, "data": [list(r.values()) for r in rows]}
    if orient == "table":
        fields = [{"name": "index", "type": "integer"}] + [
            {"name": n, "type": "number"} for n in names
        ]
        schema = {"fields": fields, "primaryKey": ["index"], "pandas_version": "1.4.0"}
        return {"schema": schema, "data": [{"index": r, **rows[i]} for i, r in enumerate(index)]}
    return rows


def _same_reading(got, want) -> None:
    assert got.epoch == want.epoch
    for curve in HISTORY:
        # (pandas's to_json writes 10 decimals)
        np.testing.assert_allclose(getattr(got, curve), getattr(want, curve), atol=1e-10)
    a, b = diagnose(got), diagnose(want)
    assert (a.verdict, a.best_epoch, a.onset_epoch, a.explanation) == (
        b.verdict,
        b.best_epoch,
        b.onset_epoch,
        b.explanation,
    )


@pytest.mark.parametrize("orient", ORIENTS)
def test_each_pandas_layout_reads_as_the_keras_history(tmp_path, orient):
    keras = tmp_path / "keras.json"
    keras.write_text(json.dumps(HISTORY))
    frame = tmp_path / f"{orient}.json"
    frame.write_text(json.dumps(_layout(orient, HISTORY, list(range(len(EPOCHS))))))
    _same_reading(read_log(frame), read_log(keras))


@pytest.mark.parametrize("orient", ORIENTS)
def test_pandas_s_own_files_read_as_the_keras_history(tmp_path, orient):
    pd = pytest.importorskip("pandas")
    keras = tmp_path / "keras.json"
    keras.write_text(json.dumps(HISTORY))
    frame = tmp_path / f"{orient}.json"
    pd.DataFrame(HISTORY).to_json(frame, orient=orient)
    _same_reading(read_log(frame), read_log(keras))


def test_a_frame_indexed_by_epoch_keeps_its_epochs(tmp_path):
    """Row labels 1..40 (a frame indexed as a CSV's epoch column): the epochs are the
    labels, as the same table written as CSV with an epoch column reads."""
    labels = [int(e) + 1 for e in EPOCHS]
    (tmp_path / "h.json").write_text(json.dumps(_layout("columns", HISTORY, labels)))
    rows = [",".join(["epoch", *HISTORY])] + [
        ",".join([str(r), *(repr(HISTORY[n][i]) for n in HISTORY)]) for i, r in enumerate(labels)
    ]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n")
    got, want = read_log(tmp_path / "h.json"), read_log(tmp_path / "h.csv")
    assert got.epoch == want.epoch == tuple(range(1, 41))
    assert diagnose(got).best_epoch == diagnose(want).best_epoch


def test_a_folder_lists_a_frame_s_json_as_a_run(tmp_path):
    (tmp_path / "history.json").write_text(json.dumps(_layout("columns", HISTORY, [0, 1])))
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
