"""The run length the advice quotes (i83): steps shown as epochs by either reader, and
logs that count epochs from 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log
from nooverfit.logs.tensorboard import _epochs


def _falling(epochs: list[int]) -> dict[str, list[float]]:
    """A validation loss still falling steadily at the end, training just below it."""
    val = 0.5 + 2.0 * np.exp(-np.arange(len(epochs)) / 10.0)
    return {"loss": list(0.9 * val), "val_loss": list(val)}


def _still(h: History) -> tuple[int, str, str]:
    d = diagnose(h)
    assert d.verdict is Verdict.STILL_IMPROVING
    longer = next(r for r in d.remedies if r.kind == "train_longer")
    return d.epochs, d.explanation, longer.setting


def test_a_step_indexed_csv_names_its_last_step_and_counts_its_rows(tmp_path: Path) -> None:
    """``step,loss,val_loss`` at steps 0, 100, ..., 2900: the table reader shows steps as
    epochs, so the run is 30 evaluations long and named by its last step (it read
    "2901 epochs", ``--epochs 5802``: the CSV reader's note was not recognized)."""
    steps = list(range(0, 3000, 100))
    curves = _falling(steps)
    pairs = zip(steps, curves["loss"], curves["val_loss"], strict=True)
    rows = [f"{s},{a:.5f},{b:.5f}" for s, a, b in pairs]
    log = tmp_path / "steps.csv"
    log.write_text("step,loss,val_loss\n" + "\n".join(rows) + "\n")
    h = read_log(log)
    assert isinstance(h, History) and h.steps_as_epochs and h.epoch[-1] == 2900
    epochs, text, setting = _still(h)
    assert epochs == 30 and "after step 2900 " in text and setting == "--epochs 60"
    assert not _flag_of_an_epoch_csv(tmp_path)  # an epoch column: epochs, not steps


def _flag_of_an_epoch_csv(tmp_path: Path) -> bool:
    log = tmp_path / "epochs.csv"
    log.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.9,1.0\n")
    h = read_log(log)
    assert isinstance(h, History)
    return h.steps_as_epochs


def test_tensorboard_flags_steps_shown_as_epochs() -> None:
    """TensorBoard's reader sets the flag only where it shows steps as epochs."""
    scalars = {s: {"loss": 1.0 / (s + 1), "val_loss": 1.1 / (s + 1)} for s in range(0, 500, 50)}
    assert _epochs(scalars)[2]
    per_epoch = {s: {"loss": 1.0 / (s + 1), "val_loss": 1.1 / (s + 1)} for s in range(10)}
    assert not _epochs(per_epoch)[2]


def test_a_log_counting_epochs_from_one_is_as_long_as_its_last_epoch() -> None:
    """Epochs 1..20 (a loop logging ``epoch + 1``): 20 epochs, not 21, and ``--epochs 40``
    (max(2 * 20, 20 + 20)); every fifth epoch from 5 to 30: 30 epochs."""
    one = list(range(1, 21))
    assert _still(History.from_columns(_falling(one), epoch=one)) == (
        20,
        "Training stopped too early: after 20 epochs the validation loss is still falling "
        "steadily. Train longer; the verdict will be clearer once the curve flattens.",
        "--epochs 40",
    )
    fifth = list(range(5, 31, 5))
    epochs, text, setting = _still(History.from_columns(_falling(fifth), epoch=fifth))
    assert epochs == 30 and "after 30 epochs " in text and setting == "--epochs 60"


def test_a_zero_based_log_and_an_ambiguous_start() -> None:
    """Keras's ``validation_freq=5`` logs epochs 4, 9, ..., 29 (0-based): 30 epochs. A log
    starting at epoch 7 every 5 (cut from a longer one) has no base to read: the text
    names its last epoch, not a count."""
    keras = list(range(4, 30, 5))
    epochs, text, _ = _still(History.from_columns(_falling(keras), epoch=keras))
    assert epochs == 30 and "after 30 epochs " in text
    cut = list(range(7, 40, 5))
    epochs, text, _ = _still(History.from_columns(_falling(cut), epoch=cut))
    assert epochs == 38 and "after epoch 37 " in text


def test_too_short_to_judge_counts_evaluations_not_epochs() -> None:
    """Three rows at epochs 4, 9, 14 (a 15-epoch run, the table's "epochs 15"): the text
    counts the rows as evaluations ("from 3 epochs" read as a contradiction), and a
    log with two validation values asks for at least 3 evaluations."""
    noval = History.from_columns({"loss": [0.9, 0.8, 0.7]}, epoch=[4, 9, 14])
    d = diagnose(noval)
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE and d.epochs == 15
    assert d.explanation.startswith("Not enough to judge from 3 evaluations: ")
    two = History.from_columns({"loss": [0.9, 0.8], "val_loss": [1.0, 0.9]}, epoch=[0, 1])
    d = diagnose(two)
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert d.missing == ("at least 3 evaluations with validation values (got 2)",)
    assert d.explanation.startswith("Not enough to judge from 2 evaluations: ")


def test_an_underfit_read_on_a_metric_names_that_metric() -> None:
    """An AUC stuck near 0.65 (``--metric auc``): the cause quoted "the training accuracy
    never got above 0.65" for a log holding no accuracy; it names the AUC."""
    e = np.arange(30)
    loss = 0.65 + 0.05 * np.exp(-e / 5)
    auc = 0.65 - 0.05 * np.exp(-e / 5)
    columns = {"loss": loss, "val_loss": loss + 0.005, "auc": auc, "val_auc": auc - 0.01}
    h = History.from_columns({k: list(v) for k, v in columns.items()})
    d = diagnose(h, metric="auc")
    assert d.verdict is Verdict.UNDERFITTING
    cause = next(c for c in d.causes if c.kind == "too_little_capacity")
    assert cause.reason.startswith(f"The training auc never got above {auc.max():.2f} ")
    more = next(r for r in d.remedies if r.kind == "more_capacity")
    assert more.reason.startswith(f"The training auc reached only {auc.max():.2f}:")
    assert not any("accuracy" in c.reason for c in d.causes)
