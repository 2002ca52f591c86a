"""Reading a study's ``results.json`` back (:mod:`nooverfit.studies.results_file`)."""

from __future__ import annotations

import json

import pytest

from nooverfit import diagnose
from nooverfit.config import RunConfig
from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.studies.result import RunRecord
from nooverfit.studies.results_file import SCHEMA_VERSION, read_results

VAL_LOSS = [1.0, 0.6, 0.5, 0.55, 0.7]  # lowest at epoch 2; the run kept the last epoch


def _run(history: dict) -> dict:
    curves = History.from_columns({"loss": [1.0, 0.8, 0.6, 0.4, 0.2], "val_loss": VAL_LOSS})
    return {
        "config": RunConfig().to_dict(),
        "engine": "fused",
        "diagnosis": diagnose(curves).to_dict(),
        "history": history,
    }


def test_read_results_reads_a_schema_1_history_best_epoch_as_the_kept_epoch(tmp_path):
    """Schema 1 wrote the epoch whose weights a run kept as "best_epoch" (4 here, where the
    validation minimum is epoch 2); read back, it is the kept epoch, and ``best_epoch`` is
    the diagnosis's."""
    history = {
        "epoch": [0, 1, 2, 3, 4],
        "loss": [1.0, 0.8, 0.6, 0.4, 0.2],
        "accuracy": [0.5, 0.6, 0.7, 0.8, 0.9],
        "val_loss": VAL_LOSS,
        "val_accuracy": [0.4, 0.5, 0.6, 0.55, None],
        "extras": {"lr": [0.01] * 5},
        "stop_reason": "completed",
        "best_epoch": 4,
    }
    path = tmp_path / "results.json"
    written = {"schema_version": 1, "settings": {}, "runs": {"k": _run(history)}}
    path.write_text(json.dumps(written))
    record = RunRecord.from_dict(read_results(path)["runs"]["k"])
    assert record.history.kept_epoch == 4
    assert record.history.best_epoch == record.diagnosis.best_epoch == 2


def test_read_results_reads_schema_2_and_refuses_a_newer_one(tmp_path):
    curves = History.from_columns(
        {"loss": [1.0, 0.8, 0.6, 0.4, 0.2], "val_loss": VAL_LOSS}, kept_epoch=4
    )
    written = curves.to_dict()
    assert (written["kept_epoch"], written["best_epoch"]) == (4, 2)
    path = tmp_path / "results.json"
    saved = {"schema_version": SCHEMA_VERSION, "settings": {}, "runs": {"k": _run(written)}}
    path.write_text(json.dumps(saved))
    assert SCHEMA_VERSION == 2
    back = RunRecord.from_dict(read_results(path)["runs"]["k"]).history
    assert (back.kept_epoch, back.best_epoch) == (4, 2)
    path.write_text(json.dumps({**saved, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(BadInput, match="made by a newer nooverfit"):
        read_results(path)
