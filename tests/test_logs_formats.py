"""Logs as other tools write them (fastai, pandas, W&B, ...): each column read as what it is."""

import json
import math
from pathlib import Path

import pytest

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.logs import read_log

N = 30


def curves(*, train_end: float = 0.05, val_end: float = 0.7, acc_end: float = 0.68):
    """A classifier that fits its training set (training loss to ``train_end``) while its
    validation loss levels off at ``val_end`` and its validation accuracy at ``acc_end``."""
    train = [(1.2 - train_end) * math.exp(-e / 5) + train_end for e in range(N)]
    val = [(1.2 - val_end) * math.exp(-e / 5) + val_end for e in range(N)]
    acc = [0.5 + (acc_end - 0.5) * (1 - math.exp(-e / 5)) for e in range(N)]
    return train, val, acc


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_read_log_fastai_metrics_are_validation_metrics(tmp_path):
    # fastai's CSVLogger: the Recorder computes `accuracy` on the validation set; read as
    # a training accuracy of 0.68 it made this memorizing run read as underfitting
    train, val, acc = curves()
    rows = [f"{e},{train[e]:.6f},{val[e]:.6f},{acc[e]:.6f},00:0{e % 7 + 1}" for e in range(N)]
    h = read_log(
        write(tmp_path / "history.csv", "epoch,train_loss,valid_loss,accuracy,time", rows)
    )
    assert not h.has("accuracy")
    assert h.val_accuracy == tuple(round(a, 6) for a in acc)
    assert any("fastai" in n and "val_accuracy" in n for n in h.notes)
    assert diagnose(h).verdict == Verdict.OVERFITTING


def test_read_log_fastai_train_metrics_and_missing_marker(tmp_path):
    # Recorder(train_metrics=True) prefixes both sides; `#na#` is fastai's missing value
    rows = [f"{e},0.{9 - e},0.{9 - e}1,0.{e + 1},#na#,00:01" for e in range(5)]
    header = "epoch,train_loss,valid_loss,train_accuracy,valid_accuracy,time"
    h = read_log(write(tmp_path / "history.csv", header, rows))
    assert h.accuracy == tuple(float(f"0.{e + 1}") for e in range(5))
    assert all(math.isnan(v) for v in h.val_accuracy)
    assert not any("not a number" in n or "fastai" in n for n in h.notes)


def test_read_log_fastai_column_mapped_by_its_logged_name(tmp_path):
    train, val, acc = curves()
    rows = [f"{e},{train[e]:.6f},{val[e]:.6f},{acc[e]:.6f},00:01" for e in range(N)]
    path = write(tmp_path / "history.csv", "epoch,train_loss,valid_loss,accuracy,time", rows)
    h = read_log(path, columns={"val_loss": "valid_loss", "val_accuracy": "accuracy"})
    assert h.val_accuracy == tuple(round(a, 6) for a in acc)


def restarted_log(path: Path, second_header: str, second_row) -> Path:
    """A first run of 8 epochs, then a script restarted with ``>>``: its header again."""
    train, val, acc = curves(val_end=0.5)
    first = [f"{e},{train[e] + 0.3:.4f},{val[e] + 0.3:.4f}" for e in range(8)]
    second = [second_row(train[e], val[e], acc[e], e) for e in range(N)]
    text = "epoch,loss,val_loss\n" + "\n".join(first) + "\n"
    return write(path, text + second_header, second)


def test_read_log_repeated_header_with_columns_reordered(tmp_path):
    # read by the first header, the second run's loss and val_loss were swapped: diverging
    path = restarted_log(
        tmp_path / "log.csv", "epoch,val_loss,loss", lambda t, v, a, e: f"{e},{v:.4f},{t:.4f}"
    )
    h = read_log(path)
    train, val, _ = curves(val_end=0.5)
    assert h.epoch == tuple(range(N))
    assert h.loss == tuple(round(t, 4) for t in train)
    assert h.val_loss == tuple(round(v, 4) for v in val)
    assert any("restarted run" in n and "line 11" in n for n in h.notes)
    assert not any("not a number" in n for n in h.notes)


def test_read_log_repeated_header_with_more_columns(tmp_path):
    # the second run logs accuracy too (Keras's sorted keys): its rows were all skipped as
    # truncated, and the first run's 8 epochs diagnosed
    path = restarted_log(
        tmp_path / "log.csv",
        "epoch,accuracy,loss,val_accuracy,val_loss",
        lambda t, v, a, e: f"{e},{a + 0.1:.4f},{t:.4f},{a:.4f},{v:.4f}",
    )
    h = read_log(path)
    assert len(h) == N
    assert h.has("val_accuracy")
    assert h.val_loss[0] == round(curves(val_end=0.5)[1][0], 4)


