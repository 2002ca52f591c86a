"""A network whose outputs stopped answering its training: validation frozen while the
training loss still moves, or both frozen above where training started. Pure: a
history's curves in, a one-sentence reason out (empty when the run shows no such thing).
:func:`nooverfit._divergence.diverged` reads it.

A step far too large can leave every hidden unit dead (a ReLU whose input is negative for
every sample) or the outputs pinned: the network then answers every input alike, so its
validation loss repeats to the last digit at every evaluation, while the training loss,
logged as a running mean over steps that still move the output bias or the surviving
weights, keeps changing. A sound network's validation loss moves with its weights: by far
more than ``FROZEN`` between evaluations while its training loss moves by ``MOVING``.
Ratios of the curves to themselves: no scale involved, and a constant added to the
training loss changes neither test.

Where no weight moves any more, both losses repeat to the last digit. A run that got
there from a first training loss that it never got below again learned nothing and
stopped moving: a step threw the weights where the gradients vanish (every unit dead,
outputs saturated). On the design corpora every such run (19, of Keras, Lightning and
SummaryWriter logs) was built to diverge; the classifiers among them were caught by the
level of guessing, a regression's loss frozen at 2.4e32 was read as underfitting (i85).
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit._curves import MIN_EPOCHS

#: Largest change of log(validation loss) between evaluations of the later half that
#: counts as frozen (a thousandth of a percent: the weights behind it did not change the
#: outputs).
FROZEN = 1e-5
#: Median change of log(training loss) between logged values of the later half that
#: shows training still moving (a tenth of a percent per value).
MOVING = 1e-3
#: Training loss (its later half's median) under this share of the frozen validation
#: level: the network fits its training samples to round-off (a training MSE of 1e-15
#: changes by multiples of itself from one value to the next), it does not answer every
#: input alike (i69).
ROUND_OFF = 1e-6


def dead_outputs(train: np.ndarray, val: np.ndarray) -> str:
    """A reason when the validation loss stayed frozen over the later half of the run
    (every change under ``FROZEN`` in log space, over at least ``MIN_EPOCHS``
    evaluations) while the training loss moved by a median ``MOVING`` per logged value,
    else an empty string."""
    halves = _later_halves(train, val)
    if halves is None:
        return ""
    _, _, late_t, late_v = halves
    frozen = float(np.max(np.abs(np.diff(np.log(late_v))))) < FROZEN
    moving = float(np.median(np.abs(np.diff(np.log(late_t))))) > MOVING
    level = float(np.median(late_v))
    if not (frozen and moving) or float(np.median(late_t)) < ROUND_OFF * level:
        return ""
    swing = 100 * (math.exp(float(np.median(np.abs(np.diff(np.log(late_t)))))) - 1)
    return (
        f"the validation loss stayed at {level:.4g} at every evaluation of the later half "
        f"while the training loss kept moving ({swing:.1f}% per logged value): the "
        "network's outputs no longer answer its training (dead units or pinned outputs "
        "after too large a step)"
    )


def stuck_worse(train: np.ndarray, val: np.ndarray) -> str:
    """A reason when both losses stayed frozen over the later half of the run (every
    change under ``FROZEN`` in log space, over at least ``MIN_EPOCHS`` values each) at a
    training level that moved from its first logged value, either above that value and
    never below it, or with the validation loss frozen at every evaluation, its first
    included (s26: no evaluation ever saw the network answer differently: the first
    epoch's steps pinned its outputs, and the training loss's first value, a mean over
    steps taken before the jump, says nothing of learning), else an empty string."""
    halves = _later_halves(train, val)
    if halves is None:
        return ""
    t, v, late_t, late_v = halves
    late_t, late_v = np.log(late_t), np.log(late_v)
    frozen = max(float(np.max(np.abs(np.diff(late_v)))), float(np.max(np.abs(np.diff(late_t)))))
    first = float(np.log(t[0]))
    if frozen >= FROZEN or abs(float(late_t[-1]) - first) <= FROZEN:
        return ""  # (moving, or never moved at all: no step to read)
    if float(np.min(np.log(t))) >= first:
        return (
            f"the training loss never got below its first value ({t[0]:.4g}) and both "
            f"losses stood still over the later half (training at {t[-1]:.4g}, validation "
            f"at {v[-1]:.4g}): the weights stopped moving after a step made the fit worse "
            "(dead units or saturated outputs)"
        )
    if float(np.max(np.abs(np.diff(np.log(v))))) >= FROZEN:
        return ""  # (validation moved before it stood still: learned, then settled)
    return (
        f"the validation loss was {v[-1]:.4g} at every evaluation, the first included, and "
        f"the training loss stood still at {t[-1]:.4g} over the later half: no step after "
        "the first epoch changed the network's outputs (dead units or saturated outputs "
        "after too large a step)"
    )


def _later_halves(
    train: np.ndarray, val: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The finite training and validation losses and their later halves (each at least
    ``MIN_EPOCHS`` values), or None when either curve holds fewer than
    ``2 * MIN_EPOCHS - 1`` finite values or a value at or below zero."""
    v = val[np.isfinite(val)]
    t = train[np.isfinite(train)]
    if min(v.size, t.size) < 2 * MIN_EPOCHS - 1 or not (np.all(v > 0) and np.all(t > 0)):
        return None
    return t, v, t[t.size // 2 :], v[v.size // 2 :]
