"""Regression tests for review i35's findings on real frameworks' logs (issue 15): each
builds its log (or copies a tiny real one under ``tests/fixtures/logs``) and checks the
verdict against what the log shows."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import list_runs, read_log
from nooverfit.logs._table import Name, canonical
from nooverfit.monitor import Monitor

LOGS = Path(__file__).parent / "fixtures" / "logs"


def test_label_smoothed_healthy_run_is_not_diverging():
    """Keras, label smoothing 0.3 on digits: validation accuracy 93 % -> 98.5 %, losses
    falling to 1.25 (smoothing keeps them above ln 2). A classifier above 50 % at every
    evaluation whose validation loss is lowest at the end is learning, and a training
    accuracy of 100 % is no underfit."""
    for name in ("keras_label_smoothed.csv", "keras_label_smoothed_sca.csv"):
        h = read_log(LOGS / name)
        assert h.has("val_accuracy") and min(h.val_accuracy) > 0.9
        assert h.val_loss[-1] == min(h.val_loss)
        assert diagnose(h).verdict is Verdict.GOOD_FIT


def test_first_epochs_above_half_accuracy_do_not_stop_a_monitor():
    """Lightning's first three epochs: validation accuracy 79 % -> 82 %, loss 2.07 ->
    1.41 and falling; the Monitor's default stop_on (diverging) must not fire."""
    monitor = Monitor(criterion="patience:10")
    rows = [(2.2338, 2.0736, 0.32, 0.7917), (1.9504, 1.7749, 0.86, 0.8057)]
    rows.append((1.5821, 1.4050, 0.86, 0.8179))
    for epoch, (loss, val, acc, val_acc) in enumerate(rows):
        status = monitor.update(epoch, loss, val, accuracy=acc, val_accuracy=val_acc)
        assert not status.stop
        assert status.diagnosis.verdict is not Verdict.DIVERGING
    assert status.diagnosis.verdict is Verdict.STILL_IMPROVING


def test_keras_and_torchmetrics_accuracy_names_read_as_accuracy():
    """Keras names its accuracies after the loss they go with; torchmetrics after the
    task. All are accuracy."""
    for logged in ("sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"):
        assert canonical(logged) == Name("accuracy", 1)
        assert canonical("val_" + logged) == Name("val_accuracy", 1)
    assert canonical("val_multiclassaccuracy") == Name("val_accuracy", 1)
    assert canonical("top_k_categorical_accuracy") == Name("top_k_categorical_accuracy", 1)


def test_a_half_written_last_csv_line_is_not_an_epoch(tmp_path):
    """``3,0.5,0.`` with no line end is epoch 3 cut mid-value (0.71 in the making): read
    as val_loss 0 it would be the best epoch. Rows that ended are all kept."""
    log = tmp_path / "partial.csv"
    log.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n2,0.6,0.8\n3,0.5,0.")
    h = read_log(log)
    assert list(h.epoch) == [0, 1, 2] and list(h.val_loss) == [1.1, 0.9, 0.8]
    log.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n2,0.6,0.8\n3,0.5,0.71\n")
    assert list(read_log(log).val_loss) == [1.1, 0.9, 0.8, 0.71]


def test_an_early_stopped_run_gets_one_verdict_from_its_json_and_its_csv(tmp_path):
    """A study run that early stopping ended 10 epochs after its best: validation rose
    9 % (GL) by then. Its CSV must carry the stop reason so that diagnosing the file gives
    the study's verdict, and the good-fit text must quote the rise, not deny it."""
    val = [1.0 / (1 + 0.2 * e) for e in range(30)]
    val += [val[-1] * (1 + 0.009 * k) for k in range(1, 11)]
    train = [0.9 / (1 + 0.25 * e) for e in range(40)]
    h = History.from_columns({"loss": train, "val_loss": val}, stop_reason="patience")
    verdicts = set()
    for name in ("h.json", "h.csv"):
        h.save(tmp_path / name)
        for read in (History.load, read_log):
            again = read(tmp_path / name)
            assert again.stop_reason == "patience"
            verdicts.add(diagnose(again).verdict)
    assert verdicts == {diagnose(h).verdict}
    d = diagnose(h)
    assert d.verdict is Verdict.GOOD_FIT
    assert "ended 9.0% above it (GL), where early stopping ended the run" in d.explanation
    assert "did not drift" not in d.explanation