def test_read_log_accuracy_in_percent_read_as_fraction(tmp_path):
    # `100. * correct / total` as PyTorch scripts log it: read as is, this run fitting its
    # training set (accuracy 100 %, loss 0.3 against 0.7) read as a good fit
    train, val, val_acc = curves(train_end=0.3, val_end=0.7, acc_end=0.92)
    train_acc = [min(1, 0.5 + 0.52 * (1 - math.exp(-e / 5))) for e in range(N)]
    header = "epoch,train_loss,train_acc,val_loss,val_acc,lr"

    def log(name: str, scale: float) -> Path:
        rows = [
            f"{e},{train[e]:.6f},{scale * train_acc[e]:.6f},{val[e]:.6f},"
            f"{scale * val_acc[e]:.6f},0.1"
            for e in range(N)
        ]
        return write(tmp_path / name, header, rows)

    h, ref = read_log(log("percent.csv", 100)), read_log(log("fraction.csv", 1))
    assert h.accuracy == pytest.approx(ref.accuracy, abs=1e-6)
    assert h.val_accuracy == pytest.approx(ref.val_accuracy, abs=1e-6)
    assert any("percent" in n for n in h.notes)
    assert diagnose(h).verdict == diagnose(ref).verdict == Verdict.OVERFITTING
    assert h.extras["lr"] == (0.1,) * N  # left as logged


def test_read_log_percent_sign_cells(tmp_path):
    h = read_log(write(tmp_path / "log.csv", "epoch,loss,val_acc", ["0,0.9,55.5%", "1,0.8,61%"]))
    assert h.val_accuracy == (0.555, 0.61)
    assert not any("not a number" in n for n in h.notes)


