"""Column names written as words or with the side at the end read as the curves they are."""

import json
import math
from pathlib import Path

import pytest

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import canonical, read_log
from nooverfit.logs._names import Name

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


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("metrics/val_loss", "val_loss"),  # a group word beside the curve's name: skipped
        ("history/loss", "loss"),
        # s32: a group word beside a side alone is the name (both were dropped, None)
        ("Metric/val", "val_metric"),
        ("metrics/train", "metrics"),
        ("eval/metric", "val_metric"),
    ],
)
def test_canonical_group_words_are_skipped_only_beside_a_curve_s_name(name, target):
    assert canonical(name).target == target


@pytest.mark.parametrize("name", ["history/epoch", "metrics.epoch", "train/epoch", "epoch/epoch"])
def test_canonical_an_epoch_grouped_or_sided_is_no_curve(name):
    """s32: ``history/epoch`` read as a curve named ``epoch`` (and a log numbering its
    epochs from 1 refused: "epoch and the 'epoch' column differ")."""
    assert canonical(name) is None


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


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("val_loss/dataloader_idx_0", "val_loss"),
        ("val_acc/dataloader_idx_0", "val_accuracy"),
        ("val_loss/dataloader_idx_1", "dataloader_1_val_loss"),
        ("valid/loss/dataloader_idx_2", "dataloader_2_val_loss"),
    ],
)
def test_canonical_names_of_lightning_dataloaders_first_one_is_validation(name, target):
    assert canonical(name).target == target


TWO_LOADERS = Path(__file__).parent / "data" / "two_loaders_lightning"


def test_read_log_lightning_two_validation_dataloaders_reads_the_first():
    """A real Lightning run (a 512-wide MLP on 100 digits, Adam at 1e-3, 60 epochs) with
    two validation dataloaders: Lightning logs ``val_loss/dataloader_idx_0`` and
    ``.../dataloader_idx_1``. They read as no validation curve at all before
    (insufficient evidence); the first is the validation curve, and the run overfits."""
    import csv

    rows = list(csv.DictReader((TWO_LOADERS / "version_0" / "metrics.csv").open()))
    first, second = (
        [float(r[name]) for r in rows if r[name]]
        for name in ("val_loss/dataloader_idx_0", "val_loss/dataloader_idx_1")
    )
    h = read_log(TWO_LOADERS)
    assert len(h) == len(first) == 60
    assert h.val_loss == pytest.approx(first)
    assert h.extras["dataloader_1_val_loss"] == pytest.approx(second)
    assert h.has("val_accuracy") and h.has("accuracy")
    note = "--val-col val_loss/dataloader_idx_1"
    assert any("2 dataloaders" in n and note in n for n in h.notes)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == first.index(min(first))
    other = read_log(TWO_LOADERS, columns={"val_loss": "val_loss/dataloader_idx_1"})
    assert other.val_loss == pytest.approx(second)
    assert not any("dataloaders" in n for n in other.notes)  # the user chose


def test_canonical_reads_a_wandb_panel_export():
    """W&B's "Export panel data": ``<run> - <metric>`` and the band's ``__MIN``/``__MAX``
    were no curve, and the log was refused."""
    assert canonical("run-42 - val_loss") == Name("val_loss", 1)
    assert canonical("glad-sun-7 - train/loss") == Name("loss", 1)
    assert canonical("run-42 - val_loss__MIN") is None
    assert canonical("run-42 - val_loss__MAX") is None