def _overfitting_mse(tmp_path: Path, header: str) -> Path:
    """A regression log: training error falls to near zero, validation's falls to its
    minimum at epoch 10 and then climbs 60 %."""
    lines = [header]
    for e in range(40):
        val = 0.5 + 0.5 * 0.7**e if e <= 10 else (0.5 + 0.5 * 0.7**10) * (1 + 0.02 * (e - 10))
        lines.append(f"{e},{0.8 * 0.85**e:.5f},{val:.5f}")
    log = tmp_path / "mse.csv"
    log.write_text("\n".join(lines) + "\n")
    return log


def test_a_regression_log_without_loss_columns_is_decided_on_its_error(tmp_path):
    """``train_mse``/``valid_mse`` (no column called loss): the validation error is the
    curve to decide on, and the verdict is the one its rise shows."""
    d = diagnose(read_log(_overfitting_mse(tmp_path, "epoch,train_mse,valid_mse")))
    assert d.monitor == "mse"
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 10


def test_fail_on_says_when_insufficient_evidence_left_it_unchecked(tmp_path):
    """A log with no validation curve: the verdict names what is missing and what was
    found, and ``--fail-on`` says it could not check (exit 0 unless asked to fail)."""
    log = tmp_path / "train_only.csv"
    log.write_text("epoch,loss\n0,1.0\n1,0.6\n2,0.5\n3,0.45\n")
    result = CliRunner().invoke(app, ["diagnose", str(log), "--fail-on", "overfitting"])
    assert result.exit_code == 0
    assert "columns found: loss" in result.output
    assert "--fail-on overfitting not checked" in result.output
    args = ["diagnose", str(log), "--fail-on", "overfitting,insufficient_evidence"]
    assert CliRunner().invoke(app, args).exit_code == 1
    overfit = _overfitting_mse(tmp_path, "epoch,train_mse,valid_mse")
    assert (
        CliRunner().invoke(app, ["diagnose", str(overfit), "--fail-on", "overfitting"]).exit_code
        == 1
    )


