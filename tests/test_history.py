from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nooverfit.history import CORE, History

NAN = float("nan")


def _history() -> History:
    return History.from_columns(
        {
            "loss": [1.0, 0.5, 0.25],
            "accuracy": [0.5, 0.75, 0.875],
            "val_loss": [1.1, 0.7, 0.9],
            "val_accuracy": [0.4, 0.6, NAN],
            "lr": [1e-3, 1e-3, 5e-4],
            "seconds": [0.125, 0.25, 0.5],
        },
        stop_reason="patience",
        kept_epoch=2,
    )


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
    )


def test_history_from_columns_fills_missing_core_columns_with_nan():
    history = History.from_columns({"loss": [1.0, 0.5], "lr": [0.1, 0.1]})
    assert history.epoch == (0, 1) and len(history) == 2
    assert all(math.isnan(v) for v in history.val_loss)
    assert history.has("loss") and not history.has("val_loss") and history.has("lr")
    assert history.columns() == ["epoch", "loss", "lr"]


def test_history_from_columns_rejects_ragged_columns():
    with pytest.raises(ValueError, match="one value per epoch"):
        History.from_columns({"loss": [1.0, 0.5], "val_loss": [1.0]})


def test_history_from_columns_takes_the_epochs_of_an_epoch_column():
    # a log's columns as a dict (pandas: df.to_dict("list")), validated every 5 epochs
    columns = {"epoch": [4, 9, 14], "loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.9]}
    history = History.from_columns(columns)
    assert history.epoch == (4, 9, 14)
    assert "epoch" not in history.extras
    assert history.best_epoch == 9  # the logged epoch, not the row's position
    same = History.from_columns(columns, epoch=[4, 9, 14])
    assert same.epoch == (4, 9, 14)
    with pytest.raises(ValueError, match="'epoch' column differ"):
        History.from_columns(columns, epoch=[0, 1, 2])


@pytest.mark.parametrize(
    ("epoch", "message"),
    [
        ([0, 1, 1], "epoch must increase, got 1 after 1"),  # a repeated epoch
        ([0, 2, 1], "epoch must increase, got 1 after 2"),  # out of order
        ([0, 1, 2, 0, 1, 2], "got 0 after 2; expected one row per epoch"),  # a restart
        ([-1, 0, 1], "epoch must hold whole numbers >= 0, got -1"),
        ([0, 1.5, 2], "got 1.5"),  # int() made it epoch 1
        ([0, math.nan, 2], "got nan"),  # int() raised "cannot convert float NaN"
        ([0, 1, math.inf], "got inf"),  # int() raised OverflowError: a traceback
        ([0, "one", 2], "got 'one'"),
        ([False, True, 2], "got False"),
    ],
)
def test_history_from_columns_refuses_epochs_that_are_not_increasing_whole_numbers(epoch, message):
    columns = {"loss": [1.0, 0.5, 0.4] * (len(epoch) // 3)}
    with pytest.raises(ValueError, match=re.escape(message)):
        History.from_columns(columns, epoch=epoch)
    with pytest.raises(ValueError, match=re.escape(message)):  # an 'epoch' column too
        History.from_columns({**columns, "epoch": epoch})


def test_history_from_columns_takes_whole_floats_and_numpy_epochs():
    columns = {"loss": [1.0, 0.5, 0.4]}
    assert History.from_columns(columns, epoch=[0.0, 5.0, 10.0]).epoch == (0, 5, 10)
    assert History.from_columns(columns, epoch=np.array([1, 2, 3])).epoch == (1, 2, 3)
    assert History.from_columns({**columns, "epoch": np.array([2.0, 4.0, 6.0])}).epoch == (
        2,
        4,
        6,
    )


def test_history_read_back_refuses_bad_epochs_it_cast_before():
    """A hand-edited history: from_csv made epoch "1.5" epoch 1 and read a repeated one."""
    with pytest.raises(ValueError, match=re.escape("got 1.5")):
        History.from_csv("epoch,loss\n0,1.0\n1.5,0.5\n")
    with pytest.raises(ValueError, match="epoch must increase, got 1 after 1"):
        History.from_csv("epoch,loss\n0,1.0\n1,0.5\n1,0.4\n")
    data = _history().to_dict()
    with pytest.raises(ValueError, match="epoch must increase, got 0 after 1"):
        History.from_dict({**data, "epoch": [0, 1, 0]})


def test_history_column_lookup():
    history = _history()
    assert history.column("lr") == (1e-3, 1e-3, 5e-4)
    assert history.column("loss") == (1.0, 0.5, 0.25)
    with pytest.raises(KeyError, match="no column 'bogus'; columns: epoch, accuracy"):
        history.column("bogus")


def test_history_csv_header_is_keras_csvlogger_order():
    text = _history().to_csv()
    header = text.splitlines()[0].split(",")
    # CSVLogger writes "epoch" then the sorted log keys
    assert header[:7] == ["epoch", "accuracy", "loss", "lr", "seconds", "val_accuracy", "val_loss"]
    carried = _history().stop_reason not in ("", "completed")
    assert header[7:] == ["stop_reason"] * carried  # an early stop is carried last
    assert text.splitlines()[3].split(",")[5] == ""  # NaN written as an empty cell


def test_history_csv_round_trip(tmp_path):
    history = _history()
    path = history.save(tmp_path / "h.csv")
    again = History.load(path)
    assert again.epoch == history.epoch
    for name in history.columns()[1:]:
        assert _same(again.column(name), history.column(name)), name


def test_history_json_round_trip_keeps_stop_reason_and_kept_epoch(tmp_path):
    history = _history()
    path = history.save(tmp_path / "h.json")
    raw = json.loads(path.read_text())
    assert raw["val_accuracy"][2] is None  # strict JSON, no NaN literal
    assert (raw["kept_epoch"], raw["best_epoch"]) == (2, 1)  # best: the lowest val_loss
    again = History.load(path)
    assert (again.stop_reason, again.kept_epoch, again.best_epoch) == ("patience", 2, 1)
    for name in history.columns()[1:]:
        assert _same(again.column(name), history.column(name)), name
    assert _same(History.from_dict(history.to_dict()).val_accuracy, history.val_accuracy)


def test_history_head_cuts_curves_and_forgets_later_facts():
    history = _history()
    first = history.head(1)
    assert first.loss == (1.0,) and first.extras["lr"] == (1e-3,)
    assert first.stop_reason == "" and first.kept_epoch is None and first.best_epoch == 0
    two = history.head(2)
    assert two.kept_epoch is None and two.best_epoch == 1 and two.stop_reason == ""
    assert history.head(3).kept_epoch == 2
    assert history.head(3).stop_reason == "patience"


def test_history_head_keeps_every_field_it_does_not_cut():
    """s33 i177: head() built its History field by field, and ``framework`` (s33 i176,
    what wrote the log: the words of the remedies) fell back to "" in every replay."""
    history = dataclasses.replace(
        _history(), framework="keras", notes=("a note",), steps_as_epochs=True
    )
    first = history.head(1)
    assert first.framework == "keras"
    cut = {"epoch", "extras", "stop_reason", "kept_epoch", "evaluated_at", *CORE}
    for f in dataclasses.fields(History):
        if f.name not in cut:
            assert getattr(first, f.name) == getattr(history, f.name), f.name


def test_history_best_epoch_is_the_lowest_val_loss_not_the_kept_epoch():
    history = _history()  # val_loss 1.1, 0.7, 0.9; early stopping kept epoch 2's weights
    assert (history.best_epoch, history.kept_epoch) == (1, 2)
    accuracy_only = History.from_columns({"val_accuracy": [0.2, 0.6, 0.5]}, kept_epoch=2)
    assert accuracy_only.best_epoch == 1  # without val_loss: the highest val_accuracy
    assert History.from_columns({"loss": [1.0, 0.5]}).best_epoch is None


def test_history_from_dict_reads_an_older_best_epoch_as_the_kept_epoch():
    """Before results.json schema 2 a history dict called the kept epoch "best_epoch"."""
    old = {k: v for k, v in _history().to_dict().items() if k != "kept_epoch"}
    old["best_epoch"] = 2
    again = History.from_dict(old)
    assert (again.kept_epoch, again.best_epoch) == (2, 1)
    assert History.from_dict({**old, "best_epoch": None}).kept_epoch is None


def test_history_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="history file not found"):
        History.load(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="'epoch' column"):
        History.from_csv("loss,val_loss\n1,2\n")


def test_history_reads_what_keras_csvlogger_writes(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    path = tmp_path / "keras.csv"
    logger = keras.callbacks.CSVLogger(str(path))
    logger.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    logger.on_train_begin()
    rows = [
        {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.25, "val_accuracy": 0.375},
        {"loss": 0.5, "accuracy": 0.75, "val_loss": 1.5, "val_accuracy": 0.25},
    ]
    for epoch, logs in enumerate(rows):
        logger.on_epoch_end(epoch, dict(logs))
    logger.on_train_end()
    keras_text = path.read_text()
    ours = History.from_columns({k: [r[k] for r in rows] for k in rows[0]})
    assert ours.to_csv().splitlines()[0] == keras_text.splitlines()[0]
    again = History.from_csv(keras_text)
    assert again.val_loss == (1.25, 1.5) and again.accuracy == (0.5, 0.75)
    assert list(csv.reader(io.StringIO(ours.to_csv())))[1] == ["0", "0.5", "1.0", "0.375", "1.25"]


_value = st.one_of(st.floats(allow_infinity=False), st.just(NAN))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_value, _value, _value, st.floats(0, 1)), min_size=1, max_size=8))
def test_history_property_csv_and_json_round_trip(rows):
    loss, val_loss, lr, accuracy = (list(c) for c in zip(*rows, strict=True))
    history = History.from_columns(
        {"loss": loss, "val_loss": val_loss, "lr": lr, "accuracy": accuracy}
    )
    for again in (History.from_csv(history.to_csv()), History.from_dict(history.to_dict())):
        for name in ("loss", "val_loss", "accuracy"):
            assert _same(again.column(name), history.column(name)), name
        if history.has("lr"):
            assert _same(again.column("lr"), history.column("lr"))
