"""Metamorphic tests of the diagnosis on real runs (``tests/_real_logs.py``): scaling every
loss, a constant penalty on the training loss, logging or validating every second epoch and
per-step against per-epoch logs must not change the verdict."""

import importlib.util
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _real_logs import LOGS, REAL, load
from nooverfit import _curves as cv
from nooverfit import diagnose
from nooverfit._chance import ABOVE_GUESSING, SATURATED, UPPER
from nooverfit.history import History
from nooverfit.logs import read_log

# --- metamorphic: what must not change the verdict -------------------------------------
# The collapse fixture is left out of the scaling test: it is the one rule that compares
# the loss with an absolute level (the chance-level cross-entropy). So is the gap read from
# the training cross-entropy in nats (a scaled loss is no cross-entropy), and from the
# penalty test too: Keras, the one writer that adds a penalty to the loss, logs the
# training accuracy itself, and the bound is only read without one.
# (Penalties up to 5 % of the validation loss keep the bound's gap: test_diagnose_thrown.)
BOUND_GAP = {"gap_from_loss_bound_hf", "gap_from_loss_bound_tensorboard"}
# Known limit, left visible: the network fitting below guessing reads its training
# cross-entropy (0.28) against half the loss of guessing (0.44 nats); a penalty over about
# 12 % of the validation loss lifts it over that level and the turning rule calls the run
# diverging. SummaryWriter loops log no penalty (test_diagnose_unseen).
GUESSING_FIT = {"fitting_below_guessing_overfit_tensorboard"}
SCALABLE = sorted(set(LOGS) - {"collapse_keras"} - BOUND_GAP)
PENALIZABLE = sorted(set(LOGS) - BOUND_GAP - GUESSING_FIT)


def _columns(h: History) -> dict[str, list[float]]:
    """Every column of ``h``, the logged metrics too (an error metric beside the loss,
    ``mae`` beside Keras's MSE, is what the underfitting test reads: it holds no penalty)."""
    columns = {name: list(h.column(name)) for name in ("loss", "val_loss", "accuracy")}
    columns["val_accuracy"] = list(h.val_accuracy)
    return columns | {name: list(values) for name, values in h.extras.items()}


def transformed(h: History, *, scale: float = 1.0, penalty: float = 0.0) -> History:
    columns = _columns(h)
    columns["loss"] = [scale * v + penalty for v in columns["loss"]]
    columns["val_loss"] = [scale * v for v in columns["val_loss"]]
    for name in [c for c in columns if c.removeprefix("val_") in ("mae", "mse", "rmse")]:
        columns[name] = [scale * v for v in columns[name]]  # errors in the loss's units
    return History.from_columns(columns, epoch=h.epoch)


def _train_end(h: History) -> float:
    """The smoothed training loss at the last validated epoch, as the rules read it."""
    keep = np.isfinite(np.asarray(h.val_loss, dtype=float))
    train = cv.fill_missing(np.asarray(h.loss, dtype=float))[keep]
    return float(cv.smooth(train)[-1]) if np.isfinite(train).any() else math.nan


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(SCALABLE), exponent=st.floats(-3, 3))
def test_scaling_every_loss_keeps_the_verdict(name, exponent):
    h = load(name)
    scaled = transformed(h, scale=10.0**exponent)
    if h.has("val_accuracy"):
        # a classifier's loss is a cross-entropy in nats, read against the loss of
        # guessing (the collapse family): scaling may not carry its minimum across
        # that level, nor across what a constant predictor scores over a million classes
        low, scaled_low = np.nanmin(h.val_loss), np.nanmin(scaled.val_loss)
        guess = max(math.log(2), -math.log(np.nanmin(h.val_accuracy)))
        for level in (guess, ABOVE_GUESSING * guess, UPPER * ABOVE_GUESSING * guess, SATURATED):
            assume((low < level) == (scaled_low < level))
        if not h.has("accuracy"):  # nor the training loss across the cross-entropy that
            # bounds the training accuracy at 97 % (each mistake costs ln 2 nats)
            bound = 0.03 * math.log(2)
            assume((_train_end(h) <= bound) == (_train_end(scaled) <= bound))
    assert diagnose(scaled).verdict is diagnose(h).verdict


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(PENALIZABLE), share=st.floats(0.0, 0.2))
def test_a_constant_penalty_on_the_training_loss_keeps_the_verdict(name, share):
    h = load(name)
    val = np.asarray(h.val_loss, dtype=float)
    penalty = share * float(np.nanmin(val))  # an L2 term as Keras adds it
    assert diagnose(transformed(h, penalty=penalty)).verdict is diagnose(h).verdict


