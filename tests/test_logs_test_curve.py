"""A log whose only held-out curve is a test set's (``Loss/test``, as PyTorch's TensorBoard
tutorial logs it) is diagnosed on that curve, with a note; a validation curve beside it
keeps its place. Before, such a log was "insufficient evidence: no validation curve"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nooverfit import diagnose
from nooverfit.logs import read_log
from nooverfit.logs._names import validation_from_test


def _tutorial_run(folder: Path, tags: dict[str, str]) -> dict[str, list[float]]:
    """A real run, logged with SummaryWriter under ``tags`` (``{"loss": ..., "test":
    ...}``): a wide MLP on 60 digits, tested on 300 after each of 200 epochs; returns the
    curves it logged."""
    from sklearn.datasets import load_digits
    from torch.utils.tensorboard import SummaryWriter

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16, dtype=torch.float32)
    y = torch.tensor(y)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    lossf = torch.nn.CrossEntropyLoss()
    writer = SummaryWriter(str(folder))
    logged: dict[str, list[float]] = {k: [] for k in tags}
    for epoch in range(200):
        opt.zero_grad()
        loss = lossf(net(x[:60]), y[:60])
        loss.backward()
        opt.step()
        with torch.no_grad():
            out = net(x[1000:1300])
            values = {
                "loss": float(loss),
                "test": float(lossf(out, y[1000:1300])),
                "acc": float((out.argmax(1) == y[1000:1300]).float().mean()),
                "val": float(lossf(net(x[1300:1500]), y[1300:1500])),
            }
        for key, tag in tags.items():
            writer.add_scalar(tag, values[key], epoch)
            logged[key].append(values[key])
    writer.close()
    return logged


def test_a_tutorial_s_loss_test_curve_is_read_as_validation(tmp_path):
    tags = {"loss": "Loss/train", "test": "Loss/test", "acc": "Accuracy/test"}
    logged = _tutorial_run(tmp_path / "run", tags)
    h = read_log(tmp_path / "run")
    np.testing.assert_allclose(h.val_loss, logged["test"], rtol=1e-6)
    np.testing.assert_allclose(h.val_accuracy, logged["acc"], rtol=1e-6)
    assert any("'Loss/test'" in n and "read as validation" in n for n in h.notes)
    # the same curves logged under validation's names: the same verdict, epoch and onset
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "named_val"))
    for epoch, (a, b, c) in enumerate(
        zip(logged["loss"], logged["test"], logged["acc"], strict=True)
    ):
        writer.add_scalar("Loss/train", a, epoch)
        writer.add_scalar("Loss/val", b, epoch)
        writer.add_scalar("Accuracy/val", c, epoch)
    writer.close()
    renamed = diagnose(read_log(tmp_path / "named_val"))
    d = diagnose(h)
    assert d.verdict.value == "overfitting"
    assert (d.verdict, d.best_epoch, d.onset_epoch, d.explanation) == (
        renamed.verdict,
        renamed.best_epoch,
        renamed.onset_epoch,
        renamed.explanation,
    )


def test_a_validation_curve_beside_the_test_curve_keeps_its_place(tmp_path):
    tags = {"loss": "Loss/train", "val": "Loss/val", "test": "Loss/test"}
    logged = _tutorial_run(tmp_path / "run", tags)
    h = read_log(tmp_path / "run")
    np.testing.assert_allclose(h.val_loss, logged["val"], rtol=1e-6)
    assert not any("read as validation" in n for n in h.notes)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["train_loss", "test_loss", "test_acc"],
            {"val_loss": "test_loss", "val_accuracy": "test_acc"},
        ),
        (["loss", "loss-test"], {"val_loss": "loss-test"}),
        (["test_loss_step", "test_loss_epoch"], {"val_loss": "test_loss_epoch"}),
        (["loss", "latest_loss", "contest"], {}),  # "test" inside a word is no test set
        (["loss", "val_loss", "test_loss"], {}),  # validation logged: no stand-in
    ],
)
def test_test_curves_stand_in_for_validation_only_without_one(names, expected):
    from nooverfit.logs._names import canonical

    taken = [n.target for c in names if (n := canonical(c))]
    got = validation_from_test(names, taken)
    assert {t: logged for t, (_, logged) in got.items()} == expected


def test_diagnose_on_a_csv_with_a_test_curve(tmp_path):
    epochs = np.arange(40)
    train = 2.0 * np.exp(-epochs / 6) + 0.01
    test = 0.6 + 0.5 * np.exp(-epochs / 5) + 0.004 * np.maximum(0, epochs - 15) ** 1.5
    log = tmp_path / "log.csv"
    log.write_text(
        "epoch,train_loss,test_loss\n"
        + "".join(f"{e},{a:.6f},{b:.6f}\n" for e, a, b in zip(epochs, train, test, strict=True))
    )
    out = subprocess.run(
        [sys.executable, "-m", "nooverfit", "diagnose", str(log)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OVERFITTING")
    assert "'test_loss' read as validation" in " ".join(out.stdout.split())


def test_a_log_without_validation_names_its_columns_as_logged(tmp_path):
    """``Loss/other`` is no validation name: the note lists the tags as written, the
    names ``--val-col`` accepts (the verdict's text names them as nooverfit reads them,
    ``loss_other``, which ``--val-col`` refused), and the one named is then read."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "run"))
    for epoch in range(30):
        writer.add_scalar("Loss/train", 1 / (epoch + 1), epoch)
        writer.add_scalar("Loss/other", 0.5 + 0.01 * epoch, epoch)
    writer.close()
    h = read_log(tmp_path / "run")
    assert any(
        "no validation curve among the logged columns ('Loss/train', 'Loss/other')" in n
        for n in h.notes
    )
    mapped = read_log(tmp_path / "run", columns={"val_loss": "Loss/other"})
    np.testing.assert_allclose(mapped.val_loss, 0.5 + 0.01 * np.arange(30), rtol=1e-6)
    assert not any("no validation curve" in n for n in mapped.notes)


