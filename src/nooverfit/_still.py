"""The still-improving test: validation still falling, beyond its noise, at the end.

Relative falls of the validation curve over the last third of the run, measured against
the curve's own noise, and (for a network that fits few training samples) an accuracy
that rises with the falling loss. Pure: evidence in, a bool out.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit._curves import MIN_EPOCHS
from nooverfit._train_accuracy import weak_metric
from nooverfit.diagnosis import Evidence
from nooverfit.history import History

#: Fall of the smoothed validation loss over the last third that is still improving.
STILL = 0.02
#: Residual standard deviations by which the last third's fall (its least-squares line,
#: across that stretch) must clear the curve's own point-to-point noise to count
#: (:func:`~nooverfit._curves.tail_clearance`). Not standard errors of the slope: a t
#: statistic grows with the square root of the number of evaluations, so validating half
#: as often read the same fall as noise (i98: 12 of 271 thinning flips on the design parts).
SIGNIFICANT = 2.0
#: Share of the run at its end within which the lowest value of the last third must lie
#: for a run to be still improving (a share, not a count of points: logging every second
#: epoch keeps it), or within its last ``LAST_POINTS`` evaluations, whichever reaches
#: further back.
NEAR_END = 0.05
#: Evaluations at the end within which the last third's low always counts: on a noisy
#: curve still falling, the raw low of a 25- to 40-evaluation run lands two evaluations
#: before the end as often as one (s25, was 2: 9 runs of the design corpora labelled
#: still improving had read as a good fit; none changed the other way; 10 % of the run
#: instead gained 2 more but read a real cosine plateau, low 4 of 60 before the end
#: and still since, as improving).
LAST_POINTS = 3
#: Residual standard deviations by which a weak network's accuracy error must fall over
#: the last third for its falling loss to count as still improving.
FOLLOWS = 1.5
#: Fall of the validation loss over the last ``END_SHARE`` of the run (least-squares line,
#: over its level) under which the curve has flattened: a plateau reached under a decaying
#: learning rate or early stopping falls over its last third and no more at its end (a
#: tenth of ``STILL``: 1 % traded runs labelled still improving on the design corpus, i69).
PLATEAU = STILL / 10
END_SHARE = 0.2
#: Standard errors by which the slope over the last ``END_SHARE`` must lie above the last
#: third's line for a flat end of fewer than ``LAST_POINTS`` evaluations (one step of the
#: curve) to count as flattening (:func:`end_bend`; the same ``SIGNIFICANT`` as the fall
#: itself). On a noisy curve one step tilts up or down by chance: of the runs of the s28
#: design corpora labelled still improving (their test curve falling to its end) that
#: read as a good fit on the flat end alone, 5 ended on one step up within the curve's
#: noise while their last three evaluations still fell (4 read right now, none lost;
#: the bend test on every run's last fifth, not only one step, gained 8 but read the
#: flat last third of ``noisy_still_falling_keras`` and a halved digits plateau as
#: still improving).
BENT = SIGNIFICANT


def end_drop(x: np.ndarray, least: int = 2) -> float:
    """Relative fall of ``x`` over its last ``END_SHARE`` of points (at least ``least``):
    the least-squares line's drop across that stretch over the mean level there."""
    k = max(least, round(END_SHARE * len(x)))
    tail = x[-k:]
    if len(tail) < 2:
        return 0.0
    slope = float(np.polyfit(np.arange(len(tail), dtype=float), tail, 1)[0])
    level = float(np.mean(np.abs(tail)))
    return -slope * (len(tail) - 1) / level if level > 0 else 0.0


def end_bend(x: np.ndarray) -> float:
    """By how many standard errors the slope of ``x``'s last ``END_SHARE`` of points (at
    least two, as :func:`end_drop`) lies above the least-squares line over its last third:
    how clearly the curve bent flat at its end. The standard error is that of the end's
    slope, ``s / sqrt(sum (t - mean t)^2)``, with ``s`` the residual standard deviation
    around the last third's line (the curve's own noise). Infinite for a line without
    residuals (a curve without noise bends by any amount) or fewer than 3 points."""
    tail = cv.last_third(x, 3)
    if len(tail) < 3:
        return np.inf
    t = np.arange(len(tail), dtype=float)
    slope, icept = np.polyfit(t, tail, 1)
    spread = float(np.sqrt(np.sum((tail - (slope * t + icept)) ** 2) / (len(tail) - 2)))
    if spread <= 1e-12 * max(float(np.mean(np.abs(tail))), 1e-300):
        return np.inf
    k = max(2, round(END_SHARE * len(x)))
    u = np.arange(k, dtype=float)
    error = spread / float(np.sqrt(np.sum((u - u.mean()) ** 2)))
    return (float(np.polyfit(u, x[-k:], 1)[0]) - float(slope)) / error


def flattened(x: np.ndarray) -> bool:
    """Whether ``x`` stopped falling at its end: its fall over the last ``END_SHARE``
    (:func:`end_drop`) is under ``PLATEAU``, over at least ``LAST_POINTS`` evaluations, or
    over fewer (one step, on a short run) bent ``BENT`` standard errors off the last
    third's line (:func:`end_bend`). A plateau reached under a decaying learning rate or
    early stopping falls over its last third and no more at its end; a single step of a
    noisy curve still falling rises as often by chance."""
    if end_drop(x) >= PLATEAU:
        return False
    return end_drop(x, LAST_POINTS) < PLATEAU or end_bend(x) >= BENT


