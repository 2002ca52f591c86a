from __future__ import annotations

import math
import os

import pytest

from nooverfit.stopping import (
    EarlyStopping,
    StopReason,
    generalization_loss,
    parse_criterion,
    replay,
    training_progress,
)


def run(stopper: EarlyStopping, val, train=None) -> int | None:
    """Feed epochs 0..n-1 and return the epoch at which ``stopper`` fires (None if never)."""
    for epoch, v in enumerate(val):
        if stopper.update(epoch, v, None if train is None else train[epoch]):
            return epoch
    return None


# (spec, kwargs, val sequence, expected stop epoch, expected best epoch), computed by hand
# with Keras's rule: wait += 1; improvement iff current + min_delta < best (reset wait);
# stop iff wait >= patience and epoch > 0; epochs < start_from_epoch are skipped.
PATIENCE_CASES = [
    ("patience:2", {}, [1.0, 0.9, 0.95, 0.96, 0.8], 3, 1),
    ("patience:3", {}, [1.0, 0.9, 0.95, 0.96, 0.8, 0.81], None, 4),
    ("patience:1", {}, [1.0, 1.0], 1, 0),  # equal is not an improvement
    ("patience:3", {}, [3.0, 2.0, 1.0, 0.5], None, 3),
    # 0.95 is not 0.1 below 1.0; 0.85 is; 0.8 and 0.78 are not 0.1 below 0.85
    ("patience:2", {"min_delta": 0.1}, [1.0, 0.95, 0.85, 0.8, 0.78], 4, 2),
    # epochs 0-2 are ignored, so epoch 3 is the first best even though epoch 2 was lower
    ("patience:1", {"start_from_epoch": 3}, [5.0, 4.0, 3.0, 3.5, 3.6, 3.7], 4, 3),
    ("patience:2", {"start_from_epoch": 2}, [5.0, 1.0, 3.0, 2.0, 2.5, 2.6], 5, 3),
    ("patience:2", {"mode": "max"}, [0.5, 0.6, 0.6, 0.55], 3, 1),
    ("patience:2", {"mode": "max", "min_delta": 0.05}, [0.5, 0.52, 0.56, 0.57, 0.6], 4, 2),
]


@pytest.mark.parametrize(("spec", "kwargs", "val", "stop", "best"), PATIENCE_CASES)
def test_patience_stop_epoch_matches_hand_computed_keras_rule(spec, kwargs, val, stop, best):
    stopper = EarlyStopping(spec, **kwargs)
    assert run(stopper, val) == stop
    assert stopper.best_epoch == best
    assert stopper.best == val[best]
    if stop is None:
        assert stopper.stop_reason is None
    else:
        assert stopper.stop_reason is StopReason.PATIENCE
        assert stopper.stopped_epoch == stop


def _keras_stop(spec: str, kwargs: dict, val: list[float]) -> tuple[int | None, int]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=int(spec.split(":")[1]),
        min_delta=kwargs.get("min_delta", 0.0),
        mode=kwargs.get("mode", "min"),
        start_from_epoch=kwargs.get("start_from_epoch", 0),
    )
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    stop = None
    for epoch, v in enumerate(val):
        callback.on_epoch_end(epoch, {"val_loss": v})
        if model.stop_training:
            stop = epoch
            break
    return stop, callback.best_epoch


@pytest.mark.parametrize(("spec", "kwargs", "val", "stop", "best"), PATIENCE_CASES)
def test_patience_matches_real_keras_early_stopping(spec, kwargs, val, stop, best):
    keras_stop, keras_best = _keras_stop(spec, kwargs, val)
    stopper = EarlyStopping(spec, **kwargs)
    assert run(stopper, val) == keras_stop == stop
    assert stopper.best_epoch == keras_best == best


