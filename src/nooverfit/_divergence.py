"""Signs that a run failed rather than fitted: divergence (a loss that ran away, swung or
blew up) and collapse (saturated outputs). Pure: a history and its curves in, a
one-sentence reason out (empty when the run did not fail). :mod:`nooverfit._rules` reads
them first.
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit._dead import dead_outputs
from nooverfit._turning import fits_samples, thrown_around
from nooverfit.history import History

#: Smoothed training-loss rise above its minimum that counts as diverging (fraction).
DIVERGE_RISE = 0.2
#: ... provided the rise is also at least this share of how far the loss had fallen from
#: its early level: an optimizer running away climbs back a good part of its progress,
#: while a loss near zero swings by multiples of itself as noise (0.001 -> 0.002 with
#: batch norm on small batches; single batches of 16 with noisy labels logged per step).
DIVERGE_FLOOR = 0.25
#: Fall of the validation loss from its first evaluations to its last third that only a
#: recovery from blown-up weights explains (a sound run's first epoch ends within an
#: order or two of its final level).
RECOVERED = 100.0
#: Multiple of the training loss's median change between logged values (log space) that
#: its rise must exceed to count as running away.
NOISE_CLEAR = 2.0
#: Validation/training loss ratio that, with a training loss that never fell, is a blow-up.
BLOWUP = 100.0
#: Growth of the smoothed validation loss over its minimum that only a blow-up explains
#: (overfitting multiplies it by a few at most).
EXPLODE = 30.0
#: Back-and-forth change of log(validation loss) per evaluation that only an unstable
#: optimizer explains (a factor of 2 each way on average).
VAL_SWING = 0.7
#: Cross-entropy of a constant predictor over a million classes (ln 1e6, in nats): a
#: classifier's validation loss that never gets below it comes from saturated outputs
#: whatever the number of classes (a constant predictor scores at most ln K).
SATURATED = math.log(1e6)
#: A training loss still falling on most epochs of the second half, to under this share of
#: where the half began, is learning: saturated outputs keep their loss where it jumped.
FALLING = 0.9
#: Validation loss over this multiple of the loss of guessing, with an accuracy that never
#: rose by ``LEARNED``, comes from confidently wrong (saturated) outputs, not an underfit
#: (which scores about the loss of guessing), unless the training loss got below half of
#: that level (a network memorizing a few samples is overfitting).
ABOVE_GUESSING = 1.5
LEARNED = 0.1
#: Back-and-forth change of log(training loss) per logged point that counts as oscillating.
OSCILLATION = 0.1
#: Multiple of the validation loss measured after an epoch that the training loss logged
#: in that epoch, having risen, must exceed to show weights thrown out during the epoch.
THROWN = 10.0


def diverged(history: History, train: np.ndarray, val: np.ndarray) -> str:
    """A one-sentence reason when the run diverged, else an empty string."""
    found = _ran_away(history, train, val) or _thrown_out(history)
    return found or dead_outputs(train, val) or thrown_around(history, train, val)


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
        reason = _never_beat_chance(history, v, cv.reversals(v))
        if reason:
            return reason
    if v.size >= MIN_EPOCHS:
        sv = cv.smooth(v)
        # the raw minimum counts too when the curve then stays up (its last third's
        # median): a first evaluation that the smoothing spreads away is still a level
        # the network reached before blowing up
        end = max(float(sv[-1]), float(np.median(cv.last_third(v, 2))))
        low = min(float(sv.min()), float(v.min()))
        if low > 0 and end > EXPLODE * low:
            return (
                f"the validation loss grew {end / low:.3g}x above its lowest value: "
                "the weights blew up"
            )
        reason = _recovered_blow_up(v)
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
            unfitted = 1 - t2 / math.log(2) < 0.9
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


def _never_beat_chance(history: History, v: np.ndarray, back_and_forth: float) -> str:
    """A reason when the validation loss never got below what a constant predictor
    scores, either by far (saturated outputs: a cross-entropy over ``SATURATED``) or while
    turning back and forth (:func:`~nooverfit._curves.reversals` over a quarter of
    ``OSCILLATION``: an optimizer thrown around; an overfitting network gets well below
    that level and turns once).

    Only for a classifier (an accuracy in the log): the level is the cross-entropy of
    guessing, ``ln(1 / a)`` with ``a`` its lowest validation accuracy (about the share of
    a class at the start) and at least ``ln 2``. The turning test needs that lowest
    accuracy at or below 50 %: above it at every evaluation, the network beat guessing
    whatever its number of classes (and ``a`` says nothing about that number). Nor does
    it read a network whose training loss sits under half that level (its later half's
    median) while validation turns by less than ``OSCILLATION`` per evaluation: the
    optimizer fits its training set, and validation that stays above guessing is
    memorization (turns as large as an oscillating training loss's are instability
    however low the training loss got). The saturation test spares a classifier above
    50 % at every evaluation whose validation loss is lowest at its last one: it is
    learning (label smoothing keeps a sound network's loss above that level), and one
    whose training accuracy's later half has a median of 90 % or more (it fits)."""
    loss = cv.column(history, "val_loss")
    acc = cv.accuracy(history, "accuracy", "val_")
    if not (np.isfinite(loss).any() and np.isfinite(acc).any()):
        return ""  # no chance level without classes (a regression's loss has no scale)
    smooth = cv.smooth(v)
    if smooth.min() > SATURATED:
        return (
            f"the validation loss never got below {smooth.min():.3g}, far above the "
            f"{math.log(2):.2f} to {SATURATED:.1f} nats of a constant predictor over 2 "
            "to a million classes: the outputs saturated"
        )
    lowest = float(np.nanmin(acc))
    level = max(math.log(2), math.log(1 / lowest)) if lowest > 0 else math.inf
    train = cv.column(history, "loss")
    train = train[np.isfinite(train)]
    fits = bool(train.size) and float(np.median(train[train.size // 2 :])) < level / 2
    # (a classifier above 50 % at every evaluation beat guessing whatever its classes)
    turning = back_and_forth > OSCILLATION / 4 and lowest <= 0.5
    if smooth.min() >= level and turning and (not fits or back_and_forth > OSCILLATION):
        return (
            f"the validation loss never got below the loss of guessing ({level:.2f}) and "
            f"jumps back and forth between evaluations: the optimizer is unstable"
        )
    # saturated outputs score no better than guessing: a classifier above 50 % at every
    # evaluation whose validation loss is still at its lowest at the end is learning
    # (label smoothing lifts the loss of a sound network above that level)
    learning = lowest > 0.5 and int(np.argmin(v)) == v.size - 1
    # ... nor is a network that gets its training samples right (a training accuracy of
    # 90 % over its later half: label smoothing keeps its loss up, not saturation)
    train_acc = cv.accuracy(history, "accuracy", "")
    late = train_acc[len(train_acc) // 2 :]
    right = bool(np.isfinite(late).any()) and float(np.nanmedian(late)) >= 0.9
    if (
        smooth.min() >= ABOVE_GUESSING * level
        and np.nanmax(acc) - lowest < LEARNED
        and not (learning or right)
        and not fits
    ):
        return (
            f"the validation loss never got below {smooth.min():.3g}, well above chance level "
            f"(the loss of guessing, {level:.2f}), and the accuracy never rose: the outputs "
            "saturated"
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


def _recovered_blow_up(v: np.ndarray) -> str:
    """A reason when the validation loss started ``RECOVERED`` times above where it ended
    and fell most of that way (in log space) within its first quarter: the first steps
    threw the weights far out and the run spent itself coming back. One epoch of a
    sound run leaves its loss within an order or two of its final level, and a long
    steady fall is learning, not recovery. Scale-free: a ratio of the curve to itself."""
    if not np.all(v > 0):
        return ""
    first = float(np.max(v[:2]))
    end = float(np.median(cv.last_third(v, 2)))
    early = float(np.min(v[: max(2, (len(v) - 1) // 4 + 1)]))  # a quarter of the span
    total = math.log(first) - math.log(end)
    if first > RECOVERED * end and math.log(first) - math.log(early) >= total / 2:
        return (
            f"the validation loss started {first / end:.3g}x above where it ended and fell "
            "most of that in its first evaluations: the first steps blew the weights up"
        )
    return ""


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


def collapsed(history: History, metric: str | None) -> str:
    """A reason when a classifier's outputs saturated: on every side logged (training,
    validation), accuracy stuck over the second half while the loss sits far above the
    chance level of a constant predictor. (Validation alone stuck with a rising loss is
    overfitting: confident mistakes on samples the network never fits.)"""
    found = []
    for prefix in ("", "val_"):
        acc = cv.accuracy(history, metric, prefix)
        loss = cv.column(history, prefix + "loss")
        both = np.isfinite(acc) & np.isfinite(loss)
        if both.sum() < MIN_EPOCHS:
            continue
        a, lo = acc[both][both.sum() // 2 :], loss[both][both.sum() // 2 :]
        share = float(np.median(a))
        chance = max(math.log(2), 2 * math.log(1 / share)) if 0 < share < 1 else math.log(2)
        level = float(np.median(lo))
        found.append((np.ptp(a) <= 0.01 and share < 1 and level > chance, share, level, chance))
    # a collapse shows in training: its loss must be there, and stuck above chance too
    train = cv.column(history, "loss")
    train = train[np.isfinite(train)]
    if not found or not train.size or not all(stuck for stuck, *_ in found):
        return ""
    if float(np.median(train[train.size // 2 :])) <= found[0][3]:
        return ""
    # Saturated outputs keep the loss where it jumped; a loss still falling steadily at
    # stuck accuracy is under-confident outputs growing surer (a 3-class network at 93 %
    # with its loss going from 1.09 to 0.70 is learning, not diverging).
    late = train[train.size // 2 :]
    if late.size >= 3 and late[-1] < FALLING * late[0] and np.mean(np.diff(late) < 0) >= 0.8:
        return ""
    _, share, level, chance = found[0]
    return (
        f"the accuracy is stuck at {share:.3f} while the loss ({level:.3g}) is far above "
        f"chance level (about {chance:.2f}): the outputs saturated"
    )


def _thrown_out(history: History) -> str:
    """A reason when a training loss rose above the value logged before it (else above the
    first validation value) to over ``THROWN`` times the validation loss measured at the
    end of its evaluation round, and the round's mean training loss sits there too.

    An epoch's mean training loss stays within a few times the loss measured after it
    (dropout, a penalty, noisy labels, a first epoch that falls fast); a loss that climbs
    to ten times it was thrown out by a step and came back. A round is the rows up to and
    including an evaluation (rows after the last one make a round of their own, read
    against it). Its mean guards logs with a training loss per step and no epoch column:
    they hold single batches, and one hard batch swings by multiples of the mean that
    the rule bounds. In the first round the loss falls from where the initial weights put
    it: a value there counts only when it rose above every value logged before it (the
    first is never read). Ratios of losses: no scale involved."""
    train, val = cv.column(history, "loss"), cv.column(history, "val_loss")
    seen = np.isfinite(val) & (val > 0)
    if seen.sum() < 2 or not np.isfinite(train).any():
        return ""
    evals = np.flatnonzero(seen)
    rows = np.arange(len(train))
    # the round of each row: the index of the first evaluation at or after it
    rounds = np.minimum(np.searchsorted(evals, rows), len(evals) - 1)
    rounds[rows > evals[-1]] = len(evals)
    level = val[evals[np.minimum(rounds, len(evals) - 1)]]
    logged = np.isfinite(train)
    means = {k: float(np.mean(train[logged & (rounds == k)])) for k in set(rounds[logged])}
    before, start = float(val[evals[0]]), -math.inf
    for n, i in enumerate(np.flatnonzero(logged)):
        t, k = float(train[i]), int(rounds[i])
        rose = t > before and (k > 0 or (n > 0 and t > start))
        if rose and t > THROWN * level[i] and means[k] > THROWN * level[i]:
            return (
                f"the training loss jumped to {t:.3g} at epoch {history.epoch[i]}, "
                f"{t / level[i]:.0f}x the validation loss after it: a step threw the "
                "weights far out"
            )
        before = t
        start = max(start, t) if k == 0 else start
    return ""
