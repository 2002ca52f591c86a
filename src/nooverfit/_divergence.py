"""Signs that a run failed rather than fitted: divergence (a loss that ran away, swung or
blew up). Pure: a history and its curves in, a one-sentence reason out (empty when the
run did not fail). :mod:`nooverfit._rules` reads them first. The tests against the loss
of guessing (saturated outputs, collapse) are in :mod:`nooverfit._chance`, the blow-ups
read from ratios of losses in :mod:`nooverfit._blowup`, frozen outputs in
:mod:`nooverfit._dead`, validation thrown around in :mod:`nooverfit._turning`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from nooverfit import _curves as cv
from nooverfit._blowup import climbed_from_start, recovered_blow_up, spiking_fit, thrown_out
from nooverfit._chance import OSCILLATION, far_above_guessing, never_beat_chance
from nooverfit._curves import MIN_EPOCHS
from nooverfit._dead import dead_outputs
from nooverfit._learned import accuracy_learned
from nooverfit._turning import fits_samples, thrown_around
from nooverfit.history import CORE, History

#: Smoothed training-loss rise above its minimum that counts as diverging (fraction).
DIVERGE_RISE = 0.2
#: ... provided the rise is also at least this share of how far the loss had fallen from
#: its early level: an optimizer running away climbs back a good part of its progress,
#: while a loss near zero swings by multiples of itself as noise (0.001 -> 0.002 with
#: batch norm on small batches; single batches of 16 with noisy labels logged per step).
DIVERGE_FLOOR = 0.25
#: Multiple of the training loss's median change between logged values (log space) that
#: its rise must exceed to count as running away.
NOISE_CLEAR = 2.0
#: Validation/training loss ratio that, with a training loss that never fell, is a blow-up.
BLOWUP = 100.0
#: Growth of the smoothed validation loss over its minimum that only a blow-up explains
#: (overfitting multiplies it by a few at most), unless the classifier fits its training
#: samples (:func:`~nooverfit._turning.fits_samples`): confident mistakes on validation
#: then grow without bound as the logits do (s25: 5 runs of the design corpora, their
#: training loss at 0 and the test loss rising a hundredfold, labelled overfitting; 1
#: labelled diverging lost).
EXPLODE = 30.0
#: Back-and-forth change of log(validation loss) per evaluation that only an unstable
#: optimizer explains (a factor of 2 each way on average).
VAL_SWING = 0.7


def passed_infinities(history: History) -> tuple[History, str]:
    """``history`` with each infinite value that a finite one of its column follows set
    to NaN (an evaluation left out, as a NaN one is), and a sentence naming them (empty
    when there are none). A loss that became infinite and stayed so is a divergence
    (:func:`diverged`); one infinite epoch mean among finite ones is not: an infinite
    training loss stops a run (the weights go NaN) unless a loss scaler skipped the step,
    so it comes from an evaluation that overflowed (half precision, one sample's
    probability rounded to 0), and the run went on sound."""
    changed: dict[str, tuple[float, ...]] = {}
    said = []
    for name in history.columns()[1:]:
        v = np.asarray(history.column(name), dtype=float)
        finite = np.flatnonzero(np.isfinite(v))
        if not finite.size:
            continue
        last = int(finite[-1])
        passed = np.isinf(v) & (np.arange(v.size) < last)
        if passed.any():
            changed[name] = tuple(np.where(passed, math.nan, v).tolist())
            epochs = [str(history.epoch[i]) for i in np.flatnonzero(passed)]
            said.append(f"{name} at epoch{'s' * (len(epochs) > 1)} {', '.join(epochs)}")
    if not changed:
        return history, ""
    core: dict[str, Any] = {k: v for k, v in changed.items() if k in CORE}
    extras = {**history.extras, **{k: v for k, v in changed.items() if k not in CORE}}
    sentence = (
        f"Infinite values with finite ones after them are left out ({'; '.join(said)}): "
        "a value that overflowed, not a run that diverged."
    )
    return dataclasses.replace(history, **core, extras=extras), sentence


def diverged(history: History, train: np.ndarray, val: np.ndarray) -> str:
    """A one-sentence reason when the run diverged, else an empty string."""
    found = _ran_away(history, train, val) or thrown_out(history) or spiking_fit(history)
    found = found or climbed_from_start(history)
    found = found or dead_outputs(train, val) or thrown_around(history, train, val)
    return found or far_above_guessing(history)


def _ran_away(history: History, train: np.ndarray, val: np.ndarray) -> str:
    """A reason from the curves' course: non-finite, exploding, swinging, never beating
    chance, recovering from a blow-up."""
    if history.stop_reason == "diverged":
        return "the run stopped because its loss became NaN or infinite"
    for name, curve in (("training", train), ("validation", val)):
        if np.isinf(curve).any():
            epoch = history.epoch[int(np.flatnonzero(np.isinf(curve))[0])]
            return f"the {name} loss became infinite at epoch {epoch}"
    losses = np.stack([cv.column(history, "loss"), cv.column(history, "val_loss")])
    ended_nan = np.isnan(losses[:, -1]).all() if len(history) > 1 else False
    if ended_nan and np.isfinite(losses).any() and not np.isfinite(losses[:, -1]).any():
        # the epoch from which it stayed NaN to the end, not the last one
        start = int(np.flatnonzero(np.isfinite(losses).any(axis=0))[-1]) + 1
        return f"the loss became NaN at epoch {history.epoch[start]} and stayed NaN"
    v = val[np.isfinite(val)]
    if len(history) and not v.size and np.isnan(train).all() and not _anything_finite(history):
        return "no finite loss was logged: the loss was NaN from the first epoch"
    if len(history) >= MIN_EPOCHS and not _anything_finite(history) and _frozen(history):
        return (
            "no finite loss was logged and the accuracy never moved: the outputs were NaN "
            "from the first epoch"
        )
    if v.size >= MIN_EPOCHS and np.all(v > 0):
        jumps = np.diff(np.log(v))
        wild = (float(np.sum(np.abs(jumps))) - abs(float(np.sum(jumps)))) / len(jumps)
        if wild > VAL_SWING and not fits_samples(history, train):
            return (
                f"the validation loss jumps {math.exp(min(wild, 700.0)):.3g}x back and forth "
                "between evaluations: the weights are thrown around"
            )
        reason = never_beat_chance(history, v, cv.reversals(v))
        if reason:
            return reason
    if v.size >= MIN_EPOCHS:
        sv = cv.smooth(v)
        # the raw minimum counts too when the curve then stays up (its last third's
        # median): a first evaluation that the smoothing spreads away is still a level
        # the network reached before blowing up
        end = max(float(sv[-1]), float(np.median(cv.last_third(v, 2))))
        low = min(float(sv.min()), float(v.min()))
        # (a classifier that fits its training samples and grows confident mistakes on
        # validation without bound is memorizing: issue 15's "memorization read as
        # divergence"; its rise is read by the overfitting rules)
        fits = fits_samples(history, train)
        if low > 0 and end > EXPLODE * low and not fits:
            return (
                f"the validation loss grew {end / low:.3g}x above its lowest value: "
                "the weights blew up"
            )
        # (a classifier that fits its training samples came back under control: a
        # long fall from the loss of guessing to a memorized level, 1000-fold over many
        # epochs, is learning, however fast its first quarter went; review i127)
        reason = "" if fits else recovered_blow_up(v, history)
        if reason:
            return reason
    t = train[np.isfinite(train)]
    if t.size < MIN_EPOCHS + 1:
        return ""
    smooth = cv.smooth(t)
    low = int(np.argmin(smooth))
    early = float(np.median(t[:3]))
    fallen = max(0.0, early - smooth[low])
    rise_needed = max(DIVERGE_RISE * abs(smooth[low]), DIVERGE_FLOOR * fallen)
    # a validation loss still falling says the weights are fine (a noisy per-step log);
    # so does a rise within the training loss's own noise (single batches logged every
    # few steps swing by multiples of themselves)
    if (
        smooth[-1] - smooth[low] > rise_needed
        and low < len(t) - 2
        and _progress(v) > 0.9
        and _beyond_noise(t, smooth[low])
    ):
        with np.errstate(over="ignore", divide="ignore"):  # a minimum near 0 overflows
            rise = 100 * (smooth[-1] / smooth[low] - 1)
        by = f"{rise:.0f}%" if np.isfinite(rise) else "many times"
        at = np.asarray(history.epoch)[np.isfinite(train)][low]
        return (
            f"the smoothed training loss rose {by} above its minimum at epoch {at}: the "
            "optimizer is unstable"
        )
    half = len(t) // 2
    if v.size >= 2 and half >= 2:
        t1, t2 = float(np.median(t[:half])), float(np.median(t[half:]))
        v2 = float(np.median(v[v.size // 2 :]))
        # "never fell": not below half its first-half level, nor near zero (memorization)
        # a training loss near zero is memorization, not a blow-up: judged by the training
        # accuracy where there is one, else by the loss against its early level
        acc = cv.accuracy(history, "accuracy", "")
        tail = acc[len(acc) // 2 :]
        if np.isfinite(tail).any():
            unfitted = bool(np.nanmedian(tail) < 0.9)
        elif np.isfinite(cv.accuracy(history, "accuracy", "val_")).any():
            # a classifier's cross-entropy: each training mistake costs at least ln 2
            # nats, so a mean of t2 bounds the training accuracy by 1 - t2 / ln 2
            unfitted = 1 - t2 / math.log(2) < 0.9 and not accuracy_learned(history)
        else:  # training fell by little against the validation level (scale- and
            # penalty-free: a difference of training losses over a validation loss)
            unfitted = float(np.max(t[:3])) - t2 < 0.5 * v2
        if t2 > 0 and v2 > BLOWUP * t2 and t2 > 0.5 * t1 and unfitted:
            return (
                f"the validation loss ({v2:.3g}) is {v2 / t2:.0f}x a training loss that never "
                "fell: the weights blew up"
            )
    swing, progress = cv.oscillation(t)
    # swings in log space of a loss near zero are noise: the swing must also be large
    # against the validation level; and a validation loss still falling is no divergence
    v_progress = _progress(v)
    # ... nor is a noisy training loss (single batches logged per step) far below a
    # validation loss that rises: that is overfitting
    near_val = not v.size or float(np.median(t[half:])) >= 0.5 * float(np.median(v[v.size // 2 :]))
    v_swing = cv.oscillation(v)[0] if v.size >= 4 and np.all(v > 0) else OSCILLATION
    jittery = v_swing > OSCILLATION / 2  # validation swings with it (a sampled batch loss
    # logged every few steps swings alone)
    # ... or validation alone swings by twice ``OSCILLATION`` (training, a mean over the
    # epoch's steps, swings less; epochs alternating up and down swing half as much when
    # every second one is logged): a step too large for a loss whose gradient does not grow
    # with the error (MAE) throws the weights back and forth without blowing up
    together = (swing > OSCILLATION and jittery) or v_swing > 2 * OSCILLATION
    # (validation's fall counts as progress only beyond its own swing: a median 20 %
    # lower while each evaluation swings 30 % is the weights thrown around, not learning)
    v_fell = v_progress <= 0.8 and -math.log(max(v_progress, 1e-300)) > v_swing
    if together and progress > 0.8 and not v_fell and near_val:
        return (
            f"the training loss swings {100 * swing:.0f}% per epoch without improving "
            "over the second half of the run"
        )
    return ""


def _frozen(history: History) -> bool:
    """Whether every logged accuracy holds one value throughout (NaN outputs give every
    sample the same class)."""
    found = False
    for prefix in ("", "val_"):
        acc = cv.accuracy(history, "accuracy", prefix)
        acc = acc[np.isfinite(acc)]
        if acc.size:
            found = True
            if np.ptp(acc) > 0:
                return False
    return found


def _anything_finite(history: History) -> bool:
    """Whether any loss or metric column of the log, accuracy aside, holds a finite value
    (a log whose losses are all NaN recorded a NaN loss from the start; settings and
    diagnostics such as the learning rate or the gradient norm are no evidence of fit)."""
    names = [
        c
        for c in history.columns()
        if c not in ("epoch", "accuracy", "val_accuracy")
        and (cv.higher_is_better(c) or cv.lower_is_better(c))
    ]
    return any(history.has(name) for name in names)


def _beyond_noise(t: np.ndarray, low: float) -> bool:
    """Whether the training loss's rise from its smoothed minimum ``low`` stands clear of
    its own noise: the median of its last third over ``low``, in log space, beyond
    ``NOISE_CLEAR`` times the median change between logged values (scale-free; a runaway
    optimizer climbs and stays up, a spike among single-batch losses does not)."""
    end = float(np.median(cv.last_third(t, 2)))
    if not (np.all(t > 0) and low > 0 and end > 0):
        return True
    noise = float(np.median(np.abs(np.diff(np.log(t)))))
    return math.log(float(end)) - math.log(float(low)) > NOISE_CLEAR * noise


def _progress(x: np.ndarray) -> float:
    """Median of the second half over the median of the first (< 1: falling); 1 when short."""
    half = len(x) // 2
    if half < 1:
        return 1.0
    first = float(np.median(x[:half]))
    return float(np.median(x[half:])) / first if first > 0 else 1.0
