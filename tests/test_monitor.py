import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nooverfit._rules import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log
from nooverfit.monitor import Monitor
from nooverfit.stopping import replay

LOGS = Path(__file__).parent / "fixtures" / "logs"


def test_monitor_stops_where_replay_stops():
    h = read_log(LOGS / "keras_overfit.csv")
    monitor = Monitor("gl:5")
    stopped = None
    for i, epoch in enumerate(h.epoch):
        status = monitor.update(
            epoch, h.loss[i], h.val_loss[i], accuracy=h.accuracy[i], val_accuracy=h.val_accuracy[i]
        )
        if status.stop:
            stopped = status
            break
    ref = replay("gl:5", h.val_loss, h.loss)
    assert stopped is not None and stopped.reason == "gl:5"
    assert stopped.epoch == ref.stop_epoch
    assert stopped.best_epoch == ref.kept_epoch


def test_monitor_diagnosis_equals_diagnose_on_same_epochs():
    h = read_log(LOGS / "keras_overfit.csv")
    monitor = Monitor()
    for i, epoch in enumerate(h.epoch):
        status = monitor.update(
            epoch, h.loss[i], h.val_loss[i], accuracy=h.accuracy[i], val_accuracy=h.val_accuracy[i]
        )
        assert not status.stop
    assert monitor.history == h
    assert monitor.diagnosis == diagnose(h).for_python()
    assert "RunConfig(" in monitor.diagnosis.remedies[0].setting  # Python, not CLI flags
    assert monitor.diagnosis.verdict is Verdict.OVERFITTING


def test_monitor_stop_on_overfitting():
    h = read_log(LOGS / "keras_overfit.csv")
    monitor = Monitor(stop_on=(Verdict.OVERFITTING,))
    status = None
    for i, epoch in enumerate(h.epoch):
        accuracy = {"accuracy": h.accuracy[i], "val_accuracy": h.val_accuracy[i]}
        status = monitor.update(epoch, h.loss[i], h.val_loss[i], **accuracy)
        if status.stop:
            break
    assert status is not None and status.stop and status.reason == "overfitting"
    assert status.epoch < h.epoch[-1]
    assert diagnose(h.head(status.epoch + 1)).verdict is Verdict.OVERFITTING
    assert diagnose(h.head(status.epoch)).verdict is not Verdict.OVERFITTING


def test_monitor_stops_on_divergence_and_rejects_old_epochs():
    monitor = Monitor()
    for epoch, loss in enumerate([2.0, 1.0, 0.5]):
        monitor.update(epoch, loss, loss)
    assert monitor.update(3, math.inf, math.nan).stop
    with pytest.raises(ValueError, match="epoch must increase"):
        monitor.update(3, 1.0, 1.0)


@pytest.mark.parametrize(
    ("epoch", "message"),
    [(-1, "got -1"), (1.5, "got 1.5"), (math.nan, "got nan"), (1, "must increase, got 1 after 1")],
)
def test_monitor_refuses_an_epoch_its_history_could_not_hold_and_records_nothing(epoch, message):
    """History.from_columns refuses these epochs: recorded, every later update would fail."""
    monitor = Monitor()
    monitor.update(0, 1.0, 1.1)
    monitor.update(1, 0.9, 1.0)
    with pytest.raises(ValueError, match=message):
        monitor.update(epoch, 0.8, 0.9)
    assert monitor.history.epoch == (0, 1)
    assert monitor.update(2.0, 0.8, 0.9).epoch == 2  # a whole float is an epoch


def test_a_nan_loss_stops_as_diverging_not_as_the_criterion():
    monitor = Monitor("gl:5")
    for epoch, loss in enumerate([1.0, 0.8, 0.6, 0.5]):
        assert not monitor.update(epoch, loss, loss + 0.25).stop
    status = monitor.update(4, math.nan, math.nan)
    assert status.stop and status.reason == "diverging"
    assert status.diagnosis.verdict is Verdict.DIVERGING
    assert status.best_epoch == 3  # the last finite epoch is still the one to keep


def test_monitor_missing_values_are_nan():
    monitor = Monitor()
    monitor.update(0, 1.0)
    monitor.update(1, 0.9, 1.0, val_accuracy=0.5)
    h = monitor.history
    assert isinstance(h, History)
    assert math.isnan(h.val_loss[0]) and h.val_accuracy[1] == 0.5
    assert math.isnan(h.val_accuracy[0])


