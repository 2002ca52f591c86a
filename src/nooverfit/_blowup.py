"""Blow-ups: weights thrown far out by a step, seen in the ratio of a loss to itself or to
the validation loss measured after it (a training loss ten times the validation loss
after its epoch; a validation loss that started a hundred times above where it ended; a
training loss that doubles or halves from epoch to epoch while the network gets nearly
every training sample right while its mean loss sits above what guessing over a million
classes scores; a training loss that climbed a hundredfold above its first value and has
not come back below it; a classifier's validation loss per mistake falling fivefold).
Ratios of losses, no scale involved, but for the level of the fitting network. Pure.
Split from :mod:`nooverfit._divergence` (i57).
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit import _curves as cv
from nooverfit._chance import SATURATED
from nooverfit._curves import MIN_EPOCHS
from nooverfit._turning import FITS, TURNS
from nooverfit.history import History

#: Fall of the validation loss from its first evaluations to its last third that only a
#: recovery from blown-up weights explains (a sound run's first epoch ends within an
#: order or two of its final level).
RECOVERED = 100.0
#: Multiple of the validation loss measured after an epoch that the training loss logged
#: in that epoch, having risen, must exceed to show weights thrown out during the epoch.
THROWN = 10.0
#: Accuracy, logged for the thrown epoch's training samples and for validation after it,
#: at which no step threw the weights out whatever the losses' ratio: a network right on
#: 99 % of both is not blown up, and near zero a mean loss over an epoch falls by orders
#: of magnitude to the loss measured after it (s28: a mean training loss of 0.00066 beside
#: a validation loss of 1.5e-6, both at 100 %, read as a throw).
SURE = 0.99
#: Back-and-forth of the training loss per logged epoch of the later half (at each turn
#: the smaller of the two moves, summed over the moves), as a share of the whole fall the
#: loss made from its first value, that only blown-up outputs explain at a training
#: accuracy of ``FITS`` (with turns of over ``TURNS`` of the loss itself). Of the
#: classifiers with such an accuracy on the design corpora, the 123 not blown up turned by
#: at most 0.021 of their fall (0.06 when thinned to every second or third epoch, which
#: the second test covers); the two blown up (losses in the thousands) by 0.10 and 0.19
#: (i85).
TURNS_OF_FALL = 0.04
#: Multiple of its first logged value that a training loss climbs past only when a step
#: threw the weights out (a sound run's loss falls from where its initial weights put it;
#: the highest climb of a run not labelled diverging on the 1,417 logs of the s21-s23
#: corpora was 12x, a single batch logged first).
CLIMBED = 100.0
#: Where no accuracy is logged, how far the training loss logged at the first evaluation
#: (the first epoch's mean where validation runs every epoch) lies above
#: where training ended, as a multiple of how far the validation loss measured after that
#: epoch lies above where validation ended, between which a first epoch that learned
#: lies: its mean holds the early steps at the initial weights' level, so it starts
#: above the validation loss after it, by at most a few times (s29: clean regressions
#: learning to a hundredth or a thousandth of their first loss, 1.0x to 8.3x). A first
#: epoch that threw the weights out ends below it (the blow-up came at its end) or far
#: above it. Differences, so that a penalty added to the training loss (Keras's L2)
#: leaves it as it is; their ratio, so that no scale enters.
LEARNED_START = (0.9, 10.0)
#: Fewest evaluations from which a first epoch that learned is read: a shorter run gives
#: too little of itself after the first epoch (a Trainer run's blow-up thinned to its
#: second, fourth ... epochs starts at 2x its training loss, as a clean fit does).
LEARNED_LENGTH = 8

#: Fall of a classifier's validation loss per mistake (the loss over the error rate, ``1 -
#: accuracy``) from its first evaluations to its last third, and of the loss itself, that
#: only outputs blown far out at the start explain: each early mistake cost many times the
#: nats a late one does (i166). A sound network starts near the loss of guessing and its
#: cost per mistake holds or grows as it gets surer (memorization grows it most); a loss
#: summed or scaled keeps the ratio. On s30's score batch 14, i163's batch 12 and i166's
#: design batch (451 runs), 109 classifiers are wrong on ``WRONG`` of validation
#: throughout and not tracked by training (``TRACKS``): the 15 whose cost and loss fell 8x
#: or more are labelled diverging but one already read so (153024, labelled still
#: improving); every other fell 3.4x at most, 1.4x at most among those labelled otherwise
#: (4.1x for an unlabelled Keras run that training tracks). The bar sits under the three
#: it gains (9.1x, 13x, 18x) with room for thinning: every second evaluation dropped, the
#: first with them, takes the spirals run of 18x to 7.3x (at 8, two design runs flipped
#: back under the metamorphic thinnings; at 5, 40 flips on the design batch, main 45).
COSTLY = 5.0
#: Lowest validation error rate at every evaluation for the cost per mistake to be read:
#: a network right on nearly every sample has a loss made of its right answers (a wine
#: run at 97 to 100 %, 0.77 -> 0.05 nats with one mistake or none, s30's 173021).
WRONG = 0.1
#: Median ``|ln(training / validation loss)|`` over the evaluations under which both
#: losses track each other: a weight penalty that Keras adds to both dominates them, and
#: its shrinking lowers the cost per mistake as a blow-up's recovery does (the two Keras
#: L2 fixtures of the suite: 0.02 and 0.06; the blow-ups: 0.6 to 3.2).
TRACKS = math.log(1.25)


def recovered_blow_up(v: np.ndarray, history: History | None = None) -> str:
    """A reason when the validation loss started ``RECOVERED`` times above where it ended
    and fell most of that way (in log space) within its first quarter: the first steps
    threw the weights far out and the run spent itself coming back. One epoch of a
    classifier leaves its loss within an order or two of its final level, and a long
    steady fall is learning, not recovery. Scale-free: a ratio of the curve to itself.

    A regression (``history`` logs no accuracy) learning a clean target falls as far and
    as fast (s29: a standardized linear target from 0.36 to 5e-5 in mean squared error,
    "diverging: the first steps blew the weights up"): there the first epoch must also
    show the throw (:func:`learned_start`)."""
    if not np.all(v > 0):
        return ""
    if history is not None and learned_start(history):
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


def learned_start(history: History) -> bool:
    """Whether a log without accuracy shows a first epoch that learned: the training
    loss logged at the first evaluation above where training ended by ``LEARNED_START`` times
    (low to high) as much as the validation loss measured after it lies above where
    validation ended (the ends: medians of the last three values), over at least
    ``LEARNED_LENGTH`` evaluations. False where an accuracy is logged (a classifier's
    blow-ups are read against the loss of guessing, :mod:`nooverfit._chance`) or either
    loss is missing there."""
    if any(np.isfinite(cv.accuracy(history, "accuracy", side)).any() for side in ("", "val_")):
        return False
    t, v = cv.column(history, "loss"), cv.column(history, "val_loss")
    first = np.flatnonzero(np.isfinite(v))
    if first.size < LEARNED_LENGTH or not np.isfinite(t[first[0]]):
        return False
    trained = float(t[first[0]] - np.median(t[np.isfinite(t)][-3:]))
    validated = float(v[first[0]] - np.median(v[first][-3:]))
    if validated <= 0:
        return False
    low, high = LEARNED_START
    return bool(low <= trained / validated <= high)


def climbed_from_start(history: History) -> str:
    """A reason when the training loss climbed past ``CLIMBED`` times its first logged
    value and still sits above that value at the end (the median of its last third): the
    first steps threw the weights out and the run has not come back to where it started,
    however steadily it falls now. A network learning from its initial weights lowers the
    loss it started at; one resumed or fine-tuned starts low, and a spike among its
    batches comes back down. A ratio of the curve to itself: no scale involved."""
    t = cv.column(history, "loss")
    t = t[np.isfinite(t)]
    if t.size < 3 or not t[0] > 0:
        return ""
    peak, end = float(t.max()), float(np.median(cv.last_third(t, 2)))
    if peak > CLIMBED * t[0] and end > t[0]:
        at = np.asarray(history.epoch)[np.isfinite(cv.column(history, "loss"))][int(np.argmax(t))]
        return (
            f"the training loss climbed from {t[0]:.3g} to {peak:.3g} at epoch {at} and "
            f"still sits at {end:.3g}, above where it started: a step threw the weights out"
        )
    return ""


def thrown_out(history: History) -> str:
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
    first is never read). Not where the epoch's training accuracy and validation's after it
    are both logged at ``SURE`` or more: a network right on nearly every sample of both
    was not thrown out, and losses near zero keep no ratio. Ratios of losses and
    accuracies: no scale involved."""
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
    accurate = _right(history, evals[np.minimum(rounds, len(evals) - 1)])
    before, start = float(val[evals[0]]), -math.inf
    for n, i in enumerate(np.flatnonzero(logged)):
        t, k = float(train[i]), int(rounds[i])
        rose = t > before and (k > 0 or (n > 0 and t > start))
        thrown = t > THROWN * level[i] and means[k] > THROWN * level[i]
        if rose and thrown and not accurate[i]:
            return (
                f"the training loss jumped to {t:.3g} at epoch {history.epoch[i]}, "
                f"{t / level[i]:.0f}x the validation loss after it: a step threw the "
                "weights far out"
            )
        before = t
        start = max(start, t) if k == 0 else start
    return ""