def test_read_log_says_which_of_two_validation_losses_it_reads(tmp_path):
    """Two runs in one W&B export (or ``loss`` beside ``train/loss``): the first was read
    without a word; a note names it and the flag that reads the other."""
    path = tmp_path / "wandb.csv"
    rows = "".join(f'"{e}","{1 + e / 10}","{1 + e / 10}","{1 + e / 20}"\n' for e in range(5))
    header = '"Step","runA - val_loss","runA - val_loss__MIN","runB - val_loss"\n'
    path.write_text(header + rows)
    h = read_log(path)
    assert h.val_loss == pytest.approx([1 + e / 10 for e in range(5)])
    assert (
        "val_loss read from 'runA - val_loss'; 'runB - val_loss' names it too (pass --val-col "
        "to read another)"
    ) in h.notes
    other = read_log(path, columns={"val_loss": "runB - val_loss"})
    assert other.val_loss == pytest.approx([1 + e / 20 for e in range(5)])
    assert not any("names it too" in n for n in other.notes)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("val_acc_pct", "val_accuracy"),
        ("train_acc_pct", "accuracy"),
        ("val_acc_%", "val_accuracy"),
        ("Val Accuracy Percent", "val_accuracy"),
        ("train-acc-PCT", "accuracy"),
        ("val_err_pct", "val_error"),
    ],
)
def test_canonical_a_percent_unit_after_a_separator_is_no_part_of_the_name(name, target):
    """s28 i152: a loop logging ``train_acc_pct`` read a metric ``acc_pct``, not an
    accuracy (``val_acc_%`` read ``val_acc_``): the unit closes the name as ``(%)`` does."""
    assert canonical(name).target == target


ERR_PCT = Path(__file__).parent / "data" / "err_pct_digits_jsonl.jsonl"


def _write_as_fractions(rows: list[dict], path: Path) -> None:
    """The error-in-percent rows of ``ERR_PCT`` written as ``train_acc``/``val_acc``
    fractions (1 - error / 100), one JSON line per epoch."""
    path.write_text(
        "".join(
            json.dumps(
                {
                    "epoch": r["epoch"],
                    "train_acc": 1 - r["train_err_pct"] / 100,
                    "val_acc": 1 - r["val_err_pct"] / 100,
                }
            )
            + "\n"
            for r in rows
        )
    )


def test_read_log_accuracy_in_percent_named_pct_reads_as_the_accuracy(tmp_path: Path):
    """s28 i152's hand-written PyTorch run (digits, 150 training samples, MLP 512x2) logged
    its error in percent; the same curves logged as ``*_acc_pct`` (100 - error) read as
    the accuracy in [0, 1], and the diagnosis is the one of ``train_acc``/``val_acc``
    logged as fractions."""
    rows = [json.loads(line) for line in ERR_PCT.read_text().splitlines()]
    pct, frac = tmp_path / "pct.jsonl", tmp_path / "frac.jsonl"
    pct.write_text(
        "".join(
            json.dumps(
                {
                    "epoch": r["epoch"],
                    "train_acc_pct": 100 - r["train_err_pct"],
                    "val_acc_pct": 100 - r["val_err_pct"],
                }
            )
            + "\n"
            for r in rows
        )
    )
    _write_as_fractions(rows, frac)
    h = read_log(pct)
    assert list(h.val_accuracy) == pytest.approx([1 - r["val_err_pct"] / 100 for r in rows])
    assert any("logged in percent" in n for n in h.notes)
    a, b = diagnose(h), diagnose(read_log(frac))
    assert (a.verdict, a.best_epoch, a.onset_epoch) == (b.verdict, b.best_epoch, b.onset_epoch)
    assert a.gap.metric_at_last == pytest.approx(b.gap.metric_at_last)


ERROR_RATE = Path(__file__).parent / "data" / "error_rate_digits_keras.csv"


def test_read_log_a_keras_error_metric_reads_as_one_minus_accuracy():
    """A real Keras ``CSVLogger`` log (``bench/make_error_rate_keras.py``: an MLP on 300
    digits, a custom metric named ``error``, 1 - accuracy): ``error`` and ``val_error``
    were a metric nooverfit did not know; they are the accuracy they leave, and the
    table quotes the accuracy gap."""
    rows = [line.split(",") for line in ERROR_RATE.read_text().splitlines()]
    head = rows[0]
    val_error = [float(r[head.index("val_error")]) for r in rows[1:]]
    h = read_log(ERROR_RATE)
    assert h.columns() == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert list(h.val_accuracy) == pytest.approx([1 - e for e in val_error])
    assert any("val_error read as accuracy = 1 - error" in n for n in h.notes)
    assert diagnose(h).gap.metric == "accuracy"


