"""Spikes, jumps and blow-ups: which unstable runs are diverging and which are not.

A run whose weights were thrown around failed: validation jumping while the network misses
its own training samples (i50); a run blown up at its start whose training loss never gets
below guessing again (i69); both losses frozen above where they started, and a classifier
that fits its samples while its loss turns by a good part of its whole fall from epoch to
epoch (i85); the failed run at a rate of 1, whose generalization loss is reported all the
same (i64). Not a blow-up: validation swinging in the confident mistakes of a network that
fits its samples (i50), a fine-tuning stage whose first value is already near its end
level (i85). The text of a blow-up that recovered says what happened (i75).

Each helper id names its section in ``bench/README.md``.
"""

import json
import math

import numpy as np
import pytest

from _diagnose_fixtures import DATA, finite, read_side
from _real_logs import label, load
from nooverfit import diagnose
from nooverfit._blowup import (
    climbed_from_start,
    learned_start,
    recovered_blow_up,
    spiking_fit,
)
from nooverfit._chance import (
    BLOWN,
    SATURATED,
    above_any_constant,
    far_above_guessing,
    never_recovered,
)
from nooverfit._dead import stuck_worse
from nooverfit._turning import fits_samples
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log


def test_validation_jumping_while_training_misses_its_samples_is_a_failed_run():
    """HF, cancer at SGD lr 10 (design): validation jumps 5x per evaluation and its
    accuracy falls back to 39 % twice; the training cross-entropy (1.4 nats) bounds the
    training accuracy below zero: weights thrown around, as labelled."""
    h = load("jumping_unfitted_hf")
    assert not fits_samples(h, np.asarray(h.loss, dtype=float))
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "jumps" in d.explanation
    assert label("jumping_unfitted_hf")["verdict"] == "diverging"


def _memorizer(with_accuracy: bool) -> History:
    """A classifier that fits its training samples (loss 0.02, accuracy 99 %) while its
    validation loss, on a few samples it gets confidently wrong, doubles and halves
    between evaluations around a rising level."""
    n = 24
    train = list(np.geomspace(0.6, 0.02, n))
    val = [(0.3 + 0.02 * i) * (2.2 if i % 2 else 1.0) for i in range(n)]
    columns = {"loss": train, "val_loss": val, "val_accuracy": [0.9] * n}
    if with_accuracy:
        columns["accuracy"] = list(np.linspace(0.8, 0.99, n))
    return History.from_columns(columns)


def test_validation_jumping_while_the_network_fits_its_samples_is_not_divergence():
    """The turning rule's guard, applied to the jump rule too (i50): a network that gets
    90 % of its training samples right (logged accuracy, or the bound from its training
    cross-entropy) swings in its confident mistakes on a small validation set."""
    for with_accuracy in (True, False):
        h = _memorizer(with_accuracy)
        assert fits_samples(h, np.asarray(h.loss, dtype=float))
        assert diagnose(h).verdict is not Verdict.DIVERGING
    # a regression log carries no count of samples right: the guard never applies
    bare = History.from_columns(
        {"loss": _memorizer(False).loss, "val_loss": _memorizer(False).val_loss}
    )
    assert not fits_samples(bare, np.asarray(bare.loss, dtype=float))


def test_a_diverging_run_reports_its_generalization_loss():
    """Prechelt's GL, ``100 * (E_va(last) / E_opt - 1)``, is reported for a diverging run
    too (the rules reach that verdict before the evidence is read), on the last finite
    validation loss against the lowest: a Keras run with RMSprop at lr 1."""
    h = read_log(DATA / "failed_lr1_rmsprop_keras.csv")
    assert isinstance(h, History)
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    val = [v for v in h.val_loss if math.isfinite(v)]
    assert math.isclose(d.generalization_loss, 100 * (val[-1] / min(val) - 1), rel_tol=1e-12)


BLOWN_AT_START = [
    ("blown_nadam_hastie_lightning_tb", "blown_nadam_hastie_lightning_tb_test_curve.json"),
    ("blown_rmsprop_moons_hf/trainer_state.json", "blown_rmsprop_moons_hf/test_curve.json"),
]