# Prechelt's GL: GL(t) = 100 * (E_va(t) / E_opt(t) - 1); stop iff GL > alpha (strictly).
GL_CASES = [
    # E_opt = 0.8 at epoch 1; GL(2) = 2.5, GL(3) = 6.25 > 5
    ("gl:5", [1.0, 0.8, 0.82, 0.85, 0.9], 3, 1),
    ("gl:10", [1.0, 0.8, 0.82, 0.85, 0.87], None, 1),
    # powers of two make GL exact: 1.0625 -> 6.25 (not > 6.25), 1.125 -> 12.5
    ("gl:6.25", [1.0, 1.0625, 1.0625, 1.125], 3, 0),
    # a new minimum resets E_opt: GL(4) = 4.29, GL(5) = 5.71 against 0.7, not 0.8
    ("gl:5", [1.0, 0.8, 0.83, 0.7, 0.73, 0.74], 5, 3),
]


@pytest.mark.parametrize(("spec", "val", "stop", "best"), GL_CASES)
def test_gl_stop_epoch_matches_hand_computed(spec, val, stop, best):
    stopper = EarlyStopping(spec)
    assert run(stopper, val) == stop
    assert stopper.best_epoch == best
    if stop is not None:
        assert stopper.stop_reason is StopReason.GENERALIZATION_LOSS


def test_generalization_loss_and_training_progress_match_hand_computed():
    assert generalization_loss(0.66, 0.6) == pytest.approx(10.0)
    assert generalization_loss(0.6, 0.6) == 0.0
    # mean = 2.5375 / 5 = 0.5075; P = 1000 * (0.5075 / 0.5 - 1) = 15
    assert training_progress([0.52, 0.51, 0.505, 0.5025, 0.5]) == pytest.approx(15.0)
    assert training_progress([0.5] * 5) == 0.0


TRAIN_PQ = [1.0, 0.9, 0.8, 0.7, 0.6, 0.52, 0.51, 0.505, 0.5025, 0.5]
PQ_CASES = [
    # strip end 4: GL = 0. Strip end 9: E_opt = 0.6, GL = 10, P_5 = 15, PQ = 0.667
    ("pq:0.5", [1.0, 0.9, 0.8, 0.7, 0.6, 0.61, 0.62, 0.63, 0.64, 0.66], 9),
    ("pq:1", [1.0, 0.9, 0.8, 0.7, 0.6, 0.61, 0.62, 0.63, 0.64, 0.66], None),
    # a huge GL in mid-strip (epoch 6) is not looked at; at epoch 9 GL = 1.67, PQ = 0.11
    ("pq:0.5", [1.0, 0.9, 0.8, 0.7, 0.6, 0.61, 5.0, 0.62, 0.6, 0.61], None),
]


@pytest.mark.parametrize(("spec", "val", "stop"), PQ_CASES)
def test_pq_checks_at_strip_ends_with_hand_computed_quotient(spec, val, stop):
    stopper = EarlyStopping(spec, strip=5)
    assert run(stopper, val, TRAIN_PQ) == stop
    assert stopper.best_epoch == 4
    if stop is not None:
        assert stopper.stop_reason is StopReason.PROGRESS_QUOTIENT


def test_pq_without_train_loss_raises():
    stopper = EarlyStopping("pq:0.5")
    with pytest.raises(ValueError, match="train_loss"):
        run(stopper, [1.0, 0.9, 0.8, 0.7, 0.6])


@pytest.mark.parametrize("missing", [0, 7])
def test_pq_without_train_loss_raises_at_that_epoch(missing):
    # it raised only at the strip's end (epoch 4, 5 epochs of training late), and a loss
    # missing at epoch 7 went unnoticed: the strip ending at 9 held epochs 4-6, 8 and 9
    stopper = EarlyStopping("pq:0.5", strip=5)
    val = [1.0, 0.9, 0.8, 0.7, 0.6, 0.61, 0.62, 0.63, 0.64, 0.66]
    for epoch in range(missing):
        stopper.update(epoch, val[epoch], TRAIN_PQ[epoch])
    with pytest.raises(
        ValueError, match=f"train_loss at every epoch, got None at epoch {missing}"
    ):
        stopper.update(missing, val[missing])
    # nothing was recorded: the epoch can be given again, with its training loss
    assert run_from(stopper, missing, val, TRAIN_PQ) == 9