def test_read_log_jsonl_nested_objects(tmp_path):
    # {"train": {"loss": ...}, "val": {...}}: flattened to train/loss, val/acc, ...
    lines = [
        json.dumps({"epoch": e, "train": {"loss": 1 / (e + 1)}, "val": {"loss": 0.9, "acc": 0.7}})
        for e in range(4)
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    h = read_log(path)
    assert h.loss == (1.0, 0.5, 1 / 3, 0.25)
    assert h.val_loss == (0.9,) * 4
    assert h.val_accuracy == (0.7,) * 4


@pytest.mark.parametrize(
    "record",
    [
        lambda e, t, v: {"epoch": e, "metrics": {"train_loss": t, "val_loss": v}},
        lambda e, t, v: {"epoch": e, "metrics": {"train": {"loss": t}, "val": {"loss": v}}},
        lambda e, t, v: {"history": {"epoch": e, "loss": t, "val_loss": v}},
        lambda e, t, v: {"step": 10 * e, "metrics": {"epoch": e, "loss": t, "val_loss": v}},
    ],
)
def test_read_log_jsonl_values_grouped_under_a_key(tmp_path, record):
    """s32: a hand-written log grouping its values under ``metrics`` (flattened to
    ``metrics/val_loss``) was refused: "no training or validation curve recognized".
    Read as the same values written flat, the epochs as numbered (from 1 here: the
    epoch under ``history`` was read as a curve, refused as differing from the rows')."""
    curves = [(e, 1 / e, 0.5 + 0.01 * e) for e in range(1, 7)]
    grouped, flat = tmp_path / "grouped.jsonl", tmp_path / "flat.jsonl"
    grouped.write_text("".join(json.dumps(record(*c)) + "\n" for c in curves))
    flat.write_text(
        "".join(json.dumps({"epoch": e, "loss": t, "val_loss": v}) + "\n" for e, t, v in curves)
    )
    h, ref = read_log(grouped), read_log(flat)
    assert (h.epoch, h.loss, h.val_loss) == (ref.epoch, ref.loss, ref.val_loss)
    assert h.epoch == (1, 2, 3, 4, 5, 6) and h.loss == tuple(1 / e for e in range(1, 7))


@pytest.mark.parametrize(
    ("name", "scalar"),
    [
        ("history.txt", "{}"),  # print(history.history), Keras's floats
        ("history.txt", "np.float32({})"),  # NumPy 2's scalars as they print
        ("history.json", "tensor({}, device='cuda:0')"),  # torch's, in a .json file
    ],
)
def test_a_history_python_printed_reads_as_its_json(tmp_path, name, scalar):
    """s32: ``print(history.history)`` pasted into a file was refused ("holds no JSON
    object line"): single quotes, ``nan``, NumPy's and torch's printed scalars. Read as
    the same dict saved with ``json.dump``, with a note; no code runs (``__import__``
    in such a file is refused as before)."""
    loss = [1 / (e + 1) for e in range(6)]
    val = [0.5, 0.45, float("nan"), 0.44, 0.46, 0.5]
    loss_text = ", ".join(scalar.format(v) for v in loss)
    val_text = ", ".join(scalar.format(v) for v in val)
    printed = "{'loss': [" + loss_text + "], 'val_loss': [" + val_text + "]}"
    (tmp_path / name).write_text(printed + "\n")
    (tmp_path / "saved.json").write_text(json.dumps({"loss": loss, "val_loss": val}))
    h, ref = read_log(tmp_path / name), read_log(tmp_path / "saved.json")
    assert h.loss == ref.loss and h.val_loss[:2] == ref.val_loss[:2] == (0.5, 0.45)
    assert math.isnan(h.val_loss[2]) and h.val_loss[3:] == ref.val_loss[3:]
    assert "read as Python printed it (a dict or list, not JSON)" in h.notes
    (tmp_path / "code.txt").write_text("{'loss': [__import__('os').getpid()]}\n")
    with pytest.raises(ValueError, match="holds no JSON object line"):
        read_log(tmp_path / "code.txt")


def wandb_export(*, epoch: bool) -> str:
    """``run.history()`` saved with pandas: W&B's ``_step``, ``_runtime``, ``_timestamp``,
    Lightning's ``trainer/global_step``, the training loss at each of 4 steps and the
    validation loss once an epoch (empty cells elsewhere)."""
    head = ",_step,_runtime,_timestamp," + ("epoch," if epoch else "")
    lines = [head + "train/loss,trainer/global_step,val/loss"]
    step = 0
    for e in range(3):
        for s in range(4):
            at = f"{e}," if epoch else ""
            lines.append(
                f"{step},{step},{step * 1.5},{1.7e9 + step},{at}{1 - e / 4 + s / 100},{s},"
            )
            step += 1
        at = f"{e}," if epoch else ""
        lines.append(f"{step},{step},{step * 1.5},{1.7e9 + step},{at},{3},{0.9 - e / 10}")
        step += 1
    return "\n".join(lines) + "\n"


def test_read_log_wandb_history_export(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(wandb_export(epoch=True))
    h = read_log(path)
    assert h.epoch == (0, 1, 2)
    assert h.loss == pytest.approx([1.015, 0.765, 0.515])  # each epoch's mean step loss
    assert h.val_loss == pytest.approx([0.9, 0.8, 0.7])
    assert h.extras == {}  # W&B's bookkeeping columns are no metric


def test_read_log_wandb_history_without_epochs_indexed_by_step(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(wandb_export(epoch=False))
    h = read_log(path)
    assert h.steps_as_epochs
    assert h.epoch == tuple(range(15))
    assert any("indexed by _step" in n for n in h.notes)


TWICE = Path(__file__).parent / "data" / "twice_an_epoch_lightning"


def test_a_run_validated_twice_an_epoch_reads_the_same_from_its_csv_and_tensorboard_logs():
    """One real Lightning run (an MLP on 100 samples, Adam at 3e-3, 20 epochs,
    ``val_check_interval=0.5``), logged by ``CSVLogger`` and ``TensorBoardLogger`` at
    once: validation ran twice an epoch. Both readers keep each epoch's last pass, of
    the epoch's final weights (the TensorBoard reader averaged the two before: the same
    run read 224.9 % above its best from one log and 226.8 % from the other)."""
    csv = read_log(TWICE / "metrics.csv")
    tb = read_log(TWICE / "tb")
    rows = [line.split(",") for line in (TWICE / "metrics.csv").read_text().splitlines()]
    head = rows[0]
    val = [float(r[head.index("val_loss")]) for r in rows[1:] if r[head.index("val_loss")]]
    assert len(val) == 2 * len(csv) == 40
    assert csv.val_loss == pytest.approx(val[1::2])  # each epoch's second pass
    assert tb.val_loss == pytest.approx(csv.val_loss, rel=1e-6)
    a, b = diagnose(csv), diagnose(tb)
    assert (a.verdict, a.best_epoch, a.onset_epoch) == (b.verdict, b.best_epoch, b.onset_epoch)
    assert a.generalization_loss == pytest.approx(b.generalization_loss, rel=1e-6)
    assert any("val_loss up to 2 times, last" in n for n in tb.notes)


HPARAMS = Path(__file__).parent / "data" / "hparams_digits_tb"


def test_add_hparams_summary_metrics_are_no_epoch_of_the_run():
    """A real ``SummaryWriter`` run (a 512-wide MLP on 100 digits, Adam at 1e-3, 80
    epochs; ``train/loss`` per step, ``val/loss`` and ``val/accuracy`` per epoch, no epoch
    scalar) ending with ``add_hparams(..., {"val/loss": ..., "val/accuracy": ...})``,
    which writes those metrics once, at step 0, in a folder named by the time. Read as
    curves they made step 0 a validation round: 81 epochs, each shifted by one, and two
    columns named by the time."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    main = next(HPARAMS.glob("events.out.tfevents*"))
    val = [
        float(tensor_util.make_ndarray(v.tensor))
        for e in EventFileLoader(str(main)).Load()
        for v in e.summary.value
        if v.tag == "val/loss"
    ]
    h = read_log(HPARAMS)
    assert len(h) == len(val) == 80
    assert h.val_loss == pytest.approx(val, rel=1e-6)
    assert h.columns() == ["epoch", "loss", "val_accuracy", "val_loss"]
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == val.index(min(val))


FIFTH = Path(__file__).parent / "data" / "every_fifth_epoch_digits_tb"


def test_a_tensorboard_run_validated_every_fifth_epoch_without_an_epoch_scalar_names_steps():
    """A real ``SummaryWriter`` run (``bench/make_sparse_validation_tb.py --epochs 100
    --lr 1e-2``: a 256-wide MLP on 200 digits, ``train/*`` at each epoch, ``val/*`` at
    epochs 4, 9, 14, ... as the step, no epoch scalar). Each validation round is a row;
    they were named as epochs ("best epoch 4" for step 24, "--epochs" counted in rounds),
    which the log cannot say: they are named by their step, and no epoch count is made
    up."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    (events,) = FIFTH.glob("events.out.tfevents*")
    val = {
        e.step: float(tensor_util.make_ndarray(v.tensor))
        for e in EventFileLoader(str(events)).Load()
        for v in e.summary.value
        if v.tag == "val/loss"
    }
    h = read_log(FIFTH)
    assert h.evaluated_at == tuple(sorted(val)) and h.evaluated_in == "step"
    assert h.val_loss == pytest.approx([val[s] for s in sorted(val)], rel=1e-6)
    d = diagnose(h)
    step = min(val, key=val.__getitem__)  # the step of the lowest validation loss
    assert d.epoch_name(d.best_epoch) == f"evaluation {sorted(val).index(step)} (step {step})"
    assert f"best at evaluation {d.best_epoch} (step {step})" in d.explanation
    assert not any("--epochs" in r.setting and "2x" not in r.setting for r in d.remedies)


def test_dicts_python_printed_one_a_line_read_as_their_json_lines(tmp_path):
    """s32 i173: ``print(trainer.callback_metrics)`` at each epoch's end (Lightning's
    dict of ``tensor(...)`` values, one a line) was refused ("holds no JSON object
    line"), though the whole-file printed dict is read. Read as the same rows in JSON."""
    curves = [(1 / (e + 1), 0.5 + 0.01 * (e - 3) ** 2) for e in range(8)]
    printed = "".join(
        f"{{'train_loss': tensor({t:.4f}), 'val_loss': tensor({v:.4f})}}\n" for t, v in curves
    )
    (tmp_path / "metrics.txt").write_text(printed)
    (tmp_path / "metrics.jsonl").write_text(
        "".join(
            json.dumps({"train_loss": round(t, 4), "val_loss": round(v, 4)}) + "\n"
            for t, v in curves
        )
    )
    h, ref = read_log(tmp_path / "metrics.txt"), read_log(tmp_path / "metrics.jsonl")
    assert (h.epoch, h.loss, h.val_loss) == (ref.epoch, ref.loss, ref.val_loss)
    assert (
        h.val_loss[3] == 0.5 and "read as Python printed it (a dict or list, not JSON)" in h.notes
    )