def _right(history: History, after: np.ndarray) -> np.ndarray:
    """Per row: its training accuracy and the validation accuracy at the evaluation
    ``after`` it are both logged and at least ``SURE`` (False where either is missing)."""
    acc, val_acc = cv.column(history, "accuracy"), cv.column(history, "val_accuracy")
    with np.errstate(invalid="ignore"):
        return (acc >= SURE) & (val_acc[after] >= SURE)


def spiking_fit(history: History) -> str:
    """A reason when a classifier whose logged training accuracy (its later half's median)
    reaches ``FITS`` has a training loss (the logged ``loss``) whose later half's median
    sits above ``SATURATED`` nats and turns back and forth there by more than
    ``TURNS_OF_FALL`` of the fall it made from its first value, per logged epoch, and by
    more than ``TURNS`` of itself (log space, :func:`~nooverfit._curves.reversals`); else
    an empty string.

    The level first: a network right on nine samples in ten or more whose mean
    cross-entropy is worse than guessing over a million classes (ln 1e6 = 13.8 nats) pays
    over 138 nats per mistake (1380 at 99 %); a sound one pays a few. The shape alone does
    not tell them apart where a log starts near its end level (a fine-tuning second stage,
    a resumed run): a handful of mistakes more or less per epoch at about 3 nats each then
    turns the loss by a good part of its small fall (i88: 68 of 200 such simulated runs
    fired). Of the classifiers of the design corpora that fit their samples, the two blown
    up sit at later-half medians of 117 and 195 nats, every other at 0.55 or less (i89).

    A network that gets nearly every training sample right holds a mean loss made of its
    few mistakes; a sound one keeps them within a few nats, so its epoch means settle
    near the end of their fall. Means that jump up and down by a good part of that fall at
    a steady accuracy are carried by a few samples at enormous losses: outputs blown up by
    a step (logits in the thousands), which the accuracy does not show. Not read where
    steps are shown as epochs (single batches jump with one mistake more or less).
    The first test, differences of the training loss over a difference of it, no scale
    or constant penalty changes; the second, a ratio of the loss to itself, no scale (a
    penalty only damps it). The first alone called a sound run diverging once thinned to
    every second epoch (design 0101); together they pass none of the 125 classifiers of
    the design corpora that fit their samples, scaled, penalized or thinned, but the two
    blown up."""
    if history.steps_as_epochs:
        return ""
    acc = cv.accuracy(history, "accuracy", "")
    acc = acc[np.isfinite(acc)]
    t = cv.column(history, "loss")
    t = t[np.isfinite(t)]
    if acc.size < 4 or t.size < 4:
        return ""
    fitted = float(np.median(acc[acc.size // 2 :]))
    fall = float(t[0] - np.min(t))
    if fitted < FITS or fall <= 0 or float(np.median(t[t.size // 2 :])) <= SATURATED:
        return ""
    steps = np.diff(t[t.size // 2 :])
    turns = steps[:-1] * steps[1:] < 0
    back = float(np.sum(np.minimum(np.abs(steps[:-1]), np.abs(steps[1:]))[turns])) / steps.size
    if back <= TURNS_OF_FALL * fall or cv.reversals(t[t.size // 2 :]) <= TURNS:
        return ""
    return (
        f"the training loss jumps back and forth by {100 * back / fall:.0f}% of its whole "
        f"fall per epoch while the network gets {100 * fitted:.0f}% of its training samples "
        "right: a few samples carry enormous losses, the outputs were blown up by a step"
    )


def costly_mistakes(history: History) -> str:
    """A reason when a classifier's validation loss per mistake (its loss over its error
    rate ``1 - accuracy``, at evaluations with both logged, each wrong on ``WRONG`` or
    more of validation) fell ``COSTLY`` times or more from its first two evaluations (the
    higher) to its last third (the median), and the loss itself fell as far, while the
    training loss does not track validation (``TRACKS``); else an empty string.

    Each mistake of a network whose outputs a step blew far out costs hundreds of nats;
    as the run pulls its logits back, the loss falls by orders of magnitude while its
    mistakes fall by a few times at most (i166: Adam at 3 and 30 on two spirals, 209 ->
    9.8 and 21500 -> 1190 nats at 60 to 68 %, read as a good fit and still improving;
    RMSprop at 1 on three overlapping classes, 830 -> 44 nats at 74 %, still improving;
    their test losses stayed ten times the constant predictor's). A network learning from
    its initial weights makes fewer mistakes as its loss falls, so its cost per mistake
    holds or rises. Ratios of a curve to itself and to the accuracy: no scale or summing
    changes it. Not where both losses track each other: a Keras L2 penalty in both
    shrinks as the weights do (the fixtures ``keras_l2_strong`` and
    ``penalty_chance_digits_keras``, underfits whose cost per mistake fell 55x and 11x)."""
    loss, acc = cv.column(history, "val_loss"), cv.accuracy(history, "accuracy", "val_")
    seen = np.isfinite(loss) & np.isfinite(acc)
    if seen.sum() < MIN_EPOCHS or not np.all(loss[seen] > 0) or np.any(acc[seen] > 1 - WRONG):
        return ""
    v, cost = loss[seen], loss[seen] / (1 - acc[seen])
    first, end = float(np.max(cost[:2])), float(np.median(cv.last_third(cost, 2)))
    fell = float(np.max(v[:2])) / float(np.median(cv.last_third(v, 2)))
    if first < COSTLY * end or fell < COSTLY:
        return ""
    train = cv.column(history, "loss")
    both = seen & np.isfinite(train) & (train > 0)
    if both.any() and float(np.median(np.abs(np.log(train[both] / loss[both])))) < TRACKS:
        return ""
    return (
        f"the validation loss fell {fell:.3g}x while its errors fell "
        f"{fell * end / first:.2g}x: each early mistake cost {first / end:.3g}x what a late "
        "one does, outputs blown far out by a step"
    )