def test_pq_needs_no_train_loss_before_start_from_epoch():
    stopper = EarlyStopping("pq:0.5", start_from_epoch=2)
    assert stopper.update(0, 1.0) is False
    assert stopper.update(1, 0.9) is False


def run_from(stopper: EarlyStopping, first: int, val, train) -> int | None:
    """Feed epochs ``first..n-1``; the epoch at which ``stopper`` fires (None if never)."""
    for epoch in range(first, len(val)):
        if stopper.update(epoch, val[epoch], train[epoch]):
            return epoch
    return None


def _strips(ends: list[float]) -> list[float]:
    """Five epochs per strip; inside a strip the loss sits 0.1 above the strip's end value."""
    return [x for end in ends for x in (end + 0.1, end + 0.1, end + 0.1, end + 0.1, end)]


UP_CASES = [
    # strip-end values (epochs 4, 9, 14, ...): 0.5, 0.6 (up 1), 0.7 (up 2)
    ("up:2", [0.5, 0.6, 0.7, 0.8], 14),
    ("up:1", [0.5, 0.6, 0.7, 0.8], 9),
    ("up:3", [0.5, 0.6, 0.7], None),
    # 0.55 < 0.6 resets the count: ups at 9, then 19 and 24
    ("up:2", [0.5, 0.6, 0.55, 0.65, 0.7], 24),
    ("up:1", [0.9, 0.8, 0.7, 0.6], None),
]


@pytest.mark.parametrize(("spec", "ends", "stop"), UP_CASES)
def test_up_counts_successive_strip_increases(spec, ends, stop):
    stopper = EarlyStopping(spec, strip=5)
    val = _strips(ends)
    assert run(stopper, val) == stop
    if stop is not None:
        assert stopper.stop_reason is StopReason.UP
    assert stopper.best_epoch == val.index(min(val[: (stop or len(val)) + 1]))


@pytest.mark.parametrize("spec", ["patience:3", "gl:5", "pq:0.5", "up:2"])
def test_early_stopping_non_finite_loss_stops_as_diverged(spec):
    stopper = EarlyStopping(spec)
    assert stopper.update(0, 1.0, 1.0) is False
    assert stopper.update(1, math.nan, 1.0) is True
    assert stopper.stop_reason is StopReason.DIVERGED
    assert stopper.best_epoch == 0
    assert stopper.update(2, 0.5, 0.5) is True  # stays stopped


