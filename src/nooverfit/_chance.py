"""Failed runs read against the loss of guessing: a classifier whose validation loss never
got below what a constant predictor scores (saturated outputs, or an optimizer thrown
around), and collapse (accuracy stuck while the loss sits far above chance level). Pure:
a history and its curves in, a one-sentence reason out (empty when the run did not fail).
Split from :mod:`nooverfit._divergence` (i57); that module reads these first.
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit._learned import decisions_move, learned, losses_fell
from nooverfit.history import History

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
#: The loss of guessing read from the lowest accuracy ``a`` is ``ln(1 / a)``, a floor: a
#: network whose weakest evaluation already beat guessing (32 % on ten classes) guesses at
#: ``ln K`` above it. ``ln K <= UPPER * ln(1 / a)`` while ``a <= K ** (-1 / UPPER)`` (for 2:
#: the weakest evaluation at most sqrt(K) times chance; :func:`collapsed` reads chance as
#: ``2 ln(1 / a)`` too). Where training scores what validation scores (an underfit's
#: mark: one function, fitted no better on its own samples), "far above guessing" is read
#: against that ceiling (i64); saturated outputs that only show on validation are not.
UPPER = 2.0
#: Training's later-half median within this share of validation's: the two score alike.
ALIKE = 0.1
LEARNED = 0.1
#: A collapsed loss at this multiple of the chance level or more is called "far above" it.
FAR = 2.0
#: Back-and-forth change of log(training loss) per logged point that counts as oscillating.
OSCILLATION = 0.1
#: A training loss whose later half's median sits at this multiple of its first logged
#: value or above rose from where the network started (on the s21-s23 corpora, outputs
#: that saturated rose by 7 % or more; underfits at the loss of guessing stayed within
#: 4 % of their first value, or fell).
STAYED = 1.05
#: Validation loss at this multiple of the loss of guessing or more is no scaled underfit
#: (a mean cross-entropy a hundred times ``ln K``: outputs blown far out), however the
#: training loss went.
FAR_OFF = 100.0
#: Validation loss (the smoothed curve) over this at every evaluation: a classifier's
#: outputs blown far out, however its accuracy rose (:func:`far_above_guessing`). A
#: thousand times the loss of guessing among a thousand classes: the mean cross-entropy
#: of a network that learned, scaled or summed by up to 1000, stays under it.
BLOWN = 1000 * math.log(1000)


def stayed_up(history: History) -> bool:
    """Whether the training loss rose from where it started and stayed up: its later
    half's median at ``STAYED`` times its first logged value or above (``True`` where no
    training loss is logged: the validation level is then all there is to read).

    Outputs that saturate jump in the first steps and hold the loss there (the first
    epoch's mean, part of it logged before the jump, sits under the level); an underfit
    starts where its initial weights put it and holds or lowers that. A loss frozen to
    its last digit over the later half counts as stayed up too: a network that learns
    anything moves it. A loss
    scaled by a constant or summed over samples sits above the loss of guessing either
    way: this, a ratio of the curve to itself, is what tells the two apart (issue 15:
    scaling every loss must not change the verdict)."""
    t = cv.column(history, "loss")
    t = t[np.isfinite(t)]
    if not t.size:
        return True
    late = t[t.size // 2 :]
    # (a loss frozen to the last digit over the later half: outputs that no step moves)
    frozen = late.size >= 2 and float(np.ptp(late)) <= 1e-5 * abs(float(np.median(late)))
    return frozen or float(np.median(late)) >= STAYED * float(t[0])


def guessing_level(held: np.ndarray) -> float:
    """The loss of guessing read from a classifier's validation accuracy smoothed by a
    running median (``held``): ``ln(1 / a)`` of its lowest value ``a``, at least ``ln 2``;
    infinite where ``a`` is 0."""
    floor = float(held.min())
    return max(math.log(2), math.log(1 / floor)) if floor > 0 else math.inf


def never_beat_chance(history: History, v: np.ndarray, back_and_forth: float) -> str:
    """A reason when the validation loss never got below what a constant predictor
    scores, either by far (saturated outputs: a cross-entropy over ``SATURATED``) or while
    turning back and forth (:func:`~nooverfit._curves.reversals` over a quarter of
    ``OSCILLATION``: an optimizer thrown around; an overfitting network gets well below
    that level and turns once).

    Only for a classifier (an accuracy in the log): the level is the cross-entropy of
    guessing, ``ln(1 / a)`` with ``a`` the lowest value of its validation accuracy
    smoothed by a running median (about the share of a class at the start; a single
    evaluation that put every sample in a small class is no level, i57) and at least
    ``ln 2``. The turning test needs that lowest
    accuracy at or below 50 %: above it at every evaluation, the network beat guessing
    whatever its number of classes (and ``a`` says nothing about that number). Nor does
    it read a network whose training loss sits under half that level (its later half's
    median) while validation turns by less than ``OSCILLATION`` per evaluation: the
    optimizer fits its training set, and validation that stays above guessing is
    memorization (turns as large as an oscillating training loss's are instability
    however low the training loss got). The saturation test spares a classifier above
    50 % at every evaluation whose validation loss is lowest at its last one: it is
    learning (label smoothing keeps a sound network's loss above that level), and one
    whose training accuracy's later half has a median of 90 % or more (it fits). Both
    level tests also need the training loss to have risen from its first value and
    stayed up (:func:`stayed_up`), or the validation loss to sit at ``FAR_OFF`` times the
    level: a loss scaled or summed sits above guessing too, and an underfit holds or
    lowers its first value (s24: scaling every loss by 10 changed 69 verdicts of four
    score batches, mostly underfits read as saturated; 12 with this test). Where the
    decisions or the losses moved, :func:`far_above_guessing` reads the level alone."""
    loss = cv.column(history, "val_loss")
    acc = cv.accuracy(history, "accuracy", "val_")
    if not (np.isfinite(loss).any() and np.isfinite(acc).any()):
        return ""  # no chance level without classes (a regression's loss has no scale)
    smooth = cv.smooth(v)
    saturated = smooth.min() > SATURATED  # (or a loss summed over samples: then it fell)
    jumped = stayed_up(history)
    far_off = smooth.min() >= FAR_OFF * math.log(2)  # (over a hundred times ln 2)
    if saturated and (jumped or far_off) and not (decisions_move(history) or losses_fell(history)):
        return (
            f"the validation loss never got below {smooth.min():.3g}, far above the "
            f"{math.log(2):.2f} to {SATURATED:.1f} nats of a constant predictor over 2 "
            "to a million classes: the outputs saturated"
        )
    # the accuracy's levels are read on its smoothed curve (a running median first): one
    # evaluation with every sample in a small class is no level (saturated outputs flip
    # between classes), and "rose" is its largest climb above a lower level before it (a
    # network whose accuracy fell from where its first epoch left it never rose)
    raw = acc[np.isfinite(acc)]
    held = cv.smooth(raw)
    level, lowest = guessing_level(held), float(np.nanmin(acc))  # (the 50 % tests: raw)
    start = np.minimum(held, np.r_[raw[0], np.full(raw.size - 1, np.inf)])  # (the first
    # evaluation as logged: smoothing pads the edge with later, higher values)
    rose = float(np.max(held - np.minimum.accumulate(start)))
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
    alike = (
        bool(train.size)
        and abs(
            float(np.median(train[train.size // 2 :])) / float(np.median(v[v.size // 2 :])) - 1
        )
        <= ALIKE
    )
    if (
        smooth.min() >= ABOVE_GUESSING * (UPPER if alike else 1.0) * level
        and rose < LEARNED
        and not (learning or right or learned(history))
        and not fits
        and (jumped or smooth.min() >= FAR_OFF * level)
    ):
        return (
            f"the validation loss never got below {smooth.min():.3g}, well above chance level "
            f"(the loss of guessing, about {level:.2f}), and the accuracy never rose: the outputs "
            "saturated"
        )
    return ""


def collapsed(history: History, metric: str | None) -> str:
    """A reason when a classifier's outputs saturated: on every side logged (training,
    validation), accuracy stuck over the second half while the loss sits far above the
    chance level of a constant predictor, and the training loss no longer falling steadily
    over its later half (at least its last ``MIN_EPOCHS`` values). (Validation alone stuck
    with a rising loss is overfitting: confident mistakes on samples the network never
    fits.)"""
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
    # (learned: also a loss summed or scaled above chance level, falling)
    if float(np.median(train[train.size // 2 :])) <= found[0][3] or learned(history):
        return ""
    if not stayed_up(history):  # came down from its start: an underfit, whatever its scale
        return ""
    # Saturated outputs keep the loss where it jumped; a loss still falling steadily at
    # stuck accuracy is under-confident outputs growing surer (a 3-class network at 93 %
    # with its loss going from 1.09 to 0.70 is learning, not diverging). The later half,
    # at least its last ``MIN_EPOCHS`` values: a 3-epoch run's later half holds two, too
    # few to read a trend from, and a short run stuck at its majority share with both
    # losses falling at every epoch is learning too (i91: 1.00, 0.82, 0.67).
    late = train[min(train.size // 2, max(train.size - MIN_EPOCHS, 0)) :]
    if late.size >= 3 and late[-1] < FALLING * late[0] and np.mean(np.diff(late) < 0) >= 0.8:
        return ""
    _, share, level, chance = found[0]
    # ``chance`` bounds what a constant predictor scores from above (ln K, or less at a
    # majority share): "far" only where the loss sits at twice that bound or more (i91: a
    # loss of 0.725 against 0.69 is above it, not far above)
    far = "far " if level >= FAR * chance else ""
    return (
        f"the accuracy is stuck at {share:.3f} while the loss ({level:.3g}) is {far}above "
        f"chance level (a constant predictor scores at most about {chance:.2f}): the "
        "outputs saturated"
    )


#: First logged training loss over this multiple of where the training loss ended (its
#: later half's median): the first steps threw the weights out (a network learning from
#: its initial weights falls from ``ln K`` by a few times before it fits; a Keras L2
#: penalty lifts a first epoch to about 20 times the loss of guessing). A ratio of the
#: curve to itself: no scale involved.
THROWN_START = 100.0
#: Training accuracy (its later half's median) under which the network fits few samples.
WEAK = 0.75


def never_recovered(history: History) -> str:
    """A reason when a classifier's first logged training loss sat over ``THROWN_START``
    times where its training loss ended, its training loss (smoothed) never got below the
    loss of guessing over the later half, and it got few training samples right (its
    logged accuracy, else validation's, under ``WEAK`` over the later half): the first
    steps blew the weights up and the run never came back to where a constant predictor
    scores. A network that learned scores under the loss of guessing on its own samples;
    an underfit sits at it and starts within a few times of it. The level is ``ln(1 / a)``
    of the lowest validation accuracy smoothed by a running median, at least ln 2 (i69)."""
    val_acc = cv.accuracy(history, "accuracy", "val_")
    raw = val_acc[np.isfinite(val_acc)]
    train = cv.column(history, "loss")
    train = train[np.isfinite(train)]
    if raw.size < MIN_EPOCHS or train.size < MIN_EPOCHS:
        return ""
    level = guessing_level(cv.smooth(raw))
    late = cv.smooth(train)[train.size // 2 :]
    ended = float(np.median(train[train.size // 2 :]))
    if not (train[0] > THROWN_START * ended and float(late.min()) > level):
        return ""
    acc = cv.accuracy(history, "accuracy", "")
    acc = acc[np.isfinite(acc)]
    scored = acc if acc.size >= MIN_EPOCHS else raw
    if float(np.median(scored[scored.size // 2 :])) >= WEAK:
        return ""
    return (
        f"the training loss started at {train[0]:.3g}, {train[0] / ended:.0f}x where it "
        f"ended, and never got below the loss of guessing (about {level:.2f}): the first "
        "steps blew the weights up and the run never recovered"
    )


def far_above_guessing(history: History) -> str:
    """A reason when a classifier's validation loss never got below ``BLOWN`` (6,908
    nats; the smoothed curve), however its decisions and losses moved: no network that
    learned scores that, whatever its number of classes, but outputs blown far out by a
    step too large (s25: 5 runs of the design corpora, their accuracy rising to 97 % on a
    loss in the ten thousands, had read as overfitting, a good fit or still improving; no
    classifier there labelled otherwise reaches that level). A lower bar (1000 x ln 2)
    gained 7 runs more, but read the losses of learning classifiers scaled by 1000 as
    blown up (the scale invariance the suite pins). Read after the other divergence
    tests, whose reasons say more; the sentence names a loss summed over samples, which
    sits as high."""
    loss = cv.column(history, "val_loss")
    acc = cv.accuracy(history, "accuracy", "val_")
    v = loss[np.isfinite(loss)]
    if v.size < MIN_EPOCHS or not np.isfinite(acc).any():
        return ""  # no chance level without classes (a regression's loss has no scale)
    low = float(cv.smooth(v).min())
    if low < BLOWN:
        return ""
    return (
        f"the validation loss never got below {low:.3g}, over a thousand times the "
        f"{math.log(1000):.1f} nats of guessing among a thousand classes: the outputs were "
        "blown far out by the steps (if the logged loss is a sum over samples rather than "
        "their mean, divide it by their number and diagnose again)"
    )


def above_any_constant(history: History) -> str:
    """A caveat for a classifier read as learning (overfitting, a good fit, still improving,
    an underfit) whose validation loss (smoothed) never got below ``SATURATED`` nats, more
    than a constant predictor scores among a million classes: as a mean cross-entropy that
    is outputs blown far out, which the verdict cannot tell from a loss summed over
    samples, scaled, or lifted by a weight penalty (the verdict stays scale-free, issue
    15). Said, not decided: on the design corpora (s27) 16 of the 17 classifiers read as
    learning with such a loss were labelled diverging by their test curves, the other a
    Keras run whose L2 penalty lifted its loss. Empty otherwise."""
    loss = cv.column(history, "val_loss")
    acc = cv.accuracy(history, "accuracy", "val_")
    v = loss[np.isfinite(loss)]
    if v.size < MIN_EPOCHS or not np.isfinite(acc).any():
        return ""  # (a regression's loss has no such scale)
    low = float(cv.smooth(v).min())
    if low <= SATURATED:
        return ""
    return (
        f"Read with care: the validation loss never got below {low:.3g}, more than a "
        f"constant predictor scores among a million classes ({SATURATED:.1f} nats). If it "
        "is a mean cross-entropy, some outputs were blown far out by too large steps "
        "(lower the learning rate); a loss summed over samples, scaled, or holding a "
        "weight penalty sits that high too, and this verdict assumes one of those."
    )