@pytest.mark.parametrize("criterion", [None, "patience:10", "gl:1000", "up:3"])
def test_best_epoch_is_the_validation_minimum_of_the_finite_epochs(criterion):
    # a run that blows up without the criterion firing: epochs numbered from 1, the
    # validation minimum 0.7 at epoch 3 (hand-computed), NaN at the end
    val = [1.1, 0.9, 0.7, 0.75, 5.0, 400.0, math.nan]
    train = [1.0, 0.8, 0.6, 0.5, 3.0, 50.0, math.nan]
    expected = [1, 2, 3, 3, 3, 3, 3]
    monitor = Monitor(criterion)
    pairs = enumerate(zip(train, val, strict=True), start=1)
    statuses = [monitor.update(epoch, t, v) for epoch, (t, v) in pairs]
    assert [s.best_epoch for s in statuses] == expected
    last = statuses[-1]
    assert last.stop and last.reason == "diverging"
    assert last.best_epoch == 3


def test_best_epoch_skips_epochs_without_validation():
    monitor = Monitor()
    monitor.update(0, 1.0)  # no validation yet: no best epoch
    assert monitor.update(1, 0.9).best_epoch is None
    assert monitor.update(2, 0.8, 0.5).best_epoch == 2
    assert monitor.update(3, 0.7).best_epoch == 2
    assert monitor.update(4, 0.6, 0.4).best_epoch == 4


def test_a_value_that_is_no_number_is_refused_before_anything_is_recorded():
    monitor = Monitor()
    monitor.update(0, 1.0, 1.1, accuracy=0.5)
    # before: loss was appended, then float("x") failed: columns of unequal length
    with pytest.raises(ValueError, match="accuracy must be a number or None, got 'x'"):
        monitor.update(1, 0.9, 1.0, accuracy="x")
    assert monitor.history == History.from_columns(
        {"loss": [1.0], "val_loss": [1.1], "accuracy": [0.5]}, epoch=[0]
    )
    status = monitor.update(1, torch.tensor(0.9), np.float32(1.0), accuracy=0.6)
    assert status.best_epoch == 1 and monitor.history.loss[-1] == pytest.approx(0.9)


def test_stop_on_names_the_verdicts_it_takes():
    with pytest.raises(ValueError, match=r"stop_on must hold verdicts \(.*overfitting.*\)"):
        Monitor(stop_on=("bogus",))
    assert Monitor(stop_on=("overfitting",)).stop_on == (Verdict.OVERFITTING,)


@pytest.mark.parametrize("one", ["overfitting", Verdict.OVERFITTING])
def test_monitor_stop_on_takes_one_verdict_alone(one):
    # a lone string was read letter by letter: "got 'overfitting'", a verdict it lists
    assert Monitor(stop_on=one).stop_on == (Verdict.OVERFITTING,)
    with pytest.raises(ValueError, match=r"got \('overfit',\)"):
        Monitor(stop_on="overfit")


def test_best_epoch_of_a_log_without_validation_loss_is_the_diagnosis_best_epoch():
    """With val_accuracy but no val_loss, Status.best_epoch was None beside a diagnosis
    whose best epoch (the weights to keep) was the highest validation accuracy."""
    val_accuracy = [0.5, 0.7, 0.8, 0.78, 0.76, 0.75, 0.74, 0.73]  # best 0.8, at epoch 2
    monitor = Monitor()
    for epoch, v in enumerate(val_accuracy):
        status = monitor.update(epoch, 1.0 / (epoch + 1), accuracy=1.0, val_accuracy=v)
        assert (
            status.best_epoch
            == status.diagnosis.best_epoch
            == int(np.argmax(val_accuracy[: epoch + 1]))
        )
    assert monitor.best_epoch == diagnose(monitor.history).best_epoch == 2