@pytest.mark.parametrize(
    ("header", "train", "val"),
    [
        ("epoch,trainLoss,valLoss", "trainLoss", "valLoss"),  # a hand-written loop's names
        ("Epoch,TrainLoss,ValidLoss", "TrainLoss", "ValidLoss"),
        ("epoch,train_loss,holdout_loss", "train_loss", "holdout_loss"),
        ("epoch,train_loss,cv_loss", "train_loss", "cv_loss"),
        ("epoch,tr_loss,va_loss", "tr_loss", "va_loss"),  # abbreviated sides
        ("epoch,loss_tr,loss_va", "loss_tr", "loss_va"),
    ],
)
def test_names_of_hand_written_loops_read_as_mapped_by_hand(tmp_path, header, train, val):
    """Words joined by capitals and a holdout or cross-validation curve: read as the same
    log with its columns mapped by hand (the history, hence the verdict, is the same)."""
    epochs = np.arange(30)
    rows = "".join(f"{e},{2 / (e + 1):.5f},{0.5 + 0.01 * e:.5f}\n" for e in epochs)
    log = tmp_path / "log.csv"
    log.write_text(header + "\n" + rows)
    guessed = read_log(log)
    mapped = read_log(log, columns={"loss": train, "val_loss": val})
    assert guessed.loss == mapped.loss
    assert guessed.val_loss == mapped.val_loss
    assert diagnose(guessed).verdict == diagnose(mapped).verdict


def test_capitals_inside_a_metric_s_name_are_no_words():
    from nooverfit.logs._names import canonical

    assert canonical("mAP").target == "map"
    assert canonical("valAUC").target == "valauc"  # one word of capitals: left as it is
    assert canonical("ValidAcc").target == "val_accuracy"


@pytest.mark.parametrize("other", ["holdout_loss", "heldout_loss", "cv_loss", "holdoutLoss"])
def test_a_validation_curve_beside_a_holdout_one_keeps_its_place(tmp_path, other):
    """A log with ``val_loss`` and a holdout (or cross-validation) loss beside it, the other
    column first (Keras's CSVLogger writes its columns sorted: ``holdout_loss`` before
    ``val_loss``): ``val_loss`` is the validation curve, the other its rival in a note.
    Before, the first column read won (the holdout set's loss diagnosed as validation)."""
    epochs = np.arange(30)
    rows = "".join(
        f"{e},{0.6 + 0.02 * e:.5f},{1 / (e + 1):.5f},{0.5 + 0.001 * (e - 15) ** 2:.5f}\n"
        for e in epochs
    )
    log = tmp_path / "log.csv"
    log.write_text(f"epoch,{other},loss,val_loss\n{rows}")
    h = read_log(log)
    np.testing.assert_allclose(h.val_loss, 0.5 + 0.001 * (epochs - 15) ** 2, atol=1e-5)
    assert any(f"val_loss read from 'val_loss'; '{other}' names it too" in n for n in h.notes)


def test_a_test_curve_named_with_capitals_stands_in_as_test_loss_does(tmp_path):
    """``trainLoss,testLoss`` (words joined by capitals, read since s31) is the log
    ``train_loss,test_loss`` is: its test curve read as validation, with the note. Before,
    'no validation curve among the logged columns' (insufficient evidence)."""
    rows = "".join(f"{e},{1 / (e + 1):.5f},{0.5 + 0.01 * e:.5f}\n" for e in range(30))
    (tmp_path / "camel.csv").write_text("epoch,trainLoss,testLoss\n" + rows)
    (tmp_path / "snake.csv").write_text("epoch,train_loss,test_loss\n" + rows)
    camel, snake = read_log(tmp_path / "camel.csv"), read_log(tmp_path / "snake.csv")
    assert camel.val_loss == snake.val_loss
    assert any("the test curve 'testLoss' read as validation" in n for n in camel.notes)