# Known weakness, left visible: halved, the noisy-batch run's lowest validation accuracy
# (0.49, ten classes) puts the loss of guessing at ln(1 / 0.49) = 0.71 instead of ln 10,
# and the turning rule of _never_beat_chance calls its swings divergence: the training
# losses left (every second row's) sit at 0.5, above half that level, so nothing shows
# the network fitting (validated every second epoch with its training loss kept, it
# does: see SPARSER).
# The memorized run's training loss was logged at three epochs, all of which this halving
# drops: what is left has no training curve at all, a different log, not a sparser one.
# The frozen run's only evaluation before its blow-up is its first, which this halving
# drops too: what is left is a flat curve at 2.3e9, nothing to compare it with.
# The climbing run's Trainer logged its training loss at every second epoch (odd rows),
# every one of which this halving drops: no training curve left either.
# The thrown-out runs' one epoch whose training loss jumped (Keras), or their one logged
# training loss (HF), is on a dropped row: what is left shows no jump.
HALVABLE = sorted(
    set(LOGS)
    - {
        "noisy_batches_overfit_tensorboard",
        "memorized_from_first_log_tensorboard",
        "frozen_after_blow_up_tensorboard",
        "climbing_after_memorizing_hf",
        "thrown_out_keras",
        "thrown_out_logged_once_hf",
        "thrown_around_lightning",  # (see SPARSER below)
    }
)


@pytest.mark.parametrize("name", HALVABLE)
def test_logging_every_second_epoch_keeps_the_verdict(name):
    h = load(name)
    if len(h) < 8:
        pytest.skip("too short to halve")
    keep = list(range(len(h) - 1, -1, -2))[::-1]  # always keep the last epoch
    columns = {c: [v[i] for i in keep] for c, v in _columns(h).items()}
    halved = History.from_columns(columns, epoch=[h.epoch[i] for i in keep])
    assert diagnose(halved).verdict is diagnose(h).verdict


# Validated every second epoch, training logged as before (the corpus figure is
# bench/diagnose_metamorphic.py's "every 2nd eval" column). The frozen run's only
# evaluation before its blow-up is dropped here too (see above).
# Known limit, left visible (i45): the thrashing MAE run, already validated every second
# epoch, keeps 8 evaluations at every fourth; their second half swings 18 % per evaluation,
# under the 20 % the validation-swing rule reads alone (aliasing: what is dropped is
# the swing).
# So is the run thrown around (12 evaluations, validation alternating by a fifth): every
# second value alone barely turns (aliasing), in both thinnings.
SPARSER = sorted(
    set(LOGS)
    - {"frozen_after_blow_up_tensorboard", "mae_thrashing_keras", "thrown_around_lightning"}
)


@pytest.mark.parametrize("name", SPARSER)
def test_validating_every_second_epoch_keeps_the_verdict(name):
    h = load(name)
    validated = [i for i, v in enumerate(h.val_loss) if v == v]
    if len(validated) < 8:
        pytest.skip("too short to halve")
    dropped = set(validated[::-1][1::2])  # always keep the last evaluation
    columns = _columns(h)
    for c in [c for c in columns if c.startswith("val_")]:
        columns[c] = [math.nan if i in dropped else v for i, v in enumerate(columns[c])]
    sparser = History.from_columns(columns, epoch=h.epoch)
    assert diagnose(sparser).verdict is diagnose(h).verdict


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, REAL.parents[3] / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["overfit_hf", "saturated_at_chance_hf"])
def test_a_per_step_training_loss_logged_per_epoch_keeps_the_verdict(name, tmp_path):
    # the Trainer's logging_strategy="epoch" instead of "steps": one training loss per
    # epoch, the mean of its steps (the conversion bench/diagnose_metamorphic.py applies
    # to every Hugging Face log of the corpus)
    state = _bench("diagnose_metamorphic").per_epoch_state(REAL / LOGS[name])
    assert state is not None
    steps = json.loads((REAL / LOGS[name]).read_text())["log_history"]
    assert sum("loss" in e for e in state["log_history"]) < sum("loss" in e for e in steps)
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    per_epoch, per_step = read_log(tmp_path / "trainer_state.json"), load(name)
    # the reader averages a per-step log per epoch: both read as one curve
    np.testing.assert_allclose(per_epoch.loss, per_step.loss, rtol=1e-9)
    assert diagnose(per_epoch).verdict is diagnose(per_step).verdict


def test_per_step_and_per_epoch_logs_of_one_run_agree():
    # the same run, its training loss logged per step (grouped by the epoch scalar) and
    # per validation round: one verdict
    a, b = load("steps_epoch_tensorboard"), load("steps_only_tensorboard")
    assert diagnose(a).verdict is diagnose(b).verdict
    assert load("overfit_hf") == load("overfit_hf_checkpoint")