def _overfit_curves(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    e = np.arange(n)
    val = 1.0 - 0.5 * (1 - np.exp(-e / 3)) + 0.02 * np.maximum(0, e - 9)  # best at 9
    return np.exp(-e / 6), val


def test_a_run_its_criterion_stopped_is_diagnosed_as_train_diagnoses_it():
    # `train --early-stopping patience:5` records why the run stopped, and its diagnosis
    # reads the kept weights (a good fit, "where early stopping ended the run"); the
    # monitor said "overfitting" of the same epochs when its own criterion stopped them
    train, val = _overfit_curves()
    monitor = Monitor("patience:5")
    for epoch in range(len(val)):
        status = monitor.update(epoch, loss=float(train[epoch]), val_loss=float(val[epoch]))
        if status.stop:
            break
    assert (epoch, status.reason, status.best_epoch) == (14, "patience:5", 9)
    rows = {"loss": list(train[:15]), "val_loss": list(val[:15])}
    as_train = diagnose(History.from_columns(rows, epoch=list(range(15)), stop_reason="patience"))
    assert status.diagnosis.verdict is as_train.verdict is Verdict.GOOD_FIT
    assert "early stopping ended the run" in status.diagnosis.explanation
    assert monitor.history.stop_reason == "patience"
    # the same epochs with no record of the stop (a log read later) overfit from epoch 9
    assert diagnose(History.from_columns(rows, epoch=list(range(15)))).verdict is (
        Verdict.OVERFITTING
    )


def test_the_monitors_stop_reason_is_its_historys():
    """The Lightning callback reads ``stop_reason`` without building the history: the same
    value at every update, also one past the stop (the criterion still says it)."""
    train, val = _overfit_curves()
    monitor = Monitor("patience:5")
    said = []
    for epoch in range(16):  # one epoch past the stop at 14
        monitor.update(epoch, loss=float(train[epoch]), val_loss=float(val[epoch]))
        assert monitor.stop_reason == monitor.history.stop_reason
        said.append(monitor.stop_reason)
    assert said == [""] * 14 + ["patience"] * 2


def test_a_monitor_without_a_criterion_records_no_stop():
    train, val = _overfit_curves()
    monitor = Monitor(stop_on=(Verdict.OVERFITTING,))
    for epoch in range(len(val)):
        status = monitor.update(epoch, loss=float(train[epoch]), val_loss=float(val[epoch]))
        if status.stop:
            break
    assert status.reason == "overfitting" and monitor.history.stop_reason == ""
    assert status.diagnosis.verdict is Verdict.OVERFITTING


@pytest.mark.parametrize(
    ("values", "named"),
    [({"val_accuracy": 0.5}, "val_accuracy"), ({"val_los": 1.0}, "val_los")],
)
def test_a_criterion_refuses_an_epoch_without_val_loss(values, named):
    # the criterion follows val_loss: with val_accuracy alone (or a misspelt val_loss) it
    # was never asked, so a loop whose validation got worse every epoch ran to the end
    monitor = Monitor("patience:2")
    with pytest.raises(
        ValueError, match=f"'patience:2' follows val_loss, but epoch 0 has {named}"
    ):
        monitor.update(0, loss=1.0, **values)
    assert len(monitor.history) == 0  # nothing recorded: the epoch can be given again
    assert not monitor.update(0, loss=1.0, val_loss=1.0, **values).stop


def test_a_criterion_takes_epochs_without_validation():
    # check_val_every_n_epoch=2 in Lightning: the epochs between have no val_ value at all
    monitor = Monitor("patience:1")
    monitor.update(0, loss=1.0)
    monitor.update(1, loss=0.9, val_loss=1.0, val_accuracy=0.5)
    monitor.update(2, loss=0.8)
    assert monitor.update(3, loss=0.7, val_loss=1.1, val_accuracy=0.4).stop


def test_pq_refuses_val_loss_without_the_training_loss_before_recording_it():
    monitor = Monitor("pq:0.5")
    with pytest.raises(ValueError, match=r"'pq:0.5' needs the training loss .* epoch 0 has loss"):
        monitor.update(0, val_loss=1.0)
    assert len(monitor.history) == 0


def test_accuracy_in_percent_is_read_as_read_log_reads_the_run_log(tmp_path):
    # a loop passing `100. * correct / total`: the monitor (and the Lightning callback on
    # it) said "accuracy +880.0 points" where `nooverfit diagnose` of the run's log, which
    # reads percent as a fraction, said "+8.8 points" of the same epochs
    h = read_log(LOGS / "keras_overfit.csv")
    percent = {
        "loss": list(h.loss),
        "val_loss": list(h.val_loss),
        "accuracy": [100 * a for a in h.accuracy],
        "val_accuracy": [100 * a for a in h.val_accuracy],
    }
    monitor = Monitor()
    for i, epoch in enumerate(h.epoch):
        status = monitor.update(epoch, **{k: v[i] for k, v in percent.items()})
    History.from_columns(percent, epoch=list(h.epoch)).save(tmp_path / "log.csv")
    logged = read_log(tmp_path / "log.csv")
    assert status.diagnosis == diagnose(logged).for_python()
    fraction = diagnose(h)
    assert status.diagnosis.verdict is fraction.verdict
    assert status.diagnosis.gap.metric_at_last == pytest.approx(fraction.gap.metric_at_last)
    assert monitor.history.val_accuracy == pytest.approx(h.val_accuracy)
    assert monitor.history.notes == logged.notes
    assert "accuracy, val_accuracy logged in percent" in monitor.history.notes[0]