def test_keras_tensorboard_layout_reads_one_row_per_epoch(tmp_path):
    """Keras's TensorBoard callback writes ``epoch_*`` per epoch in ``train/`` and
    ``validation/`` and, at each evaluation's optimizer step, ``evaluation_*_vs_iterations``
    copies: the run has as many epochs as it trained, with the CSV's values."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    csv_log = read_log(LOGS / "keras_overfit.csv")
    train = SummaryWriter(str(tmp_path / "run" / "train"))
    val = SummaryWriter(str(tmp_path / "run" / "validation"))
    for i, e in enumerate(csv_log.epoch):
        val.add_scalar("evaluation_loss_vs_iterations", csv_log.val_loss[i], (e + 1) * 5)
        train.add_scalar("epoch_loss", csv_log.loss[i], e)
        val.add_scalar("epoch_loss", csv_log.val_loss[i], e)
    train.close()
    val.close()
    h = read_log(tmp_path / "run")
    assert list(h.epoch) == list(csv_log.epoch)
    assert h.val_loss == pytest.approx(csv_log.val_loss, rel=1e-6)
    assert diagnose(h).verdict is diagnose(csv_log).verdict is Verdict.OVERFITTING


def test_add_scalars_runs_are_one_run_each_and_read_validation_as_validation(tmp_path):
    """``SummaryWriter.add_scalars("loss", {"train": ..., "val": ...})`` writes its own
    event file plus ``loss_train``/``loss_val`` folders holding tag ``loss``: one run, whose
    ``loss_val`` is the validation loss (also when that folder is read alone)."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    csv_log = read_log(LOGS / "keras_overfit.csv")
    for name in ("a", "b"):
        writer = SummaryWriter(str(tmp_path / name))
        for i, e in enumerate(csv_log.epoch):
            writer.add_scalars("loss", {"train": csv_log.loss[i], "val": csv_log.val_loss[i]}, e)
        writer.close()
    assert list_runs(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    h = read_log(tmp_path / "a")
    assert h.val_loss == pytest.approx(csv_log.val_loss, rel=1e-6)
    assert h.loss == pytest.approx(csv_log.loss, rel=1e-6)
    alone = read_log(tmp_path / "a" / "loss_val")
    assert alone.val_loss == pytest.approx(csv_log.val_loss, rel=1e-6) and not alone.has("loss")
    result = CliRunner().invoke(app, ["diagnose", str(tmp_path), "--fail-on", "overfitting"])
    assert result.exit_code == 1 and result.output.count("overfitting") >= 2


def test_a_folder_reports_an_unreadable_run_and_diagnoses_the_others(tmp_path):
    """A header-only CSV next to an overfitting Keras CSV and a Keras ``history.history``
    JSON: each run gets its row, the bad one says why, and --fail-on still sees the
    overfitting run."""
    (tmp_path / "a.csv").write_text((LOGS / "keras_overfit.csv").read_text())
    (tmp_path / "c_started.csv").write_text("epoch,loss,val_loss\n")
    h = read_log(LOGS / "keras_overfit.csv")
    (tmp_path / "run1.json").write_text(json.dumps({"loss": h.loss, "val_loss": h.val_loss}))
    assert len(list_runs(tmp_path)) == 3
    result = CliRunner().invoke(app, ["diagnose", str(tmp_path), "--fail-on", "overfitting"])
    assert result.exit_code == 1, result.output
    assert "unreadable" in result.output and "c_started.csv" in result.output
    assert "run1.json" in result.output and result.output.count("overfitting") >= 2
    # JSON that names losses only deeper down (a study's results.json, its run records)
    # holds no curve: not listed as a run, so a study folder is not a wall of errors
    (tmp_path / "results.json").write_text(json.dumps({"baseline": {"val_loss": 0.3}}))
    (tmp_path / "record.json").write_text(json.dumps({"history": {"loss": [1.0, 0.5]}}))
    assert len(list_runs(tmp_path)) == 3


def test_keras_history_json_with_validation_freq_places_validation_where_it_ran():
    """Keras ``fit(validation_freq=4)`` for 40 epochs: ``history.history`` holds 40
    training values and 10 validation values, measured after epochs 3, 7, ..., 39 (as the
    same run's CSVLogger file shows). Read either way, the curves and verdict agree."""
    from_json = read_log(LOGS / "keras_validation_freq4_history.json")
    from_csv = read_log(LOGS / "keras_validation_freq4.csv")
    assert list(from_json.epoch) == list(from_csv.epoch)
    assert from_json.val_loss == pytest.approx(from_csv.val_loss, nan_ok=True)
    a, b = diagnose(from_json), diagnose(from_csv)
    assert (a.verdict, a.best_epoch, a.onset_epoch) == (b.verdict, b.best_epoch, b.onset_epoch)
    assert a.best_epoch == 11


def test_several_evaluations_within_an_epoch_are_each_a_point(tmp_path):
    """A Trainer run of one epoch evaluated every 10 of 100 steps: eval_loss falls to
    0.80 at the 4th evaluation and climbs 38 % by the 10th. Each evaluation is a point
    (averaging them into one epoch would leave nothing to judge), and a note says so."""
    entries: list[dict[str, float]] = []
    evals = [1.5, 1.2, 0.95, 0.80, 0.82, 0.86, 0.92, 0.98, 1.04, 1.104]
    for k, val in enumerate(evals):
        step = 10 * (k + 1)
        entries.append({"epoch": step / 100, "loss": 1.6 * 0.7**k, "step": step})
        entries.append({"epoch": step / 100, "eval_loss": val, "step": step})
    entries.append({"epoch": 1.0, "train_runtime": 5.0, "train_loss": 0.5, "step": 100})
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": entries}))
    h = read_log(tmp_path)
    assert list(h.val_loss) == evals
    assert any("10 evaluations over 1 epoch: each" in n for n in h.notes)  # singular
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING and d.best_epoch == 3
    assert d.generalization_loss == pytest.approx(38.0, abs=0.1)


def test_a_csv_with_several_validations_per_epoch_says_which_is_shown(tmp_path):
    """Lightning's ``val_check_interval=0.5``: two validation rows per epoch."""
    rows = ["epoch,step,train_loss_step,val_loss"]
    for e in range(4):
        rows += [f"{e},{4 * e + 1},{1 - 0.1 * e},", f"{e},{4 * e + 1},,{1.2 - 0.1 * e}"]
        rows += [f"{e},{4 * e + 3},{0.95 - 0.1 * e},", f"{e},{4 * e + 3},,{1.15 - 0.1 * e}"]
    (tmp_path / "metrics.csv").write_text("\n".join(rows) + "\n")
    h = read_log(tmp_path / "metrics.csv")
    assert h.val_loss == pytest.approx([1.15 - 0.1 * e for e in range(4)])
    assert any("several times within an epoch" in n and "val_loss up to 2" in n for n in h.notes)


def test_accuracy_collapsing_under_a_strong_penalty_is_not_still_improving():
    """Keras, a strong L2 penalty: the loss (which holds the penalty) falls 177 -> 2.3
    while the training accuracy climbs to 0.88 and then falls to 0.27 (validation 0.80
    -> 0.29). Training longer would make it worse: the penalty took the fit away."""
    h = read_log(LOGS / "keras_l2_strong.csv")
    acc = [a for a in h.accuracy if a == a]
    assert max(acc) > 0.85 and acc[-1] < 0.3 and h.loss[-1] < h.loss[0] / 50
    d = diagnose(h)
    assert d.verdict is Verdict.UNDERFITTING
    assert d.causes[0].kind == "too_much_regularization"
    assert d.remedies[0].kind == "less_regularization"
    assert all(r.kind != "train_longer" for r in d.remedies)


def test_a_log_indexed_by_step_shows_steps_and_says_so(tmp_path):
    """A nanoGPT-style log (``iter``, ``train/loss``, ``val/loss`` every 250 steps, no
    epoch): the best point is reported by its step number, with a note."""
    lines = []
    for i in range(21):
        val = 4.85 * 0.8**i if i <= 15 else 4.85 * 0.8**15 * (1 + 0.01 * (i - 15))
        lines.append(json.dumps({"iter": 250 * i, "train/loss": 5 * 0.78**i, "val/loss": val}))
    (tmp_path / "log.jsonl").write_text("\n".join(lines) + "\n")
    h = read_log(tmp_path / "log.jsonl")
    assert list(h.epoch) == [250 * i for i in range(21)]
    assert any("indexed by iter" in n for n in h.notes)
    assert diagnose(h).best_epoch == 3750


def test_a_loss_that_turned_nan_is_dated_where_it_turned():
    """A run whose losses are NaN from epoch 20 to its end (50 epochs): the reason names
    epoch 20, where the loss became NaN, not the last epoch."""
    loss = [1 / (1 + e) for e in range(20)] + [float("nan")] * 30
    val = [1.2 / (1 + 0.5 * e) for e in range(20)] + [float("nan")] * 30
    d = diagnose(History.from_columns({"loss": loss, "val_loss": val}))
    assert d.verdict is Verdict.DIVERGING
    assert "became NaN at epoch 20" in d.explanation


def test_a_header_only_csv_says_it_has_no_row_yet(tmp_path):
    """A run that has not finished its first epoch: the error names the header it has."""
    log = tmp_path / "started.csv"
    log.write_text("epoch,loss,val_loss\n")
    with pytest.raises(ValueError, match=r"header \(epoch, loss, val_loss\) but no complete row"):
        read_log(log)
    with pytest.raises(ValueError, match="not a TensorBoard event file"):
        read_log(LOGS / "keras_overfit.csv", format="tensorboard")


def test_each_remedy_is_listed_once():
    """Two causes (a generalization gap, a memorized training set) both point at L2: it
    is listed once, under the likelier cause."""
    pytest.importorskip("tensorboard")
    d = diagnose(read_log(LOGS / "lightning_tb_gap"))  # Lightning's TensorBoardLogger
    assert {"generalization_gap", "complex_network"} <= {c.kind for c in d.causes}
    kinds = [r.kind for r in d.remedies]
    assert kinds.count("l2") == 1 and len(kinds) == len(set(kinds))


def test_the_accuracy_gap_is_shown_in_points_as_the_text_says_it():
    result = CliRunner().invoke(app, ["diagnose", str(LOGS / "keras_overfit.csv")])
    text = " ".join(result.output.split())
    found = re.search(r"accuracy gap \S+ points at best, (\S+) points at end", text)
    assert found is not None, text
    # the explanation's figure, worded as the loss's gap beside it ("0.2 in loss")
    assert f"{found.group(1).lstrip('+')} points in accuracy" in text


def test_tensorboard_validation_by_epoch_and_training_by_step(tmp_path):
    """A loop logging ``train/loss`` at each global step (5 an epoch) and ``val/loss`` at
    the epoch number: 60 epochs, not 61 rows of mixed steps, with a note."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    csv_log = read_log(LOGS / "keras_overfit.csv")
    writer = SummaryWriter(str(tmp_path / "run"))
    for i, e in enumerate(csv_log.epoch):
        for k in range(5):
            writer.add_scalar("train/loss", csv_log.loss[i], 5 * e + k)
        writer.add_scalar("val/loss", csv_log.val_loss[i], e)
    writer.close()
    h = read_log(tmp_path / "run")
    assert list(h.epoch) == list(csv_log.epoch)
    assert h.loss == pytest.approx(csv_log.loss, rel=1e-5)
    assert any("training by global step" in n for n in h.notes)


def test_a_label_smoothed_run_that_overfits_is_overfitting_not_diverging():
    """The label-smoothed Keras run continued 15 epochs with training accuracy 100 % and
    validation loss climbing 1.5 % an epoch at 97.5 % accuracy: a network that gets its
    training samples right is fitting; its loss sits above ln 2 because of smoothing."""
    h = read_log(LOGS / "keras_label_smoothed.csv")
    cols = {c: list(h.column(c)) for c in ("loss", "val_loss", "accuracy", "val_accuracy")}
    for _ in range(15):
        cols["loss"].append(cols["loss"][-1] * 0.995)
        cols["val_loss"].append(cols["val_loss"][-1] * 1.015)
        cols["accuracy"].append(1.0)
        cols["val_accuracy"].append(0.975)
    assert diagnose(History.from_columns(cols)).verdict is Verdict.OVERFITTING


def test_a_loss_still_falling_at_stuck_accuracy_is_not_saturation():
    """Review i40 #5: a study's 3-class CNN baseline (30 images; history from
    ``nooverfit study --data folder:...``) at 93 % training accuracy, its loss falling from
    1.09 to 0.70 on every epoch, was DIVERGING ("far above chance level (about 0.69): the
    outputs saturated"). Under-confident outputs growing surer are learning."""
    history = read_log(LOGS / "study_cnn_3class_still_learning.csv")
    d = diagnose(history)
    assert d.verdict is Verdict.STILL_IMPROVING, d.explanation
    assert "saturated" not in d.explanation
