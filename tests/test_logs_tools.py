"""Logs as training tools write them, each file written here exactly as the tool's own
code writes it: timm's ``summary.csv``, Ultralytics' ``results.csv`` and detectron2's
``metrics.json``, read against the numbers written (s33 i174: the first read no
accuracy, the second no loss, the third was refused as invalid JSON)."""

from __future__ import annotations

import csv
import json
from collections import OrderedDict

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit.logs import read_log


def _train(e: float) -> float:
    return 2.0 / (e + 1)


def _val(e: float) -> float:
    return 0.6 + 0.002 * (e - 12) ** 2


def _top1(e: float) -> float:
    return 100 * (0.9 - abs(e - 12) / 300)


def test_timm_summary_csv(tmp_path):
    """timm's ``update_summary``: an ``OrderedDict`` row, ``train_``/``eval_`` prefixes,
    one ``csv.DictWriter`` an epoch (its ``\\r\\n`` line ends), the header with epoch 0;
    ``eval_top1`` is the top-1 accuracy in percent."""
    path = tmp_path / "summary.csv"
    for e in range(30):
        row = OrderedDict(epoch=e)
        row.update([("train_loss", _train(e))])
        row.update([("eval_loss", _val(e)), ("eval_top1", _top1(e)), ("eval_top5", 99.5)])
        row["lr"] = 0.05
        with path.open("a") as cf:
            dw = csv.DictWriter(cf, fieldnames=row.keys())
            if e == 0:
                dw.writeheader()
            dw.writerow(row)
    h = read_log(path)
    assert h.epoch == tuple(range(30))
    np.testing.assert_allclose(h.loss, [_train(e) for e in range(30)])
    np.testing.assert_allclose(h.val_loss, [_val(e) for e in range(30)])
    np.testing.assert_allclose(h.val_accuracy, [_top1(e) / 100 for e in range(30)])
    assert diagnose(h).best_epoch == 12


#: Ultralytics' detection losses (each already weighted by its gain), then its metrics.
_YOLO = (
    "train/box_loss",
    "train/cls_loss",
    "train/dfl_loss",
    "metrics/precision(B)",
    "metrics/recall(B)",
    "metrics/mAP50(B)",
    "metrics/mAP50-95(B)",
    "val/box_loss",
    "val/cls_loss",
    "val/dfl_loss",
    "lr/pg0",
    "lr/pg1",
    "lr/pg2",
)


def test_ultralytics_results_csv(tmp_path):
    """``BaseTrainer.save_metrics`` (8.0 to 8.2): the header ``"%23s,"`` a name, each row
    ``"%23.5g,"`` a value, the epoch from 1; three training and three validation losses,
    none their total. Read as the sum of each side's three, with a note."""
    path = tmp_path / "results.csv"
    n = len(_YOLO) + 1
    parts = (0.5, 0.3, 0.2)
    for e in range(30):
        t, v = _train(e), _val(e)
        vals = [t * p for p in parts] + [0.8, 0.7, 0.75, 0.5] + [v * p for p in parts] + [0.01] * 3
        s = "" if path.exists() else ("%23s," * n % tuple(["epoch", *_YOLO])).rstrip(",") + "\n"
        with path.open("a") as f:
            f.write(s + ("%23.5g," * n % tuple([e + 1, *vals])).rstrip(",") + "\n")
    assert path.read_text().startswith("                  epoch,         train/box_loss,")
    h = read_log(path)
    assert h.epoch == tuple(range(1, 31))
    written = [[float(f"{x * p:.5g}") for p in parts] for x in map(_train, range(30))]
    np.testing.assert_allclose(h.loss, [sum(w) for w in written], rtol=1e-12)
    written = [[float(f"{x * p:.5g}") for p in parts] for x in map(_val, range(30))]
    np.testing.assert_allclose(h.val_loss, [sum(w) for w in written], rtol=1e-12)
    (note,) = [n for n in h.notes if n.startswith("no loss column")]
    assert "train/box_loss + train/cls_loss + train/dfl_loss" in note
    assert "val/box_loss + val/cls_loss + val/dfl_loss" in note
    assert diagnose(h).best_epoch == 13  # epoch 12 counted from 0