@pytest.mark.parametrize(("log", "side"), BLOWN_AT_START)
def test_a_run_blown_up_at_its_start_that_never_beat_guessing_is_diverging(log, side):
    """i65's NAdam at lr 3 on ``hastie_10_2`` (Lightning's TensorBoardLogger) and RMSprop
    at lr 0.5 on moons (Trainer format): the first training loss is 155 and 4845 nats,
    hundreds of times where it ends, and the training loss never gets below ln 2 again;
    the test accuracy ends near 0.5 (two classes), far from the sklearn reference. Main
    read the first as overfitting (validation rising from 1.0) and the second as an
    underfit."""
    h = read_log(DATA / log)
    assert isinstance(h, History)
    test = read_side(side)
    train = finite(h, "loss")
    assert train[0] > 100 * np.median(train[train.size // 2 :])
    assert np.median(train[train.size // 2 :]) > np.log(2)
    assert test["test_metric"][-1] < 0.6 < test["ref"]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "never recovered" in d.explanation


def test_the_blow_up_rule_reads_the_curve_against_itself():
    """The NAdam run with every loss scaled by 10 keeps its verdict (the training loss
    stays above guessing); scaled by a tenth, its training loss lies below ln 2 and the
    rule no longer reads it (a crossing of the chance level, as the metamorphic tests
    allow)."""
    h = read_log(DATA / BLOWN_AT_START[0][0])
    assert isinstance(h, History)
    names = h.columns()[1:]
    data = {name: np.asarray(h.column(name), dtype=float) for name in names}
    for name in ("loss", "val_loss"):
        data[name] = 10 * data[name]
    scaled = History.from_columns({k: list(v) for k, v in data.items()}, epoch=h.epoch)
    assert never_recovered(scaled)
    assert never_recovered(h)
    data["loss"] = data["loss"] / 100
    assert not never_recovered(
        History.from_columns({k: list(v) for k, v in data.items()}, epoch=h.epoch)
    )


def test_a_recovered_blow_up_is_not_said_to_have_stopped_going_down():
    """Validation started 200x above where it ended and fell most of that in its first
    evaluations (the first steps blew the weights up): a diverging verdict whose reason
    says the loss fell must not add "the loss is not going down". (The first epoch's mean
    training loss lies below the validation loss after it: the throw came at its end; a
    first epoch that learned ends above it, :func:`~nooverfit._blowup.learned_start`.)"""
    epochs = list(range(16))
    val = [200.0, 20.0, 3.0] + [1.0 + 0.01 * (i % 2) for i in range(13)]
    h = History.from_columns({"loss": [0.5 * v for v in val], "val_loss": val}, epoch=epochs)
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "started 199x above where it ended" in d.explanation  # 200 / (1 + 0.01 / 2)
    assert "not going down" not in d.explanation
    assert "optimization failed" in d.explanation
    # nor the remedy (it said "The loss goes up instead of down (... fell most of that)")
    lower = next(r for r in d.remedies if r.kind == "lower_lr")
    assert lower.reason.startswith("The optimization is unstable (the validation loss started")
    assert not any("goes up instead of down" in r.reason for r in d.remedies)
    assert f"(validation was best at epoch {d.best_epoch})" in d.explanation
    # i77's HF RMSprop run, best at its last epoch (40, the Trainer counting from 1): no
    # other weights to keep
    blown = read_log(DATA / "blown_rmsprop_moons_hf")
    assert isinstance(blown, History)
    d = diagnose(blown)
    assert d.verdict is Verdict.DIVERGING and d.best_epoch == blown.epoch[-1] == 40
    assert "validation was best" not in d.explanation
    assert "the last weights are not usable; lower the learning rate" in d.explanation


FROZEN_RUN = DATA / "frozen_blowup_regraw_tb"


def test_both_losses_frozen_above_the_start_is_diverging():
    """A real SummaryWriter run of the i70 corpus (086: an MLP on unstandardized regression
    targets, SGD): its first epoch's training loss, 2.0e32, was its lowest; from the
    second epoch on both losses repeat to six digits, 16 % above it. Main read "both high
    and close together" as underfitting; the test curve (never seen by diagnose) sits
    frozen at 8e27 times the constant predictor's loss."""
    h = read_log(FROZEN_RUN)
    reference = json.loads((DATA / "frozen_blowup_regraw_tb_test_curve.json").read_text())
    train, val = np.asarray(h.column("loss")), np.asarray(h.column("val_loss"))
    assert np.argmin(train) == 0 and train[-1] > 1.1 * train[0]
    assert np.ptp(train[1:]) < 1e-6 * train[-1] and np.ptp(val[1:]) < 1e-6 * val[-1]
    assert min(reference["test_loss"]) > 1e20 * reference["constant"]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "never got below its first value" in d.explanation


def test_stuck_worse_by_hand():
    flat = np.full(6, 2.0)
    worse = np.array([1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert stuck_worse(worse, flat)
    assert not stuck_worse(flat, flat)  # never moved at all: not worse than its start
    better = np.array([3.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    settled = np.array([2.5, 2.2, 2.0, 2.0, 2.0, 2.0])
    assert not stuck_worse(better, settled)  # validation moved: it learned, then settled
    # validation never moved, its first evaluation included: the first epoch's steps
    # pinned the outputs (training's first value is a mean over steps before the jump)
    assert "at every evaluation, the first included" in stuck_worse(better, flat)
    moving = worse * np.array([1, 1, 1, 1.001, 1, 1.001])
    assert not stuck_worse(moving, flat)  # training still moves in its later half
    # ratios of the curves to themselves: a scale or a constant on training changes nothing
    assert stuck_worse(1e3 * worse, 1e3 * flat) and stuck_worse(worse + 5.0, flat)
    assert stuck_worse(1e3 * better, 1e3 * flat) and stuck_worse(better + 5.0, flat)


FROZEN_FROM_START = DATA / "frozen_from_start_rare_keras.csv"


def test_a_validation_loss_frozen_from_its_first_evaluation_is_diverging():
    """A real Keras 3 CSVLogger run of score batch 8 (113079: an MLP on a binary set with
    5 % positives, Adam at a learning rate of 3): after the first epoch both losses repeat
    to the last digit (validation 0.8059 at all 30 evaluations, above ln 2, accuracy stuck
    at the majority share); the test loss, never seen by diagnose, stays 4x above the
    constant predictor's. Main called it a good fit ("nothing needs fixing"): the
    training loss's first value, a mean over steps taken before the outputs were pinned,
    sat above where it froze."""
    h = read_log(FROZEN_FROM_START)
    reference = json.loads((DATA / "frozen_from_start_rare_keras_test_curve.json").read_text())
    assert reference["label"] == "diverging"
    assert min(reference["test_loss"]) > 3 * reference["constant"]
    val = np.asarray(h.val_loss)
    assert np.ptp(val) == 0.0 and h.loss[0] > h.loss[-1]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "the first included" in d.explanation
    # scale-free: every loss x1000, or a constant penalty on training, reads the same
    data = {name: np.asarray(h.column(name), dtype=float) for name in h.columns()[1:]}
    for factor, penalty in ((1000.0, 0.0), (1.0, 1.0)):
        loss, val = factor * data["loss"] + penalty, factor * data["val_loss"]
        moved = dict(data, loss=loss, val_loss=val)
        other = History.from_columns({k: list(v) for k, v in moved.items()}, epoch=h.epoch)
        assert diagnose(other).verdict is Verdict.DIVERGING


BLOWN_FIT = DATA / "blown_fit_digits_lightning"


def test_a_blown_up_classifier_that_fits_its_samples_is_diverging():
    """A real Lightning CSV run of the i65 corpus (108: an MLP on ``digits``, Adam at a
    learning rate of 1.0): the training accuracy climbs to 0.99 while the mean
    cross-entropy jumps between 10 and 1200 from epoch to epoch and validation sits in the
    thousands; the test curve (never seen by diagnose) sits hundreds of times above the
    constant predictor's loss. Main called it overfitting ("keep the weights of epoch 0")."""
    h = read_log(BLOWN_FIT)
    reference = json.loads((DATA / "blown_fit_digits_lightning_test_curve.json").read_text())
    assert min(reference["test_loss"]) > 100 * reference["constant"]
    assert np.median(np.asarray(h.column("accuracy"))[20:]) > 0.98
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "blown up by a step" in d.explanation


def _fitting(loss: np.ndarray) -> History:
    n = len(loss)
    acc = np.minimum(0.99, np.linspace(0.6, 1.2, n))
    return History.from_columns(
        {"loss": list(loss), "accuracy": list(acc), "val_loss": list(loss * 3 + 1.0)},
        epoch=list(range(n)),
    )


def test_spiking_fit_by_hand():
    """Turns of a good part of the whole fall (200 -> 10 nats) per epoch at 99 % accuracy:
    blown up; a memorizing network's loss jumping by multiples of a tiny level (its turns a
    sliver of its fall) or a smooth fall at that accuracy is not. Scaled up, given a
    constant penalty or thinned to every second epoch, the verdict of the rule holds. The
    same shape at a sound level (2 -> 0.1 nats: 10 to 90 nats per mistake at 1 % wrong, a
    later-half median of 0.4, under the ln 1e6 = 13.8 nats of guessing over a million
    classes) is no blow-up: a few mistakes more or less per epoch turn it so."""
    fall = np.linspace(200.0, 10.0, 10)
    jumps = np.tile([10.0, 90.0, 40.0], 7)  # a period of 3: thinned, it still turns
    blown = np.concatenate([fall, jumps])
    assert spiking_fit(_fitting(blown))
    assert spiking_fit(_fitting(50.0 * blown)) and spiking_fit(_fitting(blown + 0.1))
    assert spiking_fit(_fitting(blown[1::2]))
    assert not spiking_fit(_fitting(blown / 100.0))
    tiny = np.concatenate([fall, 1e-4 * (1 + 3 * jumps)])
    assert not spiking_fit(_fitting(tiny))
    assert not spiking_fit(_fitting(np.geomspace(200.0, 1e-3, 20)))


def test_a_fine_tuning_stage_that_starts_near_its_end_level_is_not_diverging():
    """A synthetic log (i88's review, ``tests/data/finetune_stage2_near_end_level.csv``):
    the second stage of a transfer-learning run, its first training loss 0.25 and then
    0.02-0.08 at 99 % training accuracy, validation at 0.12 rising slowly to 0.18 at 96 %.
    The first value is already near the end level, so the whole fall is small and a few
    mistakes more or less per epoch (a few nats each) turn the loss by over 4 % of it: the
    shape test alone called it diverging ("lower the learning rate"). Nothing is blown up:
    validation rose 48 % above its first (and lowest) value, which is overfitting."""
    h = read_log(DATA / "finetune_stage2_near_end_level.csv")
    assert not spiking_fit(h)
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert "blown up" not in d.explanation


CLIMBED_RUN = DATA / "climbed_blobs5_lightning"


def test_a_run_that_climbed_far_above_its_start_is_diverging_while_it_falls_back():
    """A real Lightning CSV run (s23 score-only batch 5, 83004: a batch-normed MLP on five
    blobs, RMSprop at a learning rate of 1.0): the training loss starts at 1.69 (about the
    ln 5 of guessing), climbs to 5920 and falls back to tens; validation falls steadily
    from 22959 to 106 nats while its accuracy rises to 95 %. The test loss (never seen by
    diagnose) ends 29x above a constant predictor's. Main read the steady fall as "still
    improving, train longer"."""
    h = read_log(CLIMBED_RUN)
    reference = json.loads((DATA / "climbed_blobs5_lightning_test_curve.json").read_text())
    assert reference["test_loss"][-1] > 10 * reference["constant"]
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "climbed from 1.69 to 5.92e+03 at epoch 2" in d.explanation


def test_climbed_from_start_by_hand():
    """The climb is read against the curve's own first value: scaled, the rule holds; a
    climb that came back below the start (a spike), one of 50x, or a run whose first value
    is already the blown-up level it falls from is no such climb."""
    t = np.array([1.0, 400.0, 800.0, 300.0, 100.0, 60.0, 40.0, 30.0, 25.0])

    def run(loss):
        return History.from_columns({"loss": list(loss), "val_loss": list(3.0 * loss)})

    assert climbed_from_start(run(t)) and climbed_from_start(run(1e-3 * t))
    assert not climbed_from_start(run(np.r_[t[:-3], 0.9, 0.8, 0.7]))  # came back
    assert not climbed_from_start(run(np.r_[1.0, 50.0, t[2:] / 16]))  # 50x: under 100x
    assert not climbed_from_start(run(t[2:]))  # starts at its peak: a fall, no climb


BLOWN_ACCURATE = DATA / "blown_accurate_bow_lightning"


def test_a_classifier_far_above_guessing_at_every_evaluation_is_diverging():
    """A real Lightning CSV run (s21 design, 44014: an MLP on a three-class bag of words,
    Adam at a learning rate of 10): validation accuracy climbs from 58 % to 83 % while the
    mean cross-entropy rises from 13,216 to 93,842 nats, the training loss falling from
    6,442 by jumps; the test loss (never seen by diagnose) stays thousands of times above
    a constant predictor's. Main read the shape alone: "overfitting, keep epoch 1". Over
    ``BLOWN`` (1000 x ln 1000 nats) at every evaluation is a blow-up whatever the
    decisions did (scaled by 10 too); the sentence names a summed loss."""
    h = read_log(BLOWN_ACCURATE)
    reference = json.loads((DATA / "blown_accurate_bow_lightning_test_curve.json").read_text())
    assert min(reference["test_loss"]) > 1000 * reference["constant"]
    assert max(h.val_accuracy) > 0.8
    d = diagnose(h)
    assert d.verdict is Verdict.DIVERGING
    assert "over a thousand times the 6.9 nats of guessing" in d.explanation
    assert "a sum over samples" in d.explanation
    scaled = History.from_columns(
        {
            "loss": [10 * x for x in h.loss],
            "val_loss": [10 * x for x in h.val_loss],
            "val_accuracy": list(h.val_accuracy),
        },
        epoch=list(h.epoch),
    )
    assert diagnose(scaled).verdict is Verdict.DIVERGING


def test_far_above_guessing_by_hand():
    """The level alone, for classifiers only: 1000 x ln 1000 (6,908 nats) on the smoothed
    validation curve; a regression's loss (no accuracy) has no such scale."""
    assert abs(BLOWN - 6907.755) < 1e-3
    val = [8000.0, 7500.0, 7200.0, 7100.0, 7000.0, 7050.0]
    acc = [0.6, 0.7, 0.8, 0.85, 0.9, 0.92]

    def run(v, a):
        cols = {"loss": [x / 2 for x in v], "val_loss": v}
        if a is not None:
            cols["val_accuracy"] = a
        return History.from_columns(cols)

    assert far_above_guessing(run(val, acc))
    assert not far_above_guessing(run([x - 150.0 for x in val], acc))  # 6850 < 6908
    assert not far_above_guessing(run(val, None))  # no classes: no level


BLOWN_BUT_RIGHT = DATA / "blown_accurate_cancer_lightning"


def test_a_classifier_read_as_learning_with_a_loss_no_constant_reaches_is_said_so():
    """s27's Lightning run on cancer (AdamW at lr 3): 95 % of validation samples right on
    a validation loss of 1,000 nats and more, where a constant predictor scores at most
    ln 2. Its test curve, never seen by the diagnosis, sits over 500 times that constant
    (labelled diverging). The verdict is scale-free (a loss scaled by 1000 reads the
    same), so it stays what the curve's shape says; the text says why to read it with
    care, and so does the loss divided by 10 (still over 100 nats)."""
    h = read_log(BLOWN_BUT_RIGHT)
    side = json.loads((DATA / "blown_accurate_cancer_lightning_test_curve.json").read_text())
    assert side["label"] == "diverging"
    assert min(side["test_loss"]) > 500 * side["constant"]
    assert np.nanmax(np.asarray(h.val_accuracy, dtype=float)) > 0.9
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    assert "Read with care: the validation loss never got below 1.2e+03" in d.explanation
    assert "lower the learning rate" in d.explanation
    scaled = History.from_columns(
        {
            "loss": [x / 10 for x in h.loss],
            "val_loss": [x / 10 for x in h.val_loss],
            "val_accuracy": list(h.val_accuracy),
        },
        epoch=list(h.epoch),
    )
    again = diagnose(scaled)
    assert again.verdict is d.verdict and "Read with care" in again.explanation


def test_above_any_constant_by_hand():
    """Over ln 1e6 (13.8 nats) on the smoothed validation curve, for classifiers only, at
    three evaluations or more; a diverging verdict's own reason is not repeated."""
    assert abs(SATURATED - math.log(1e6)) < 1e-12
    val = [20.0, 16.0, 15.0, 14.5, 14.2, 14.0]
    acc = [0.80, 0.85, 0.90, 0.92, 0.93, 0.94]

    def run(v, a):
        cols = {"loss": list(np.geomspace(10.0, 0.1, len(v))), "val_loss": v}
        if a is not None:
            cols["val_accuracy"] = a
        return History.from_columns(cols)

    assert "never got below 14" in above_any_constant(run(val, acc))
    assert not above_any_constant(run([x - 0.5 for x in val], acc))  # 13.5 < 13.8
    assert not above_any_constant(run(val, None))  # a regression: no scale
    assert not above_any_constant(run(val[:2], acc[:2]))  # two evaluations
    assert "Read with care" not in diagnose(load("jumping_unfitted_hf")).explanation


CLEAN_SIN = DATA / "clean_fit_regression_sin_torch.csv"
CLEAN_LINEAR = DATA / "clean_fit_regression_linear_torch.csv"


def test_a_clean_regression_that_learned_in_its_first_epoch_is_no_blow_up():
    """Two real runs (s29, written by a plain PyTorch loop as Keras's CSVLogger would: an
    MLP 2-64-64-1, Adam at 1e-3, batches of 32, 400 training and 200 validation samples,
    seed 0, 100 epochs, mean squared error on a standardized target): sin(2x) with noise
    of standard deviation 0.05, and a noiseless linear target. Validation falls 104x and
    6,640x from its first evaluation, most of it early; main read both as "diverging: the
    first steps blew the weights up ... lower the learning rate". A first epoch that
    learned (its mean training loss 1.08x and 1.56x as far above training's end as the
    validation loss after it lies above validation's) is no
    blow-up: the noisy run is a good fit, the noiseless one still falling a few percent
    an epoch. The same curves with the first epoch's training loss at a third of the
    validation loss after it (the throw came at its end) still read as a blow-up, and so
    do they cut to their first seven evaluations (too short to tell); a constant penalty
    added to the training loss changes nothing."""
    sine, linear = read_log(CLEAN_SIN), read_log(CLEAN_LINEAR)
    assert isinstance(sine, History) and isinstance(linear, History)
    for h, fell in ((sine, 100), (linear, 5000)):
        v = np.asarray(h.val_loss)
        assert v[0] > fell * np.median(v[-3:])  # (the ratio the blow-up rule reads)
        assert learned_start(h)
        assert not recovered_blow_up(v, h)
        assert recovered_blow_up(v)  # (the ratio alone: main's reading)
        thrown = History.from_columns(
            {"loss": [v[0] / 3, *list(h.loss)[1:]], "val_loss": list(v)}, epoch=h.epoch
        )
        assert not learned_start(thrown) and recovered_blow_up(v, thrown)
        penalized = History.from_columns(  # (a penalty on training, as Keras's L2 adds)
            {"loss": [x + 0.5 for x in h.loss], "val_loss": list(v)}, epoch=h.epoch
        )
        assert learned_start(penalized)
        short = History.from_columns(
            {"loss": list(h.loss)[:7], "val_loss": list(v)[:7]}, epoch=h.epoch[:7]
        )
        assert not learned_start(short)
    assert diagnose(sine).verdict is Verdict.GOOD_FIT
    assert diagnose(linear).verdict is Verdict.STILL_IMPROVING