def near_end(recent_low: float, n: int) -> bool:
    """Whether a curve of ``n`` evaluations set the last third's low (its position,
    :func:`~nooverfit._curves.recent_low`) within the last ``NEAR_END`` of the run or its
    last ``LAST_POINTS`` evaluations: it still sets lows where it ends."""
    last = max(1, n - 1)
    return recent_low >= min(last - LAST_POINTS + 1, last * (1 - NEAR_END))


def still_falling(ev: Evidence) -> bool:
    """Validation fell more than ``STILL`` over the last third, did not flatten at its end
    (:func:`flattened`), set the lowest value of its last third within the last
    ``NEAR_END`` of the run or its last ``LAST_POINTS`` evaluations
    (:func:`~nooverfit._curves.recent_low`; raw values: the smoothed curve is padded with
    its last value, so any curve that flattened under noise reads lowest at its smoothed
    end, i75) and ends over ``REGAINED`` noise
    below its first half's lowest level (:func:`~nooverfit._curves.below_early_level`), and
    its fall there stands ``SIGNIFICANT`` residual standard deviations clear of the
    curve's own epoch-to-epoch noise (a noisy flat curve whose line happens to tilt down
    is not; the same however often the run was validated)."""
    low_at_end = near_end(ev.extra["recent_low"], len(ev.val))
    low_at_end = low_at_end and ev.extra["below_early"] > cv.REGAINED
    return (
        ev.tail_drop > STILL
        and low_at_end
        and ev.extra["clearance"] >= SIGNIFICANT
        and not ev.extra["flattened"]
    )


def accuracy_follows(history: History, metric: str | None, ev: Evidence) -> bool:
    """A network that gets few training samples right (accuracy under 0.75) is improving
    only if its accuracy rises with the falling loss: the error's line over the last third
    must fall by ``FOLLOWS`` residual standard deviations (a loss that falls while the
    accuracy stands still is a penalty shrinking, as Keras logs its L2 term in both losses,
    or confidence being calibrated). Measured against the accuracy's own noise, not in
    standard errors, so a run validated half as often gets the same answer."""
    if not weak_metric(history, metric):
        return True
    keep = [e in set(ev.epochs) for e in history.epoch]
    for prefix in ("val_", ""):
        acc = cv.accuracy(history, metric, prefix)[np.asarray(keep, dtype=bool)]
        if np.isfinite(acc).all() and acc.size >= MIN_EPOCHS:
            return cv.tail_clearance(1 - acc) >= FOLLOWS
    return True


def falling_steadily(history: History, val_raw: np.ndarray) -> bool:
    """A run that the underfitting test caught but that is still learning when it stops:
    over the later half of its evaluations (the last one included) the validation loss
    fell at every evaluation and the validation accuracy rose to its highest there, and
    the training loss's later half sits below its first half (issue 15: "12 epochs, both
    losses still falling steadily at the end: still_improving"). A short run near chance
    falls by a fraction of a percent per epoch, under ``STILL`` over its last third, yet
    each evaluation is better than the one before on both the loss and the decisions;
    an underfit's plateau stops improving its accuracy (a loss that keeps falling at a
    stuck accuracy is a penalty shrinking or confidence calibrating). Needs a validation
    accuracy: a regression's slow monotone fall is no different from a plateau's (i69)."""
    keep = np.isfinite(val_raw)
    v = val_raw[keep]
    acc = cv.accuracy(history, "accuracy", "val_")[keep]
    if v.size < MIN_EPOCHS or not np.isfinite(acc).all():
        return False
    start = (v.size - 1) // 2
    late_acc = acc[start:]
    if not (np.all(np.diff(v[start:]) < 0) and late_acc[-1] >= late_acc.max() > late_acc[0]):
        return False
    train = cv.column(history, "loss")
    train = train[np.isfinite(train)]
    half = train.size // 2
    return half < 1 or float(np.median(train[half:])) < float(np.median(train[:half]))


#: Evaluations at the end at which validation accuracy must be 100 % for a run still
#: improving to have nothing left to gain in its decisions (:func:`at_ceiling`).
CEILING_POINTS = 5
#: Validation loss (nats) under which a run at that ceiling is already confident: the
#: geometric mean of the probability it gives the right class is above ``exp(-0.05)``,
#: 95 %.
TINY_LOSS = 0.05


def at_ceiling(history: History) -> bool:
    """Whether the validation accuracy was 100 % at each of its last ``CEILING_POINTS``
    evaluations and the last validation loss is under ``TINY_LOSS``: a validation loss
    still falling there only sharpens the confidence of answers already right (issue 15:
    a 500-epoch run at 100 % and a loss of 0.004 was told to train twice as long). The
    verdict stays still improving; the advice says so instead of asking for epochs."""
    acc = cv.accuracy(history, "accuracy", "val_")
    acc = acc[np.isfinite(acc)]
    loss = np.asarray(history.val_loss, dtype=float)
    loss = loss[np.isfinite(loss)]
    if acc.size < CEILING_POINTS or not loss.size:
        return False
    return bool(np.all(acc[-CEILING_POINTS:] >= 1 - 1e-6) and loss[-1] < TINY_LOSS)
