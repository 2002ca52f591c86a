"""Relabelling a stored corpus (``bench/_corpus_relabel.py``) by other principles keeps the
old labels beside the new ones, and reads a label's confidence only from bootstrap votes
cast by the same principles; nothing is trained again."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).parents[1] / "bench"
#: A flat test loss after epoch 15 (as in test_corpus_labels.py's FLAT_AFTER_15).
FLAT = list(np.concatenate([np.linspace(1.0, 0.41, 10), 0.4 + 5e-4 * abs(np.arange(-5, 15))]))


def record(name: str, train_acc: float, test_acc: float) -> dict:
    n = len(FLAT)
    return {
        "id": name,
        "log": f"runs/{name}/training.log",
        "data": "blobs",
        "spec": {"loss": "ce"},
        "regime": "good_fit",
        "label": "good_fit",
        "part": "x",
        "test": FLAT,
        "val_epochs": list(range(n)),
        "clean": {
            "train_eval": list(np.geomspace(2.0, 0.01, n)),
            "train_acc": list(np.linspace(0.5, train_acc, n)),
            "test_acc": list(np.linspace(0.5, test_acc, n)),
        },
        "label_votes": {"good_fit": 36, "overfitting": 4},
        "label_confidence": 0.9,
        "ambiguous": False,
    }


def write_corpus(root: Path) -> None:
    records = [record("wide", 0.997, 0.878), record("narrow", 0.99, 0.95)]
    for r in records:
        log = root / r["log"]
        log.parent.mkdir(parents=True)
        rows = ["epoch,accuracy,loss,val_accuracy,val_loss"]
        rows += [f"{e},0.9,{2.0 * 0.8**e:.6f},0.88,{v:.6f}" for e, v in enumerate(FLAT)]
        log.write_text("\n".join(rows) + "\n")
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_relabelling_keeps_the_old_labels_and_drops_votes_of_other_principles(
    tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(BENCH))
    from _corpus_relabel import relabel

    write_corpus(tmp_path)
    relabel(tmp_path, 2)
    runs = {
        r["id"]: r
        for r in map(json.loads, (tmp_path / "manifest.jsonl").read_text().split("\n")[:-1])
    }
    wide, narrow = runs["wide"], runs["narrow"]
    # the gap (11.9 points, training at 99.7 %) is overfitting now; onset at the minimum
    assert (wide["label"], wide["label_v1"], wide["onset"]) == ("overfitting", "good_fit", 15)
    # the votes were cast by principles 1 for good_fit: no confidence for the new label
    assert wide["confidence_unknown"] and "ambiguous" not in wide
    assert "label_confidence" not in wide
    # a label that did not change keeps its confidence from the same votes
    assert (narrow["label"], narrow["label_v1"]) == ("good_fit", "good_fit")
    assert narrow["label_confidence"] == pytest.approx(0.9) and not narrow["ambiguous"]
    assert narrow["constant"] == pytest.approx(math.log(4), rel=0.01)  # blobs: 4 classes
    # back to principles 1: the old labels and confidences, the new ones kept as label_v2
    relabel(tmp_path, 1)
    back = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert [(r["label"], r["label_v1"], r.get("label_v2")) for r in back] == [
        ("good_fit", "good_fit", "overfitting"),
        ("good_fit", "good_fit", "good_fit"),
    ]
    assert [r["label_confidence"] for r in back] == [pytest.approx(0.9)] * 2
    assert not any(r.get("confidence_unknown") for r in back)


CORPUS = Path.home() / ".cache" / "nooverfit" / "log-corpus"


@pytest.mark.skipif(not (CORPUS / "manifest-17000.jsonl").exists(), reason="no log corpus")
def test_principles_1_give_back_the_stored_labels_of_a_corpus_part(tmp_path, monkeypatch):
    """The corrections leave the old principles recoverable: relabelling a copy of the
    fresh14 part by principles 1 gives back every label it was built with (its label_v1
    where the cache has been relabelled since)."""
    monkeypatch.syspath_prepend(str(BENCH))
    from _corpus_relabel import relabel

    source = (CORPUS / "manifest-17000.jsonl").read_text().splitlines()
    (tmp_path / "manifest.jsonl").write_text("\n".join(source) + "\n")
    (tmp_path / "runs").symlink_to(CORPUS / "runs")
    built = [json.loads(x) for x in source]
    built_with = [
        r.get("label_v1", r["label"]) if r.get("principles", 1) != 1 else r["label"] for r in built
    ]
    relabel(tmp_path, 1)
    again = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert [r["label"] for r in again] == built_with
    assert len(again) == 53
