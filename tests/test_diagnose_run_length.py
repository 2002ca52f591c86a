"""The run length the texts quote: epochs, steps shown as epochs, evaluations, one.

How long a run was is read from its epoch numbers, not its rows: a log validated every
second epoch, counting epochs from 1 or from 0 (Keras's ``validation_freq``), or cut from a
longer one, and the remedy asks for epochs from that length (i75, i83). Steps shown as
epochs, by the table reader or by TensorBoard's, are named as steps (i83). Too short to
judge counts its rows as evaluations; a count of one reads in the singular ("1 epoch", not
"1 epochs"), and an underfit of one epoch asks for two (i79).

Each helper id names its section in ``bench/README.md``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nooverfit import diagnose
from nooverfit._underfit_advice import underfitting_causes
from nooverfit.diagnosis import Evidence, Verdict
from nooverfit.history import History
from nooverfit.logs import read_log
from nooverfit.logs.tensorboard import epoch_rows


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
    assert epoch_rows(scalars)[2]
    per_epoch = {s: {"loss": 1.0 / (s + 1), "val_loss": 1.1 / (s + 1)} for s in range(10)}
    assert not epoch_rows(per_epoch)[2]


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


def test_a_run_validated_every_second_epoch_counts_its_epochs_not_its_rows():
    """Fifteen rows at epochs 1, 3, ..., 29 (0-based, as Keras counts): the run trained 30
    epochs, so the text says "after 30 epochs" (it said 15, the rows) and the remedy asks
    for max(2 * 30, 30 + 20) = 60."""
    epochs = list(range(1, 30, 2))
    val = 0.5 + 2.0 * np.exp(-np.asarray(epochs) / 20.0)
    h = History.from_columns({"loss": list(0.9 * val), "val_loss": list(val)}, epoch=epochs)
    d = diagnose(h)
    assert d.verdict is Verdict.STILL_IMPROVING
    assert "after 30 epochs" in d.explanation and d.epochs == 30  # the CLI's "epochs" row
    longer = next(r for r in d.remedies if r.kind == "train_longer")
    assert longer.setting == "--epochs 60"
    # steps shown as epochs (a SummaryWriter log without an epoch scalar): name the step
    steps = [10 * e for e in epochs]
    note = ("no epoch scalar in the log: the logged steps are shown as epochs",)
    columns = {"loss": list(0.9 * val), "val_loss": list(val)}
    shown = History.from_columns(columns, epoch=steps, notes=note, steps_as_epochs=True)
    d = diagnose(shown)
    assert d.verdict is Verdict.STILL_IMPROVING and "after step 290 " in d.explanation


def test_too_short_to_judge_counts_evaluations_not_epochs() -> None:
    """Three rows at epochs 4, 9, 14 (a 15-epoch run, the table's "epochs 15"): the text
    counts the rows logged ("from 3 epochs" read as a contradiction), none of them
    validated ("from 3 evaluations" said of a log without validation, i141), and a log
    with two validation values asks for at least 3 evaluations."""
    noval = History.from_columns({"loss": [0.9, 0.8, 0.7]}, epoch=[4, 9, 14])
    d = diagnose(noval)
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE and d.epochs == 15
    assert d.explanation.startswith("Not enough to judge from 3 logged epochs, none validated: ")
    two = History.from_columns({"loss": [0.9, 0.8], "val_loss": [1.0, 0.9]}, epoch=[0, 1])
    d = diagnose(two)
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert d.missing == ("at least 3 evaluations with validation values (got 2)",)
    assert d.explanation.startswith("Not enough to judge from 2 evaluations: ")


def test_too_short_to_judge_says_how_many_rows_were_validated() -> None:
    """Six epochs, two validated: "from 6 evaluations: the log lacks at least 3
    evaluations with validation values (got 2)" contradicted itself."""
    nan = float("nan")
    val = [1.1, nan, nan, nan, 0.9, nan]
    h = History.from_columns({"loss": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], "val_loss": val})
    d = diagnose(h)
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert d.explanation.startswith(
        "Not enough to judge from 6 logged epochs, 2 of them validated: the log lacks at "
        "least 3 evaluations with validation values (got 2)."
    )
    steps = History.from_columns({"loss": [1.0, 0.9]}, epoch=[100, 200], steps_as_epochs=True)
    assert "from 2 logged steps, none validated: " in diagnose(steps).explanation


def test_diagnose_one_epoch_says_epoch_in_the_singular():
    d = diagnose(History.from_columns({"loss": [1.0]}))
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert "from 1 logged epoch, none validated:" in d.explanation
    one = diagnose(History.from_columns({"loss": [1.0], "val_loss": [1.1]}))
    assert "from 1 evaluation:" in one.explanation  # (i83: rows counted as evaluations)
    assert "1 evaluations" not in one.explanation


def test_diagnose_two_epochs_keeps_the_plural():
    d = diagnose(History.from_columns({"loss": [1.0, 0.9]}))
    assert "from 2 logged epochs, none validated:" in d.explanation


def test_underfitting_remedy_of_one_epoch_is_singular():
    ev = Evidence(
        epochs=(0,),
        train=np.array([1.0]),
        val=np.array([1.0]),
        onset=0,
        best=0,
        rise=0.0,
        learned=0.0,
        signal="",
        tail_drop=0.0,
        early_stopped=False,
        metric_gap=math.nan,
    )
    reasons = [r.reason for _, _, rs in underfitting_causes(ev, 1) for r in rs]
    longer = [r for r in reasons if "reach a minimum" in r]
    assert longer == ["1 epoch may not have been enough to reach a minimum."]


def test_steps_shown_as_epochs_are_named_steps_in_the_texts() -> None:
    """A log whose steps are shown as epochs (no epoch scalar, every curve at the same
    steps) named its best row "epoch 120" for step 120: the texts say "step 120"."""
    steps = list(range(0, 300, 10))
    val = [1.0 - 0.02 * i if i <= 12 else 0.76 + 0.03 * (i - 12) for i in range(len(steps))]
    columns = {"loss": [0.9 - 0.025 * i for i in range(len(steps))], "val_loss": val}
    h = History.from_columns(columns, epoch=steps, steps_as_epochs=True)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 120 and d.unit == "step"
    assert d.epoch_name(d.best_epoch) == "step 120"
    assert "best at step 120" in d.explanation and "epoch 120" not in d.explanation