def test_a_single_loss_part_on_each_side_is_no_sum(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,train/box_loss,val/box_loss\n0,0.5,0.6\n1,0.4,0.6\n")
    h = read_log(path)
    assert not h.has("loss") and not h.has("val_loss")
    assert h.extras["val_box_loss"] == (0.6, 0.6)


def test_detectron2_metrics_json(tmp_path):
    """detectron2's ``JSONWriter``: one ``json.dumps(..., sort_keys=True)`` a line, each
    keyed by ``iteration`` (every 20th), ``total_loss`` and its parts, the evaluation's
    ``bbox/AP`` (in percent) only on the lines where evaluation ran (every 100th)."""
    path = tmp_path / "metrics.json"
    with path.open("w") as f:
        for it in range(19, 3000, 20):
            e = it / 100
            line = {"data_time": 0.001, "eta_seconds": 100.0, "iteration": it, "lr": 0.00025}
            line |= {"fast_rcnn/cls_accuracy": 0.9, "loss_box_reg": 0.4 * _train(e)}
            line |= {"loss_cls": 0.6 * _train(e), "time": 0.3, "total_loss": _train(e)}
            if (it + 1) % 100 == 0:
                line |= {"bbox/AP": _top1(e) / 2, "bbox/AP50": 60.0, "bbox/APs": 20.0}
            f.write(json.dumps(line, sort_keys=True) + "\n")
    h = read_log(path)
    assert h.epoch == tuple(range(19, 3000, 20)) and h.steps_as_epochs
    np.testing.assert_allclose(h.loss, [_train(it / 100) for it in h.epoch])
    ap = np.array(h.extras["val_bbox_ap"])
    evaluated = [i for i, it in enumerate(h.epoch) if (it + 1) % 100 == 0]
    assert np.isfinite(ap).nonzero()[0].tolist() == evaluated
    np.testing.assert_allclose(ap[evaluated], [_top1(h.epoch[i] / 100) / 2 for i in evaluated])
    assert any(n.startswith("a detectron2 metrics.json") for n in h.notes)
    d = diagnose(h)
    assert d.monitor == "bbox_ap"
    assert d.best_epoch == 1199  # the evaluation at iteration 1199 (epoch 12 of _top1)


@pytest.mark.parametrize("name", ["gap", "apple", "lap_time"])
def test_ap_is_a_score_only_as_a_word(name):
    from nooverfit._curves import higher_is_better

    assert higher_is_better("bbox_ap50") and higher_is_better("segm_aps")
    assert not higher_is_better(name)


@pytest.mark.parametrize(
    "header", ["epoch,total_loss,loss,val_loss", "epoch,loss,total_loss,val_loss"]
)
def test_a_column_named_loss_is_the_loss_before_a_total_loss(tmp_path, header):
    """s33 i177: ``total_loss`` (detectron2's sum of its losses) became a name of the loss
    in s33 i174, tied with ``loss``, so the first of the two columns was read: a CSV
    logging ``total_loss`` before ``loss`` had its training loss read from it (0.9, not
    0.5). The column named ``loss`` is the loss, wherever it stands."""
    names = header.split(",")
    values = {"total_loss": [0.9, 0.8, 0.7], "loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.55]}
    rows = [",".join([str(e), *(str(values[n][e]) for n in names[1:])]) for e in range(3)]
    (tmp_path / "log.csv").write_text("\n".join([header, *rows]) + "\n")
    h = read_log(tmp_path / "log.csv")
    assert h.loss == (0.5, 0.4, 0.3)
    assert h.val_loss == (0.6, 0.5, 0.55)