def test_read_log_an_error_logged_in_percent_decides_as_its_accuracy(tmp_path: Path):
    """s28 i152's hand-written PyTorch run logged ``train_err_pct``/``val_err_pct`` and no
    loss: decided on as a metric ``val_error`` it read a good fit where the same run's
    accuracy reads an overfit. Read as accuracy = 1 - error / 100, its diagnosis is the
    accuracy's."""
    rows = [json.loads(line) for line in ERR_PCT.read_text().splitlines()]
    frac = tmp_path / "frac.jsonl"
    _write_as_fractions(rows, frac)
    h = read_log(ERR_PCT)
    assert list(h.val_accuracy) == pytest.approx([1 - r["val_err_pct"] / 100 for r in rows])
    assert any("val_err_pct (in percent) read as accuracy" in n for n in h.notes)
    a, b = diagnose(h), diagnose(read_log(frac))
    assert a.monitor == b.monitor == "accuracy"
    assert (a.verdict, a.best_epoch, a.onset_epoch) == (b.verdict, b.best_epoch, b.onset_epoch)


@pytest.mark.parametrize(
    ("column", "read"),
    [
        ("val_error_rate", True),
        ("val_top1_err", True),
        ("val_err", True),
        ("val_mean_absolute_error", False),  # a regression's error, in its own units
        ("val_mae", False),
    ],
)
def test_read_log_classification_error_names_only_read_as_accuracy(tmp_path, column, read):
    """Only a classification error rate is 1 - accuracy: ``val_mean_absolute_error`` (a
    regression's) stays the metric it is. An error in percent by name alone (every value
    under 1: 0.9 % is 0.009) reads in percent."""
    path = tmp_path / "log.csv"
    values = [0.5, 0.3, 0.2]
    path.write_text(
        f"epoch,val_loss,{column}\n" + "".join(f"{i},1.0,{v}\n" for i, v in enumerate(values))
    )
    h = read_log(path)
    assert h.has("val_accuracy") is read
    if read:
        assert list(h.val_accuracy) == pytest.approx([1 - v for v in values])
    else:
        assert h.column(canonical(column).target) == pytest.approx(values)
    pct = tmp_path / "pct.csv"
    pct.write_text("epoch,val_loss,val_err_pct\n0,1.0,0.9\n1,1.0,0.8\n")
    assert list(read_log(pct).val_accuracy) == pytest.approx([0.991, 0.992])


def test_read_log_a_regression_error_named_error_is_left_as_it_is(tmp_path: Path):
    """s29 review: a Keras regression with a custom metric named ``error`` returning the
    RMSE (6.3 falling to 1.2) was read as an error rate in percent, and the gap quoted in
    accuracy. A bare ``error`` above 1 is no rate; ``error_rate`` above 1 is one in
    percent; ``classification_rate`` (often the share right) is read as neither."""
    rmse = [6.3, 3.1, 1.9, 1.2]
    path = tmp_path / "reg.csv"
    path.write_text(
        "epoch,loss,error,val_loss,val_error\n"
        + "".join(f"{i},{v * v},{v},{v * v * 1.1},{v * 1.05}\n" for i, v in enumerate(rmse))
    )
    h = read_log(path)
    assert not h.has("val_accuracy") and not h.has("accuracy")
    assert h.column("val_error") == pytest.approx([v * 1.05 for v in rmse])
    rate = tmp_path / "rate.csv"
    rate.write_text("epoch,val_loss,val_error_rate\n0,1.0,40\n1,0.9,30\n2,0.8,20\n")
    assert list(read_log(rate).val_accuracy) == pytest.approx([0.6, 0.7, 0.8])
    share = tmp_path / "share.csv"
    share.write_text("epoch,val_loss,val_classification_rate\n0,1.0,0.6\n1,0.9,0.7\n2,0.8,0.8\n")
    assert not read_log(share).has("val_accuracy")