@pytest.mark.parametrize(
    ("spec", "kind", "value"),
    [
        ("patience:10", "patience", 10),
        ("GL:5", "gl", 5),
        (" pq:0.5 ", "pq", 0.5),
        ("up:3", "up", 3),
    ],
)
def test_parse_criterion_accepts_the_four_forms(spec, kind, value):
    criterion = parse_criterion(spec)
    assert (criterion.kind, criterion.value) == (kind, value)
    assert parse_criterion(criterion.spec) == criterion


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("patience", "not understood"),
        ("foo:3", "not understood"),
        ("gl:abc", "no number"),
        ("patience:2.5", "patience must be an integer"),
        ("up:0", "up must be an integer"),
        ("gl:0", "gl threshold"),
        ("pq:inf", "pq threshold"),
    ],
)
def test_parse_criterion_rejects_bad_specs_naming_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_criterion(spec)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "avg"}, "mode"),
        ({"criterion": "gl:5", "mode": "max"}, "patience only"),
        ({"min_delta": -0.1}, "min_delta"),
        ({"min_delta": float("nan")}, "min_delta must be a finite number >= 0, got nan"),
        ({"min_delta": "0.1"}, "min_delta"),
        ({"strip": 0}, "strip"),
        ({"strip": 2.5}, "strip must be an integer >= 1, got 2.5"),
        ({"start_from_epoch": 1.5}, "start_from_epoch must be an integer"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


def test_replay_reports_stop_best_and_epochs_saved():
    result = replay("patience:2", [1.0, 0.9, 0.95, 0.96, 0.8, 0.7])
    assert (result.stop_epoch, result.fired, result.kept_epoch) == (3, True, 1)
    assert result.kept_val_loss == 0.9
    assert result.epochs_saved == 2
    assert result.criterion == "patience:2"


def test_replay_when_never_fired_keeps_the_minimum():
    result = replay("gl:50", [1.0, 0.7, 0.8, 0.75])
    assert (result.stop_epoch, result.fired, result.kept_epoch) == (3, False, 1)
    assert result.epochs_saved == 0


def test_replay_passes_options_and_train_loss():
    assert replay("patience:2", [1.0, 0.95, 0.85, 0.8, 0.78], min_delta=0.1).stop_epoch == 4
    val = PQ_CASES[0][1]
    assert replay("pq:0.5", val, TRAIN_PQ).stop_epoch == 9


def test_replay_empty_raises():
    with pytest.raises(ValueError, match="at least one epoch"):
        replay("gl:5", [])


def test_stop_reason_codes_are_fixed_and_distinct():
    # logs written with these numbers are read back with them: they may never move
    codes = {reason.value: reason.code for reason in StopReason}
    assert codes == {
        "completed": 0,
        "patience": 1,
        "generalization_loss": 2,
        "progress_quotient": 3,
        "up": 4,
        "diverged": 5,
        "requested": 6,
        "curve": 7,
        "halved": 8,
        "interrupted": 9,
    }


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        (1.0, "patience"),
        ("2", "generalization_loss"),
        ("up", "up"),
        (" patience ", "patience"),
        ("", ""),
        (math.nan, ""),
        (10.0, ""),
        (0.5, ""),
        (-1, ""),
    ],
)
def test_stop_reason_logged_reads_text_and_codes(cell, reason):
    assert StopReason.logged(cell) == reason


@pytest.mark.parametrize(
    "spec, epochs",
    [
        ("patience:5", 6),
        ("patience:10", 11),
        ("patience:20", 21),
        ("gl:1", 2),
        ("gl:5", 2),
        ("pq:0.5", 5),
        ("pq:2", 5),
        ("up:2", 15),
        ("up:3", 20),
    ],
)
def test_earliest_stop_is_where_the_criterion_first_stops_the_most_eager_curve(spec, epochs):
    from nooverfit.stopping import earliest_stop, replay

    # validation loss rising from the first epoch on, training loss barely falling (PQ's
    # training progress near 0): every criterion stops as soon as it can
    val = [1.0 + 0.1 * t for t in range(40)]
    train = [1.0 - 1e-6 * t for t in range(40)]
    assert earliest_stop(spec) == epochs
    assert replay(spec, val, train).stop_epoch + 1 == epochs  # epochs 0..stop trained
    # a run of no more epochs than that is never stopped early by it
    assert not replay(spec, val[: epochs - 1], train[: epochs - 1]).fired


@pytest.mark.parametrize("spec", ["patience:3", "gl:5"])
def test_early_stopping_reused_for_a_second_run_raises(spec):
    # a Keras callback is reset by on_train_begin; this object is not: fed a second run
    # from epoch 0 it answered True at once (stopped) or carried the first run's best
    stopper = EarlyStopping(spec)
    run(stopper, [1.0, 0.5, 0.9, 1.2, 1.5, 1.8])
    with pytest.raises(ValueError, match=r"epoch must increase, got 0 after .*new EarlyStopping"):
        stopper.update(0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("epoch", "val", "error", "message"),
    [
        (2.5, 1.0, ValueError, "epoch must be an integer, got 2.5"),
        ("3", 1.0, ValueError, "epoch must be an integer, got '3'"),
        (0, "0.9", TypeError, "val_loss must be a number, got '0.9'"),
    ],
)
def test_early_stopping_update_names_a_bad_argument(epoch, val, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping("patience:2").update(epoch, val)


def test_early_stopping_accepts_numpy_and_tensor_scalars():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    stopper = EarlyStopping("patience:1")
    assert stopper.update(np.int64(0), np.float32(1.0), torch.tensor(2.0)) is False
    assert stopper.update(1, torch.tensor(1.5)) is True
