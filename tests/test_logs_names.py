"""Column names written as words or with the side at the end read as the curves they are."""

import math
from pathlib import Path

import pytest

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import canonical, read_log

N = 30


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Train Loss", "loss"),
        ("Validation Loss", "val_loss"),
        ("Val Accuracy", "val_accuracy"),
        ("Train Acc", "accuracy"),
        ("loss_train", "loss"),
        ("loss_val", "val_loss"),
        ("acc_val", "val_accuracy"),
        ("accuracy_train", "accuracy"),
        ("train-loss", "loss"),
        ("val-loss", "val_loss"),
        ("loss_val_epoch", "val_loss"),
        ("Learning Rate", "lr"),
        ("Epoch Time", "time"),
    ],
)
def test_canonical_names_as_words_or_side_last(name, target):
    assert canonical(name).target == target


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("test_time", "test_time"),
        ("test_loss", "test_loss"),
        ("Test Loss", "test_loss"),
        ("lr", "lr"),
        ("epoch_time", "time"),
        ("std_dev", "std_dev"),  # dev is a side first only (dev_loss), not last
        ("val_loss", "val_loss"),
        ("train_loss_epoch", "loss"),
        ("loss/val", "val_loss"),
    ],
)
def test_canonical_names_test_and_bookkeeping_are_no_training_or_validation(name, target):
    assert canonical(name).target == target


def test_canonical_names_spaces_of_bookkeeping_columns_are_still_bookkeeping():
    assert canonical("Wall Time") is None
    assert canonical("global-step") is None


def test_read_log_names_as_words_read_as_curves(tmp_path: Path):
    # a notebook's pandas export: read before as no curve at all (exit 2)
    lines = ["Epoch,Train Loss,Validation Loss,Train Acc,Val Accuracy,Learning Rate,Epoch Time"]
    for e in range(N):
        train = 1.15 * math.exp(-e / 5) + 0.05
        val = 0.5 * math.exp(-e / 5) + 0.7 + 0.01 * e
        acc, val_acc = 0.5 + 0.48 * (1 - math.exp(-e / 5)), 0.5 + 0.18 * (1 - math.exp(-e / 5))
        lines.append(f"{e + 1},{train:.4f},{val:.4f},{acc:.4f},{val_acc:.4f},0.001,12.5")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert h.has("loss") and h.has("val_loss") and h.has("accuracy") and h.has("val_accuracy")
    assert not any(c.startswith("val_") for c in h.columns() if "time" in c or "lr" in c)
    assert diagnose(h).verdict == Verdict.OVERFITTING


def test_read_log_side_last_names_with_a_test_split(tmp_path: Path):
    lines = ["epoch,loss_train,loss_val,acc_val,accuracy_train,test_loss,test_time"]
    for e in range(N):
        train, val = 1.15 * math.exp(-e / 5) + 0.05, 0.5 * math.exp(-e / 5) + 0.7 + 0.01 * e
        lines.append(f"{e},{train:.4f},{val:.4f},0.6,0.9,{val + 1:.4f},3.0")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert h.val_loss[0] == pytest.approx(1.2) and h.loss[0] == pytest.approx(1.2)
    assert h.val_accuracy == (0.6,) * N and h.accuracy == (0.9,) * N
    assert h.has("test_loss") and not h.has("val_test_loss")
